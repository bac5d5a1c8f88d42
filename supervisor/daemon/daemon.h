/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_DAEMON_H
#define UBINFMT_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "loop.h"
#include "macros.h"
#include "quota.h"

/*
 * What ubinfmtd's front ends (clients.c with agents.c and control.c: the agent and control
 * sockets; oci.c: the OCI seccomp-agent socket) may use of the daemon (main.c), which owns the
 * engine, the quota, the default emulators and the once-a-second tick.  The daemon itself is
 * opaque: a front end reaches it through these functions only, and never another front end.
 *
 * One daemon serves every container of a node, so every client is a tenant that must not see,
 * name, steer or starve another's sandboxes: sandboxes have owners, and ids are looked up only
 * within the owner's own namespace.
 */

struct daemon;
struct emu_registry;
struct engine;
struct sandbox;
struct sandbox_options;

/* Who made a sandbox; ids of one origin never name a sandbox of another. */
enum sandbox_origin {
	SANDBOX_ORIGIN_AGENT = 1, /* an agent on the agent socket: ids per (uid, pid namespace) */
	SANDBOX_ORIGIN_OCI,	  /* a runtime on the OCI socket: the container id */
	SANDBOX_ORIGIN_ATTACH,	  /* `ubinfmt attach` on the control socket */
	SANDBOX_ORIGIN_MAX,
};

struct sandbox_owner {
	enum sandbox_origin origin;
	struct quota_owner tenant; /* agents: the peer that made it; the others: root, exempt */
};

/* What the daemon keeps per sandbox, beside the engine's own state (sandbox userdata). */
struct sandbox_data {
	struct sandbox_owner owner;
	struct emu_registry *emus; /* owned when the sandbox has its own overrides, else NULL */
	pid_t init_pid;		   /* the agent or the container's init, in our pid namespace; 0 unknown */
	struct quota *quota;	   /* holds one QUOTA_SANDBOXES of owner.tenant in it; NULL: none */
	/* Agents: the in-flight journal page it came with; a re-attach must bring the same one. */
	bool has_journal;
	uint64_t journal_dev;
	uint64_t journal_ino;
};

/*
 * File descriptors kept free for the loop's own work (deciding an exec opens a few, a rewrite
 * adds the emulator): a client whose connection or fds would eat into them is refused, so that a
 * flood of idle connections cannot make other sandboxes' execs fail.
 */
#define DAEMON_FD_RESERVE 256

/*
 * Whether fd, just made (accepted, received), leaves the reserve untouched.  fds are allocated
 * lowest first, so every number below fd is in use: fewer than the reserve are left once fd
 * comes within it of the limit.
 */
bool daemon_fd_affordable(const struct daemon *d, int fd);
/* RLIMIT_NOFILE as raised at start. */
unsigned daemon_fd_limit(const struct daemon *d);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t daemon_now_ns(void);

/*
 * What an accept loop does when accept4 fails: 0 to wait for the next readiness report
 * (EAGAIN and other passing conditions), or -1 to stop watching the socket.  Out of fds or
 * memory, the socket is parked and watched again on the next daemon tick (a second later), so a
 * full fd table does not spin the loop; a socket that can never accept is dropped, once logged.
 */
int daemon_accept_failed(struct daemon *d, int listen_fd, int err, loop_handler handler, void *ctx);

/* What the daemon runs on and with: borrowed, valid as long as the daemon. */
struct engine *daemon_engine(struct daemon *d);
struct loop *daemon_loop(struct daemon *d);
struct quota *daemon_quota(struct daemon *d);
/* The default emulators (--emulator, or found on PATH at start): the only ones a sandbox may name. */
const struct emu_registry *daemon_emus(const struct daemon *d);

/*
 * Creates a sandbox with the daemon's defaults; sd (owned from now on, even on failure) must
 * have its owner set.  An agent's sandbox counts against its tenant's quota (unless sd->quota
 * says it holds its place already): -EDQUOT when full.  opts (NULL: none) are what the
 * sandbox's makers settled; emulator overrides must be in sd->emus already.  A sandbox that
 * asks for a trace has it on the daemon's stderr, unless --trace names a file for all.
 */
int daemon_sandbox_new(struct daemon *d, const char *id, struct sandbox_data *sd, const struct sandbox_options *opts,
		       struct sandbox **ret);
/* The sandbox named id in owner's namespace: same origin, and for agents the same tenant. */
struct sandbox *daemon_sandbox_find(struct daemon *d, const struct sandbox_owner *owner, const char *id);
/* Frees sb and everything the daemon keeps for it (its listeners close). */
void daemon_sandbox_free(struct daemon *d, struct sandbox *sb);
/* A new sandbox_data: zeroed, owned by owner. */
struct sandbox_data *sandbox_data_new(const struct sandbox_owner *owner);
/*
 * The one teardown of what the daemon keeps per sandbox: its place in the quota, its own
 * emulators.  Accepts NULL and a half-filled sd; returns NULL.
 */
struct sandbox_data *sandbox_data_free(struct sandbox_data *sd);
DEFINE_CLEANUP(struct sandbox_data *, sandbox_data_free)
/* Closes and frees a sandbox's own emulators (NULL: none); returns NULL. */
struct emu_registry *sandbox_emus_free(struct emu_registry *emus);
DEFINE_CLEANUP(struct emu_registry *, sandbox_emus_free)
/* A rate-limited warning that tenant hit a quota (one line per tenant and cap every 10 s at most). */
void daemon_warn_quota(struct daemon *d, const struct quota_owner *tenant, enum quota_what what, enum quota_scope scope,
		       unsigned limit);

#endif
