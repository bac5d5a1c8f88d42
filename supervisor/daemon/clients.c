/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The connections on ubinfmtd's agent and control sockets: accepting them within the tenant's
 * quota and the fd reserve, reading their messages, queueing replies, and dropping clients that
 * never get to the point.  What a client may ask is the socket's business (agents.c, control.c):
 * agent.sock is reachable from every container and takes an agent's HELLO and LISTENER only;
 * control.sock is root's.  Every byte and fd from a client is untrusted: messages are decoded by
 * proto_decode, and nothing a client does can block the loop (all sockets are non-blocking).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clients.h"
#include "fdpass.h"
#include "log.h"
#include "loop.h"
#include "macros.h"

static const char *const kind_names[CLIENT_KIND_MAX] = { "agent", "control" };

static int on_client(void *ctx, int fd, int events);

static void out_free(struct client *c)
{
	while (c->out) {
		struct client_out *o = c->out;
		c->out = o->next;
		free(o);
	}
	c->out_tail = &c->out;
	c->out_bytes = 0;
}

/*
 * Reads what the client sent and we will not answer: a unix socket closed with unread data
 * makes the peer's next read fail with ECONNRESET ahead of our last reply (a refusal's reason).
 */
static void drain(int fd)
{
	uint8_t byte;

	for (int i = 0; i < 16; i++)
		if (recv(fd, &byte, 1, MSG_DONTWAIT | MSG_TRUNC) < 0)
			break;
}

static void client_free(struct client *c)
{
	struct daemon *d = c->daemon;

	for (struct client **pp = &d->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	(void)loop_unwatch(d->loop, c->watch);
	drain(c->fd);
	close(c->fd);
	if (c->counted)
		quota_give(d->quota, &c->tenant, QUOTA_CONNECTIONS);
	if (c->holds_sandbox)
		quota_give(d->quota, &c->tenant, QUOTA_SANDBOXES);
	if (c->trace_sub)
		engine_add_trace_readers(d->engine, -1);
	out_free(c);
	sandbox_options_free(&c->options);
	free(c);
	d->n_clients--;
}

/* Watches for what the client needs now: always input, and output while replies wait. */
static int watch_events(struct client *c, bool want_out)
{
	struct daemon *d = c->daemon;
	int w;

	if (c->want_out == want_out)
		return 0;
	(void)loop_unwatch(d->loop, c->watch);
	w = loop_watch(d->loop, c->fd, POLLIN | (want_out ? POLLOUT : 0), on_client, c);
	if (w < 0) {
		c->watch = -1;
		return w;
	}
	c->watch = w;
	c->want_out = want_out;
	return 0;
}

/* Sends queued replies until the socket is full: 0, or -errno when the client is lost. */
static int flush(struct client *c)
{
	while (c->out) {
		struct client_out *o = c->out;
		int r = proto_send(c->fd, o->data, o->len, NULL, 0);
		if (r == -EAGAIN)
			return watch_events(c, true);
		if (r < 0)
			return r;
		c->out = o->next;
		c->out_bytes -= o->len;
		free(o);
	}
	c->out_tail = &c->out;
	return watch_events(c, false);
}

int client_send(struct client *c, const struct proto_msg *m)
{
	/* Behind queued replies it would arrive out of order: a trace line is dropped instead. */
	if (c->out)
		return -EAGAIN;
	return proto_send_msg(c->fd, m, NULL, 0);
}

int client_queue(struct client *c, const struct proto_msg *m)
{
	uint8_t buf[PROTO_MAX_MSG];
	struct client_out *o;
	int n = proto_encode(m, buf, sizeof(buf));

	if (n < 0)
		return n;
	if (c->out_bytes + (size_t)n > CLIENT_OUT_MAX)
		return -ENOBUFS;
	o = malloc(sizeof(*o) + (size_t)n);
	if (!o)
		return -ENOMEM;
	o->next = NULL;
	o->len = (size_t)n;
	memcpy(o->data, buf, (size_t)n);
	*c->out_tail = o;
	c->out_tail = &o->next;
	c->out_bytes += (size_t)n;
	return flush(c);
}

int client_errorf(struct client *c, int err, const char *fmt, ...)
{
	struct proto_msg m = { .type = PROTO_MSG_ERROR };
	char text[PROTO_MAX_ERROR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	m.error.error = err;
	m.error.message = text;
	(void)client_queue(c, &m);
	return err;
}

int client_error(struct client *c, int err, const char *what)
{
	return client_errorf(c, err, "%s: %s", what, strerror(-err));
}

/* ---- messages ------------------------------------------------------------------------------ */

static int on_message(struct client *c, const uint8_t *buf, size_t len, int *fds, size_t n_fds)
{
	struct proto_msg m;
	char why[256];
	int r;

	r = proto_decode(buf, len, &m);
	if (r < 0) {
		proto_strerror(r, buf, len, why, sizeof(why));
		log_debug("%s client pid %d uid %u sent a bad message: %s", kind_names[c->kind], (int)c->peer.pid,
			  c->peer.uid, why);
		return client_error(c, r, why);
	}
	if (n_fds > proto_type_max_fds(m.type))
		return client_errorf(c, -EPROTO, "%s carries no fds", proto_type_name(m.type));
	/* A received fd that eats into the loop's reserve is refused like a connection would be. */
	for (size_t i = 0; i < n_fds; i++)
		if (!daemon_fd_affordable(c->daemon, fds[i]))
			return client_errorf(c, -ENFILE, "ubinfmtd is short of file descriptors; try again later");
	if (m.type == PROTO_MSG_BYE)
		return -ECONNRESET;
	if (c->kind == CLIENT_AGENT)
		return agent_on_message(c, &m, fds, n_fds);
	return control_on_message(c, &m);
}

static int on_client(void *ctx, int fd, int events)
{
	struct client *c = ctx;

	if (events < 0 || (events & (POLLERR | POLLNVAL))) {
		client_free(c);
		return -1;
	}
	if ((events & POLLOUT) && flush(c) < 0) {
		client_free(c);
		return -1;
	}
	if (!(events & (POLLIN | POLLHUP)))
		return 0;
	for (;;) {
		uint8_t buf[PROTO_MAX_MSG];
		int fds[PROTO_MAX_FDS];
		size_t n_fds = 0;
		int n = proto_recv(fd, buf, sizeof(buf), fds, PROTO_MAX_FDS, &n_fds);

		if (n == -EAGAIN)
			return 0;
		if (n <= 0) {
			if (n < 0 && n != -ECONNRESET)
				log_debug_errno(n, "%s client pid %d: %m", kind_names[c->kind], (int)c->peer.pid);
			client_free(c);
			return -1;
		}
		int r = on_message(c, buf, (size_t)n, fds, n_fds);
		proto_close_fds(fds, n_fds); /* whatever the handler did not take */
		if (r < 0) {
			/* Whatever error went out is queued: one last try to deliver it, then go. */
			(void)flush(c);
			client_free(c);
			return -1;
		}
	}
}

/* ---- accepting ----------------------------------------------------------------------------- */

/*
 * Whether this new client may stay: a control client must be root of our user namespace, an
 * agent within its tenant's connection quota, and either within the fd reserve.  A refused
 * client gets one ERROR saying why before the connection closes.
 */
static int admit(struct client *c)
{
	struct daemon *d = c->daemon;
	enum quota_scope scope;
	unsigned limit;
	int r;

	if (!daemon_fd_affordable(d, c->fd)) {
		static uint64_t last_ns;
		uint64_t now = daemon_now_ns();
		if (!last_ns || now - last_ns > 10000000000ull)
			log_warn("%u file descriptors in use, %u kept for exec decisions: refusing new clients "
				 "(raise LimitNOFILE, or find who holds so many connections with 'ss -xp')",
				 d->fd_limit - DAEMON_FD_RESERVE, DAEMON_FD_RESERVE);
		last_ns = now;
		return client_errorf(c, -ENFILE, "ubinfmtd is short of file descriptors; try again later");
	}
	if (c->kind == CLIENT_CONTROL) {
		if (!control_peer_allowed(&c->peer))
			return client_errorf(c, -EPERM, "the control socket answers root with CAP_SYS_ADMIN in "
							"ubinfmtd's user namespace only (you are uid %u)",
					     c->peer.uid);
		return 0;
	}
	r = quota_take(d->quota, &c->tenant, QUOTA_CONNECTIONS, &scope, &limit);
	if (r == -EDQUOT) {
		daemon_warn_quota(d, &c->tenant, QUOTA_CONNECTIONS, scope, limit);
		return client_errorf(c, r, "too many connections to ubinfmtd from uid %u%s (%u)", c->tenant.uid,
				     scope == QUOTA_SCOPE_PIDNS ? " in this container" : "", limit);
	}
	if (r < 0)
		return r;
	c->counted = true;
	return 0;
}

static int on_accept(void *ctx, int fd, int events)
{
	struct daemon_socket *s = ctx;
	struct daemon *d = s->daemon;

	if (events < 0)
		return log_error_errno(events, "%s socket failed: %m", kind_names[s->kind]);
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *c;

		if (cfd < 0)
			return daemon_accept_failed(d, fd, errno, on_accept, s);
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(cfd);
			continue;
		}
		*c = (struct client){
			.daemon = d,
			.kind = (enum client_kind)s->kind,
			.fd = cfd,
			.watch = -1,
			.deadline_ns = daemon_now_ns() + CLIENT_GREETING_TIMEOUT_NS,
		};
		c->out_tail = &c->out;
		if (peer_identify(cfd, &c->peer) < 0) {
			close(cfd);
			free(c);
			continue;
		}
		c->tenant = (struct quota_owner){ .uid = c->peer.uid, .pidns = c->peer.pidns, .exempt = c->peer.privileged };
		c->next = d->clients;
		d->clients = c;
		d->n_clients++;
		if (admit(c) < 0) {
			client_free(c);
			continue;
		}
		c->watch = loop_watch(d->loop, cfd, POLLIN, on_client, c);
		if (c->watch < 0)
			client_free(c);
	}
}

int clients_listen(struct daemon *d, struct daemon_socket *s)
{
	int r;

	s->daemon = d;
	r = loop_watch(d->loop, s->fd, POLLIN, on_accept, s);
	return r < 0 ? r : 0;
}

void clients_tick(struct daemon *d)
{
	uint64_t now = daemon_now_ns();

	for (struct client *c = d->clients, *next; c; c = next) {
		next = c->next;
		if (!c->deadline_ns || now < c->deadline_ns)
			continue;
		log_debug("%s client pid %d uid %u said nothing useful for %llu s: dropping it", kind_names[c->kind],
			  (int)c->peer.pid, c->peer.uid, CLIENT_GREETING_TIMEOUT_NS / 1000000000ull);
		client_free(c);
	}
}

void clients_sandbox_gone(struct daemon *d, struct sandbox *sb)
{
	for (struct client *c = d->clients; c; c = c->next)
		if (c->join == sb)
			c->join = NULL;
}

void clients_close_all(struct daemon *d)
{
	while (d->clients)
		client_free(d->clients);
}
