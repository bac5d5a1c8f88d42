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

/*
 * A client and all it holds: its place in the list, its watch, its socket (what it sent last is
 * read first, see drain), its quota places, its trace subscription, its queued replies.
 * Accepts NULL; returns NULL.
 */
static struct client *client_free(struct client *c)
{
	struct daemon *d;

	if (!c)
		return NULL;
	d = c->daemon;
	for (struct client **pp = &c->front->list; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	(void)loop_unwatch(daemon_loop(d), c->watch);
	drain(c->fd);
	close(c->fd);
	if (c->counted)
		quota_give(daemon_quota(d), &c->tenant, QUOTA_CONNECTIONS);
	if (c->holds_sandbox)
		quota_give(daemon_quota(d), &c->tenant, QUOTA_SANDBOXES);
	if (c->trace_sub)
		engine_add_trace_readers(daemon_engine(d), -1);
	out_free(c);
	sandbox_options_free(&c->options);
	c->front->n--;
	free(c);
	return NULL;
}
DEFINE_CLEANUP(struct client *, client_free)

/* Watches for what the client needs now: always input, and output while replies wait. */
static int watch_events(struct client *c, bool want_out)
{
	struct loop *loop = daemon_loop(c->daemon);
	int w;

	if (c->want_out == want_out)
		return 0;
	(void)loop_unwatch(loop, c->watch);
	w = loop_watch(loop, c->fd, POLLIN | (want_out ? POLLOUT : 0), on_client, c);
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
				 daemon_fd_limit(d) - DAEMON_FD_RESERVE, DAEMON_FD_RESERVE);
		last_ns = now;
		return client_errorf(c, -ENFILE, "ubinfmtd is short of file descriptors; try again later");
	}
	if (c->kind == CLIENT_CONTROL) {
		if (!control_peer_allowed(&c->peer))
			return client_errorf(c, -EPERM,
					     "the control socket answers root with CAP_SYS_ADMIN in "
					     "ubinfmtd's user namespace only (you are uid %u)",
					     c->peer.uid);
		return 0;
	}
	r = quota_take(daemon_quota(d), &c->tenant, QUOTA_CONNECTIONS, &scope, &limit);
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

/* A new client on s, in the front end's list from now on; NULL (cfd closed) when it cannot be. */
static struct client *client_new(struct clients_socket *s, int cfd)
{
	struct clients *cs = s->front;
	struct client *c = calloc(1, sizeof(*c));

	if (!c) {
		close(cfd);
		return NULL;
	}
	*c = (struct client){
		.front = cs,
		.daemon = cs->daemon,
		.kind = s->kind,
		.fd = cfd,
		.watch = -1,
		.deadline_ns = daemon_now_ns() + CLIENT_GREETING_TIMEOUT_NS,
	};
	c->out_tail = &c->out;
	if (peer_identify(cfd, &c->peer) < 0) {
		close(cfd);
		free(c);
		return NULL;
	}
	c->tenant = (struct quota_owner){ .uid = c->peer.uid, .pidns = c->peer.pidns, .exempt = c->peer.privileged };
	c->next = cs->list;
	cs->list = c;
	cs->n++;
	return c;
}

/* Accepts every waiting client; < 0 when the loop stops watching the socket (s->watch is gone). */
static int on_accept(void *ctx, int fd, int events)
{
	struct clients_socket *s = ctx;
	int r;

	if (events < 0) {
		s->watch = -1;
		return log_error_errno(events, "%s socket failed: %m", kind_names[s->kind]);
	}
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			r = daemon_accept_failed(s->front->daemon, fd, errno, on_accept, s);
			if (r < 0)
				s->watch = -1; /* parked: the daemon watches it anew, or dropped */
			return r;
		}
		_cleanup_(client_freep) struct client *c = client_new(s, cfd);
		if (!c || admit(c) < 0)
			continue;
		c->watch = loop_watch(daemon_loop(c->daemon), cfd, POLLIN, on_client, c);
		if (c->watch >= 0)
			c = NULL; /* the loop's now, until on_client frees it */
	}
}

int clients_new(struct daemon *d, int agent_fd, int control_fd, struct clients **ret)
{
	_cleanup_(clients_freep) struct clients *cs = calloc(1, sizeof(*cs));
	struct clients_socket *sockets[] = { &cs->agent, &cs->control };
	int r;

	if (!cs)
		return -ENOMEM;
	cs->daemon = d;
	cs->agent = (struct clients_socket){ .front = cs, .fd = agent_fd, .kind = CLIENT_AGENT, .watch = -1 };
	cs->control = (struct clients_socket){ .front = cs, .fd = control_fd, .kind = CLIENT_CONTROL, .watch = -1 };
	for (size_t i = 0; i < ARRAY_SIZE(sockets); i++) {
		r = loop_watch(daemon_loop(d), sockets[i]->fd, POLLIN, on_accept, sockets[i]);
		if (r < 0)
			return r;
		sockets[i]->watch = r;
	}
	*ret = TAKE_PTR(cs);
	return 0;
}

void clients_tick(struct clients *cs)
{
	uint64_t now = daemon_now_ns();

	for (struct client *c = cs->list, *next; c; c = next) {
		next = c->next;
		if (!c->deadline_ns || now < c->deadline_ns)
			continue;
		log_debug("%s client pid %d uid %u said nothing useful for %llu s: dropping it", kind_names[c->kind],
			  (int)c->peer.pid, c->peer.uid, CLIENT_GREETING_TIMEOUT_NS / 1000000000ull);
		client_free(c);
	}
}

void clients_sandbox_gone(struct clients *cs, struct sandbox *sb)
{
	for (struct client *c = cs ? cs->list : NULL; c; c = c->next)
		if (c->join == sb)
			c->join = NULL;
}

struct clients *clients_free(struct clients *cs)
{
	if (!cs)
		return NULL;
	while (cs->list)
		client_free(cs->list);
	(void)loop_unwatch(daemon_loop(cs->daemon), cs->agent.watch);
	(void)loop_unwatch(daemon_loop(cs->daemon), cs->control.watch);
	free(cs);
	return NULL;
}
