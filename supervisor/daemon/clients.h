/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_CLIENTS_H
#define UBINFMT_CLIENTS_H

/*
 * What the agent and control front ends share (clients.c: the connections; agents.c: what an
 * agent may ask; control.c: what the ubinfmt command may ask).  Not for the rest of the daemon:
 * it sees clients_front.h.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clients_front.h"
#include "daemon.h"
#include "engine.h"
#include "macros.h"
#include "peer.h"
#include "proto.h"
#include "quota.h"
#include "sandbox_options.h"

/* The socket a client came in on: that, not the client's words, says what it may ask. */
enum client_kind {
	CLIENT_AGENT,	/* agent.sock, reachable from containers: HELLO, LISTENER */
	CLIENT_CONTROL, /* control.sock, root's: HELLO, STATUS, STATS, TRACE_SUB, ATTACH */
	CLIENT_KIND_MAX,
};

/* A listening socket of this front end, and what its clients may ask. */
struct clients_socket {
	struct clients *front;
	int fd;
	enum client_kind kind;
	int watch;
};

/* The front end: its sockets and every connection on them. */
struct clients {
	struct daemon *daemon;
	struct clients_socket agent, control;
	struct client *list;
	uint64_t n; /* connections open */
};

DEFINE_CLEANUP(struct clients *, clients_free)

/* One encoded message waiting for the socket to take it. */
struct client_out {
	struct client_out *next;
	size_t len;
	uint8_t data[];
};

struct client {
	struct client *next;
	struct clients *front;
	struct daemon *daemon; /* front->daemon */
	enum client_kind kind;
	int fd;
	int watch;
	bool want_out; /* watching POLLOUT too: out holds messages */
	struct peer peer;
	struct quota_owner tenant;
	bool counted;	      /* holds one QUOTA_CONNECTIONS of tenant */
	uint64_t deadline_ns; /* CLOCK_MONOTONIC; the client is dropped if still waited for then; 0: none */
	bool greeted;	      /* HELLO answered */

	/* Agents. */
	char id[SANDBOX_ID_MAX];
	bool reattach;			/* its listener ran under another daemon before */
	struct sandbox_options options; /* what HELLO asked for its sandbox (its options, its flags) */
	struct sandbox *join;		/* re-attaching to this sandbox of ours; checked at LISTENER */
	bool served;			/* its listener was taken: nothing more to ask */
	bool holds_sandbox;		/* holds one QUOTA_SANDBOXES of tenant for the sandbox to come */

	/* Control clients. */
	bool trace_sub;
	bool trace_json;
	char trace_id[PROTO_MAX_ID_LEN + 1]; /* "" for every sandbox */
	uint64_t dropped;		     /* trace lines lost to a slow reader */
	struct client_out *out;		     /* queued replies (status), oldest first */
	struct client_out **out_tail;
	size_t out_bytes;
};

/* How long a client may take to say HELLO, and an agent to hand over its listener after it. */
#define CLIENT_GREETING_TIMEOUT_NS (5ull * 1000000000ull)
/* Replies queued for one control client at most (a status of every sandbox fits many times). */
#define CLIENT_OUT_MAX (16u << 20)

/* Sends m now if the socket takes it; a slow reader's trace lines are dropped, not queued. */
int client_send(struct client *c, const struct proto_msg *m);
/* Queues m behind what is queued and sends what the socket takes: for replies that must arrive whole. */
int client_queue(struct client *c, const struct proto_msg *m);
/* An ERROR reply with "what: strerror" as its text; returns err. */
int client_error(struct client *c, int err, const char *what);
/* The same with a text of its own (printf-like); returns err. */
int client_errorf(struct client *c, int err, const char *fmt, ...) _printf_(3, 4);

/*
 * The handlers of each socket: 0 to go on, < 0 to drop the client (after an ERROR reply where
 * the client deserves to know).  fds are the message's; a handler that keeps one sets it to -1.
 */
int agent_on_message(struct client *c, const struct proto_msg *m, int *fds, size_t n_fds);
int control_on_message(struct client *c, const struct proto_msg *m);
/*
 * Serves listener (owned by the engine on success) for sb, with the agent's journal page if
 * journal_fd is one; scope says whose execs the journal may restart (engine.h).
 */
int agent_adopt_listener(struct daemon *d, struct sandbox *sb, int listener, int journal_fd,
			 const struct journal_scope *scope, bool late);
/* control.c: whether the peer may use the control socket at all (root of our user namespace). */
bool control_peer_allowed(const struct peer *p);

#endif
