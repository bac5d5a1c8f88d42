/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "ud.h"

/* Every field comes back as packed, at its limits too, and none spills into another. */
static void test_round_trip(void **state)
{
	static const struct {
		uint8_t op;
		uint32_t gen, slot;
		/* clang-format off */
	} rows[] = {
		{ 0, 0, 0 },
		{ 1, 1, 1 },
		{ 0xff, UD_GEN_MASK, UINT32_MAX },
		{ 0x80, 0x800000, 0x80000000u },
		{ 0x01, UD_GEN_MASK, 0 },
		{ 0xff, 0, UINT32_MAX },
	};
	/* clang-format on */

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t ud = ud_pack(rows[i].op, rows[i].gen, rows[i].slot);
		assert_int_equal(ud_op(ud), rows[i].op);
		assert_int_equal(ud_gen(ud), rows[i].gen);
		assert_int_equal(ud_slot(ud), rows[i].slot);
	}
	assert_int_equal(ud_pack(0x12, 0x345678, 0x9abcdef0u), UINT64_C(0x123456789abcdef0));
}

/* A generation wider than 24 bits wraps: it must not reach the op tag. */
static void test_gen_wraps(void **state)
{
	uint64_t ud = ud_pack(3, 0x1000005u, 7);

	(void)state;
	assert_int_equal(ud_op(ud), 3);
	assert_int_equal(ud_gen(ud), 5);
	assert_int_equal(ud_slot(ud), 7);
	assert_int_equal(ud_pack(3, UD_GEN_MASK + 1, 7), ud_pack(3, 0, 7));
	/* A stale generation is a different value for the same op and slot. */
	assert_true(ud_pack(3, 4, 7) != ud_pack(3, 5, 7));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_gen_wraps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
