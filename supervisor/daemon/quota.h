/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_QUOTA_H
#define UBINFMT_QUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Per-tenant limits of ubinfmtd: how many connections and sandboxes one client may hold.  A
 * tenant is counted twice: by uid (the host user; root is exempt there, since every container
 * without a user namespace is root), and by (uid, pid namespace), which tells containers of the
 * same uid apart.  The node's administrator (root of our user namespace with CAP_SYS_ADMIN) is
 * not limited.  Pure: no syscalls, the caller says who is who.
 */

enum quota_what {
	QUOTA_CONNECTIONS,
	QUOTA_SANDBOXES,
	QUOTA_WHAT_MAX,
};

enum quota_scope {
	QUOTA_SCOPE_UID,   /* every process of one uid */
	QUOTA_SCOPE_PIDNS, /* one uid in one pid namespace: a container */
	QUOTA_SCOPE_MAX,
};

struct quota_limits {
	unsigned per_uid[QUOTA_WHAT_MAX];   /* for uids other than 0; 0: no limit */
	unsigned per_pidns[QUOTA_WHAT_MAX]; /* for each (uid, pid namespace); 0: no limit */
};

/*
 * Defaults: a container (a uid in a pid namespace) up to 16 sandboxes and 32 connections, an
 * unprivileged uid up to 64 and 128 over all its containers (main.c doubles the sandbox
 * limits for connections).
 */
#define QUOTA_DEFAULT_SANDBOXES_PER_UID 64
#define QUOTA_DEFAULT_SANDBOXES_PER_PIDNS 16

struct quota_owner {
	uint32_t uid;
	uint64_t pidns; /* 0: not known (the connecting process is gone); counted as one tenant */
	bool exempt;	/* the node's administrator */
};

struct quota;

int quota_new(const struct quota_limits *limits, struct quota **ret);
struct quota *quota_free(struct quota *q);

/*
 * Counts one more `what` for owner.  Returns 0, -EDQUOT when a limit is reached (*ret_scope then
 * says which, *ret_limit its value; nothing is counted), or -ENOMEM.
 */
int quota_take(struct quota *q, const struct quota_owner *owner, enum quota_what what, enum quota_scope *ret_scope,
	       unsigned *ret_limit);
/* Gives back one `what` taken for owner (the same owner struct). */
void quota_give(struct quota *q, const struct quota_owner *owner, enum quota_what what);

/* How many `what` owner holds in scope. */
unsigned quota_count(const struct quota *q, const struct quota_owner *owner, enum quota_scope scope,
		     enum quota_what what);
/* Table entries in use (the memory the table holds is proportional to it). */
size_t quota_entries(const struct quota *q);

const char *quota_what_name(enum quota_what what);

#endif
