/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "json_escape.h"

/* Every byte: printable ASCII as it is, '"' and '\' backslashed, the rest \u00XX. */
static void test_every_byte(void **state)
{
	char e[JSON_ESCAPE_MAX], want[JSON_ESCAPE_MAX];

	(void)state;
	for (unsigned c = 1; c < 256; c++) {
		size_t n = json_escape_byte((unsigned char)c, e);
		if (c == '"' || c == '\\')
			snprintf(want, sizeof(want), "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			snprintf(want, sizeof(want), "\\u%04x", c);
		else
			snprintf(want, sizeof(want), "%c", c);
		assert_string_equal(e, want);
		assert_int_equal(n, strlen(want));
	}
}

static void test_quote(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(json_quote(buf, sizeof(buf), "a\"b\\c\n\xe9"), strlen("\"a\\\"b\\\\c\\u000a\\u00e9\""));
	assert_string_equal(buf, "\"a\\\"b\\\\c\\u000a\\u00e9\"");
	assert_int_equal(json_quote(buf, sizeof(buf), ""), 2);
	assert_string_equal(buf, "\"\"");
}

/* Cut after a whole escape, still closed, never past size: every size from 0 up. */
static void test_quote_cut(void **state)
{
	const char *s = "ab\x01"
			"cd\"e";
	char buf[32];

	(void)state;
	for (size_t size = 0; size < sizeof(buf); size++) {
		memset(buf, 'X', sizeof(buf));
		size_t n = json_quote(buf, size, s);
		if (size < 3) {
			assert_int_equal(n, 0);
			if (size)
				assert_int_equal(buf[0], '\0');
			continue;
		}
		assert_true(n < size);
		assert_int_equal(buf[n], '\0');
		assert_int_equal(buf[size], 'X');
		assert_int_equal(buf[0], '"');
		assert_int_equal(buf[n - 1], '"');
		/* What is inside is a prefix of the whole escape, cut between escapes. */
		const char *whole = "ab\\u0001cd\\\"e";
		assert_memory_equal(buf + 1, whole, n - 2);
		assert_true(n - 2 == 0 || n - 2 == 1 || n - 2 == 2 || n - 2 == 8 || n - 2 == 9 || n - 2 == 10 ||
			    n - 2 == 12 || n - 2 == 13);
	}
}

static void test_print(void **state)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	(void)state;
	assert_non_null(f);
	json_print_string(f, "x\ty\"\x7f");
	fclose(f);
	assert_string_equal(out, "\"x\\u0009y\\\"\\u007f\"");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_quote_cut),
		cmocka_unit_test(test_print),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
