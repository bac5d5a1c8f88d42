/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What an agent (ubinfmt-init, inside a container) may ask on the agent socket: HELLO, then one
 * LISTENER with its seccomp listener and in-flight journal.  The socket is reachable from every
 * container and by every local user, so an agent is a hostile tenant: its sandbox ids are its
 * own (uid and pid namespace), a sandbox exists only once a real listener arrived, re-attaching
 * needs the journal page the sandbox came with, and the journal it hands over may only restart
 * execs of its own tasks (engine_recover).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clients.h"
#include "journal.h"
#include "log.h"
#include "macros.h"
#include "notif.h"
#include "paths.h"

int agent_adopt_listener(struct daemon *d, struct sandbox *sb, int listener, int journal_fd,
			 const struct journal_scope *scope, bool late)
{
	struct journal *j = NULL;
	int r;

	if (!notif_is_listener(listener))
		return -EBADF;
	if (journal_fd >= 0) {
		j = journal_map(journal_fd);
		if (!j)
			log_warn_errno(negative_errno(), "sandbox '%s': unusable in-flight journal (%m), ignoring",
				       sandbox_id(sb));
	}
	r = engine_sandbox_add_listener_journal(daemon_engine(d), sb, listener, j, scope, late);
	if (r < 0)
		journal_unmap(j);
	return r;
}

/* The journal page's identity: a re-attach must bring the page its sandbox came with. */
static bool journal_identity(int fd, uint64_t *ret_dev, uint64_t *ret_ino)
{
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	*ret_dev = (uint64_t)st.st_dev;
	*ret_ino = (uint64_t)st.st_ino;
	return true;
}

static struct sandbox_owner agent_owner(const struct client *c)
{
	return (struct sandbox_owner){ .origin = SANDBOX_ORIGIN_AGENT, .tenant = c->tenant };
}

/*
 * A default id ("agent-PID", PID as we see the agent) is never refused: if the tenant already
 * has one of that name (a pid reused, or squatted by the tenant itself), a suffix makes it new.
 */
static int pick_default_id(struct client *c)
{
	struct daemon *d = c->daemon;
	struct sandbox_owner owner = agent_owner(c);

	snprintf(c->id, sizeof(c->id), "agent-%d", (int)c->peer.pid);
	for (unsigned n = 2; daemon_sandbox_find(d, &owner, c->id); n++) {
		if (n > 100000)
			return -EEXIST;
		snprintf(c->id, sizeof(c->id), "agent-%d.%u", (int)c->peer.pid, n);
	}
	return 0;
}

/* The options of an agent's HELLO: the tenant's, from inside its container (sandbox_options.h). */
static const struct sandbox_options_source hello_source = {
	.name = "option",
	.prefix = "",
	.trust = SANDBOX_OPTIONS_TENANT,
};

/*
 * Trust boundary: h comes from any local user or container.  The codec bounded its options
 * (PROTO_MAX_OPTIONS strings of PROTO_MAX_OPTION_LEN bytes, NUL-free); each is parsed as a
 * tenant's, so it may narrow the daemon's emulators and ask for a trace, nothing more.
 * PROTO_HELLO_F_TRACE is how a version-1 agent says trace=true: an option says it too, and
 * wins.
 */
static int hello_options(const struct proto_hello *h, struct sandbox_options *ret, char *reason, size_t reason_size)
{
	_cleanup_(sandbox_options_free) struct sandbox_options o = SANDBOX_OPTIONS_INIT;
	int r;

	for (size_t i = 0; i < h->n_options; i++) {
		r = sandbox_options_add_entry(&o, &hello_source, h->options[i], reason, reason_size);
		if (r < 0)
			return r;
	}
	r = sandbox_options_check(&o, &hello_source, reason, reason_size);
	if (r < 0)
		return r;
	if ((h->flags & PROTO_HELLO_F_TRACE) && o.trace == SANDBOX_TRACE_DEFAULT)
		o.trace = SANDBOX_TRACE_TEXT;
	sandbox_options_free(ret);
	*ret = o;
	sandbox_options_init(&o); /* *ret owns it now */
	return 0;
}

static int on_hello(struct client *c, const struct proto_hello *h)
{
	char reason[256];
	struct proto_msg ack = { .type = PROTO_MSG_HELLO_ACK };
	struct sandbox_owner owner = agent_owner(c);
	struct sandbox *sb;
	int r;

	if (h->role != PROTO_ROLE_AGENT)
		return client_errorf(c, -EPERM,
				     "the agent socket is for ubinfmt-init; 'ubinfmt status', 'trace' "
				     "and 'attach' use the control socket");
	c->reattach = h->flags & PROTO_HELLO_F_REATTACH;
	r = hello_options(h, &c->options, reason, sizeof(reason));
	if (r < 0)
		return client_errorf(c, r, "%s", reason);
	if (h->id[0]) {
		snprintf(c->id, sizeof(c->id), "%s", h->id);
		sb = daemon_sandbox_find(c->daemon, &owner, c->id);
		if (sb && !c->reattach)
			return client_errorf(c, -EEXIST, "you already have a sandbox '%s'; pick another --id", c->id);
		c->join = sb;
	} else {
		r = pick_default_id(c);
		if (r < 0)
			return client_error(c, r, "cannot name the sandbox");
	}
	/*
	 * The sandbox is made when the listener arrives, but its place in the tenant's quota is
	 * taken now: the agent reads the answer to HELLO, not to LISTENER, so a refusal must come
	 * here, where it can say so and exit.
	 */
	if (!c->join) {
		enum quota_scope scope;
		unsigned limit;
		r = quota_take(daemon_quota(c->daemon), &c->tenant, QUOTA_SANDBOXES, &scope, &limit);
		if (r == -EDQUOT) {
			daemon_warn_quota(c->daemon, &c->tenant, QUOTA_SANDBOXES, scope, limit);
			return client_errorf(c, r, "uid %u holds %u sandboxes%s, the most ubinfmtd allows",
					     c->tenant.uid, limit,
					     scope == QUOTA_SCOPE_PIDNS ? " in this container" : "");
		}
		if (r < 0)
			return client_error(c, r, "cannot create the sandbox");
		c->holds_sandbox = true;
	}
	c->greeted = true;
	/* Now the listener, soon: a greeted client holding nothing is dropped at the deadline. */
	c->deadline_ns = daemon_now_ns() + CLIENT_GREETING_TIMEOUT_NS;
	ack.hello_ack.status = 0;
	ack.hello_ack.version = UBINFMT_VERSION_STRING;
	ack.hello_ack.id = c->id;
	/* Said at debug level only: a HELLO costs the sender nothing, a log line costs the node. */
	log_debug("sandbox '%s': agent pid %d (uid %u) said hello%s", c->id, (int)c->peer.pid, c->peer.uid,
		  c->reattach ? " again (re-attach)" : "");
	return client_queue(c, &ack);
}

/* A re-attach to a sandbox we still serve: only with the journal page it came with. */
static int join(struct client *c, struct sandbox *sb, int listener, int journal_fd)
{
	struct sandbox_data *sd = sandbox_userdata(sb);
	uint64_t dev, ino;
	int r;

	if (!sd || !sd->has_journal || !journal_identity(journal_fd, &dev, &ino) || dev != sd->journal_dev ||
	    ino != sd->journal_ino)
		return client_errorf(c, -EEXIST, "sandbox '%s' is served for another agent; pick another --id", c->id);
	/* Our own listener again (the agent lost its connection, not its sandbox): nothing to add. */
	if (engine_serves_listener(daemon_engine(c->daemon), listener))
		return 0;
	struct journal_scope scope = { .agent = sd->init_pid, .uid = sd->owner.tenant.uid, .recover = true };
	r = agent_adopt_listener(c->daemon, sb, listener, journal_fd, &scope, true);
	if (r < 0)
		return client_error(c, r, "cannot serve this listener");
	return 1;
}

static int create(struct client *c, int listener, int journal_fd)
{
	struct daemon *d = c->daemon;
	struct sandbox_owner owner = agent_owner(c);
	_cleanup_(sandbox_data_freep) struct sandbox_data *sd = NULL;
	struct sandbox *sb;
	int r;

	if (engine_serves_listener(daemon_engine(d), listener))
		return client_errorf(c, -EALREADY, "this listener is already served by ubinfmtd");
	sd = sandbox_data_new(&owner);
	if (!sd)
		return client_error(c, -ENOMEM, "cannot create the sandbox");
	sd->init_pid = c->peer.pid;
	/* The quota taken at HELLO goes with the sandbox now. */
	if (c->holds_sandbox)
		sd->quota = daemon_quota(d);
	c->holds_sandbox = false;
	sd->has_journal = journal_identity(journal_fd, &sd->journal_dev, &sd->journal_ino);
	r = daemon_sandbox_new(d, c->id, TAKE_PTR(sd), &c->options, &sb);
	if (r < 0)
		return client_error(c, r, "cannot create the sandbox");
	/*
	 * A journal speaks of notifications a previous daemon received: only an agent coming back
	 * (re-attach) can have any, and only of its own tasks.  A fresh agent's journal is cleared.
	 */
	struct journal_scope scope = { .agent = c->peer.pid, .uid = c->peer.uid, .recover = c->reattach };
	r = agent_adopt_listener(d, sb, listener, journal_fd, &scope, c->reattach);
	if (r < 0) {
		daemon_sandbox_free(d, sb);
		return client_error(c, r, "cannot serve this listener");
	}
	return 1;
}

static int on_listener(struct client *c, int *fds, size_t n_fds)
{
	int journal_fd = n_fds == 2 ? fds[1] : -1;
	int r;

	if (!c->greeted || c->served || n_fds < 1)
		return client_errorf(c, -EPROTO, "LISTENER comes once, after HELLO, with a listener fd");
	if (!notif_is_listener(fds[0]))
		return client_errorf(c, -EBADF, "the fd sent is not a seccomp listener");
	r = c->join ? join(c, c->join, fds[0], journal_fd) : create(c, fds[0], journal_fd);
	if (r < 0)
		return r;
	if (r > 0)
		fds[0] = -1; /* the engine owns it now */
	log_info("sandbox '%s': serving the listener of agent pid %d (uid %u)%s", c->id, (int)c->peer.pid, c->peer.uid,
		 c->reattach ? ", re-attached" : "");
	c->served = true;
	c->join = NULL;
	c->deadline_ns = 0;
	return 0;
}

int agent_on_message(struct client *c, const struct proto_msg *m, int *fds, size_t n_fds)
{
	switch (m->type) {
	case PROTO_MSG_HELLO:
		if (c->greeted)
			return client_errorf(c, -EPROTO, "HELLO comes once");
		return on_hello(c, &m->hello);
	case PROTO_MSG_LISTENER:
		return on_listener(c, fds, n_fds);
	case PROTO_MSG_ATTACH:
	case PROTO_MSG_STATUS_REQ:
	case PROTO_MSG_STATS:
	case PROTO_MSG_TRACE_SUB:
		return client_errorf(c, -EPERM,
				     "%s is not answered on the agent socket: it is for ubinfmt-init "
				     "only; 'ubinfmt status', 'trace' and 'attach' use the control socket",
				     proto_type_name(m->type));
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
