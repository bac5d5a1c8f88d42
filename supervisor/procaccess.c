/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "procaccess.h"
#include "procstatus.h"

#define CAP_SYS_PTRACE_BIT 19

/* The numbers on the line name, exactly want of them: 0, or -EINVAL. */
static int status_numbers(const char *text, size_t len, const char *name, unsigned long *out, int want)
{
	return procstatus_numbers(text, len, name, out, (size_t)want) == want ? 0 : -EINVAL;
}

/* The numbers on the line name, one per pid namespace level: their count (0 if none or too many). */
static size_t status_levels(const char *text, size_t len, const char *name, unsigned long *out)
{
	int n = procstatus_numbers(text, len, name, out, PROC_PIDNS_LEVELS);

	return n > 0 && n <= PROC_PIDNS_LEVELS ? (size_t)n : 0;
}

int procaccess_parse_status(const char *text, size_t len, struct proc_status *ret)
{
	struct proc_status s = { 0 };
	unsigned long v[4], tg[PROC_PIDNS_LEVELS], p[PROC_PIDNS_LEVELS];
	size_t n;
	int r;

	r = status_numbers(text, len, "Tgid", v, 1);
	if (r < 0)
		return r;
	s.tgid = (pid_t)v[0];
	r = status_numbers(text, len, "Uid", v, 4);
	if (r < 0)
		return r;
	for (int i = 0; i < 4; i++)
		s.uid[i] = (uid_t)v[i];
	r = status_numbers(text, len, "Gid", v, 4);
	if (r < 0)
		return r;
	for (int i = 0; i < 4; i++)
		s.gid[i] = (gid_t)v[i];
	/* Since Linux 4.1: without them (or if they disagree) no numbers in other namespaces. */
	n = status_levels(text, len, "NStgid", tg);
	if (n > 0 && n == status_levels(text, len, "NSpid", p)) {
		s.n_levels = n;
		for (size_t i = 0; i < n; i++) {
			s.nstgid[i] = (pid_t)tg[i];
			s.nspid[i] = (pid_t)p[i];
		}
	}
	r = procstatus_caps(text, len, "CapPrm", &s.cap_prm);
	if (r < 0)
		return r;
	r = procstatus_caps(text, len, "CapEff", &s.cap_eff);
	if (r < 0)
		return r;
	*ret = s;
	return 0;
}

int procaccess_ids_at_depth(const struct proc_status *s, size_t depth, pid_t *ret_tgid, pid_t *ret_tid)
{
	if (depth >= s->n_levels)
		return -ENOENT;
	*ret_tgid = s->nstgid[s->n_levels - 1 - depth];
	*ret_tid = s->nspid[s->n_levels - 1 - depth];
	return 0;
}

int procaccess_parse_ns_link(const char *text, const char *type, uint64_t *ret_ino)
{
	size_t tl = strlen(type);
	const char *p = text + tl + 2;
	uint64_t v = 0;

	if (strncmp(text, type, tl) != 0 || text[tl] != ':' || text[tl + 1] != '[' || *p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p[0] != ']' || p[1] != '\0')
		return -EINVAL;
	*ret_ino = v;
	return 0;
}

enum proc_dumpable procaccess_dumpable(const struct proc_status *target, uid_t environ_uid, gid_t environ_gid,
				       bool in_our_userns)
{
	/* task_dump_owner(): a dumpable task's files are its euid's and egid's, exactly. */
	if (environ_uid != target->uid[1] || environ_gid != target->gid[1])
		return PROC_DUMPABLE_NO;
	/*
	 * Owned by its euid and egid: dumpable, unless those are also the ids of root in the user
	 * namespace of its mm, which own a task that is not.  That root is uid and gid 0 for a task
	 * of the reader's own namespace; for others, /proc does not say.
	 */
	if (!in_our_userns || (target->uid[1] == 0 && target->gid[1] == 0))
		return PROC_DUMPABLE_UNKNOWN;
	return PROC_DUMPABLE_YES;
}

/*
 * The steps of __ptrace_may_access() and cap_ptrace_access_check() for READ_FSCREDS, with the
 * target outside the caller's thread group (the caller's own links are always allowed):
 *   1. the caller's fsuid and fsgid equal the target's real, effective and saved ids, or the
 *      caller has CAP_SYS_PTRACE over the target's user namespace;
 *   2. a target that is not dumpable needs CAP_SYS_PTRACE over the user namespace of its mm;
 *   3. in one user namespace, the target's permitted capabilities are a subset of the caller's
 *      effective ones, or the caller has CAP_SYS_PTRACE over the target's namespace.
 * Across user namespaces, capabilities over the target's namespace depend on ownership that
 * /proc does not show: UNSURE.  Within one, CAP_SYS_PTRACE over it is the caller's effective
 * bit.
 */
enum proc_access procaccess_may_read(const struct proc_access_query *q)
{
	const struct proc_status *c = q->caller, *t = q->target;
	bool ptrace_cap = c->cap_eff & (UINT64_C(1) << CAP_SYS_PTRACE_BIT);
	bool same_ids = true;

	if (!q->same_userns)
		return PROC_ACCESS_UNSURE;
	for (int i = 0; i < 3; i++)
		same_ids = same_ids && c->uid[3] == t->uid[i] && c->gid[3] == t->gid[i];
	if (!same_ids && !ptrace_cap)
		return PROC_ACCESS_DENY;
	if (q->dumpable != PROC_DUMPABLE_YES) {
		if (!ptrace_cap)
			return q->dumpable == PROC_DUMPABLE_NO ? PROC_ACCESS_DENY : PROC_ACCESS_UNSURE;
		/*
		 * The mm's namespace is the target's own, or an ancestor if the target moved after
		 * its last exec.  Only in the reader's namespace (the initial one for a supervisor
		 * run as root, which has no ancestor) is it known to be the target's.
		 */
		if (!q->target_in_our_userns)
			return PROC_ACCESS_UNSURE;
	}
	if (!ptrace_cap && (t->cap_prm & ~c->cap_eff))
		return PROC_ACCESS_DENY;
	return PROC_ACCESS_ALLOW;
}
