/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "parse.h"

static void test_u64(void **state)
{
	static const struct {
		const char *s;
		int r;
		uint64_t v;
		/* clang-format off */
	} rows[] = {
		{ "0", 0, 0 },
		{ "7", 0, 7 },
		{ "007", 0, 7 },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "18446744073709551616", -ERANGE, 0 },
		{ "99999999999999999999", -ERANGE, 0 },
		{ "", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },
		{ "1 ", -EINVAL, 0 },
		{ "12a", -EINVAL, 0 },
		{ "0x10", -EINVAL, 0 },
		{ "1e3", -EINVAL, 0 },
	};
	/* clang-format on */

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t v = 42;
		assert_int_equal(parse_u64(rows[i].s, &v), rows[i].r);
		assert_int_equal(v, rows[i].r == 0 ? rows[i].v : 42); /* untouched on failure */
	}
	uint64_t v = 42;
	assert_int_equal(parse_u64(NULL, &v), -EINVAL);
	assert_int_equal(v, 42);
}

static void test_int(void **state)
{
	static const struct {
		const char *s;
		int min, max, r, v;
		/* clang-format off */
	} rows[] = {
		{ "0", 0, 10, 0, 0 },
		{ "10", 0, 10, 0, 10 },
		{ "11", 0, 10, -ERANGE, 0 },
		{ "-1", 0, 10, -ERANGE, 0 },
		{ "-1", -1, 10, 0, -1 },
		{ "-0", 0, 0, 0, 0 },
		{ "2147483647", INT_MIN, INT_MAX, 0, INT_MAX },
		{ "-2147483648", INT_MIN, INT_MAX, 0, INT_MIN },
		{ "2147483648", INT_MIN, INT_MAX, -ERANGE, 0 },
		{ "-2147483649", INT_MIN, INT_MAX, -ERANGE, 0 },
		{ "18446744073709551616", INT_MIN, INT_MAX, -ERANGE, 0 },
		{ "-", INT_MIN, INT_MAX, -EINVAL, 0 },
		{ "--1", INT_MIN, INT_MAX, -EINVAL, 0 },
		{ "+5", INT_MIN, INT_MAX, -EINVAL, 0 },
		{ "", INT_MIN, INT_MAX, -EINVAL, 0 },
		{ "5x", INT_MIN, INT_MAX, -EINVAL, 0 },
	};
	/* clang-format on */

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int v = 42;
		assert_int_equal(parse_int(rows[i].s, rows[i].min, rows[i].max, &v), rows[i].r);
		assert_int_equal(v, rows[i].r == 0 ? rows[i].v : 42);
	}
	int v = 42;
	assert_int_equal(parse_int(NULL, 0, 1, &v), -EINVAL);
	assert_int_equal(v, 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_int),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
