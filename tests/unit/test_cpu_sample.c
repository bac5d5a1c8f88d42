/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "cpu_sample.h"

/* A sandbox's first CPU_SAMPLE_FIRST execs are all measured, whatever the stride says. */
static void test_first_all_measured(void **state)
{
	struct cpu_sampler s;

	(void)state;
	cpu_sampler_init(&s, 42);
	for (uint64_t measured = 0; measured < CPU_SAMPLE_FIRST; measured++)
		assert_true(cpu_sample_due(&s, measured));
}

/* Past them, one in CPU_SAMPLE_MEAN on average, and never two strides of the longest kind. */
static void test_rate(void **state)
{
	const unsigned n = 1600000;
	unsigned due = 0, gap = 0, longest = 0;
	struct cpu_sampler s;

	(void)state;
	cpu_sampler_init(&s, 7);
	for (unsigned i = 0; i < n; i++) {
		if (cpu_sample_due(&s, CPU_SAMPLE_FIRST)) {
			due++;
			gap = 0;
		} else if (++gap > longest) {
			longest = gap;
		}
	}
	/* 100,000 expected; ±1% is far outside chance for a uniform stride */
	assert_in_range(due, n / CPU_SAMPLE_MEAN * 99 / 100, n / CPU_SAMPLE_MEAN * 101 / 100);
	assert_true(longest <= 2 * CPU_SAMPLE_MEAN - 2);
}

/*
 * A loop alternating two programs (or any short period) gets both measured alike: with a
 * fixed stride of 16, every measured exec would be the same program's.
 */
static void test_no_aliasing(void **state)
{
	unsigned by_phase[4] = { 0 };
	struct cpu_sampler s;

	(void)state;
	cpu_sampler_init(&s, 1);
	for (unsigned i = 0; i < 400000; i++)
		if (cpu_sample_due(&s, CPU_SAMPLE_FIRST))
			by_phase[i % 4]++;
	for (unsigned p = 0; p < 4; p++)
		assert_in_range(by_phase[p], 6250 * 95 / 100, 6250 * 105 / 100);
}

/* A seed of 0 (xorshift's fixed point) still gives a sampler that measures. */
static void test_zero_seed(void **state)
{
	struct cpu_sampler s;
	unsigned due = 0;

	(void)state;
	cpu_sampler_init(&s, 0);
	for (unsigned i = 0; i < 1000; i++)
		due += cpu_sample_due(&s, CPU_SAMPLE_FIRST);
	assert_in_range(due, 30, 120);
}

static void test_estimate(void **state)
{
	(void)state;
	assert_int_equal(cpu_estimate_total(0, 0, 100), 0);	      /* nothing measured: unknown, 0 */
	assert_int_equal(cpu_estimate_total(5000, 5, 5), 5000);	      /* all measured: the sum */
	assert_int_equal(cpu_estimate_total(5000, 5, 3), 5000);	      /* more measured than counted yet */
	assert_int_equal(cpu_estimate_total(20000, 10, 160), 320000); /* mean 2000 × 160 */
	/* 1e6 execs of 20 ms each: the product overflows 64 bits, the estimate does not. */
	assert_int_equal(cpu_estimate_total(UINT64_C(20000000) * 62500, 62500, 1000000), UINT64_C(20000000) * 1000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_all_measured), cmocka_unit_test(test_rate),
		cmocka_unit_test(test_no_aliasing),	   cmocka_unit_test(test_zero_seed),
		cmocka_unit_test(test_estimate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
