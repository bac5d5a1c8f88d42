/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_SANDBOX_H
#define UBINFMT_SANDBOX_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "idmap.h"

/*
 * The child side of `ubinfmt run`: optional namespaces and root, the filter, the listener
 * hand-over, and CMD.
 */

struct sandbox_spec {
	const char *rootfs; /* NULL: the host's filesystem, no mount or pid namespace */
	char **argv;	    /* CMD and its arguments */
	sigset_t orig_mask; /* restored before CMD runs */
	int sock;	    /* our end of the socketpair the listener travels over */
	bool userns;	    /* create a user namespace (unprivileged callers); the parent writes
			       * its maps (sandbox_map_*), then sandbox_signal_idmaps_done */
	bool no_new_privs;  /* set no_new_privs before installing the filter */
};

/*
 * Starts the sandbox.  Returns the pid of its top process (CMD itself, or with a rootfs the
 * namespace's init, which exits with CMD's status) or -errno.
 */
pid_t sandbox_start(const struct sandbox_spec *spec);

/* Receives the listener fd sent by the sandbox (blocking: the peer is our own child). */
int sandbox_recv_listener(int sock);

/*
 * Maps ids into the user namespace of the sandbox PID with the setuid helper HELPER (newuidmap
 * for UIDS, newgidmap for GIDS), as podman and `unshare --map-auto` do: only it may map the
 * subordinate ids of /etc/subuid and /etc/subgid.  It runs with the signal mask MASK.  Returns
 * 0, -errno when it cannot be started, or -EPERM when it refused or failed (it said why on
 * stderr).
 */
int sandbox_map_with_helper(const char *helper, pid_t pid, const struct idmap *map, const sigset_t *mask);

/*
 * Writes the maps of the sandbox PID's user namespace ourselves, which the kernel allows for
 * our own uid and gid only (and denies setgroups): the fallback without subordinate ids.
 */
int sandbox_map_own_ids(pid_t pid, const struct idmap *uids, const struct idmap *gids);
/*
 * Makes us a member of the user namespace of the sandbox PID (mapped already), so that the
 * supervisor sees its tasks' ids as they are there and holds the namespace's capabilities over
 * them.  Must be called before any thread is started.
 */
int sandbox_join_userns(pid_t pid);
/* Tells a sandbox waiting in sandbox_start that its maps are written. */
int sandbox_signal_idmaps_done(int sock);

#endif
