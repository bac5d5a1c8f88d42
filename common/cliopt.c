/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "cliopt.h"
#include "log.h"

void cliopt_usage(const struct cliopt_spec *spec, FILE *f)
{
	fputs(spec->head, f);
	for (size_t i = 0; i < spec->n_options; i++)
		if (spec->options[i].help)
			fputs(spec->options[i].help, f);
	if (spec->tail)
		fputs(spec->tail, f);
}

/* getopt_long's two tables from spec's one. */
static void getopt_tables(const struct cliopt_spec *spec, struct option *longopts, char *shortopts)
{
	size_t n_long = 0, n_short = 0;

	if (spec->in_order)
		shortopts[n_short++] = '+';
	for (size_t i = 0; i < spec->n_options; i++) {
		const struct cliopt *o = &spec->options[i];

		if (o->name)
			longopts[n_long++] = (struct option){ o->name, o->has_arg, NULL, o->key };
		if (o->key < 0x100) {
			shortopts[n_short++] = (char)o->key;
			if (o->has_arg != no_argument)
				shortopts[n_short++] = ':';
			if (o->has_arg == optional_argument)
				shortopts[n_short++] = ':';
		}
	}
	longopts[n_long] = (struct option){ 0 };
	shortopts[n_short] = '\0';
}

int cliopt_parse(const struct cliopt_spec *spec, int argc, char **argv, void *ctx)
{
	struct option longopts[CLIOPT_MAX + 1];
	char shortopts[3 * CLIOPT_MAX + 2];
	int c, r;

	assert(spec->n_options <= CLIOPT_MAX);
	getopt_tables(spec, longopts, shortopts);
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == 'h') {
			cliopt_usage(spec, stdout);
			return 0;
		}
		if (c == '?' || c == ':') {
			cliopt_usage(spec, stderr);
			return -EINVAL;
		}
		if (c == 'v') {
			log_more_verbose();
			continue;
		}
		r = spec->handle(c, optarg, ctx);
		if (r < 0)
			return r;
	}
	return optind;
}
