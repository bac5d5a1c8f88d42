/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ubinfmtd: one daemon serving many sandboxes on one io_uring loop.  Agents (ubinfmt-init)
 * connect to the agent socket, OCI runtimes (runc, crun, podman) to the OCI socket named in
 * linux.seccomp.listenerPath, and the ubinfmt command to the control socket.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "cliopt.h"
#include "clients_front.h"
#include "daemon.h"
#include "emu.h"
#include "engine.h"
#include "hostbinfmt.h"
#include "log.h"
#include "loop.h"
#include "macros.h"
#include "native.h"
#include "oci_front.h"
#include "parse.h"
#include "paths.h"

static const char *arg_agent_socket = UBINFMT_AGENT_SOCKET;
static const char *arg_oci_socket = UBINFMT_OCI_SOCKET;
static const char *arg_control_socket = UBINFMT_CONTROL_SOCKET;
static const char *arg_trace_path;
static bool arg_trace;
static bool arg_json;
static int arg_decision_timeout_ms; /* 0: the engine's default */
static int arg_nice = CAPS_SUPERVISOR_NICE;
static int arg_max_per_uid = QUOTA_DEFAULT_SANDBOXES_PER_UID;
static int arg_max_per_container = QUOTA_DEFAULT_SANDBOXES_PER_PIDNS;

/* ubinfmtd's state: the engine, what every front end shares, and the front ends themselves. */
struct daemon {
	struct engine *engine;
	struct loop *loop;
	struct emu_registry emus; /* the default emulators */
	FILE *trace;		  /* --trace: every sandbox's execs, whatever their options say */
	bool trace_json;	  /* --json: those lines, and those of sandboxes that ask, as JSON */
	struct quota *quota;	  /* per-tenant connections and sandboxes */
	unsigned fd_limit;	  /* RLIMIT_NOFILE, raised to its hard limit at start */
	struct {
		int fd;
		loop_handler handler;
		void *ctx;
	} parked[4];			  /* listening sockets waiting for fds to free up */
	int tick_fd;			  /* once a second: parked sockets, clients and runtimes that stall */
	int agent_fd, oci_fd, control_fd; /* the listening sockets */
	bool bound;			  /* serving: the socket files are ours to remove at the end */
	struct clients *clients;	  /* front end: the agent and control sockets */
	struct oci_front *oci;		  /* front end: the OCI seccomp-agent socket */
};

struct engine *daemon_engine(struct daemon *d)
{
	return d->engine;
}

struct loop *daemon_loop(struct daemon *d)
{
	return d->loop;
}

struct quota *daemon_quota(struct daemon *d)
{
	return d->quota;
}

const struct emu_registry *daemon_emus(const struct daemon *d)
{
	return &d->emus;
}

unsigned daemon_fd_limit(const struct daemon *d)
{
	return d->fd_limit;
}

uint64_t daemon_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- sandboxes --------------------------------------------------------------------------- */

struct sandbox_data *sandbox_data_new(const struct sandbox_owner *owner)
{
	struct sandbox_data *sd = calloc(1, sizeof(*sd));

	if (!sd)
		return NULL;
	sd->owner = *owner;
	return sd;
}

struct emu_registry *sandbox_emus_free(struct emu_registry *emus)
{
	if (emus) {
		emu_registry_close(emus);
		free(emus);
	}
	return NULL;
}

struct sandbox_data *sandbox_data_free(struct sandbox_data *sd)
{
	if (!sd)
		return NULL;
	if (sd->quota)
		quota_give(sd->quota, &sd->owner.tenant, QUOTA_SANDBOXES);
	sandbox_emus_free(sd->emus);
	free(sd);
	return NULL;
}

void daemon_warn_quota(struct daemon *d, const struct quota_owner *tenant, enum quota_what what, enum quota_scope scope,
		       unsigned limit)
{
	static struct {
		uint32_t uid;
		uint64_t pidns;
		int what;
		uint64_t at_ns;
	} last[16];
	static unsigned next;
	uint64_t now = daemon_now_ns();

	(void)d;
	for (size_t i = 0; i < ARRAY_SIZE(last); i++)
		if (last[i].at_ns && last[i].uid == tenant->uid && last[i].pidns == tenant->pidns &&
		    last[i].what == (int)what && now - last[i].at_ns < 10000000000ull)
			return;
	last[next % ARRAY_SIZE(last)] = (typeof(last[0])){ tenant->uid, tenant->pidns, (int)what, now };
	next++;
	if (scope == QUOTA_SCOPE_UID)
		log_warn("uid %u holds %u %s, the most ubinfmtd allows one user (--max-per-uid): refusing more",
			 tenant->uid, limit, quota_what_name(what));
	else
		log_warn("uid %u in pid namespace %llu holds %u %s, the most ubinfmtd allows one container "
			 "(--max-per-container): refusing more",
			 tenant->uid, (unsigned long long)tenant->pidns, limit, quota_what_name(what));
}

int daemon_sandbox_new(struct daemon *d, const char *id, struct sandbox_data *sd, const struct sandbox_options *opts,
		       struct sandbox **ret)
{
	_cleanup_(sandbox_data_freep) struct sandbox_data *owned = sd;
	/* A view of opts with the daemon's trace settings: the engine reads it at creation only. */
	struct sandbox_options o = opts ? *opts : (struct sandbox_options)SANDBOX_OPTIONS_INIT;
	struct sandbox_config cfg = {
		.emus = sd->emus ? sd->emus : &d->emus,
		.options = &o,
		.userdata = sd,
	};
	enum quota_scope scope;
	unsigned limit;
	int r;

	if (sd->owner.origin == SANDBOX_ORIGIN_AGENT && !sd->quota) {
		r = quota_take(d->quota, &sd->owner.tenant, QUOTA_SANDBOXES, &scope, &limit);
		if (r == -EDQUOT)
			daemon_warn_quota(d, &sd->owner.tenant, QUOTA_SANDBOXES, scope, limit);
		if (r < 0)
			return r;
		sd->quota = d->quota;
	}
	snprintf(cfg.id, sizeof(cfg.id), "%s", id);
	if (d->trace) {
		cfg.trace = d->trace;
		o.trace = d->trace_json ? SANDBOX_TRACE_JSON : SANDBOX_TRACE_TEXT;
	} else if (o.trace == SANDBOX_TRACE_TEXT || o.trace == SANDBOX_TRACE_JSON) {
		cfg.trace = stderr;
		if (d->trace_json)
			o.trace = SANDBOX_TRACE_JSON;
	}
	r = engine_sandbox_new(d->engine, &cfg, ret);
	if (r < 0)
		return r;
	owned = NULL; /* the sandbox's userdata now */
	return 0;
}

static bool same_owner(const struct sandbox_owner *a, const struct sandbox_owner *b)
{
	if (a->origin != b->origin)
		return false;
	/* Agents' ids are their own tenant's: nobody else can squat or join them. */
	if (a->origin == SANDBOX_ORIGIN_AGENT)
		return a->tenant.uid == b->tenant.uid && a->tenant.pidns == b->tenant.pidns;
	return true;
}

struct sandbox *daemon_sandbox_find(struct daemon *d, const struct sandbox_owner *owner, const char *id)
{
	for (struct sandbox *sb = NULL; (sb = engine_sandbox_next(d->engine, sb));) {
		const struct sandbox_data *sd = sandbox_userdata(sb);
		if (sd && same_owner(&sd->owner, owner) && strcmp(sandbox_id(sb), id) == 0)
			return sb;
	}
	return NULL;
}

void daemon_sandbox_free(struct daemon *d, struct sandbox *sb)
{
	struct sandbox_data *sd = sandbox_userdata(sb);

	clients_sandbox_gone(d->clients, sb);
	engine_sandbox_free(d->engine, sb);
	sandbox_data_free(sd);
}

static void on_sandbox_empty(void *ctx, struct sandbox *sb)
{
	struct daemon *d = ctx;

	log_info("sandbox '%s': every task is gone", sandbox_id(sb));
	daemon_sandbox_free(d, sb);
}

static void on_exec_done(void *ctx, struct sandbox *sb, const struct trace_record *rec)
{
	struct daemon *d = ctx;

	clients_exec_done(d->clients, sb, rec);
}

static void on_signal(void *ctx, int signo)
{
	struct daemon *d = ctx;

	if (signo == SIGTERM || signo == SIGINT) {
		log_info("signal %d: shutting down", signo);
		engine_exit(d->engine, 0);
	}
}

static void on_child_status(void *ctx, pid_t pid, int status)
{
	(void)ctx;
	(void)pid;
	(void)status;
}

/* ---- sockets ----------------------------------------------------------------------------- */

int daemon_accept_failed(struct daemon *d, int listen_fd, int err, loop_handler handler, void *ctx)
{
	switch (err) {
	case EAGAIN:
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
		return 0;
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		for (size_t i = 0; i < ARRAY_SIZE(d->parked); i++) {
			if (d->parked[i].handler)
				continue;
			d->parked[i].fd = listen_fd;
			d->parked[i].handler = handler;
			d->parked[i].ctx = ctx;
			log_warn_errno(-err, "cannot accept connections (%m): pausing for a second");
			return -1;
		}
		return 0;
	default:
		log_error_errno(-err, "socket %d cannot accept connections (%m): no longer listening on it", listen_fd);
		return -1;
	}
}

bool daemon_fd_affordable(const struct daemon *d, int fd)
{
	return fd >= 0 && (unsigned)fd + DAEMON_FD_RESERVE < d->fd_limit;
}

/*
 * Every connection and listener is an fd, and systemd's default soft limit is 1024: take what
 * the hard limit allows, so that the limits above, not the fd table, decide who is refused.
 */
static void raise_fd_limit(struct daemon *d)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		d->fd_limit = 1024;
		return;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit want = { .rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max };
		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			rl = want;
		else
			log_warn_errno(negative_errno(), "cannot raise the open file limit from %llu to %llu (%m)",
				       (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
	}
	d->fd_limit = rl.rlim_cur > INT32_MAX ? INT32_MAX : (unsigned)rl.rlim_cur;
	if (d->fd_limit < 4 * DAEMON_FD_RESERVE)
		log_warn("the open file limit is %u: ubinfmtd keeps %u for exec decisions and serves few "
			 "clients; raise LimitNOFILE=",
			 d->fd_limit, DAEMON_FD_RESERVE);
	log_debug("open file limit: %u", d->fd_limit);
}

/* Once a second: expires clients, re-watches parked sockets, cuts off stalled runtimes. */
static int on_tick(void *ctx, int fd, int events)
{
	struct daemon *d = ctx;
	uint64_t ticks;

	(void)events;
	while (read(fd, &ticks, sizeof(ticks)) > 0)
		;
	clients_tick(d->clients);
	for (size_t i = 0; i < ARRAY_SIZE(d->parked); i++) {
		if (!d->parked[i].handler)
			continue;
		if (loop_watch(d->loop, d->parked[i].fd, POLLIN, d->parked[i].handler, d->parked[i].ctx) < 0)
			continue;
		d->parked[i].handler = NULL;
	}
	oci_front_tick(d->oci);
	return 0;
}

static int start_tick(struct daemon *d)
{
	struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	int r;

	d->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->tick_fd < 0 || timerfd_settime(d->tick_fd, 0, &its, NULL) < 0)
		return negative_errno();
	r = loop_watch(d->loop, d->tick_fd, POLLIN, on_tick, d);
	return r < 0 ? r : 0;
}

/*
 * Emulators opened without CAP_SYS_ADMIN are plain fds: a container whose root owns the file
 * could reopen an emulated process's /proc/PID/exe for writing.  Say so once, at start-up.
 */
static void warn_writable_emulators(const struct emu_registry *reg)
{
	for (int a = ARCH_UNKNOWN + 1; a < ARCH_MAX; a++) {
		const struct emu *e = emu_registry_get(reg, (enum arch)a);
		if (e && !e->read_only) {
			log_warn("emulators are not on a read-only mount (no CAP_SYS_ADMIN at start-up?): a container "
				 "root that owns '%s' could rewrite it; start ubinfmtd with CAP_SYS_ADMIN (it drops it "
				 "after start-up)",
				 e->path);
			return;
		}
	}
}

/* An fd systemd passed for name (LISTEN_FDS/LISTEN_FDNAMES), or -1. */
static int systemd_fd(const char *name)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS"), *names = getenv("LISTEN_FDNAMES");
	uint64_t p, n;

	if (!pid || !fds || parse_u64(pid, &p) < 0 || p != (uint64_t)getpid() || parse_u64(fds, &n) < 0 || n > 16)
		return -1;
	for (uint64_t i = 0; i < n && names;) {
		size_t len = strcspn(names, ":");
		if (len == strlen(name) && strncmp(names, name, len) == 0)
			return (int)(3 + i);
		names += len;
		if (*names != ':')
			break;
		names++;
		i++;
	}
	return -1;
}

/*
 * Binds a unix socket at path with mode, replacing a stale one but refusing to steal the
 * socket of a daemon that still answers there.
 */
static int listen_at(const char *name, const char *path, int type, mode_t mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	int sd = systemd_fd(name);

	if (sd >= 0) {
		int so_type = 0, listening = 0;
		socklen_t len = sizeof(int);
		if (getsockopt(sd, SOL_SOCKET, SO_TYPE, &so_type, &len) < 0 || so_type != type ||
		    getsockopt(sd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening)
			return log_error_errno(-ENOTSOCK,
					       "the '%s' fd systemd passed is not a listening %s socket: "
					       "check the socket unit",
					       name, type == SOCK_STREAM ? "stream" : "seqpacket");
		(void)fcntl(sd, F_SETFL, O_NONBLOCK);
		return sd;
	}
	if (strlen(path) >= sizeof(sa.sun_path))
		return log_error_errno(-ENAMETOOLONG, "--%s '%s': path too long for a unix socket", name, path);
	strcpy(sa.sun_path, path);

	fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_error_errno(negative_errno(), "cannot create the %s socket: %m", name);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return log_error_errno(-EADDRINUSE, "another ubinfmtd already listens on '%s'", path);
	close(fd);
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_error_errno(negative_errno(), "cannot create the %s socket: %m", name);

	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return log_error_errno(-EEXIST,
					       "'%s' exists and is not a socket: remove it or pick "
					       "another path",
					       path);
		(void)unlink(path);
	}
	/* The mode is right from the start: no window in which anyone else may connect. */
	mode_t old = umask(~mode & 0777);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0)
		return log_error_errno(negative_errno(), "cannot bind '%s': %m", path);
	if (listen(fd, 128) < 0)
		return log_error_errno(negative_errno(), "cannot listen on '%s': %m", path);
	return TAKE_FD(fd);
}

static int make_parent_dir(const char *path)
{
	char dir[4096];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return log_error_errno(negative_errno(), "cannot create '%s': %m", dir);
	return 0;
}

enum {
	OPT_SOCKET = 0x100,
	OPT_OCI,
	OPT_CONTROL,
	OPT_EMULATOR,
	OPT_TRACE,
	OPT_JSON,
	OPT_DECISION_TIMEOUT,
	OPT_NICE,
	OPT_MAX_PER_UID,
	OPT_MAX_PER_CONTAINER
};

/* clang-format off */
static const struct cliopt options[] = {
	{ "socket", OPT_SOCKET, required_argument,
	  "  --socket PATH          agent socket for ubinfmt-init (default " UBINFMT_AGENT_SOCKET ")\n" },
	{ "oci-socket", OPT_OCI, required_argument,
	  "  --oci-socket PATH      OCI seccomp-agent socket for runc/crun/podman, the\n"
	  "                         linux.seccomp.listenerPath (default " UBINFMT_OCI_SOCKET ")\n" },
	{ "control", OPT_CONTROL, required_argument,
	  "  --control PATH         socket for 'ubinfmt status/trace/attach' (default " UBINFMT_CONTROL_SOCKET ")\n" },
	{ "emulator", OPT_EMULATOR, required_argument,
	  "  --emulator ARCH=PATH   use PATH for ARCH instead of the qemu-ARCH-static found on PATH\n" },
	{ "trace", OPT_TRACE, optional_argument,
	  "  --trace[=FILE]         one line per exec of every sandbox to FILE (default: stderr)\n" },
	{ "json", OPT_JSON, no_argument, "  --json                 trace lines as JSON\n" },
	{ "decision-timeout", OPT_DECISION_TIMEOUT, required_argument,
	  "  --decision-timeout=MS  give up an exec decision that waits this long on a sandbox's\n"
	  "                         files or memory (a hung FUSE server) and serve the others (1000)\n" },
	{ "nice", OPT_NICE, required_argument,
	  "  --nice=N               the daemon's scheduling priority, -20 to 19 (default -10: every\n"
	  "                         exec waits for it, so it should not wait behind them)\n" },
	{ "max-per-uid", OPT_MAX_PER_UID, required_argument,
	  "  --max-per-uid=N        sandboxes one user other than root may hold through the agent\n"
	  "                         socket (twice as many connections; default "
	  STRINGIFY(QUOTA_DEFAULT_SANDBOXES_PER_UID) ")\n" },
	{ "max-per-container", OPT_MAX_PER_CONTAINER, required_argument,
	  "  --max-per-container=N  the same per user and pid namespace, root's containers included\n"
	  "                         (default " STRINGIFY(QUOTA_DEFAULT_SANDBOXES_PER_PIDNS) ")\n" },
	{ "verbose", 'v', no_argument,
	  "  -v, --verbose          more log output (repeat for debug, trace; UBINFMT_LOG=LEVEL\n"
	  "                         sets it too)\n" },
	{ "help", 'h', no_argument, NULL },
};
/* clang-format on */

static int handle_option(int key, const char *arg, void *ctx)
{
	struct daemon *d = ctx;
	int r;

	switch (key) {
	case OPT_SOCKET:
		arg_agent_socket = arg;
		return 0;
	case OPT_OCI:
		arg_oci_socket = arg;
		return 0;
	case OPT_CONTROL:
		arg_control_socket = arg;
		return 0;
	case OPT_EMULATOR:
		r = emu_registry_override(&d->emus, arg);
		if (r < 0)
			return log_error_errno(r,
					       "--emulator '%s': expected ARCH=PATH with a known ARCH and "
					       "an x86-64 executable: %m",
					       arg);
		return 0;
	case OPT_TRACE:
		arg_trace = true;
		arg_trace_path = arg;
		return 0;
	case OPT_JSON:
		arg_json = true;
		return 0;
	case OPT_DECISION_TIMEOUT:
		if (parse_int(arg, ENGINE_DECISION_TIMEOUT_MIN_MS, ENGINE_DECISION_TIMEOUT_MAX_MS,
			      &arg_decision_timeout_ms) < 0)
			return log_error_errno(-EINVAL, "--decision-timeout '%s': expected milliseconds, %d to %d", arg,
					       ENGINE_DECISION_TIMEOUT_MIN_MS, ENGINE_DECISION_TIMEOUT_MAX_MS);
		return 0;
	case OPT_NICE:
		if (parse_int(arg, -20, 19, &arg_nice) < 0)
			return log_error_errno(-EINVAL, "--nice '%s': expected -20 to 19", arg);
		return 0;
	case OPT_MAX_PER_UID:
		if (parse_int(arg, 1, 1000000, &arg_max_per_uid) < 0)
			return log_error_errno(-EINVAL, "--max-per-uid '%s': expected 1 to 1000000", arg);
		return 0;
	case OPT_MAX_PER_CONTAINER:
		if (parse_int(arg, 1, 1000000, &arg_max_per_container) < 0)
			return log_error_errno(-EINVAL, "--max-per-container '%s': expected 1 to 1000000", arg);
		return 0;
	default:
		return -EINVAL;
	}
}

static int parse_args(int argc, char **argv, struct daemon *d)
{
	static const struct cliopt_spec cli = {
		.head = "Usage: ubinfmtd [OPTION…]\n"
			"\n"
			"Serves ubinfmt sandboxes: runs their foreign-architecture programs through qemu-user.\n"
			"\n",
		.tail = "\n"
			"Sockets passed by systemd (LISTEN_FDS, named agent, oci, control) are used as they are.\n",
		.options = options,
		.n_options = ARRAY_SIZE(options),
		.handle = handle_option,
	};
	int r = cliopt_parse(&cli, argc, argv, d);

	if (r == 0)
		exit(0);
	if (r < 0)
		return r;
	if (r < argc) {
		log_error("unexpected argument '%s'", argv[r]);
		return -EINVAL;
	}
	return 0;
}

/* The daemon's own state: quotas, the fd limit, the default emulators, --trace.  Logs why not. */
static int setup_state(struct daemon *d)
{
	struct quota_limits limits = {
		.per_uid = { [QUOTA_CONNECTIONS] = 2 * (unsigned)arg_max_per_uid,
			     [QUOTA_SANDBOXES] = (unsigned)arg_max_per_uid },
		.per_pidns = { [QUOTA_CONNECTIONS] = 2 * (unsigned)arg_max_per_container,
			       [QUOTA_SANDBOXES] = (unsigned)arg_max_per_container },
	};

	if (quota_new(&limits, &d->quota) < 0)
		return log_error_errno(-ENOMEM, "out of memory");
	raise_fd_limit(d);
	if (emu_registry_discover(&d->emus, getenv("PATH"), true) <= 0)
		log_warn("no static qemu-user emulators found (install qemu-user-static, or pass --emulator "
			 "ARCH=PATH): foreign programs will fail with ENOEXEC");
	warn_writable_emulators(&d->emus);
	d->trace_json = arg_json;
	if (!arg_trace)
		return 0;
	if (!arg_trace_path || strcmp(arg_trace_path, "-") == 0) {
		d->trace = stderr;
		return 0;
	}
	d->trace = fopen(arg_trace_path, "ae");
	if (!d->trace)
		return log_error_errno(negative_errno(), "--trace '%s': %m", arg_trace_path);
	return 0;
}

/* The engine, with what this machine runs by itself and who serves the rest.  Logs why not. */
static int setup_engine(struct daemon *d)
{
	struct engine_config cfg = {
		.native_mask = native_probe(),
		.decision_timeout_ms = (unsigned)arg_decision_timeout_ms,
		.hooks = {
			.child_status = on_child_status,
			.signal = on_signal,
			.sandbox_empty = on_sandbox_empty,
			.exec_done = on_exec_done,
			.ctx = d,
		},
	};
	int r;

	(void)hostbinfmt_load("/proc/sys/fs/binfmt_misc", &cfg.host);
	sigemptyset(&cfg.forward);
	sigaddset(&cfg.forward, SIGTERM);
	sigaddset(&cfg.forward, SIGINT);
	sigaddset(&cfg.forward, SIGHUP);
	sigset_t blocked = cfg.forward;
	sigaddset(&blocked, SIGCHLD);
	sigaddset(&blocked, SIGPIPE);
	sigprocmask(SIG_BLOCK, &blocked, NULL);

	r = engine_new(&cfg, &d->engine);
	if (r < 0)
		return log_error_errno(r, "cannot start the engine: %m");
	d->loop = engine_loop(d->engine);
	return 0;
}

/* The sockets, their front ends and the tick.  Logs why not. */
static int setup_sockets(struct daemon *d)
{
	/* Agents may run as any uid inside their containers; runtimes and the CLI are root. */
	if (make_parent_dir(arg_agent_socket) < 0 || make_parent_dir(arg_oci_socket) < 0 ||
	    make_parent_dir(arg_control_socket) < 0)
		return -EIO;
	d->agent_fd = listen_at("agent", arg_agent_socket, SOCK_SEQPACKET, 0666);
	d->oci_fd = listen_at("oci", arg_oci_socket, SOCK_STREAM, 0600);
	d->control_fd = listen_at("control", arg_control_socket, SOCK_SEQPACKET, 0600);
	if (d->agent_fd < 0 || d->oci_fd < 0 || d->control_fd < 0)
		return -EIO;
	d->bound = true;
	if (clients_new(d, d->agent_fd, d->control_fd, &d->clients) < 0 || oci_front_new(d, d->oci_fd, &d->oci) < 0 ||
	    start_tick(d) < 0) {
		log_error("cannot watch the sockets");
		return -EIO;
	}
	return 0;
}

/* Scheduling priority up, capabilities down to what serving needs: neither is fatal. */
static void setup_privileges(void)
{
	int r = caps_raise_priority(arg_nice);

	if (r < 0)
		log_full_errno(LOG_INFO, r, "cannot set the scheduling priority to %d, keeping it: %m", arg_nice);
	if (caps_drop_to_supervisor() < 0)
		log_warn("cannot drop capabilities, keeping them");
	else
		log_debug("capabilities now: sys_ptrace, dac_override, dac_read_search, kill");
}

/*
 * Shutdown, also of a daemon that never got to serve: sandboxes lose their listeners; agents
 * keep theirs for the next daemon.  Socket files are removed only when they were ours.
 */
static void teardown(struct daemon *d)
{
	d->clients = clients_free(d->clients);
	d->oci = oci_front_free(d->oci);
	if (d->tick_fd >= 0)
		close(d->tick_fd);
	d->tick_fd = -1;
	for (struct sandbox *sb; d->engine && (sb = engine_sandbox_next(d->engine, NULL));)
		daemon_sandbox_free(d, sb);
	d->engine = engine_free(d->engine);
	emu_registry_close(&d->emus);
	d->quota = quota_free(d->quota);
	if (d->bound) {
		if (systemd_fd("agent") < 0)
			(void)unlink(arg_agent_socket);
		if (systemd_fd("oci") < 0)
			(void)unlink(arg_oci_socket);
		if (systemd_fd("control") < 0)
			(void)unlink(arg_control_socket);
	}
	closep(&d->agent_fd);
	closep(&d->oci_fd);
	closep(&d->control_fd);
	if (d->trace && d->trace != stderr)
		fclose(d->trace);
	d->trace = NULL;
}

int main(int argc, char **argv)
{
	static struct daemon d = { .tick_fd = -1, .agent_fd = -1, .oci_fd = -1, .control_fd = -1 };
	int r;

	log_setup("ubinfmtd");
	emu_registry_init(&d.emus);
	if (parse_args(argc, argv, &d) < 0)
		return 2;
	r = setup_state(&d);
	if (r >= 0)
		r = setup_engine(&d);
	if (r >= 0)
		r = setup_sockets(&d);
	if (r >= 0) {
		setup_privileges();
		log_info("listening: agents on '%s', OCI runtimes on '%s', control on '%s'", arg_agent_socket,
			 arg_oci_socket, arg_control_socket);
		r = engine_run(d.engine);
	}
	teardown(&d);
	return r < 0 ? 1 : 0;
}
