/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "procstatus.h"

static const char status[] = "Name:\tUid\\nUid:\t1\n"
			     "Umask:\t0022\n"
			     "Uidx:\t9 9 9 9\n"
			     "Uid:\t1000\t1001\t1002\t1003\n"
			     "Groups:\t4 24 27 1000 \n"
			     "NSpid:\t42\t7\t1\n"
			     "CapEff:\t000001ffffffffff\n"
			     "Empty:\t\n"
			     "Big:\t4294967296\n"
			     "Bad:\t12x\n"
			     "Last:\t5";

/* Lines match by their whole name at a line start: not inside another line or a longer name. */
static void test_field(void **state)
{
	size_t len;
	const char *f;

	(void)state;
	f = procstatus_field(status, strlen(status), "Uid", &len);
	assert_non_null(f);
	assert_int_equal(len, strlen("\t1000\t1001\t1002\t1003"));
	assert_memory_equal(f, "\t1000", 5);
	assert_null(procstatus_field(status, strlen(status), "Gid", &len));
	f = procstatus_field(status, strlen(status), "Last", &len);
	assert_non_null(f);
	assert_int_equal(len, 2);
	/* The text ends where len says, NUL or not. */
	assert_null(procstatus_field(status, strlen(status) - 8, "Last", &len));
}

static void test_numbers(void **state)
{
	unsigned long v[4] = { 0 };
	const size_t n = strlen(status);

	(void)state;
	assert_int_equal(procstatus_numbers(status, n, "Uid", v, 4), 4);
	assert_int_equal(v[0], 1000);
	assert_int_equal(v[3], 1003);
	/* More than fit: counted, the first ones kept. */
	assert_int_equal(procstatus_numbers(status, n, "Groups", v, 2), 4);
	assert_int_equal(v[1], 24);
	assert_int_equal(procstatus_numbers(status, n, "NSpid", v, 4), 3);
	assert_int_equal(procstatus_numbers(status, n, "Empty", v, 4), 0);
	assert_int_equal(procstatus_numbers(status, n, "Big", v, 4), -EINVAL);
	assert_int_equal(procstatus_numbers(status, n, "Bad", v, 4), -EINVAL);
	assert_int_equal(procstatus_numbers(status, n, "Missing", v, 4), -EINVAL);
}

static void test_caps(void **state)
{
	uint64_t caps = 0;
	char text[64];

	(void)state;
	assert_int_equal(procstatus_caps(status, strlen(status), "CapEff", &caps), 0);
	assert_true(caps == 0x000001ffffffffffull);
	snprintf(text, sizeof(text), "CapEff:\t00000000000000001\n");
	assert_int_equal(procstatus_caps(text, strlen(text), "CapEff", &caps), -EINVAL);
	snprintf(text, sizeof(text), "CapEff:\t\n");
	assert_int_equal(procstatus_caps(text, strlen(text), "CapEff", &caps), -EINVAL);
	snprintf(text, sizeof(text), "CapEff:\t00g0\n");
	assert_int_equal(procstatus_caps(text, strlen(text), "CapEff", &caps), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_field),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
