/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "slots.h"

struct entry {
	bool used;
	int value;
};

/* The first free slot, growing by doubling with zeroed slots; a used slot never moves. */
static void test_take_and_grow(void **state)
{
	struct entry *t = NULL;
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 9; i++) {
		ssize_t k = slot_take(&t, &n, 4);
		assert_int_equal(k, i);
		assert_false(t[k].used);
		assert_int_equal(t[k].value, 0);
		t[k] = (struct entry){ .used = true, .value = 100 + i };
	}
	assert_int_equal(n, 16); /* 4, 8, 16 */
	for (int i = 0; i < 9; i++)
		assert_int_equal(t[i].value, 100 + i);
	/* A freed slot is the next one taken, without growing. */
	t[3].used = false;
	assert_int_equal(slot_take(&t, &n, 4), 3);
	assert_int_equal(n, 16);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_take_and_grow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
