/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The OCI seccomp-agent front end: runc and crun connect to linux.seccomp.listenerPath once per
 * container start and once per `exec`, send one JSON state payload with the seccomp listener as
 * SCM_RIGHTS, and close.  One sandbox per container id; every `exec` adds its listener to it.
 * The socket is root's (mode 0600), but the payload carries annotations and metadata written
 * by whoever wrote config.json: it is read with a size cap and a deadline, parsed by
 * oci_parse_state, and never waited for.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "loop.h"
#include "macros.h"
#include "oci.h"
#include "oci_options.h"

#define OCI_CONN_MAX_FDS 8
#define OCI_CONN_TIMEOUT_S 5
#define OCI_CONN_MAX 64           /* runtimes connecting at once; more wait in the backlog */
#define OCI_CONN_FIRST_BUF 16384  /* a typical payload is under 2 KiB; grown up to OCI_STATE_MAX */

struct oci_conn {
	struct oci_conn *next;
	struct daemon *daemon;
	int fd;
	int watch;
	time_t started;
	size_t len;
	size_t size;
	char *buf;
	size_t n_fds;
	int fds[OCI_CONN_MAX_FDS];
};

static void conn_free(struct oci_conn *c)
{
	struct oci_conn **pp;

	for (pp = &c->daemon->oci_conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	(void)loop_unwatch(c->daemon->loop, c->watch);
	close(c->fd);
	for (size_t i = 0; i < c->n_fds; i++)
		if (c->fds[i] >= 0)
			close(c->fds[i]);
	c->daemon->n_oci_conns--;
	free(c->buf);
	free(c);
}

/*
 * OCI ids may be 1024 bytes of [A-Za-z0-9_.+-]; sandbox ids are 64 bytes of [A-Za-z0-9._-].  An
 * id that does not fit keeps its (cleaned) start and gets a hash of the whole, so that two
 * containers never share a sandbox.
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
	if (changed || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		snprintf(out + MIN(n, size - 18), 18, "-%016llx", (unsigned long long)h);
}

/* The daemon's emulator opened from path, or NULL: the only ones a container may name. */
static const struct emu *trusted_emulator(const struct daemon *d, const char *path)
{
	for (int a = ARCH_UNKNOWN + 1; a < ARCH_MAX; a++) {
		const struct emu *e = emu_registry_get(&d->emus, (enum arch)a);
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
static int sandbox_emulators(const struct daemon *d, const struct oci_options *o, struct emu_registry **ret)
{
	_cleanup_free_ struct emu_registry *emus = malloc(sizeof(*emus));
	int r;

	if (!emus)
		return -ENOMEM;
	emu_registry_init(emus);
	for (int a = ARCH_UNKNOWN + 1; a < ARCH_MAX; a++) {
		const struct emu *src;

		if (!(o->arch_mask & (UINT64_C(1) << a)))
			continue;
		src = o->emulator[a] ? trusted_emulator(d, o->emulator[a]) : emu_registry_get(&d->emus, (enum arch)a);
		if (!src)
			continue;
		r = emu_registry_dup(emus, (enum arch)a, src);
		if (r < 0) {
			emu_registry_close(emus);
			return r;
		}
	}
	*ret = TAKE_PTR(emus);
	return 0;
}

/*
 * Per-container settings from annotations and listenerMetadata.  An emulator override may only
 * name an emulator the daemon already trusts: the image author must not make the daemon hand
 * an arbitrary host binary to the container.
 */
static int apply_options(struct daemon *d, const struct oci_state *st, struct sandbox_data *sd, int *ret_trace,
			 uint64_t *ret_mask, char *reason, size_t reason_size)
{
	struct oci_options o;
	bool overrides = false;
	int r;

	r = oci_parse_options(st, &o, reason, reason_size);
	if (r < 0)
		return r;
	for (int a = 0; a < ARCH_MAX; a++) {
		if (!o.emulator[a])
			continue;
		if (!trusted_emulator(d, o.emulator[a])) {
			snprintf(reason, reason_size, "untrusted emulator '%.80s' for %s (give it to ubinfmtd with --emulator)",
				 o.emulator[a], arch_name((enum arch)a));
			oci_options_free(&o);
			return -EPERM;
		}
		overrides = true;
	}
	if (overrides) {
		r = sandbox_emulators(d, &o, &sd->emus);
		if (r < 0) {
			snprintf(reason, reason_size, "cannot set up its emulators: %.40s", strerror(-r));
			oci_options_free(&o);
			return r;
		}
	}
	*ret_trace = o.trace == OCI_TRACE_JSON ? DAEMON_TRACE_JSON : o.trace == OCI_TRACE_TEXT ? DAEMON_TRACE_TEXT : 0;
	*ret_mask = o.arch_mask;
	oci_options_free(&o);
	return 0;
}

/* Parses what has arrived so far. */
static int parse(struct oci_conn *c, struct oci_state *ret, char *reason, size_t reason_size)
{
	c->buf[c->len] = '\0';
	return oci_parse_state(c->buf, c->len, ret, reason, reason_size);
}

/* Hands the listener of a parsed payload to its container's sandbox; frees st. */
static void serve(struct oci_conn *c, struct oci_state *st_in)
{
	struct daemon *d = c->daemon;
	struct oci_state st = *st_in;
	char reason[OCI_REASON_MAX];
	struct sandbox *sb;
	int r, listener;

	*st_in = (struct oci_state){ 0 };
	if (st.seccomp_fd_index >= c->n_fds) {
		log_warn("container '%.64s': the runtime named %zu fds but sent %zu; no listener", st.id, st.n_fds,
			 c->n_fds);
		goto out;
	}
	listener = c->fds[st.seccomp_fd_index];

	/* The engine's ids are short; long container ids are cut (status shows the prefix). */
	char id[SANDBOX_ID_MAX];
	sandbox_id_for(st.id, id, sizeof(id));
	sb = engine_sandbox_find(d->engine, id);
	if (!sb) {
		struct sandbox_data *sd = calloc(1, sizeof(*sd));
		int trace = 0;
		uint64_t mask = UINT64_MAX;
		if (!sd)
			goto out;
		sd->from_oci = true;
		sd->init_pid = st.init_pid > 0 ? st.init_pid : st.pid;
		r = apply_options(d, &st, sd, &trace, &mask, reason, sizeof(reason));
		if (r < 0) {
			/*
			 * Still serve the listener, emulating nothing: dropping it would make every
			 * exec of the container, native ones too, fail with ENOSYS.
			 */
			log_warn("container '%s': %s; its execs are left to the kernel", id, reason);
			if (sd->emus) {
				emu_registry_close(sd->emus);
				free(sd->emus);
				sd->emus = NULL;
			}
			trace = 0;
			mask = 0;
		}
		r = daemon_sandbox_new(d, id, sd, trace, &sb);
		if (r < 0) {
			log_warn_errno(r, "container '%s': cannot create its sandbox: %m", id);
			goto out;
		}
		engine_sandbox_set_emulate_mask(sb, mask);
	}
	r = engine_sandbox_add_listener(d->engine, sb, listener);
	if (r < 0) {
		log_warn_errno(r, "container '%s': cannot serve its listener: %m", id);
		goto out;
	}
	c->fds[st.seccomp_fd_index] = -1; /* the engine owns it */
	log_info("container '%s' (%s, pid %d): serving its listener", id, oci_status_name(st.status),
		 (int)(st.init_pid ? st.init_pid : st.pid));
out:
	oci_state_free(&st);
}

/*
 * Reads what is there, without waiting, and serves the payload as soon as it is one whole JSON
 * document with its fds, or when the runtime closes.  Waiting for the close is not enough:
 * runc 1.1.5 sends everything in one sendmsg but keeps its end open until it exits, while the
 * container's first exec is already blocked in the filter, waiting for us.  A proper prefix of
 * a JSON object never parses, so an early parse cannot serve a cut payload.
 */
static int on_conn(void *ctx, int fd, int events)
{
	struct oci_conn *c = ctx;
	struct oci_state st = { 0 };
	char reason[OCI_REASON_MAX];

	if (events < 0) {
		conn_free(c);
		return -1;
	}
	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * OCI_CONN_MAX_FDS)];
			struct cmsghdr align;
		} u;
		if (c->len + 1 >= c->size && c->size < OCI_STATE_MAX + 1) {
			size_t size = c->size ? MIN(c->size * 4, (size_t)OCI_STATE_MAX + 1) : OCI_CONN_FIRST_BUF;
			char *buf = realloc(c->buf, size);
			if (!buf) {
				conn_free(c);
				return -1;
			}
			c->buf = buf;
			c->size = size;
		}
		struct iovec iov = { .iov_base = c->buf + c->len, .iov_len = c->size - 1 - c->len };
		struct msghdr msg = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = u.buf,
			.msg_controllen = sizeof(u.buf),
		};
		ssize_t n;

		if (iov.iov_len == 0) {
			log_warn("OCI runtime sent more than %d bytes: dropping the connection", OCI_STATE_MAX);
			conn_free(c);
			return -1;
		}
		n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); n >= 0 && cm; cm = CMSG_NXTHDR(&msg, cm)) {
			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
				continue;
			size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k; i++) {
				int f;
				memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				if (c->n_fds < OCI_CONN_MAX_FDS)
					c->fds[c->n_fds++] = f;
				else
					close(f);
			}
		}
		if (n <= 0) {
			if (n < 0)
				log_warn_errno(negative_errno(), "reading from an OCI runtime: %m");
			else if (parse(c, &st, reason, sizeof(reason)) < 0)
				log_warn("OCI runtime sent an unusable state payload (%s): its container gets no "
					 "emulation", reason);
			else
				serve(c, &st);
			conn_free(c);
			return -1;
		}
		c->len += (size_t)n;
		/* runc and crun send the fds with the first byte: no fds yet, no payload yet. */
		if (c->n_fds > 0 && parse(c, &st, reason, sizeof(reason)) == 0) {
			serve(c, &st);
			conn_free(c);
			return -1;
		}
	}
}

static int on_accept(void *ctx, int fd, int events)
{
	struct daemon *d = ctx;

	if (events < 0)
		return log_error_errno(events, "OCI socket failed: %m");
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct oci_conn *c;

		if (cfd < 0)
			return daemon_accept_failed(d, fd, errno, on_accept, d);
		if (d->n_oci_conns >= OCI_CONN_MAX) {
			log_warn("%d OCI runtimes connected and not done yet: refusing another", OCI_CONN_MAX);
			close(cfd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(cfd);
			continue;
		}
		c->next = d->oci_conns;
		c->daemon = d;
		c->fd = cfd;
		c->started = time(NULL);
		c->len = 0;
		c->n_fds = 0;
		c->watch = loop_watch(d->loop, cfd, POLLIN, on_conn, c);
		if (c->watch < 0) {
			close(cfd);
			free(c);
			continue;
		}
		d->oci_conns = c;
		d->n_oci_conns++;
	}
}

/* Once a second: a runtime that connected and never finished is cut off. */
static int on_sweep(void *ctx, int fd, int events)
{
	struct daemon *d = ctx;
	uint64_t ticks;
	time_t now = time(NULL);

	(void)events;
	while (read(fd, &ticks, sizeof(ticks)) > 0)
		;
	daemon_tick(d);
	for (struct oci_conn *c = d->oci_conns, *next; c; c = next) {
		next = c->next;
		if (now - c->started > OCI_CONN_TIMEOUT_S) {
			struct oci_state st = { 0 };
			char reason[OCI_REASON_MAX] = "nothing received";

			if (c->len > 0 && parse(c, &st, reason, sizeof(reason)) == 0)
				snprintf(reason, sizeof(reason), "no listener fd");
			oci_state_free(&st);
			log_warn("OCI runtime connection idle for %d s without a usable payload (%s): dropping "
				 "it; its container gets no emulation", OCI_CONN_TIMEOUT_S, reason);
			conn_free(c);
		}
	}
	return 0;
}

int oci_front_listen(struct daemon *d, int listen_fd)
{
	struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	int r;

	r = loop_watch(d->loop, listen_fd, POLLIN, on_accept, d);
	if (r < 0)
		return r;
	d->oci_sweep_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->oci_sweep_fd < 0 || timerfd_settime(d->oci_sweep_fd, 0, &its, NULL) < 0)
		return negative_errno();
	r = loop_watch(d->loop, d->oci_sweep_fd, POLLIN, on_sweep, d);
	return r < 0 ? r : 0;
}

void oci_front_close_all(struct daemon *d)
{
	while (d->oci_conns)
		conn_free(d->oci_conns);
	if (d->oci_sweep_fd > 0)
		close(d->oci_sweep_fd);
	d->oci_sweep_fd = -1;
}
