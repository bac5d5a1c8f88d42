/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the ubinfmt command may ask on the control socket: status, counters, live traces, and
 * attach (taking over a running sandbox's listener).  Those show every tenant's sandboxes and
 * reach into any process, so the socket answers root of ubinfmtd's own user namespace only,
 * whatever its file mode (a bind mount could hand it to a container).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clients.h"
#include "json_escape.h"
#include "log.h"
#include "macros.h"
#include "parse.h"
#include "paths.h"
#include "procfs.h"
#include "procstatus.h"

/*
 * Root of our user namespace with CAP_SYS_ADMIN: the node's administrator.  The uid alone is not
 * enough: root in a container without a user namespace is uid 0 here too, and a bind mount
 * could hand it this socket.
 */
bool control_peer_allowed(const struct peer *p)
{
	return p->privileged;
}

static int on_status(struct client *c)
{
	struct daemon *d = c->daemon;
	struct proto_msg m = { .type = PROTO_MSG_STATUS };
	struct sandbox *sb = NULL;
	int r = 0;

	/* Every message is queued whole: a long list reaches a slow reader intact (POLLOUT). */
	do {
		m.status.n = 0;
		while (m.status.n < PROTO_MAX_STATUS && (sb = engine_sandbox_next(daemon_engine(d), sb))) {
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
				.owner_uid = sd ? sd->owner.tenant.uid : 0,
				.origin = sd ? (enum proto_origin)sd->owner.origin : PROTO_ORIGIN_UNKNOWN,
			};
		}
		m.status.more = sb && engine_sandbox_next(daemon_engine(d), sb);
		r = client_queue(c, &m);
	} while (r >= 0 && m.status.more);
	return r;
}

static int on_stats(struct client *c)
{
	struct daemon *d = c->daemon;
	struct proto_msg m = { .type = PROTO_MSG_STATS };
	struct engine_stats st;
	uint64_t sandboxes = 0, listeners = 0;

	engine_get_stats(daemon_engine(d), &st);
	for (struct sandbox *sb = NULL; (sb = engine_sandbox_next(daemon_engine(d), sb));) {
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
	m.stats.counters[PROTO_STAT_CLIENTS] = c->front->n;
	return client_queue(c, &m);
}

/* ---- attach -------------------------------------------------------------------------------- */

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
		int n, fd;
		if (parse_int(de->d_name, 0, INT32_MAX, &fd) < 0)
			continue;
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, fd);
		n = (int)readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (listener < 0 && strcmp(target, "anon_inode:seccomp notify") == 0)
			listener = fd;
		else if (journal < 0 && strncmp(target, "/memfd:ubinfmt-journal", 22) == 0)
			journal = fd;
	}
	closedir(dir);
	if (listener < 0)
		return -ENOENT;
	*ret_listener = listener;
	*ret_journal = journal;
	return 0;
}

/* The real uid of pid (from /proc/PID/status), or -errno. */
static int process_uid(pid_t pid, uid_t *ret)
{
	_cleanup_free_ char *status = NULL;
	unsigned long uid;
	int n = procfs_read_all(pid, "status", 1 << 20, &status);

	if (n < 0)
		return n;
	if (procstatus_numbers(status, (size_t)n, "Uid", &uid, 1) < 1)
		return -EPROTO;
	*ret = (uid_t)uid;
	return 0;
}

/*
 * Takes over the sandbox whose agent is pid: copies its listener (and journal) out of it with
 * pidfd_getfd, which needs the same ptrace rights the rewrites already need.  Root asked for
 * it, but the journal is still the agent's to write: it may restart only that agent's tasks.
 */
static int attach(struct daemon *d, pid_t pid, char *ret_id, size_t id_size)
{
	_cleanup_close_ int pidfd = -1, listener = -1, journal = -1;
	struct sandbox_owner owner = { .origin = SANDBOX_ORIGIN_ATTACH, .tenant = { .exempt = true } };
	_cleanup_(sandbox_data_freep) struct sandbox_data *sd = NULL;
	struct sandbox *sb;
	uid_t uid;
	int lno, jno, r;

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return negative_errno();
	r = find_agent_fds(pid, &lno, &jno);
	if (r < 0)
		return r;
	r = process_uid(pid, &uid);
	if (r < 0)
		return r;
	listener = (int)syscall(SYS_pidfd_getfd, pidfd, lno, 0);
	if (listener < 0)
		return negative_errno();
	if (jno >= 0)
		journal = (int)syscall(SYS_pidfd_getfd, pidfd, jno, 0);
	/* The fds are pid's only if pid is still the process the pidfd was opened for. */
	if (peer_pidfd_exited(pidfd))
		return -ESRCH;
	if (engine_serves_listener(daemon_engine(d), listener))
		return -EALREADY;

	owner.tenant.uid = uid;
	owner.tenant.pidns = peer_ns_inode(pid, "pid");
	sd = sandbox_data_new(&owner);
	if (!sd)
		return -ENOMEM;
	sd->init_pid = pid;
	snprintf(ret_id, id_size, "attach-%d", (int)pid);
	r = daemon_sandbox_new(d, ret_id, TAKE_PTR(sd), NULL, &sb);
	if (r < 0)
		return r;
	struct journal_scope scope = { .agent = pid, .uid = uid, .recover = true };
	r = agent_adopt_listener(d, sb, listener, journal, &scope, true);
	if (r < 0) {
		daemon_sandbox_free(d, sb);
		return r;
	}
	listener = -1;
	return 0;
}

static int on_attach(struct client *c, pid_t pid)
{
	struct proto_msg ack = { .type = PROTO_MSG_HELLO_ACK };
	char id[SANDBOX_ID_MAX];
	int r;

	if (pid <= 0)
		return client_error(c, -EINVAL, "attach"), 0;
	r = attach(c->daemon, pid, id, sizeof(id));
	if (r < 0) {
		char what[96];
		snprintf(what, sizeof(what), "cannot attach to pid %d", (int)pid);
		log_warn_errno(r, "%s: %m", what);
		return client_error(c, r, what), 0;
	}
	log_info("attached to the sandbox of pid %d as '%s'", (int)pid, id);
	ack.hello_ack.version = UBINFMT_VERSION_STRING;
	ack.hello_ack.id = id;
	return client_queue(c, &ack);
}

/* ---- live traces --------------------------------------------------------------------------- */

/*
 * How a sandbox's owner is shown: "agent:UID" for an agent's (its id is unique only among that
 * uid's), "" for the others, whose ids are the node's own.
 */
static void owner_text(const struct sandbox *sb, char *buf, size_t size)
{
	const struct sandbox_data *sd = sandbox_userdata(sb);

	if (sd && sd->owner.origin == SANDBOX_ORIGIN_AGENT)
		snprintf(buf, size, "agent:%u", sd->owner.tenant.uid);
	else
		buf[0] = '\0';
}

/*
 * A JSON trace line for subscribers: the record with the sandbox (and its owner) in front, since
 * the object alone does not say whose exec it was ({"sandbox":"ID","owner":"agent:0","time":…}).
 */
static void json_with_sandbox(const char *id, const char *owner, const char *record, char *buf, size_t size)
{
	size_t pos = (size_t)snprintf(buf, size, "{\"sandbox\":");

	pos += json_quote(buf + pos, size - pos, id);
	/* The owner text is ours ("agent:" and digits): nothing to escape. */
	if (owner[0])
		pos += (size_t)snprintf(buf + pos, size - pos, ",\"owner\":\"%s\"", owner);
	if (pos >= size)
		pos = size - 1;
	if (record[0] == '{' && record[1] != '}' && record[1] != '\0')
		snprintf(buf + pos, size - pos, ",%s", record + 1);
	else
		snprintf(buf + pos, size - pos, "}");
}

void clients_exec_done(struct clients *cs, struct sandbox *sb, const struct trace_record *rec)
{
	char text[2048], record[2048], json[2048 + PROTO_MAX_ID_LEN * 6 + 32 + 32];
	char owner[32];
	bool have_text = false, have_json = false;

	owner_text(sb, owner, sizeof(owner));
	for (struct client *c = cs ? cs->list : NULL; c; c = c->next) {
		if (c->kind != CLIENT_CONTROL || !c->trace_sub ||
		    (c->trace_id[0] && strcmp(c->trace_id, sandbox_id(sb)) != 0))
			continue;
		char *line = c->trace_json ? json : text;
		bool *have = c->trace_json ? &have_json : &have_text;
		if (!*have) {
			char *dst = c->trace_json ? record : text;
			size_t n = trace_format(rec, c->trace_json, dst, sizeof(record));
			if (n > 0 && dst[n - 1] == '\n')
				dst[--n] = '\0';
			if (!c->trace_json && owner[0])
				snprintf(dst + n, sizeof(text) - n, " owner=%s", owner);
			if (c->trace_json)
				json_with_sandbox(sandbox_id(sb), owner, record, json, sizeof(json));
			*have = true;
		}
		struct proto_msg m = { .type = PROTO_MSG_TRACE_LINE };
		m.trace_line.id = sandbox_id(sb);
		m.trace_line.line = line;
		/* A slow reader loses lines; the loop never waits for it. */
		if (client_send(c, &m) < 0)
			c->dropped++;
	}
}

/* ---- dispatch ------------------------------------------------------------------------------ */

int control_on_message(struct client *c, const struct proto_msg *m)
{
	if (!c->greeted && m->type != PROTO_MSG_HELLO)
		return client_errorf(c, -EPROTO, "HELLO first");
	switch (m->type) {
	case PROTO_MSG_HELLO: {
		struct proto_msg ack = { .type = PROTO_MSG_HELLO_ACK };
		if (c->greeted)
			return client_errorf(c, -EPROTO, "HELLO comes once");
		if (m->hello.role != PROTO_ROLE_CLI)
			return client_errorf(c, -EPERM,
					     "the control socket is for the ubinfmt command; agents use "
					     "the agent socket");
		c->greeted = true;
		c->deadline_ns = 0;
		ack.hello_ack.version = UBINFMT_VERSION_STRING;
		ack.hello_ack.id = "";
		return client_queue(c, &ack);
	}
	case PROTO_MSG_STATUS_REQ:
		return on_status(c);
	case PROTO_MSG_STATS:
		return on_stats(c);
	case PROTO_MSG_TRACE_SUB:
		/* Decisions produce their trace records only while someone reads them. */
		if (!c->trace_sub)
			engine_add_trace_readers(daemon_engine(c->daemon), 1);
		c->trace_sub = true;
		c->trace_json = m->trace_sub.json;
		snprintf(c->trace_id, sizeof(c->trace_id), "%s", m->trace_sub.id);
		return 0;
	case PROTO_MSG_ATTACH:
		return on_attach(c, (pid_t)m->attach.pid);
	case PROTO_MSG_LISTENER:
		return client_errorf(c, -EPERM, "LISTENER goes to the agent socket");
	case PROTO_MSG_HELLO_ACK:
	case PROTO_MSG_STATUS:
	case PROTO_MSG_TRACE_LINE:
	case PROTO_MSG_ERROR:
	case PROTO_MSG_BYE:
	case PROTO_MSG_MAX:
	default:
		return client_errorf(c, -EPROTO, "%s is not a request", proto_type_name(m->type));
	}
}
