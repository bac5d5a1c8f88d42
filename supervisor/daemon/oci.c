/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The OCI seccomp-agent front end: runc and crun connect to linux.seccomp.listenerPath once per
 * container start and once per `exec`, send one JSON state payload with the seccomp listener as
 * SCM_RIGHTS, and close.  One sandbox per container id; every `exec` adds its listener to it.
 * The socket is root's (mode 0600) and the runtime is trusted to send the right fds, but the
 * payload carries annotations and metadata written by whoever wrote config.json: it is read
 * with a size cap and a deadline, parsed by oci_parse_state, and never waited for.
 *
 * Once the runtime has sent a listener, it is always served: a payload that cannot be used
 * (too large, malformed, settings refused) only means no emulation, with the reason logged.
 * Dropping the listener would make every exec of the container, native ones too, fail with
 * ENOSYS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "emu.h"
#include "engine.h"
#include "fdpass.h"
#include "log.h"
#include "loop.h"
#include "macros.h"
#include "notif.h"
#include "oci.h"
#include "oci_front.h"
#include "oci_options.h"

#define OCI_CONN_MAX_FDS FDPASS_MAX_FDS
#define OCI_CONN_TIMEOUT_S 5
#define OCI_CONN_MAX 64		 /* runtimes connecting at once; more wait in the backlog */
#define OCI_CONN_FIRST_BUF 16384 /* a typical payload is under 2 KiB; grown up to OCI_STATE_MAX */
/*
 * The rest of a payload too large to parse is read and dropped, so that the runtime's sendmsg
 * completes (runc blocks in it, and its container with it): at most this much per readiness
 * report, so that other fds get their turn, and this much in all.
 */
#define OCI_DRAIN_STEP (1024 * 1024)
#define OCI_DRAIN_MAX (64 * 1024 * 1024)
/* The ids of sandboxes whose payload named no usable container id (generated_id). */
#define OCI_GENERATED_ID_PREFIX "oci-unnamed-"

/* The front end: its socket and the runtimes connected to it. */
struct oci_front {
	struct daemon *daemon;
	int watch; /* of the listening socket; -1 once the loop dropped it */
	struct oci_conn *conns;
	size_t n_conns;
};

struct oci_conn {
	struct oci_conn *next;
	struct oci_front *front;
	struct daemon *daemon; /* front->daemon */
	int fd;
	int watch;
	time_t started;
	size_t len;
	size_t size;
	char *buf;
	size_t n_fds;
	int fds[OCI_CONN_MAX_FDS];
	bool served;	/* the listener went to a sandbox: what still comes is read and dropped */
	size_t drained; /* bytes dropped since */
};

/* A runtime's connection and all it holds (its fds, its buffer).  Accepts NULL; returns NULL. */
static struct oci_conn *conn_free(struct oci_conn *c)
{
	struct oci_conn **pp;

	if (!c)
		return NULL;
	for (pp = &c->front->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	(void)loop_unwatch(daemon_loop(c->daemon), c->watch);
	close(c->fd);
	for (size_t i = 0; i < c->n_fds; i++)
		if (c->fds[i] >= 0)
			close(c->fds[i]);
	c->front->n_conns--;
	free(c->buf);
	free(c);
	return NULL;
}

/*
 * OCI ids may be 1024 bytes of [A-Za-z0-9_.+-]; sandbox ids are 64 bytes of [A-Za-z0-9._-].  An
 * id that does not fit keeps its (cleaned) start and gets a hash of the whole, so that two
 * containers never share a sandbox.  So does an id that starts like a generated one, which
 * keeps generated ids out of every container's reach.
 */
static void sandbox_id_for(const char *oci_id, char *out, size_t size)
{
	size_t len = strlen(oci_id), n = 0;
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	bool changed = len >= size;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)oci_id[i];
		h = (h ^ ch) * 1099511628211ull;
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			  ch == '.' || ch == '_' || ch == '-';
		if (!ok)
			changed = true;
		if (n < size - 1)
			out[n++] = ok ? (char)ch : '_';
	}
	out[n] = '\0';
	if (strncmp(out, OCI_GENERATED_ID_PREFIX, strlen(OCI_GENERATED_ID_PREFIX)) == 0)
		changed = true;
	if (changed || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		snprintf(out + MIN(n, size - 18), 18, "-%016llx", (unsigned long long)h);
}

/*
 * A sandbox id for a listener whose payload names no container id we can use: the prefix and
 * 16 random hex digits.  sandbox_id_for never makes one (the hash suffix makes such ids longer
 * and puts a '-' after the prefix), and nobody can take it first, since nobody knows it.
 */
static void generated_id(const struct oci_conn *c, char *out, size_t size)
{
	uint64_t r;

	if (getrandom(&r, sizeof(r), GRND_INSECURE) != (ssize_t)sizeof(r)) {
		struct timespec ts;
		(void)clock_gettime(CLOCK_MONOTONIC, &ts);
		r = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^ (uint64_t)(uintptr_t)c;
	}
	snprintf(out, size, OCI_GENERATED_ID_PREFIX "%016llx", (unsigned long long)r);
}

/* The daemon's emulator opened from path, or NULL: the only ones a container may name. */
static const struct emu *trusted_emulator(const struct daemon *d, const char *path)
{
	for (int a = ARCH_UNKNOWN + 1; a < ARCH_MAX; a++) {
		const struct emu *e = emu_registry_get(daemon_emus(d), (enum arch)a);
		if (e && strcmp(e->path, path) == 0)
			return e;
	}
	return NULL;
}

/*
 * A sandbox's own emulators, for a container whose metadata chose some: for every architecture
 * it may emulate, the daemon's emulator or the trusted one it named, each a duplicate of the
 * daemon's fd.  Never a new open of the path: the daemon opened its emulators at start-up
 * through a read-only mount, which takes the CAP_SYS_ADMIN it has dropped since; a plain open
 * now would give the container a /proc/PID/exe that reopens the host's qemu for writing.
 */
static int sandbox_emulators(const struct daemon *d, const struct sandbox_options *o, struct emu_registry **ret)
{
	_cleanup_(sandbox_emus_freep) struct emu_registry *emus = malloc(sizeof(*emus));
	int r;

	if (!emus)
		return -ENOMEM;
	emu_registry_init(emus);
	for (int a = ARCH_UNKNOWN + 1; a < ARCH_MAX; a++) {
		const struct emu *src;

		if (!(o->arch_mask & (UINT64_C(1) << a)))
			continue;
		src = o->emulator[a] ? trusted_emulator(d, o->emulator[a])
				     : emu_registry_get(daemon_emus(d), (enum arch)a);
		if (!src)
			continue;
		r = emu_registry_dup(emus, (enum arch)a, src);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(emus);
	return 0;
}

/*
 * Per-container settings from annotations and listenerMetadata, into *ret (untouched on
 * failure).  An emulator override may only name an emulator the daemon already trusts: the
 * image author must not make the daemon hand an arbitrary host binary to the container.
 */
static int apply_options(struct daemon *d, const struct oci_state *st, struct sandbox_data *sd,
			 struct sandbox_options *ret, char *reason, size_t reason_size)
{
	_cleanup_(sandbox_options_free) struct sandbox_options o = SANDBOX_OPTIONS_INIT;
	bool overrides = false;
	int r;

	r = oci_parse_options(st, &o, reason, reason_size);
	if (r < 0)
		return r;
	for (int a = 0; a < ARCH_MAX; a++) {
		if (!o.emulator[a])
			continue;
		if (!trusted_emulator(d, o.emulator[a])) {
			snprintf(reason, reason_size,
				 "untrusted emulator '%.80s' for %s (give it to ubinfmtd with --emulator)",
				 o.emulator[a], arch_name((enum arch)a));
			return -EPERM;
		}
		overrides = true;
	}
	if (overrides) {
		r = sandbox_emulators(d, &o, &sd->emus);
		if (r < 0) {
			snprintf(reason, reason_size, "cannot set up its emulators: %.40s", strerror(-r));
			return r;
		}
	}
	*ret = o;
	sandbox_options_init(&o); /* *ret owns it now */
	return 0;
}

/* Whether what has arrived may be a whole payload: a JSON object, whose last byte is '}'. */
static bool may_be_whole(const struct oci_conn *c)
{
	for (size_t i = c->len; i > 0; i--) {
		char ch = c->buf[i - 1];
		if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r')
			return ch == '}';
	}
	return false;
}

/* Parses what has arrived so far. */
static int parse(struct oci_conn *c, struct oci_state *ret, char *reason, size_t reason_size)
{
	if (!c->buf) {
		snprintf(reason, reason_size, "nothing received");
		return -ENODATA;
	}
	c->buf[c->len] = '\0';
	return oci_parse_state(c->buf, c->len, ret, reason, reason_size);
}

/* Whether fd is a seccomp listener (the anonymous inode's name in our own fd table). */
/*
 * Which of the runtime's fds is the listener: the one the payload names, or without a payload
 * the only seccomp listener among them.  The runtime is trusted to send the right fds; checking
 * the kind keeps any other fd away from the engine all the same.
 */
static int find_listener(const struct oci_conn *c, const struct oci_state *st)
{
	int found = -ENOENT;

	if (st)
		return st->seccomp_fd_index < c->n_fds && notif_is_listener(c->fds[st->seccomp_fd_index])
			       ? (int)st->seccomp_fd_index
			       : -EBADF;
	for (size_t i = 0; i < c->n_fds; i++) {
		if (c->fds[i] < 0 || !notif_is_listener(c->fds[i]))
			continue;
		if (found >= 0)
			return -ENOTUNIQ;
		found = (int)i;
	}
	return found;
}

/*
 * A new sandbox for a listener: with st's options, or with no emulation when they are refused
 * or there is no st (why: what is wrong with the payload).
 */
/* Containers are the node's: their sandboxes live apart from every agent's (no id of theirs). */
static const struct sandbox_owner oci_owner = { .origin = SANDBOX_ORIGIN_OCI, .tenant = { .exempt = true } };

static int new_sandbox(struct oci_conn *c, const char *id, const struct oci_state *st, const char *why,
		       struct sandbox **ret)
{
	struct daemon *d = c->daemon;
	_cleanup_(sandbox_data_freep) struct sandbox_data *sd = sandbox_data_new(&oci_owner);
	_cleanup_(sandbox_options_free) struct sandbox_options o = SANDBOX_OPTIONS_INIT;
	char reason[OCI_REASON_MAX];
	int r = -EINVAL;

	if (!sd)
		return -ENOMEM;
	if (st) {
		sd->init_pid = st->init_pid > 0 ? st->init_pid : st->pid;
		r = apply_options(d, st, sd, &o, reason, sizeof(reason));
		if (r < 0)
			log_warn("container '%s': %s; its execs are left to the kernel", id, reason);
	} else {
		log_warn("OCI runtime sent an unusable state payload (%s): serving its listener as sandbox '%s', "
			 "a generated id since the payload names no container we can use; its execs are left to "
			 "the kernel",
			 why, id);
	}
	if (r < 0) {
		sd->emus = sandbox_emus_free(sd->emus);
		o.arch_mask = 0; /* nothing emulated, no trace of its own */
	}
	return daemon_sandbox_new(d, id, TAKE_PTR(sd), &o, ret);
}

/*
 * Hands the runtime's listener to its container's sandbox.  st is the parsed payload, or NULL
 * when there is none to use (why says what was wrong): then the listener is served all the
 * same, in a sandbox of its own under a generated id, with no emulation.
 */
static void serve(struct oci_conn *c, const struct oci_state *st, const char *why)
{
	struct daemon *d = c->daemon;
	char id[SANDBOX_ID_MAX];
	struct sandbox *sb;
	int r, index;

	c->served = true;
	index = find_listener(c, st);
	if (index < 0) {
		if (st)
			log_warn_errno(index,
				       "container '%s': fd %zu of the %zu the runtime sent is no seccomp "
				       "listener (%m): nothing to serve",
				       st->id, st->seccomp_fd_index, c->n_fds);
		else
			log_warn_errno(index,
				       "OCI runtime sent %zu fds, not one seccomp listener among them (%m): "
				       "nothing to serve",
				       c->n_fds);
		return;
	}

	/* The engine's ids are short; long container ids are cut (status shows the prefix). */
	if (st)
		sandbox_id_for(st->id, id, sizeof(id));
	else
		generated_id(c, id, sizeof(id));
	sb = daemon_sandbox_find(d, &oci_owner, id);
	if (!sb) {
		r = new_sandbox(c, id, st, why, &sb);
		if (r < 0) {
			log_warn_errno(r, "container '%s': cannot create its sandbox: %m", id);
			return;
		}
	}
	r = engine_sandbox_add_listener(daemon_engine(d), sb, c->fds[index]);
	if (r < 0) {
		log_warn_errno(r, "container '%s': cannot serve its listener: %m", id);
		return;
	}
	c->fds[index] = -1; /* the engine owns it */
	if (st)
		log_info("container '%s' (%s, pid %d): serving its listener", id, oci_status_name(st->status),
			 (int)(st->init_pid ? st->init_pid : st->pid));
	else
		log_info("sandbox '%s' (unusable payload): serving its listener", id);
}

/* Serves what has arrived: the payload when it parses, else the listener alone (if any). */
static void serve_what_came(struct oci_conn *c, const char *when)
{
	struct oci_state st = { 0 };
	char reason[OCI_REASON_MAX], why[OCI_REASON_MAX + 64];
	int r;

	r = parse(c, &st, reason, sizeof(reason));
	if (r == 0) {
		serve(c, &st, NULL);
		oci_state_free(&st);
		return;
	}
	snprintf(why, sizeof(why), "%s%s", when, reason);
	if (c->len == 0 && c->n_fds == 0 && !*when) {
		/*
		 * crun connects before it creates the container: this is a crun that failed to (its
		 * own error says why), or ubinfmt-runtime checking that we listen.  Nothing to serve,
		 * nothing to blame.
		 */
		log_debug("an OCI runtime connected and closed without sending anything: nothing to serve");
		return;
	}
	if (c->n_fds > 0)
		serve(c, NULL, why);
	else
		log_warn("OCI runtime sent no listener fd (%s): its container gets no emulation", why);
}

/*
 * recvmsg without waiting, into buf; fds that come along are kept (up to OCI_CONN_MAX_FDS) until
 * the listener is served, closed after.  Returns the byte count, 0 at the end, or -errno.
 */
static ssize_t conn_recv(struct oci_conn *c, void *buf, size_t size)
{
	int fds[OCI_CONN_MAX_FDS];
	struct fdpass_got got;
	ssize_t n;

	n = fdpass_recvmsg(c->fd, buf, size, MSG_DONTWAIT, fds, OCI_CONN_MAX_FDS, &got);
	if (n < 0)
		return n;
	for (size_t i = 0; i < got.n_fds; i++) {
		if (!c->served && c->n_fds < OCI_CONN_MAX_FDS)
			c->fds[c->n_fds++] = fds[i];
		else
			close(fds[i]);
	}
	return n;
}

static int on_conn(void *ctx, int fd, int events);

/*
 * After the listener is served: reads and drops what the runtime still sends, OCI_DRAIN_STEP at
 * a time.  A poll reports readiness once per wake-up, and a runtime blocked in sendmsg wakes us
 * no more until we read: so after a full step the watch is made anew, which reports what is
 * still there after the other fds had their turn.  Returns 0, or -1 when c is gone.
 */
static int drain(struct oci_conn *c)
{
	size_t step = 0;

	for (;;) {
		ssize_t n = conn_recv(c, c->buf, c->size);

		if (n == -EAGAIN || n == -EINTR)
			return 0;
		if (n <= 0) {
			log_debug("OCI runtime done after %zu more bytes", c->drained);
			conn_free(c);
			return -1;
		}
		c->drained += (size_t)n;
		if (c->drained > OCI_DRAIN_MAX) {
			log_warn("OCI runtime sent more than %d MiB: closing the connection (its runtime may now fail "
				 "to start the container)",
				 OCI_DRAIN_MAX >> 20);
			conn_free(c);
			return -1;
		}
		step += (size_t)n;
		if (step >= OCI_DRAIN_STEP)
			break;
	}
	(void)loop_unwatch(daemon_loop(c->daemon), c->watch);
	c->watch = loop_watch(daemon_loop(c->daemon), c->fd, POLLIN, on_conn, c);
	if (c->watch < 0) {
		conn_free(c);
		return -1;
	}
	return 0;
}

/* Makes room for more of the payload: 0, -EMSGSIZE when OCI_STATE_MAX bytes are there, -ENOMEM. */
static int grow(struct oci_conn *c)
{
	size_t size;
	char *buf;

	if (c->len + 1 < c->size)
		return 0;
	if (c->size >= (size_t)OCI_STATE_MAX + 1)
		return -EMSGSIZE;
	size = c->size ? MIN(c->size * 4, (size_t)OCI_STATE_MAX + 1) : OCI_CONN_FIRST_BUF;
	buf = realloc(c->buf, size);
	if (!buf)
		return -ENOMEM;
	c->buf = buf;
	c->size = size;
	return 0;
}

/*
 * Reads what is there, without waiting, and serves the payload as soon as it is one whole JSON
 * document with its fds, or when the runtime closes.  Waiting for the close is not enough:
 * runc 1.1.5 sends everything in one sendmsg but keeps its end open until it exits, while the
 * container's first exec is already blocked in the filter, waiting for us.  A proper prefix of
 * a JSON object never parses (oci_parse_state says -ENODATA), so an early parse cannot serve a
 * cut payload; a whole one that is refused is served at once, with no emulation.
 */
static int on_conn(void *ctx, int fd, int events)
{
	struct oci_conn *c = ctx;
	char reason[OCI_REASON_MAX];

	(void)fd;
	if (events < 0) {
		conn_free(c);
		return -1;
	}
	for (;;) {
		struct oci_state st = { 0 };
		ssize_t n;
		int r;

		if (c->served)
			return drain(c);
		r = grow(c);
		if (r == -EMSGSIZE) {
			/* Served as soon as the fds came, were there any: none will come now. */
			log_warn("OCI runtime sent more than %d bytes and no listener fd: dropping the connection",
				 OCI_STATE_MAX);
			conn_free(c);
			return -1;
		}
		if (r < 0) {
			serve_what_came(c, "out of memory for the payload: ");
			conn_free(c);
			return -1;
		}
		n = conn_recv(c, c->buf + c->len, c->size - 1 - c->len);
		if (n == -EAGAIN || n == -EINTR)
			return 0;
		if (n <= 0) {
			if (n < 0)
				log_warn_errno((int)n, "reading from an OCI runtime: %m");
			serve_what_came(c, "");
			conn_free(c);
			return -1;
		}
		c->len += (size_t)n;
		/* runc and crun send the fds with the first byte: no fds yet, no payload yet. */
		if (c->n_fds == 0)
			continue;
		r = may_be_whole(c) ? parse(c, &st, reason, sizeof(reason)) : -ENODATA;
		if (r == -ENODATA && c->len == OCI_STATE_MAX) {
			/* Too large to parse: the container's id is somewhere in what we will not read. */
			snprintf(reason, sizeof(reason), "a payload of more than %d bytes", OCI_STATE_MAX);
			serve(c, NULL, reason);
			continue; /* and drain the rest */
		}
		if (r == -ENODATA)
			continue;
		serve(c, r == 0 ? &st : NULL, reason);
		oci_state_free(&st);
		conn_free(c);
		return -1;
	}
}

/* A new runtime's connection on cfd, watched and in f's list; NULL (cfd closed) when it cannot be. */
static struct oci_conn *conn_new(struct oci_front *f, int cfd)
{
	struct oci_conn *c = calloc(1, sizeof(*c));

	if (!c) {
		close(cfd);
		return NULL;
	}
	c->front = f;
	c->daemon = f->daemon;
	c->fd = cfd;
	c->started = time(NULL);
	c->watch = loop_watch(daemon_loop(f->daemon), cfd, POLLIN, on_conn, c);
	if (c->watch < 0) {
		close(cfd);
		free(c);
		return NULL;
	}
	c->next = f->conns;
	f->conns = c;
	f->n_conns++;
	return c;
}

/* Accepts every waiting runtime; < 0 when the loop stops watching the socket (f->watch is gone). */
static int on_accept(void *ctx, int fd, int events)
{
	struct oci_front *f = ctx;
	int r;

	if (events < 0) {
		f->watch = -1;
		return log_error_errno(events, "OCI socket failed: %m");
	}
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			r = daemon_accept_failed(f->daemon, fd, errno, on_accept, f);
			if (r < 0)
				f->watch = -1; /* parked: the daemon watches it anew, or dropped */
			return r;
		}
		if (f->n_conns >= OCI_CONN_MAX) {
			log_warn("%d OCI runtimes connected and not done yet: refusing another", OCI_CONN_MAX);
			close(cfd);
			continue;
		}
		(void)conn_new(f, cfd);
	}
}

/*
 * Once a second: a runtime that connected and never finished is cut off.  Its listener, if it
 * sent one, is served first, with no emulation.
 */
void oci_front_tick(struct oci_front *f)
{
	time_t now = time(NULL);

	for (struct oci_conn *c = f->conns, *next; c; c = next) {
		char when[64];

		next = c->next;
		if (now - c->started <= OCI_CONN_TIMEOUT_S)
			continue;
		if (c->served) {
			log_debug("OCI runtime still sending after %d s (%zu bytes dropped): closing",
				  OCI_CONN_TIMEOUT_S, c->drained);
		} else {
			snprintf(when, sizeof(when), "no whole payload after %d s: ", OCI_CONN_TIMEOUT_S);
			serve_what_came(c, when);
		}
		conn_free(c);
	}
}

int oci_front_new(struct daemon *d, int listen_fd, struct oci_front **ret)
{
	struct oci_front *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	f->daemon = d;
	r = loop_watch(daemon_loop(d), listen_fd, POLLIN, on_accept, f);
	if (r < 0) {
		free(f);
		return r;
	}
	f->watch = r;
	*ret = f;
	return 0;
}

struct oci_front *oci_front_free(struct oci_front *f)
{
	if (!f)
		return NULL;
	while (f->conns)
		conn_free(f->conns);
	(void)loop_unwatch(daemon_loop(f->daemon), f->watch);
	free(f);
	return NULL;
}
