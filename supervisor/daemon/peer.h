/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_PEER_H
#define UBINFMT_PEER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Who is at the other end of a unix socket, as the kernel says (never as the peer says): what
 * ubinfmtd's roles, ownership and quotas are decided on.  Everything is taken at connect time
 * (SO_PEERCRED, SO_PEERPIDFD) and read from /proc while a pidfd proves that the process read is
 * still the one that connected; the pidfd is not kept (a connection costs the daemon one fd).
 */
struct peer {
	pid_t pid; /* in our pid namespace; 0 when the connecting process is gone */
	uid_t uid; /* in our user namespace (the kernel maps it) */
	gid_t gid;
	uint64_t pidns;	  /* inode of its pid namespace, 0 when unknown */
	bool same_userns; /* in ubinfmtd's own user namespace */
	bool privileged;  /* uid 0 of our user namespace with CAP_SYS_ADMIN: the node's admin */
};

/* Fills ret for the connected socket sock; -errno only when not even SO_PEERCRED answers. */
int peer_identify(int sock, struct peer *ret);
/* Whether the process behind pidfd has exited (or the pidfd is -1). */
bool peer_pidfd_exited(int pidfd);

/* The inode of /proc/PID/ns/NAME ("pid", "user"), or 0. */
uint64_t peer_ns_inode(pid_t pid, const char *name);

#endif
