/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_CLIOPT_H
#define UBINFMT_CLIOPT_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * A program's command-line options as one table: getopt_long's table, its short options and
 * the option lines of --help all come from it, so an option is declared once.
 */
struct cliopt {
	const char *name; /* long name, or NULL for a short-only option */
	int key;	  /* what the handler gets: the short option's letter, or a value ≥ 0x100 */
	int has_arg;	  /* no_argument, required_argument, optional_argument */
	const char *help; /* its lines of --help, exactly as shown; NULL: not listed */
};

/* At most this many options in a table. */
#define CLIOPT_MAX 32

struct cliopt_spec {
	const char *head; /* --help before the option lines */
	const char *tail; /* after them, or NULL */
	bool in_order;	  /* stop at the first operand (getopt's '+'): CMD's own options follow it */
	const struct cliopt *options;
	size_t n_options;
	/* Called for each option with its argument (or NULL); < 0 stops the parse (it logs why). */
	int (*handle)(int key, const char *arg, void *ctx);
};

/* The --help text to f: head, each option's lines, tail. */
void cliopt_usage(const struct cliopt_spec *spec, FILE *f);

/*
 * Parses argv from argv[1] with getopt_long, calling spec->handle(key, optarg, ctx) for each
 * option but 'h' (--help, below) and 'v' (--verbose: one more log level each time, the same in
 * every program).  Returns the index of the first operand (≥ 1); 0 after printing --help ('h') on
 * stdout, for the caller to exit with 0; the handler's error, or -EINVAL after getopt's message
 * and the usage on stderr for an unknown option or a missing argument.
 */
int cliopt_parse(const struct cliopt_spec *spec, int argc, char **argv, void *ctx);

#endif
