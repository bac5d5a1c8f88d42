/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent and control sockets of ubinfmtd.  Agents (ubinfmt-init, inside containers) hand
 * over their seccomp listeners; the ubinfmt command asks for status, live traces and attach.
 * Every byte and fd from a client is untrusted: messages are decoded by proto_decode, fds are
 * checked for what they claim to be, and nothing a client does can block the loop (all
 * sockets are non-blocking; a trace subscriber that cannot keep up loses lines, not us time).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon.h"
#include "fdpass.h"
#include "journal.h"
#include "log.h"
#include "loop.h"
#include "macros.h"
#include "paths.h"
#include "proto.h"

struct client {
	struct client *next;
	struct daemon *daemon;
	int fd;
	int watch;
	pid_t peer_pid;
	uid_t peer_uid;
	enum proto_role role; /* 0 until HELLO */
	struct sandbox *sb;   /* agents: their sandbox */
	pid_t agent_pid;
	bool reattach;        /* its listener ran under another daemon before */
	bool trace_sub;
	bool trace_json;
	char trace_id[PROTO_MAX_ID_LEN + 1]; /* "" for every sandbox */
	uint64_t dropped;
};

static int send_msg(struct client *c, const struct proto_msg *m)
{
	return proto_send_msg(c->fd, m, NULL, 0);
}

static int send_error(struct client *c, int err, const char *what)
{
	struct proto_msg m = { .type = PROTO_MSG_ERROR };
	char text[PROTO_MAX_ERROR_LEN];

	snprintf(text, sizeof(text), "%s: %s", what, strerror(-err));
	m.error.error = err;
	m.error.message = text;
	return send_msg(c, &m);
}

static void client_free(struct daemon *d, struct client *c)
{
	struct client **pp;

	for (pp = &d->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	(void)loop_unwatch(d->loop, c->watch);
	close(c->fd);
	if (c->trace_sub)
		engine_add_trace_readers(d->engine, -1);
	free(c);
	d->n_clients--;
}

/* ---- agents --------------------------------------------------------------------------------- */

static int on_agent_hello(struct daemon *d, struct client *c, const struct proto_hello *h)
{
	struct proto_msg ack = { .type = PROTO_MSG_HELLO_ACK };
	char id[SANDBOX_ID_MAX];
	struct sandbox *sb;
	int r;

	if (h->id[0])
		snprintf(id, sizeof(id), "%s", h->id);
	else
		snprintf(id, sizeof(id), "agent-%d", (int)c->peer_pid);
	sb = engine_sandbox_find(d->engine, id);
	if (sb && !(h->flags & PROTO_HELLO_F_REATTACH))
		return send_error(c, -EEXIST, "a sandbox with this id is already served"), -EEXIST;
	if (!sb) {
		struct sandbox_data *sd = calloc(1, sizeof(*sd));
		if (!sd)
			return -ENOMEM;
		sd->init_pid = c->peer_pid;
		r = daemon_sandbox_new(d, id, sd, (h->flags & PROTO_HELLO_F_TRACE) ? DAEMON_TRACE_TEXT : 0, &sb);
		if (r < 0) {
			send_error(c, r, "cannot create the sandbox");
			return r;
		}
	}
	c->sb = sb;
	c->agent_pid = c->peer_pid;
	c->reattach = h->flags & PROTO_HELLO_F_REATTACH;
	ack.hello_ack.status = 0;
	ack.hello_ack.version = UBINFMT_VERSION_STRING;
	ack.hello_ack.id = id;
	log_info("sandbox '%s': agent pid %d connected%s", id, (int)c->peer_pid,
		 (h->flags & PROTO_HELLO_F_REATTACH) ? " again (re-attach)" : "");
	return send_msg(c, &ack);
}

/* Whether fd really is a seccomp listener, and not some other file a client sent. */
static bool is_seccomp_listener(int fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target, "anon_inode:seccomp notify") == 0;
}

static int adopt_listener(struct daemon *d, struct sandbox *sb, int listener, int journal_fd, pid_t agent, bool late)
{
	struct journal *j = NULL;

	if (!is_seccomp_listener(listener))
		return -EBADF;
	if (journal_fd >= 0) {
		j = journal_map(journal_fd);
		if (!j)
			log_warn_errno(negative_errno(), "sandbox '%s': unusable in-flight journal (%m), ignoring",
				       sandbox_id(sb));
	}
	int r = engine_sandbox_add_listener_journal(d->engine, sb, listener, j, agent, late);
	if (r < 0)
		journal_unmap(j);
	return r;
}

static int on_agent_listener(struct daemon *d, struct client *c, int *fds, size_t n_fds)
{
	int r;

	if (!c->sb || n_fds < 1 || n_fds > 2)
		return send_error(c, -EPROTO, "LISTENER needs a HELLO first and one or two fds"), -EPROTO;
	r = adopt_listener(d, c->sb, fds[0], n_fds == 2 ? fds[1] : -1, c->agent_pid, c->reattach);
	if (n_fds == 2)
		close(TAKE_FD(fds[1]));
	if (r < 0) {
		send_error(c, r, "cannot serve this listener");
		return r;
	}
	fds[0] = -1; /* the engine owns it now */
	log_debug("sandbox '%s': serving a listener from pid %d", sandbox_id(c->sb), (int)c->peer_pid);
	return 0;
}

/* ---- the ubinfmt command --------------------------------------------------------------------- */

static int on_status(struct daemon *d, struct client *c)
{
	struct proto_msg m = { .type = PROTO_MSG_STATUS };
	struct sandbox *sb = NULL;
	int r = 0;

	do {
		m.status.n = 0;
		while (m.status.n < PROTO_MAX_STATUS && (sb = engine_sandbox_next(d->engine, sb))) {
			struct proto_status_entry *e = &m.status.sandboxes[m.status.n++];
			struct sandbox_data *sd = sandbox_userdata(sb);
			struct engine_stats st;
			sandbox_get_stats(sb, &st);
			*e = (struct proto_status_entry){
				.id = sandbox_id(sb),
				.init_pid = sd && sd->init_pid > 0 ? (uint32_t)sd->init_pid : 0,
				.listeners = (uint32_t)sandbox_listener_count(sb),
				.native = st.native,
				.emulated = st.emulated,
				.failed = st.failed,
				.kernel = st.kernel,
				.p50_ns = st.p50_ns,
				.p99_ns = st.p99_ns,
				.native_cpu_ns = st.native_cpu_ns,
				.foreign_cpu_ns = st.foreign_cpu_ns,
				.abandoned = st.abandoned,
			};
		}
		m.status.more = sb && engine_sandbox_next(d->engine, sb);
		r = send_msg(c, &m);
	} while (r >= 0 && m.status.more);
	return r;
}

static int on_stats(struct daemon *d, struct client *c)
{
	struct proto_msg m = { .type = PROTO_MSG_STATS };
	struct engine_stats st;
	uint64_t sandboxes = 0, listeners = 0;

	engine_get_stats(d->engine, &st);
	for (struct sandbox *sb = NULL; (sb = engine_sandbox_next(d->engine, sb));) {
		sandboxes++;
		listeners += sandbox_listener_count(sb);
	}
	m.stats.counters[PROTO_STAT_NOTIFICATIONS] = st.native + st.emulated + st.failed + st.kernel;
	m.stats.counters[PROTO_STAT_NATIVE] = st.native;
	m.stats.counters[PROTO_STAT_EMULATED] = st.emulated;
	m.stats.counters[PROTO_STAT_FAILED] = st.failed;
	m.stats.counters[PROTO_STAT_KERNEL] = st.kernel;
	m.stats.counters[PROTO_STAT_SANDBOXES] = sandboxes;
	m.stats.counters[PROTO_STAT_LISTENERS] = listeners;
	m.stats.counters[PROTO_STAT_CLIENTS] = d->n_clients;
	return send_msg(c, &m);
}

/* Finds the fd numbers of pid's seccomp listener and in-flight journal through /proc. */
static int find_agent_fds(pid_t pid, int *ret_listener, int *ret_journal)
{
	char path[64];
	DIR *dir;
	struct dirent *de;
	int listener = -1, journal = -1;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? -ESRCH : negative_errno();
	while ((de = readdir(dir))) {
		char link[96], target[128];
		int n;
		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "/proc/%d/fd/%.16s", (int)pid, de->d_name);
		n = (int)readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (listener < 0 && strcmp(target, "anon_inode:seccomp notify") == 0)
			listener = atoi(de->d_name);
		else if (journal < 0 && strncmp(target, "/memfd:ubinfmt-journal", 22) == 0)
			journal = atoi(de->d_name);
	}
	closedir(dir);
	if (listener < 0)
		return -ENOENT;
	*ret_listener = listener;
	*ret_journal = journal;
	return 0;
}

/*
 * Takes over the sandbox whose agent is pid: copies its listener (and journal) out of it with
 * pidfd_getfd, which needs the same ptrace rights the rewrites already need.
 */
static int attach(struct daemon *d, pid_t pid, char *ret_id, size_t id_size)
{
	_cleanup_close_ int pidfd = -1, listener = -1, journal = -1;
	int lno, jno, r;
	struct sandbox *sb;

	for (sb = NULL; (sb = engine_sandbox_next(d->engine, sb));) {
		struct sandbox_data *sd = sandbox_userdata(sb);
		if (sd && sd->init_pid == pid)
			return -EALREADY;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return negative_errno();
	r = find_agent_fds(pid, &lno, &jno);
	if (r < 0)
		return r;
	listener = (int)syscall(SYS_pidfd_getfd, pidfd, lno, 0);
	if (listener < 0)
		return negative_errno();
	if (jno >= 0)
		journal = (int)syscall(SYS_pidfd_getfd, pidfd, jno, 0);

	struct sandbox_data *sd = calloc(1, sizeof(*sd));
	if (!sd)
		return -ENOMEM;
	sd->init_pid = pid;
	snprintf(ret_id, id_size, "attach-%d", (int)pid);
	r = daemon_sandbox_new(d, ret_id, sd, 0, &sb);
	if (r < 0)
		return r;
	r = adopt_listener(d, sb, listener, journal, pid, true);
	if (r < 0) {
		engine_sandbox_free(d->engine, sb);
		return r;
	}
	listener = -1;
	return 0;
}

static int on_attach(struct daemon *d, struct client *c, pid_t pid)
{
	struct proto_msg ack = { .type = PROTO_MSG_HELLO_ACK };
	char id[SANDBOX_ID_MAX];
	int r;

	if (pid <= 0)
		return send_error(c, -EINVAL, "attach");
	r = attach(d, pid, id, sizeof(id));
	if (r < 0) {
		char what[96];
		snprintf(what, sizeof(what), "cannot attach to pid %d", (int)pid);
		log_warn_errno(r, "%s: %m", what);
		return send_error(c, r, what);
	}
	log_info("attached to the sandbox of pid %d as '%s'", (int)pid, id);
	ack.hello_ack.version = UBINFMT_VERSION_STRING;
	ack.hello_ack.id = id;
	return send_msg(c, &ack);
}

/*
 * A JSON trace line for subscribers: the record with the sandbox in front, since the object
 * alone does not say whose exec it was ({"sandbox":"ID","time":…}).
 */
static void json_with_sandbox(const char *id, const char *record, char *buf, size_t size)
{
	size_t pos = 0;

	pos += (size_t)snprintf(buf, size, "{\"sandbox\":\"");
	for (; *id && pos + 8 < size; id++) {
		unsigned char ch = (unsigned char)*id;
		if (ch == '"' || ch == '\\')
			pos += (size_t)snprintf(buf + pos, size - pos, "\\%c", ch);
		else if (ch < 0x20)
			pos += (size_t)snprintf(buf + pos, size - pos, "\\u%04x", ch);
		else
			buf[pos++] = (char)ch;
	}
	buf[pos] = '\0';
	if (record[0] == '{' && record[1] != '}' && record[1] != '\0')
		snprintf(buf + pos, size - pos, "\",%s", record + 1);
	else
		snprintf(buf + pos, size - pos, "\"}");
}

void clients_exec_done(struct daemon *d, struct sandbox *sb, const struct trace_record *rec)
{
	char text[2048], record[2048], json[2048 + PROTO_MAX_ID_LEN * 6 + 16];
	bool have_text = false, have_json = false;

	for (struct client *c = d->clients; c; c = c->next) {
		if (!c->trace_sub || (c->trace_id[0] && strcmp(c->trace_id, sandbox_id(sb)) != 0))
			continue;
		char *line = c->trace_json ? json : text;
		bool *have = c->trace_json ? &have_json : &have_text;
		if (!*have) {
			char *dst = c->trace_json ? record : text;
			size_t n = trace_format(rec, c->trace_json, dst, sizeof(record));
			if (n > 0 && dst[n - 1] == '\n')
				dst[n - 1] = '\0';
			if (c->trace_json)
				json_with_sandbox(sandbox_id(sb), record, json, sizeof(json));
			*have = true;
		}
		struct proto_msg m = { .type = PROTO_MSG_TRACE_LINE };
		m.trace_line.id = sandbox_id(sb);
		m.trace_line.line = line;
		/* A slow reader loses lines; the loop never waits for it. */
		if (send_msg(c, &m) < 0)
			c->dropped++;
	}
}

/* ---- dispatch -------------------------------------------------------------------------------- */

static int on_message(struct daemon *d, struct client *c, const uint8_t *buf, size_t len, int *fds, size_t n_fds)
{
	struct proto_msg m;
	char why[256];
	int r;

	r = proto_decode(buf, len, &m);
	if (r < 0) {
		proto_strerror(r, buf, len, why, sizeof(why));
		log_warn("client pid %d sent a bad message: %s", (int)c->peer_pid, why);
		send_error(c, r, why);
		return r;
	}
	if (m.type != PROTO_MSG_LISTENER && n_fds > 0)
		return -EPROTO;
	if (!c->role && m.type != PROTO_MSG_HELLO)
		return send_error(c, -EPROTO, "HELLO first"), -EPROTO;

	switch (m.type) {
	case PROTO_MSG_HELLO:
		if (c->role)
			return -EPROTO;
		c->role = m.hello.role;
		if (c->role == PROTO_ROLE_AGENT)
			return on_agent_hello(d, c, &m.hello);
		{
			struct proto_msg ack = { .type = PROTO_MSG_HELLO_ACK };
			ack.hello_ack.version = UBINFMT_VERSION_STRING;
			ack.hello_ack.id = "";
			return send_msg(c, &ack);
		}
	case PROTO_MSG_LISTENER:
		if (c->role != PROTO_ROLE_AGENT)
			return -EPROTO;
		return on_agent_listener(d, c, fds, n_fds);
	case PROTO_MSG_STATUS_REQ:
		return on_status(d, c);
	case PROTO_MSG_STATS:
		return on_stats(d, c);
	case PROTO_MSG_TRACE_SUB:
		if (!c->trace_sub)
			engine_add_trace_readers(d->engine, 1);
		c->trace_sub = true;
		c->trace_json = m.trace_sub.json;
		snprintf(c->trace_id, sizeof(c->trace_id), "%s", m.trace_sub.id);
		return 0;
	case PROTO_MSG_ATTACH:
		/* Taking over a process's fds is for root (the control socket is root's alone, too). */
		if (c->peer_uid != 0)
			return send_error(c, -EPERM, "attach"), 0;
		return on_attach(d, c, (pid_t)m.attach.pid);
	case PROTO_MSG_BYE:
		return -ECONNRESET;
	case PROTO_MSG_HELLO_ACK:
	case PROTO_MSG_STATUS:
	case PROTO_MSG_TRACE_LINE:
	case PROTO_MSG_ERROR:
	case PROTO_MSG_MAX:
	default:
		return -EPROTO;
	}
}

static int on_client(void *ctx, int fd, int events)
{
	struct client *c = ctx;
	struct daemon *d = c->daemon;

	if (events < 0 || !(events & POLLIN)) {
		client_free(d, c);
		return -1;
	}
	for (;;) {
		uint8_t buf[PROTO_MAX_MSG];
		int fds[PROTO_MAX_FDS];
		size_t n_fds = 0;
		int n = proto_recv(fd, buf, sizeof(buf), fds, PROTO_MAX_FDS, &n_fds);

		if (n == -EAGAIN)
			return 0;
		if (n <= 0) {
			if (n < 0 && n != -ECONNRESET)
				log_debug_errno(n, "client pid %d: %m", (int)c->peer_pid);
			client_free(d, c);
			return -1;
		}
		int r = on_message(d, c, buf, (size_t)n, fds, n_fds);
		proto_close_fds(fds, n_fds); /* whatever the handler did not take */
		if (r < 0) {
			client_free(d, c);
			return -1;
		}
	}
}

static int on_accept(void *ctx, int fd, int events)
{
	struct daemon *d = ctx;

	if (events < 0)
		return log_error_errno(events, "agent/control socket failed: %m");
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ucred cred = { 0 };
		struct client *c;

		if (cfd < 0)
			return daemon_accept_failed(d, fd, errno, on_accept, d);
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(cfd);
			continue;
		}
		(void)proto_peer_cred(cfd, &cred);
		*c = (struct client){ .daemon = d, .fd = cfd, .peer_pid = cred.pid, .peer_uid = cred.uid };
		c->watch = loop_watch(d->loop, cfd, POLLIN, on_client, c);
		if (c->watch < 0) {
			close(cfd);
			free(c);
			continue;
		}
		c->next = d->clients;
		d->clients = c;
		d->n_clients++;
	}
}

int clients_listen(struct daemon *d, int listen_fd)
{
	int r = loop_watch(d->loop, listen_fd, POLLIN, on_accept, d);

	return r < 0 ? r : 0;
}

void clients_close_all(struct daemon *d)
{
	while (d->clients)
		client_free(d, d->clients);
}
