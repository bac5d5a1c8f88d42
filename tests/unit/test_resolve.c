/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "resolve.h"

/* The walk's buffer: twice PATH_MAX, as in resolve.c. */
#define BUF (2 * PATH_MAX + 2)

/* Splices target in place of buf's first next bytes; returns what resolve_splice did. */
static int splice(char *buf, const char *path, size_t next, const char *target)
{
	strcpy(buf, path);
	return resolve_splice(buf, BUF, next, target, strlen(target));
}

static void test_splice(void **state)
{
	static const struct {
		const char *path;
		size_t next; /* the end of the symlink's component */
		const char *target, *want;
		/* clang-format off */
	} rows[] = {
		/* A link in the middle: its text, then the rest. */
		{ "a/link/b/c", 6, "x/y", "x/y//b/c" },
		/* The last component: the text and a '/' (which the walk skips). */
		{ "a/link", 6, "x", "x/" },
		/* Components walked before the link are gone: the rest starts at the target. */
		{ "/usr/bin/link/rest", 13, "/opt/bin", "/opt/bin//rest" },
		/* Relative targets with "..", kept as text for the walk to clamp. */
		{ "d/l", 3, "../../x", "../../x/" },
		/* Trailing slashes after the link stay: the target must be a directory. */
		{ "l//", 1, "t", "t///" },
		/* A target longer than what it replaces moves the rest right. */
		{ "l/r", 1, "a/much/longer/target", "a/much/longer/target//r" },
	};
	/* clang-format on */

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char buf[BUF];
		assert_int_equal(splice(buf, rows[i].path, rows[i].next, rows[i].target), 0);
		assert_string_equal(buf, rows[i].want);
	}
}

/* Only n bytes of the target count: it need not be NUL-terminated there. */
static void test_splice_counted(void **state)
{
	char buf[BUF] = "l/r";

	(void)state;
	assert_int_equal(resolve_splice(buf, sizeof(buf), 1, "abcdef", 3), 0);
	assert_string_equal(buf, "abc//r");
}

/* What would not fit with its NUL is refused, the buffer left as it was. */
static void test_splice_too_long(void **state)
{
	char small[16] = "link/0123456789";
	char big[BUF], target[PATH_MAX];

	(void)state;
	/* "abc" + '/' + "/0123456789" + NUL = 16: fits exactly. */
	assert_int_equal(resolve_splice(small, sizeof(small), 4, "abc", 3), 0);
	assert_string_equal(small, "abc//0123456789");
	strcpy(small, "link/0123456789");
	assert_int_equal(resolve_splice(small, sizeof(small), 4, "abcd", 4), -ENAMETOOLONG);
	assert_string_equal(small, "link/0123456789");

	/* A target of PATH_MAX - 1 bytes in front of a rest of PATH_MAX bytes: past the walk's buffer. */
	memset(target, 'x', sizeof(target) - 1);
	target[sizeof(target) - 1] = '\0';
	memset(big, 'r', PATH_MAX + 8);
	big[0] = 'l';
	big[1] = '/';
	big[PATH_MAX + 8] = '\0';
	assert_int_equal(resolve_splice(big, sizeof(big), 1, target, strlen(target)), -ENAMETOOLONG);
	big[PATH_MAX - 8] = '\0';
	assert_int_equal(resolve_splice(big, sizeof(big), 1, target, strlen(target)), 0);
	assert_int_equal(strlen(big), PATH_MAX - 1 + 1 + PATH_MAX - 8 - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_splice),
		cmocka_unit_test(test_splice_counted),
		cmocka_unit_test(test_splice_too_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
