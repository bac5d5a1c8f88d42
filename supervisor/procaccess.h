/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_PROCACCESS_H
#define UBINFMT_PROCACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The kernel's ptrace read check (__ptrace_may_access with PTRACE_MODE_READ_FSCREDS), which
 * guards the procfs magic links of a process (/proc/PID/root, cwd, exe, fd/N, ns/…): the
 * kernel follows them only for a caller that passes it, answering EACCES otherwise.  The
 * supervisor follows them with its own privileges, so before it does, it asks the same question
 * for the exec'ing task, from what /proc shows of both.  Pure: the facts are gathered by
 * resolve.c.  What /proc does not show (an LSM's verdict, the user namespace of a task's mm when
 * it moved to another one after its last exec) makes the answer UNSURE, never ALLOW.
 */

/* The initial pid namespace and MAX_PID_NS_LEVEL (32) nested ones. */
#define PROC_PIDNS_LEVELS 33

/* What the check needs of /proc/PID/status, in the namespaces of whoever read it. */
struct proc_status {
	pid_t tgid; /* Tgid:, numbered by the procfs the text was read from */
	/*
	 * NStgid: and NSpid:, from the reader's procfs's pid namespace down to the task's own;
	 * n_levels is 0 when the lines are missing (before Linux 4.1) or disagree.
	 */
	size_t n_levels;
	pid_t nstgid[PROC_PIDNS_LEVELS];
	pid_t nspid[PROC_PIDNS_LEVELS];
	uid_t uid[4];	  /* Uid: real, effective, saved, filesystem */
	gid_t gid[4];	  /* Gid: the same four */
	uint64_t cap_prm; /* CapPrm: */
	uint64_t cap_eff; /* CapEff: */
};

/* Pure: parses /proc/PID/status text.  -EINVAL if Tgid, Uid, Gid, CapPrm or CapEff is missing. */
int procaccess_parse_status(const char *text, size_t len, struct proc_status *ret);

/*
 * Pure: the task's thread-group and thread ids in the pid namespace depth levels above its own
 * (0: its own).  0, or -ENOENT when the status does not reach that far up.
 */
int procaccess_ids_at_depth(const struct proc_status *s, size_t depth, pid_t *ret_tgid, pid_t *ret_tid);

/*
 * Pure: the inode number in the text of a /proc/PID/ns/TYPE link ("pid:[4026531836]"), which
 * names the namespace for as long as it lives.  0, or -EINVAL if the text is not of that type.
 */
int procaccess_parse_ns_link(const char *text, const char *type, uint64_t *ret_ino);

enum proc_dumpable {
	PROC_DUMPABLE_NO,
	PROC_DUMPABLE_YES,
	PROC_DUMPABLE_UNKNOWN,
};

/*
 * Pure: the target's dumpability (get_dumpable(mm) == SUID_DUMP_USER), which /proc shows only
 * through the owner of its private files: a dumpable task's /proc/PID/environ belongs to its
 * euid and egid, another's to root of the user namespace of its mm.  in_our_userns: the target
 * is in the reader's user namespace, where that root is uid 0; elsewhere it is unknown.
 */
enum proc_dumpable procaccess_dumpable(const struct proc_status *target, uid_t environ_uid, gid_t environ_gid,
				       bool in_our_userns);

enum proc_access {
	PROC_ACCESS_DENY,   /* the kernel refuses: EACCES for the magic link */
	PROC_ACCESS_ALLOW,  /* the kernel allows (LSMs aside) */
	PROC_ACCESS_UNSURE, /* /proc does not tell: leave the exec to the kernel */
};

struct proc_access_query {
	const struct proc_status *caller; /* the exec'ing thread */
	const struct proc_status *target; /* the task that owns the link, not in the caller's thread group */
	bool same_userns;		  /* caller and target are in one user namespace */
	bool target_in_our_userns;	  /* ... which is the reader's (the supervisor's) */
	enum proc_dumpable dumpable;	  /* the target's, from procaccess_dumpable */
};

/* Pure: may the caller ptrace-read the target, and so follow its magic links? */
enum proc_access procaccess_may_read(const struct proc_access_query *q);

#endif
