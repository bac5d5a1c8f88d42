/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "cliopt.h"
#include "log.h"
#include "macros.h"

enum {
	OPT_ROOTFS = 0x100,
	OPT_JSON
};

struct seen {
	const char *rootfs;
	bool json, quiet;
	int calls;
};

static int handle(int key, const char *arg, void *ctx)
{
	struct seen *s = ctx;

	s->calls++;
	switch (key) {
	case OPT_ROOTFS:
		s->rootfs = arg;
		return 0;
	case OPT_JSON:
		s->json = true;
		return 0;
	case 'q':
		s->quiet = true;
		return 0;
	case 'x':
		return -EPERM; /* a handler's refusal stops the parse with its error */
	default:
		return -EINVAL;
	}
}

/* clang-format off */
static const struct cliopt options[] = {
	{ "rootfs", OPT_ROOTFS, required_argument, "  --rootfs DIR   a root\n" },
	{ "json", OPT_JSON, no_argument, NULL },
	{ "quiet", 'q', no_argument, "  -q, --quiet    less\n" },
	{ NULL, 'x', no_argument, NULL },
	{ "verbose", 'v', no_argument, NULL },
	{ "help", 'h', no_argument, NULL },
};
/* clang-format on */

static const struct cliopt_spec spec = {
	.head = "Usage: t [OPTION]… CMD\n",
	.tail = "end\n",
	.in_order = true,
	.options = options,
	.n_options = ARRAY_SIZE(options),
	.handle = handle,
};

static int parse(struct seen *s, char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	*s = (struct seen){ 0 };
	return cliopt_parse(&spec, argc, argv, s);
}

/* Long and short options reach the handler with their keys; the first operand ends them. */
static void test_parse(void **state)
{
	char *argv[] = { "t", "--rootfs", "/r", "-q", "--json", "cmd", "--rootfs", "x", NULL };
	struct seen s;

	(void)state;
	assert_int_equal(parse(&s, argv), 5);
	assert_string_equal(s.rootfs, "/r");
	assert_true(s.json);
	assert_true(s.quiet);
	assert_int_equal(s.calls, 3);
}

/* --json has no short form: keys from 0x100 up are long only. */
static void test_long_only(void **state)
{
	char *argv[] = { "t", "-j", "cmd", NULL };
	struct seen s;

	(void)state;
	assert_int_equal(parse(&s, argv), -EINVAL);
	assert_int_equal(s.calls, 0);
}

static void test_errors(void **state)
{
	char *missing[] = { "t", "--rootfs", NULL };
	char *refused[] = { "t", "-x", "cmd", NULL };
	char *help[] = { "t", "-q", "--help", "cmd", NULL };
	struct seen s;

	(void)state;
	assert_int_equal(parse(&s, missing), -EINVAL);
	assert_int_equal(parse(&s, refused), -EPERM);
	/* --help: 0 for the caller to exit with 0, after the options before it. */
	assert_int_equal(parse(&s, help), 0);
	assert_true(s.quiet);
}

/* -v is the same in every program: one more log level each, never seen by the handler. */
static void test_verbose(void **state)
{
	char *argv[] = { "t", "-vv", "cmd", NULL };
	struct seen s;

	(void)state;
	log_set_level(LOG_WARN);
	assert_int_equal(parse(&s, argv), 2);
	assert_int_equal(log_get_level(), LOG_WARN + 2);
	assert_int_equal(s.calls, 0);
}

/* --help lists the options that have help lines, between head and tail. */
static void test_usage(void **state)
{
	char buf[256] = { 0 };
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	(void)state;
	assert_non_null(f);
	cliopt_usage(&spec, f);
	fclose(f);
	assert_string_equal(buf, "Usage: t [OPTION]… CMD\n  --rootfs DIR   a root\n  -q, --quiet    less\nend\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),	cmocka_unit_test(test_long_only), cmocka_unit_test(test_errors),
		cmocka_unit_test(test_verbose), cmocka_unit_test(test_usage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
