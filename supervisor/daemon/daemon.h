/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_DAEMON_H
#define UBINFMT_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "emu.h"
#include "engine.h"
#include "loop.h"

/* ubinfmtd's state, shared by its front ends (agents and CLI clients, OCI runtimes). */

struct client;
struct oci_conn;

/* What the daemon keeps per sandbox, beside the engine's own state (sandbox userdata). */
struct sandbox_data {
	struct emu_registry *emus; /* owned when the sandbox has its own overrides, else NULL */
	pid_t init_pid;            /* the agent or the container's init, in our pid namespace; 0 unknown */
	bool from_oci;
};

struct daemon {
	struct engine *engine;
	struct loop *loop;
	struct emu_registry emus; /* the default emulators */
	FILE *trace;              /* --trace: every sandbox's execs */
	bool trace_json;
	struct client *clients;
	uint64_t n_clients;
	struct {
		int fd;
		loop_handler handler;
		void *ctx;
	} parked[4];               /* listening sockets waiting for fds to free up */
	struct oci_conn *oci_conns;
	size_t n_oci_conns;
	int oci_sweep_fd;         /* once a second: drop runtimes that stall */
};

/* How a sandbox asked to be traced (on the daemon's stderr, unless --trace names a file). */
#define DAEMON_TRACE_TEXT 1
#define DAEMON_TRACE_JSON 2

/*
 * What an accept loop does when accept4 fails: 0 to wait for the next readiness report
 * (EAGAIN and other passing conditions), or -1 to stop watching the socket.  Out of fds or
 * memory, the socket is parked and watched again on the next daemon tick (a second later), so a
 * full fd table does not spin the loop; a socket that can never accept is dropped, once logged.
 */
int daemon_accept_failed(struct daemon *d, int listen_fd, int err, loop_handler handler, void *ctx);
/* Once a second (from the OCI front end's timer): re-watches parked sockets. */
void daemon_tick(struct daemon *d);

/* Creates a sandbox with the daemon's defaults (and owns sd); trace is 0 or DAEMON_TRACE_*. */
int daemon_sandbox_new(struct daemon *d, const char *id, struct sandbox_data *sd, int trace,
		       struct sandbox **ret);

/* clients.c: the agent and control sockets (SOCK_SEQPACKET, the proto/ messages). */
int clients_listen(struct daemon *d, int listen_fd);
void clients_exec_done(struct daemon *d, struct sandbox *sb, const struct trace_record *rec);
void clients_close_all(struct daemon *d);

/* oci.c: the OCI seccomp-agent socket (runc, crun: one JSON state and one listener fd). */
int oci_front_listen(struct daemon *d, int listen_fd);
void oci_front_close_all(struct daemon *d);

#endif
