/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_PERM_H
#define UBINFMT_PERM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * The exec permission check the kernel would have made on a foreign file before the rewrite
 * turned the exec into one of the emulator (which the caller may always execute).
 */

#define PERM_MAX_GROUPS 256

struct creds {
	uid_t fsuid;
	gid_t fsgid;
	size_t n_groups;
	gid_t groups[PERM_MAX_GROUPS];
	bool groups_truncated; /* the task has more than PERM_MAX_GROUPS groups (up to NGROUPS_MAX) */
	bool dac_override;     /* CAP_DAC_OVERRIDE in the effective set */
	bool dac_read_search;  /* CAP_DAC_READ_SEARCH: search any directory */
};

/* Pure: parses /proc/PID/status text.  -EINVAL if the Uid/Gid/CapEff lines are missing. */
int perm_parse_status(const char *text, size_t len, struct creds *ret);

/*
 * Pure: would the kernel let creds execute a file with st (on a noexec mount or not)?  When
 * the groups were truncated and the file's group is not among those kept, the answer is the
 * kernel's if the group and other x bits agree, else false: refuse rather than guess.
 */
bool perm_may_exec(const struct creds *c, const struct stat *st, bool noexec_mount);

/*
 * Pure: whether mode has all three x bits, so that perm_may_exec and perm_may_search grant
 * it to any credentials (a noexec mount aside): the caller's need not be read.
 */
bool perm_x_for_all(mode_t mode);

/* Pure: may creds search (walk through) a directory with st, like generic_permission(MAY_EXEC)? */
bool perm_may_search(const struct creds *c, const struct stat *st);

/* Reads the task's credentials from /proc/TID/status (the whole file, however many groups). */
int perm_read_creds(pid_t tid, struct creds *ret);

#endif
