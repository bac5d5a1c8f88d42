/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_CLIENTS_FRONT_H
#define UBINFMT_CLIENTS_FRONT_H

#include <stdint.h>

/*
 * The front end of the agent and control sockets (SOCK_SEQPACKET, the proto/ messages), as the
 * daemon (main.c) sees it: made on two listening sockets, ticked once a second, told of
 * sandboxes that go and of execs done, freed at shutdown.  Its insides are clients.h's.
 */

struct clients;
struct daemon;
struct sandbox;
struct trace_record;

/* Serves agent_fd and control_fd (borrowed: they outlive the front end) on the daemon's loop. */
int clients_new(struct daemon *d, int agent_fd, int control_fd, struct clients **ret);
/*
 * Closes every connection (an agent keeps its listener for the next daemon) and stops
 * watching the sockets.  For shutdown, once the loop has stopped: a socket parked by
 * daemon_accept_failed is watched anew by the daemon, not here.  Accepts NULL; returns NULL.
 */
struct clients *clients_free(struct clients *cs);
/* Drops clients whose greeting is overdue. */
void clients_tick(struct clients *cs);
/* A sandbox is going away: no client may still point at it. */
void clients_sandbox_gone(struct clients *cs, struct sandbox *sb);
/* An exec was decided: its trace line goes to the control clients that subscribed. */
void clients_exec_done(struct clients *cs, struct sandbox *sb, const struct trace_record *rec);

#endif
