/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "quota.h"

static const struct quota_limits limits = {
	.per_uid = { [QUOTA_CONNECTIONS] = 8, [QUOTA_SANDBOXES] = 4 },
	.per_pidns = { [QUOTA_CONNECTIONS] = 4, [QUOTA_SANDBOXES] = 2 },
};

static struct quota *new_quota(void)
{
	struct quota *q = NULL;

	assert_int_equal(quota_new(&limits, &q), 0);
	return q;
}

/* One container of a user: its own cap first, then nothing counted on a refusal. */
static void test_pidns_cap(void **state)
{
	struct quota *q = new_quota();
	struct quota_owner a = { .uid = 1000, .pidns = 11 };
	enum quota_scope scope = QUOTA_SCOPE_MAX;
	unsigned limit = 0;

	(void)state;
	for (int i = 0; i < 2; i++)
		assert_int_equal(quota_take(q, &a, QUOTA_SANDBOXES, &scope, &limit), 0);
	assert_int_equal(quota_take(q, &a, QUOTA_SANDBOXES, &scope, &limit), -EDQUOT);
	assert_int_equal(scope, QUOTA_SCOPE_PIDNS);
	assert_int_equal(limit, 2);
	assert_int_equal(quota_count(q, &a, QUOTA_SCOPE_UID, QUOTA_SANDBOXES), 2);
	assert_int_equal(quota_count(q, &a, QUOTA_SCOPE_PIDNS, QUOTA_SANDBOXES), 2);
	/* Connections are counted apart. */
	assert_int_equal(quota_take(q, &a, QUOTA_CONNECTIONS, &scope, &limit), 0);
	quota_give(q, &a, QUOTA_SANDBOXES);
	assert_int_equal(quota_take(q, &a, QUOTA_SANDBOXES, &scope, &limit), 0);
	quota_free(q);
}

/* A user spread over many pid namespaces (unshare -Up) still meets the per-uid cap. */
static void test_uid_cap_across_pidns(void **state)
{
	struct quota *q = new_quota();
	enum quota_scope scope = QUOTA_SCOPE_MAX;
	unsigned limit = 0;

	(void)state;
	for (uint64_t ns = 1; ns <= 4; ns++) {
		struct quota_owner o = { .uid = 1000, .pidns = ns };
		assert_int_equal(quota_take(q, &o, QUOTA_SANDBOXES, &scope, &limit), 0);
	}
	struct quota_owner fifth = { .uid = 1000, .pidns = 5 };
	assert_int_equal(quota_take(q, &fifth, QUOTA_SANDBOXES, &scope, &limit), -EDQUOT);
	assert_int_equal(scope, QUOTA_SCOPE_UID);
	assert_int_equal(limit, 4);
	assert_int_equal(quota_count(q, &fifth, QUOTA_SCOPE_PIDNS, QUOTA_SANDBOXES), 0);
	/* Another user is not affected. */
	struct quota_owner other = { .uid = 1001, .pidns = 5 };
	assert_int_equal(quota_take(q, &other, QUOTA_SANDBOXES, &scope, &limit), 0);
	quota_free(q);
}

/* Root spans every container without a user namespace: only its per-container cap applies. */
static void test_root(void **state)
{
	struct quota *q = new_quota();
	enum quota_scope scope = QUOTA_SCOPE_MAX;
	unsigned limit = 0;

	(void)state;
	for (uint64_t ns = 1; ns <= 100; ns++) {
		struct quota_owner o = { .uid = 0, .pidns = ns };
		assert_int_equal(quota_take(q, &o, QUOTA_SANDBOXES, &scope, &limit), 0);
		assert_int_equal(quota_take(q, &o, QUOTA_SANDBOXES, &scope, &limit), 0);
		assert_int_equal(quota_take(q, &o, QUOTA_SANDBOXES, &scope, &limit), -EDQUOT);
		assert_int_equal(scope, QUOTA_SCOPE_PIDNS);
	}
	struct quota_owner admin = { .uid = 0, .pidns = 1, .exempt = true };
	for (int i = 0; i < 1000; i++)
		assert_int_equal(quota_take(q, &admin, QUOTA_CONNECTIONS, &scope, &limit), 0);
	quota_free(q);
}

/* What was given back leaves no entry: the table's memory follows what is held. */
static void test_entries_freed(void **state)
{
	struct quota *q = new_quota();
	enum quota_scope scope;
	unsigned limit;

	(void)state;
	for (uint32_t uid = 1; uid <= 500; uid++) {
		struct quota_owner o = { .uid = uid, .pidns = uid * 3 };
		assert_int_equal(quota_take(q, &o, QUOTA_CONNECTIONS, &scope, &limit), 0);
	}
	assert_int_equal(quota_entries(q), 1000);
	for (uint32_t uid = 1; uid <= 500; uid++) {
		struct quota_owner o = { .uid = uid, .pidns = uid * 3 };
		quota_give(q, &o, QUOTA_CONNECTIONS);
		quota_give(q, &o, QUOTA_CONNECTIONS); /* once too often: never below zero */
	}
	assert_int_equal(quota_entries(q), 0);
	quota_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pidns_cap),
		cmocka_unit_test(test_uid_cap_across_pidns),
		cmocka_unit_test(test_root),
		cmocka_unit_test(test_entries_freed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
