/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "histo.h"

static void test_empty(void **state)
{
	struct histo h = { 0 };

	(void)state;
	assert_int_equal(histo_quantile(&h, 0.5), 0);
	assert_int_equal(histo_quantile(&h, 0.99), 0);
}

/* A quantile is the upper bound of its bucket: never below the value, at most 25% above. */
static void assert_close(uint64_t got, uint64_t want)
{
	if (got < want || got > want + want / 4 + 1024)
		fail_msg("quantile %llu for a true value of %llu", (unsigned long long)got, (unsigned long long)want);
}

static void test_uniform(void **state)
{
	struct histo h = { 0 };

	(void)state;
	for (uint64_t v = 1; v <= 1000; v++)
		histo_add(&h, v * 1000); /* 1 µs .. 1 ms */
	assert_int_equal(h.count, 1000);
	assert_close(histo_quantile(&h, 0.5), 500000);
	assert_close(histo_quantile(&h, 0.99), 990000);
	assert_close(histo_quantile(&h, 1.0), 1000000);
}

static void test_outliers(void **state)
{
	struct histo h = { 0 };

	(void)state;
	for (int i = 0; i < 990; i++)
		histo_add(&h, 20000);
	for (int i = 0; i < 10; i++)
		histo_add(&h, 5000000000ull); /* 5 s */
	assert_close(histo_quantile(&h, 0.5), 20000);
	assert_close(histo_quantile(&h, 0.99), 20000);
	assert_close(histo_quantile(&h, 0.999), 5000000000ull);
}

static void test_extremes(void **state)
{
	struct histo h = { 0 };

	(void)state;
	histo_add(&h, 0);
	histo_add(&h, UINT64_MAX);
	assert_true(histo_quantile(&h, 0.5) <= 1024);
	assert_true(histo_quantile(&h, 1.0) > 1000000000ull);
	/* Out-of-range quantiles are clamped, not trusted. */
	assert_true(histo_quantile(&h, -1) <= 1024);
	assert_true(histo_quantile(&h, 7) > 1000000000ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_uniform),
		cmocka_unit_test(test_outliers),
		cmocka_unit_test(test_extremes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
