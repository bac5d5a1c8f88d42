/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "procaccess.h"

/* Trimmed from a real /proc/PID/status of a shell two pid namespaces below the reader's. */
static const char nested_status[] = "Name:\tsh\n"
				    "Umask:\t0022\n"
				    "State:\tS (sleeping)\n"
				    "Tgid:\t5120\n"
				    "Ngid:\t0\n"
				    "Pid:\t5121\n"
				    "PPid:\t5000\n"
				    "TracerPid:\t0\n"
				    "Uid:\t1000\t1001\t1002\t1003\n"
				    "Gid:\t100\t101\t102\t103\n"
				    "FDSize:\t64\n"
				    "Groups:\t4 24 27 \n"
				    "NStgid:\t5120\t40\t7\n"
				    "NSpid:\t5121\t41\t8\n"
				    "NSpgid:\t5120\t40\t7\n"
				    "NSsid:\t5000\t1\t1\n"
				    "CapInh:\t0000000000000000\n"
				    "CapPrm:\t00000000a80425fb\n"
				    "CapEff:\t0000000000080000\n"
				    "CapBnd:\t000001ffffffffff\n";

static void test_parse(void **state)
{
	struct proc_status s;
	pid_t tgid, tid;

	(void)state;
	assert_int_equal(procaccess_parse_status(nested_status, strlen(nested_status), &s), 0);
	assert_int_equal(s.tgid, 5120);
	assert_int_equal(s.uid[0], 1000);
	assert_int_equal(s.uid[1], 1001);
	assert_int_equal(s.uid[3], 1003); /* fsuid: the fourth column */
	assert_int_equal(s.gid[2], 102);
	assert_int_equal(s.n_levels, 3);
	assert_true(s.cap_prm == UINT64_C(0xa80425fb));
	assert_true(s.cap_eff == UINT64_C(0x80000));

	/* Depth 0: the task's own namespace (the last column); 2: the reader's (the first). */
	assert_int_equal(procaccess_ids_at_depth(&s, 0, &tgid, &tid), 0);
	assert_int_equal(tgid, 7);
	assert_int_equal(tid, 8);
	assert_int_equal(procaccess_ids_at_depth(&s, 1, &tgid, &tid), 0);
	assert_int_equal(tgid, 40);
	assert_int_equal(tid, 41);
	assert_int_equal(procaccess_ids_at_depth(&s, 2, &tgid, &tid), 0);
	assert_int_equal(tgid, 5120);
	assert_int_equal(tid, 5121);
	assert_int_equal(procaccess_ids_at_depth(&s, 3, &tgid, &tid), -ENOENT);
}

/* Replaces the line starting with "name:" by line (or removes it for ""). */
static void edit(char *out, size_t size, const char *name, const char *line)
{
	const char *p = strstr(nested_status, name);

	assert_non_null(p);
	const char *end = strchr(p, '\n') + 1;
	snprintf(out, size, "%.*s%s%s", (int)(p - nested_status), nested_status, line, end);
}

static void test_parse_refuses(void **state)
{
	static const struct {
		const char *name, *line;
		/* clang-format off */
	} cases[] = {
		{ "Tgid:", "" },
		{ "Uid:", "" },
		{ "Uid:", "Uid:\t1000\t1000\t1000\n" }, /* three columns */
		{ "Uid:", "Uid:\t1000\t1000\t1000\t1000\t1000\n" },
		{ "Gid:", "Gid:\t1\t2\tx\t4\n" },
		{ "Gid:", "Gid:\t1\t2\t3\t4294967296\n" }, /* past 32 bits */
		{ "CapPrm:", "" },
		{ "CapEff:", "" },
		{ "CapEff:", "CapEff:\t\n" },
		{ "CapEff:", "CapEff:\t00000000000000000\n" }, /* 17 digits */
		{ "CapEff:", "CapEff:\t00000000000g0000\n" },
	};
	/* clang-format on */
	char text[sizeof(nested_status) + 64];
	struct proc_status s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		edit(text, sizeof(text), cases[i].name, cases[i].line);
		assert_int_equal(procaccess_parse_status(text, strlen(text), &s), -EINVAL);
	}
	/* A "Tgid:" that only starts a line's value is not the field. */
	assert_int_equal(procaccess_parse_status("Name:\tTgid: 1\n", 14, &s), -EINVAL);
}

static void test_parse_levels(void **state)
{
	char text[sizeof(nested_status) + 512];
	char line[400];
	struct proc_status s;
	size_t n = 0;

	(void)state;
	/* Missing, or disagreeing: no levels, but the rest parses. */
	edit(text, sizeof(text), "NSpid:", "");
	assert_int_equal(procaccess_parse_status(text, strlen(text), &s), 0);
	assert_int_equal(s.n_levels, 0);
	edit(text, sizeof(text), "NSpid:", "NSpid:\t5121\t41\n");
	assert_int_equal(procaccess_parse_status(text, strlen(text), &s), 0);
	assert_int_equal(s.n_levels, 0);
	/* More levels than the kernel nests: none kept. */
	n += (size_t)snprintf(line, sizeof(line), "NStgid:");
	for (int i = 0; i < PROC_PIDNS_LEVELS + 1; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "\t%d", i + 1);
	snprintf(line + n, sizeof(line) - n, "\n");
	edit(text, sizeof(text), "NStgid:", line);
	assert_int_equal(procaccess_parse_status(text, strlen(text), &s), 0);
	assert_int_equal(s.n_levels, 0);
}

static void test_ns_link(void **state)
{
	uint64_t ino = 0;

	(void)state;
	assert_int_equal(procaccess_parse_ns_link("pid:[4026531836]", "pid", &ino), 0);
	assert_true(ino == UINT64_C(4026531836));
	assert_int_equal(procaccess_parse_ns_link("user:[4026531837]", "pid", &ino), -EINVAL);
	assert_int_equal(procaccess_parse_ns_link("pid_for_children:[1]", "pid", &ino), -EINVAL);
	assert_int_equal(procaccess_parse_ns_link("pid:[]", "pid", &ino), -EINVAL);
	assert_int_equal(procaccess_parse_ns_link("pid:[12", "pid", &ino), -EINVAL);
	assert_int_equal(procaccess_parse_ns_link("pid:[12]x", "pid", &ino), -EINVAL);
	assert_int_equal(procaccess_parse_ns_link("pid:[99999999999999999999]", "pid", &ino), -EINVAL);
	assert_int_equal(procaccess_parse_ns_link("pid", "pid", &ino), -EINVAL);
}

static struct proc_status who(uid_t uid, gid_t gid, uint64_t prm, uint64_t eff)
{
	struct proc_status s = { .tgid = 2, .cap_prm = prm, .cap_eff = eff };

	for (int i = 0; i < 4; i++) {
		s.uid[i] = uid;
		s.gid[i] = gid;
	}
	return s;
}

static void test_dumpable(void **state)
{
	struct proc_status t = who(1000, 1000, 0, 0), r = who(0, 0, 0, 0);

	(void)state;
	assert_int_equal(procaccess_dumpable(&t, 1000, 1000, true), PROC_DUMPABLE_YES);
	assert_int_equal(procaccess_dumpable(&t, 0, 0, true), PROC_DUMPABLE_NO);
	assert_int_equal(procaccess_dumpable(&t, 1000, 0, true), PROC_DUMPABLE_NO);
	/* Root's files either way; in another user namespace, its root is unknown. */
	assert_int_equal(procaccess_dumpable(&r, 0, 0, true), PROC_DUMPABLE_UNKNOWN);
	assert_int_equal(procaccess_dumpable(&t, 1000, 1000, false), PROC_DUMPABLE_UNKNOWN);
	assert_int_equal(procaccess_dumpable(&t, 0, 0, false), PROC_DUMPABLE_NO);
	/* The euid decides, not the real uid. */
	t.uid[1] = 0;
	assert_int_equal(procaccess_dumpable(&t, 1000, 1000, true), PROC_DUMPABLE_NO);
}

#define PTRACE (UINT64_C(1) << 19)
#define ALL UINT64_C(0x1ffffffffff)

static enum proc_access ask(const struct proc_status *c, const struct proc_status *t, bool same, bool ours,
			    enum proc_dumpable d)
{
	const struct proc_access_query q = {
		.caller = c,
		.target = t,
		.same_userns = same,
		.target_in_our_userns = ours,
		.dumpable = d,
	};
	return procaccess_may_read(&q);
}

static void test_may_read(void **state)
{
	struct proc_status user = who(1000, 1000, 0, 0), other = who(1001, 1000, 0, 0);
	struct proc_status root = who(0, 0, ALL, ALL), nocap_root = who(0, 0, 0, 0);
	struct proc_status ptrace_user = who(1000, 1000, PTRACE, PTRACE);

	(void)state;
	/* Same ids, dumpable, no capabilities on either side. */
	assert_int_equal(ask(&user, &user, true, true, PROC_DUMPABLE_YES), PROC_ACCESS_ALLOW);
	/* Other ids and no CAP_SYS_PTRACE: EACCES, whatever the rest. */
	assert_int_equal(ask(&user, &other, true, true, PROC_DUMPABLE_YES), PROC_ACCESS_DENY);
	assert_int_equal(ask(&user, &root, true, true, PROC_DUMPABLE_UNKNOWN), PROC_ACCESS_DENY);
	assert_int_equal(ask(&nocap_root, &user, true, true, PROC_DUMPABLE_YES), PROC_ACCESS_DENY);
	/* Not dumpable: only with CAP_SYS_PTRACE. */
	assert_int_equal(ask(&user, &user, true, true, PROC_DUMPABLE_NO), PROC_ACCESS_DENY);
	assert_int_equal(ask(&user, &user, true, true, PROC_DUMPABLE_UNKNOWN), PROC_ACCESS_UNSURE);
	/* The target holds capabilities the caller lacks (root with none against root with all). */
	assert_int_equal(ask(&nocap_root, &root, true, true, PROC_DUMPABLE_YES), PROC_ACCESS_DENY);
	assert_int_equal(ask(&root, &nocap_root, true, true, PROC_DUMPABLE_YES), PROC_ACCESS_ALLOW);
	/* CAP_SYS_PTRACE in the target's namespace: other ids and not dumpable are fine... */
	assert_int_equal(ask(&root, &user, true, true, PROC_DUMPABLE_NO), PROC_ACCESS_ALLOW);
	assert_int_equal(ask(&ptrace_user, &root, true, true, PROC_DUMPABLE_UNKNOWN), PROC_ACCESS_ALLOW);
	/* ...unless the mm's namespace may be another (not the reader's namespace). */
	assert_int_equal(ask(&root, &user, true, false, PROC_DUMPABLE_UNKNOWN), PROC_ACCESS_UNSURE);
	assert_int_equal(ask(&root, &user, true, false, PROC_DUMPABLE_YES), PROC_ACCESS_ALLOW);
	/* Across user namespaces: capabilities there depend on ownership /proc does not show. */
	assert_int_equal(ask(&user, &user, false, false, PROC_DUMPABLE_YES), PROC_ACCESS_UNSURE);
	assert_int_equal(ask(&root, &user, false, true, PROC_DUMPABLE_YES), PROC_ACCESS_UNSURE);
}

static void test_may_read_fs_ids(void **state)
{
	struct proc_status c = who(1000, 1000, 0, 0), t = who(1000, 1000, 0, 0);

	(void)state;
	/* The caller's fsuid and fsgid count, against the target's real, effective and saved ids. */
	c.uid[3] = 1001;
	assert_int_equal(ask(&c, &t, true, true, PROC_DUMPABLE_YES), PROC_ACCESS_DENY);
	c.uid[3] = 1000;
	c.uid[0] = c.uid[1] = c.uid[2] = 0;
	assert_int_equal(ask(&c, &t, true, true, PROC_DUMPABLE_YES), PROC_ACCESS_ALLOW);
	c.gid[3] = 5;
	assert_int_equal(ask(&c, &t, true, true, PROC_DUMPABLE_YES), PROC_ACCESS_DENY);
	c.gid[3] = 1000;
	t.uid[2] = 0; /* a saved set-user-id the caller does not share */
	assert_int_equal(ask(&c, &t, true, true, PROC_DUMPABLE_YES), PROC_ACCESS_DENY);
	t.uid[2] = 1000;
	t.uid[3] = 0; /* the target's own fsuid does not count */
	assert_int_equal(ask(&c, &t, true, true, PROC_DUMPABLE_YES), PROC_ACCESS_ALLOW);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_parse_levels),	cmocka_unit_test(test_ns_link),
		cmocka_unit_test(test_dumpable),	cmocka_unit_test(test_may_read),
		cmocka_unit_test(test_may_read_fs_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
