/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "perm.h"

/* Trimmed from a real /proc/PID/status of an unprivileged shell. */
static const char user_status[] = "Name:\tbash\n"
				  "Umask:\t0022\n"
				  "State:\tS (sleeping)\n"
				  "Tgid:\t4242\n"
				  "Uid:\t1000\t1000\t1000\t1000\n"
				  "Gid:\t1000\t1000\t1000\t1001\n"
				  "FDSize:\t256\n"
				  "Groups:\t4 24 27 1000 \n"
				  "CapInh:\t0000000000000000\n"
				  "CapPrm:\t0000000000000000\n"
				  "CapEff:\t0000000000000000\n"
				  "CapBnd:\t000001ffffffffff\n";

static const char root_status[] = "Name:\tsh\n"
				  "Uid:\t0\t0\t0\t0\n"
				  "Gid:\t0\t0\t0\t0\n"
				  "Groups:\t\n"
				  "CapEff:\t000001ffffffffff\n";

static struct stat file(uid_t uid, gid_t gid, mode_t mode)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_uid = uid;
	st.st_gid = gid;
	st.st_mode = S_IFREG | mode;
	return st;
}

static void test_parse(void **state)
{
	struct creds c;

	(void)state;
	assert_int_equal(perm_parse_status(user_status, strlen(user_status), &c), 0);
	assert_int_equal(c.fsuid, 1000);
	assert_int_equal(c.fsgid, 1001); /* the fs ids are the fourth column */
	assert_int_equal(c.n_groups, 4);
	assert_int_equal(c.groups[1], 24);
	assert_false(c.dac_override);

	assert_int_equal(perm_parse_status(root_status, strlen(root_status), &c), 0);
	assert_int_equal(c.fsuid, 0);
	assert_int_equal(c.n_groups, 0);
	assert_true(c.dac_override);
}

static void test_parse_malformed(void **state)
{
	struct creds c;
	static const char *const bad[] = {
		"",
		"Uid:\t1\t2\t3\n",				    /* three ids */
		"Uid:\t1\t2\t3\t4\nGid:\t1\t2\t3\t4\n",		    /* no CapEff */
		"Gid:\t1\t2\t3\t4\nCapEff:\t0\n",		    /* no Uid */
		"Uid:\tx\t2\t3\t4\nGid:\t1\t2\t3\t4\nCapEff:\t0\n", /* not a number */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(perm_parse_status(bad[i], strlen(bad[i]), &c), -EINVAL);
	/* Truncated anywhere: never a read past len. */
	for (size_t len = 0; len < strlen(user_status); len++)
		(void)perm_parse_status(user_status, len, &c);
}

static void test_may_exec(void **state)
{
	struct creds user, root;
	struct stat st;

	(void)state;
	assert_int_equal(perm_parse_status(user_status, strlen(user_status), &user), 0);
	assert_int_equal(perm_parse_status(root_status, strlen(root_status), &root), 0);

	/* Owner, group (fsgid or a supplementary group), other: one class decides, like the kernel. */
	assert_true(perm_may_exec(&user, &(struct stat){ 0 }, false) == false);
	st = file(1000, 0, 0100);
	assert_true(perm_may_exec(&user, &st, false));
	st = file(1000, 0, 0011); /* owner bits win even when group/other would allow */
	assert_false(perm_may_exec(&user, &st, false));
	st = file(0, 1001, 0010);
	assert_true(perm_may_exec(&user, &st, false));
	st = file(0, 27, 0010);
	assert_true(perm_may_exec(&user, &st, false));
	st = file(0, 5, 0001);
	assert_true(perm_may_exec(&user, &st, false));
	st = file(0, 5, 0110);
	assert_false(perm_may_exec(&user, &st, false));

	/* CAP_DAC_OVERRIDE needs at least one x bit. */
	st = file(1000, 1000, 0644);
	assert_false(perm_may_exec(&root, &st, false));
	st = file(1000, 1000, 0744);
	assert_true(perm_may_exec(&root, &st, false));

	/* noexec mounts and non-regular files refuse everyone. */
	st = file(0, 0, 0755);
	assert_false(perm_may_exec(&root, &st, true));
	st.st_mode = S_IFDIR | 0755;
	assert_false(perm_may_exec(&root, &st, false));
}

/*
 * A task may have up to NGROUPS_MAX (65536) supplementary groups; only PERM_MAX_GROUPS are
 * kept.  Before groups_truncated, a group past the 256th was taken for "not a member", so a
 * file with group x and no other x was refused (and one with other x but no group x allowed)
 * against the kernel's answer; perm_read_creds' 8 KiB read also lost CapEff: behind a long
 * Groups: line and failed.  Now the answer is the kernel's whenever the dropped groups cannot
 * change it, and a refusal otherwise.
 */
static void test_many_groups(void **state)
{
	static char text[8192];
	struct creds c;
	struct stat st;
	size_t n;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), "Name:\tx\nUid:\t7\t7\t7\t7\nGid:\t7\t7\t7\t7\nGroups:\t");
	for (unsigned g = 1000; g < 1300; g++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%u ", g);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\nCapEff:\t0000000000000000\n");
	assert_int_equal(perm_parse_status(text, n, &c), 0);
	assert_int_equal(c.n_groups, PERM_MAX_GROUPS);
	assert_true(c.groups_truncated);
	assert_int_equal(c.groups[PERM_MAX_GROUPS - 1], 1000 + PERM_MAX_GROUPS - 1);

	/* A group that was kept: exact. */
	st = file(0, 1005, 0010);
	assert_true(perm_may_exec(&c, &st, false));
	/* Group 1299 was dropped: group and other bits agree, so it does not matter. */
	st = file(0, 1299, 0011);
	assert_true(perm_may_exec(&c, &st, false));
	st = file(0, 1299, 0100);
	assert_false(perm_may_exec(&c, &st, false));
	/* They disagree: refuse (the kernel allows 0010 for a member, refuses 0001). */
	st = file(0, 1299, 0010);
	assert_false(perm_may_exec(&c, &st, false));
	st = file(0, 1299, 0001);
	assert_false(perm_may_exec(&c, &st, false));
	/* The owner class still decides first. */
	st = file(7, 1299, 0100);
	assert_true(perm_may_exec(&c, &st, false));

	/* Exactly PERM_MAX_GROUPS groups is no truncation. */
	n = (size_t)snprintf(text, sizeof(text), "Uid:\t7\t7\t7\t7\nGid:\t7\t7\t7\t7\nGroups:\t");
	for (unsigned g = 0; g < PERM_MAX_GROUPS; g++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%u ", 2000 + g);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\nCapEff:\t0\n");
	assert_int_equal(perm_parse_status(text, n, &c), 0);
	assert_int_equal(c.n_groups, PERM_MAX_GROUPS);
	assert_false(c.groups_truncated);
	st = file(0, 5, 0001);
	assert_true(perm_may_exec(&c, &st, false));
}

static void test_may_search(void **state)
{
	struct creds user, root;
	struct stat st;

	(void)state;
	assert_int_equal(perm_parse_status(user_status, strlen(user_status), &user), 0);
	assert_int_equal(perm_parse_status(root_status, strlen(root_status), &root), 0);
	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFDIR | 0700;
	st.st_uid = 0;
	assert_false(perm_may_search(&user, &st)); /* not ours, no bit for others */
	assert_true(perm_may_search(&root, &st));  /* CAP_DAC_OVERRIDE (and READ_SEARCH) */
	st.st_mode = S_IFDIR | 0711;
	assert_true(perm_may_search(&user, &st));
	st.st_mode = S_IFDIR | 0611; /* others may, the owner may not: the owner class decides */
	st.st_uid = 1000;
	assert_false(perm_may_search(&user, &st)); /* owner without x */
	st.st_mode = S_IFREG | 0777;
	assert_false(perm_may_search(&root, &st)); /* not a directory */
}

/* With all three x bits the answer is yes whoever asks: the engine then skips reading creds. */
static void test_x_for_all(void **state)
{
	struct creds user, root;
	static const uid_t owners[] = { 0, 5, 1000, 1001, 65534 };

	(void)state;
	assert_int_equal(perm_parse_status(user_status, strlen(user_status), &user), 0);
	assert_int_equal(perm_parse_status(root_status, strlen(root_status), &root), 0);
	for (mode_t m = 0; m <= 0777; m++) {
		bool all = (m & 0111) == 0111;
		assert_int_equal(perm_x_for_all(S_IFREG | m), all);
		if (!all)
			continue;
		for (size_t u = 0; u < sizeof(owners) / sizeof(owners[0]); u++) {
			for (size_t g = 0; g < sizeof(owners) / sizeof(owners[0]); g++) {
				struct stat st = file(owners[u], (gid_t)owners[g], m);
				assert_true(perm_may_exec(&user, &st, false));
				assert_true(perm_may_exec(&root, &st, false));
				st.st_mode = S_IFDIR | m;
				assert_true(perm_may_search(&user, &st));
				assert_true(perm_may_search(&root, &st));
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),	    cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_may_exec),    cmocka_unit_test(test_may_search),
		cmocka_unit_test(test_many_groups), cmocka_unit_test(test_x_for_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
