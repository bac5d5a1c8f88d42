/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_SANDBOX_H
#define UBINFMT_SANDBOX_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

/*
 * The child side of `ubinfmt run`: optional namespaces and root, the filter, the listener
 * hand-over, and CMD.
 */

struct sandbox_spec {
	const char *rootfs;   /* NULL: the host's filesystem, no namespaces */
	char **argv;          /* CMD and its arguments */
	sigset_t orig_mask;   /* restored before CMD runs */
	int sock;             /* our end of the socketpair the listener travels over */
	bool userns;          /* create a user namespace (unprivileged callers) */
	bool no_new_privs;    /* set no_new_privs before installing the filter */
};

/*
 * Starts the sandbox.  Returns the pid of its top process (CMD itself, or with a rootfs the
 * namespace's init, which exits with CMD's status) or -errno.
 */
pid_t sandbox_start(const struct sandbox_spec *spec);

/* Receives the listener fd sent by the sandbox (blocking: the peer is our own child). */
int sandbox_recv_listener(int sock);

/* Writes a user namespace's maps: the caller's uid and gid become root inside. */
int sandbox_write_idmaps(pid_t pid, uid_t uid, gid_t gid);
/* Tells a sandbox waiting in sandbox_start that its maps are written. */
int sandbox_signal_idmaps_done(int sock);

#endif
