/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "cli.h"
#include "cliopt.h"
#include "engine.h"
#include "host.h"
#include "hostbinfmt.h"
#include "idmap.h"
#include "parse.h"
#include "io.h"
#include "log.h"
#include "macros.h"
#include "native.h"
#include "sandbox.h"
#include "sandbox_options.h"

struct run_state {
	struct engine *engine;
	pid_t child;
	int status; /* exit status to return once the child is gone */
};

static int exit_status_of(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 125;
}

static void on_child_status(void *ctx, pid_t pid, int status)
{
	struct run_state *s = ctx;

	/* Orphans reparented to us (subreaper) are reaped by the engine; only CMD's status counts. */
	if (pid != s->child || !(WIFEXITED(status) || WIFSIGNALED(status)))
		return;
	s->status = exit_status_of(status);
	s->child = 0;
	engine_exit(s->engine, s->status);
}

static void on_signal(void *ctx, int signo)
{
	struct run_state *s = ctx;

	if (s->child > 0 && kill(s->child, signo) < 0 && errno != ESRCH)
		log_warn_errno(negative_errno(), "cannot forward signal %d to pid %d: %m", signo, (int)s->child);
}

static void on_sandbox_empty(void *ctx, struct sandbox *sb)
{
	(void)ctx;
	log_debug("sandbox '%s': every task it filtered is gone", sandbox_id(sb));
}

struct run_args {
	uint64_t not_native; /* 1 << arch for each --no-native */
	const char *rootfs;
	enum idmap_mode userns_mode;
	const char *trace_path;
	bool trace;
	bool json;
	int decision_timeout_ms;	/* 0: the engine's default */
	struct sandbox_options options; /* --option, and --trace/--json as trace */
	char **cmd;
};

enum {
	OPT_ROOTFS = 0x100,
	OPT_USERNS,
	OPT_EMULATOR,
	OPT_NO_NATIVE,
	OPT_TRACE,
	OPT_JSON,
	OPT_OPTION,
	OPT_DECISION_TIMEOUT
};

/* clang-format off */
static const struct cliopt run_options[] = {
	{ "rootfs", OPT_ROOTFS, required_argument,
	  "  --rootfs DIR          run CMD with DIR as its root, in new mount and pid namespaces\n"
	  "                        (with /proc, a minimal /dev and a tmpfs /tmp)\n" },
	{ "userns", OPT_USERNS, required_argument,
	  "  --userns=MODE         for an ordinary user, who CMD is in its user namespace: root (the\n"
	  "                        default: you are root, your subordinate ids from /etc/subuid and\n"
	  "                        /etc/subgid follow from 1) or keep-id (your own uid and gid, the\n"
	  "                        subordinate ids around them)\n" },
	{ "emulator", OPT_EMULATOR, required_argument,
	  "  --emulator ARCH=PATH  use PATH for ARCH instead of the qemu-ARCH-static found on PATH\n" },
	{ "no-native", OPT_NO_NATIVE, required_argument,
	  "  --no-native ARCH      emulate ARCH even if this machine runs it (e.g. i386)\n" },
	{ "trace", OPT_TRACE, optional_argument, "  --trace[=FILE]        one line per exec to FILE (default: stderr)\n" },
	{ "json", OPT_JSON, no_argument, "  --json                trace lines as JSON\n" },
	{ "option", OPT_OPTION, required_argument,
	  "  --option KEY=VALUE    a sandbox option (repeatable): emulators=all|none|ARCH[,ARCH]…\n"
	  "                        (the ones it may emulate), emulator.ARCH=PATH, trace=true|false|json\n" },
	{ "decision-timeout", OPT_DECISION_TIMEOUT, required_argument,
	  "  --decision-timeout=MS give up an exec decision that waits this long on the sandbox's\n"
	  "                        files or memory (a hung FUSE server) and serve the others (1000)\n" },
	{ "verbose", 'v', no_argument, "  -v, --verbose         more log output (repeat for debug, trace)\n" },
	{ "help", 'h', no_argument, "  -h, --help            this text\n" },
};
/* clang-format on */

/* `ubinfmt run`'s user is the operator of its one sandbox: --option may name emulator paths. */
static const struct sandbox_options_source run_source = {
	.name = "--option",
	.prefix = "",
	.trust = SANDBOX_OPTIONS_OPERATOR,
};

struct run_parse {
	struct emu_registry *emus;
	struct run_args *a;
};

static int handle_emulator(struct emu_registry *emus, const char *arg)
{
	int r = emu_registry_override(emus, arg);

	if (r == -EINVAL)
		return log_error_errno(r,
				       "--emulator '%s': expected ARCH=PATH with a known ARCH "
				       "(aarch64, arm, riscv64, i386, …)",
				       arg);
	if (r < 0)
		return log_error_errno(r, "--emulator '%s': cannot use it as an emulator: %m", arg);
	return 0;
}

static int handle_run_option(int key, const char *arg, void *ctx)
{
	struct run_parse *p = ctx;
	struct run_args *a = p->a;
	char reason[256];
	enum arch arch;

	switch (key) {
	case OPT_ROOTFS:
		a->rootfs = arg;
		return 0;
	case OPT_USERNS:
		if (strcmp(arg, "root") == 0)
			a->userns_mode = IDMAP_ROOT;
		else if (strcmp(arg, "keep-id") == 0)
			a->userns_mode = IDMAP_KEEP_ID;
		else
			return log_error_errno(-EINVAL, "--userns '%s': expected root or keep-id", arg);
		return 0;
	case OPT_EMULATOR:
		return handle_emulator(p->emus, arg);
	case OPT_TRACE:
		a->trace = true;
		a->trace_path = arg;
		return 0;
	case OPT_JSON:
		a->json = true;
		return 0;
	case OPT_OPTION:
		if (sandbox_options_add_entry(&a->options, &run_source, arg, reason, sizeof(reason)) < 0)
			return log_error_errno(-EINVAL, "%s", reason);
		return 0;
	case OPT_DECISION_TIMEOUT:
		if (parse_int(arg, ENGINE_DECISION_TIMEOUT_MIN_MS, ENGINE_DECISION_TIMEOUT_MAX_MS,
			      &a->decision_timeout_ms) < 0)
			return log_error_errno(-EINVAL, "--decision-timeout '%s': expected milliseconds, %d to %d", arg,
					       ENGINE_DECISION_TIMEOUT_MIN_MS, ENGINE_DECISION_TIMEOUT_MAX_MS);
		return 0;
	case OPT_NO_NATIVE:
		/* The host's own architecture is native by definition: nothing could emulate it. */
		if (arch_from_name(arg, &arch) < 0 || arch == host_arch())
			return log_error_errno(-EINVAL,
					       "--no-native '%s': expected an architecture this host may run "
					       "natively besides its own, such as %s",
					       arg, host_arch() == ARCH_AARCH64 ? "arm" : "i386");
		a->not_native |= UINT64_C(1) << arch;
		return 0;
	default:
		return -EINVAL;
	}
}

/* The emulators --option named (they win over --emulator's), opened like --emulator's. */
static int open_option_emulators(struct emu_registry *emus, const struct sandbox_options *o)
{
	char spec[64 + SANDBOX_OPTION_VALUE_MAX];

	for (int a = ARCH_UNKNOWN + 1; a < ARCH_MAX; a++) {
		int r;

		if (!o->emulator[a])
			continue;
		snprintf(spec, sizeof(spec), "%s=%s", arch_name((enum arch)a), o->emulator[a]);
		r = emu_registry_override(emus, spec);
		if (r < 0)
			return log_error_errno(r, "--option emulator.%s='%s': cannot use it as an emulator: %m",
					       arch_name((enum arch)a), o->emulator[a]);
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct emu_registry *emus, struct run_args *ret)
{
	static const struct cliopt_spec cli = {
		.head = "Usage: ubinfmt run [OPTION…] -- CMD [ARG…]\n"
			"\n"
			"Runs CMD under an embedded supervisor: every program it (or its descendants) executes\n"
			"that this machine cannot run natively is run through qemu-user.\n"
			"\n",
		.in_order = true,
		.options = run_options,
		.n_options = ARRAY_SIZE(run_options),
		.handle = handle_run_option,
	};
	struct run_args a = { .options = SANDBOX_OPTIONS_INIT };
	struct run_parse p = { .emus = emus, .a = &a };
	char reason[256];
	int first, r;

	first = cliopt_parse(&cli, argc, argv, &p);
	if (first == 0)
		exit(0);
	r = first < 0 ? first : sandbox_options_check(&a.options, &run_source, reason, sizeof(reason));
	if (r == -EINVAL && first > 0)
		log_error("%s", reason);
	if (r == 0)
		r = open_option_emulators(emus, &a.options);
	if (r == 0 && first >= argc) {
		log_error("run: no command given; usage: ubinfmt run [OPTION…] -- CMD [ARG…]");
		r = -EINVAL;
	}
	if (r < 0) {
		sandbox_options_free(&a.options);
		return r;
	}
	/* --trace and --json say trace=true or trace=json, unless --option said otherwise. */
	if (a.trace && a.options.trace == SANDBOX_TRACE_DEFAULT)
		a.options.trace = a.json ? SANDBOX_TRACE_JSON : SANDBOX_TRACE_TEXT;
	a.cmd = argv + first;
	*ret = a;
	return 0;
}

/*
 * Who CMD is, for an ordinary user: a user namespace whose maps come from newuidmap and
 * newgidmap (the subordinate ids), from ourselves (only our own ids: the fallback with a
 * rootfs), or none and no_new_privs (the fallback without a rootfs).
 */
struct run_ids {
	bool userns;
	bool helpers;
	bool no_new_privs;
	char newuidmap[PATH_MAX];
	char newgidmap[PATH_MAX];
	struct idmap uids;
	struct idmap gids;
};

/* Finds the executable NAME in the PATH directories (absolute ones only) into RET (PATH_MAX). */
static int find_on_path(const char *name, char *ret)
{
	const char *path = getenv("PATH");

	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path; *p;) {
		size_t len = strcspn(p, ":");
		struct stat st;
		char file[PATH_MAX];

		if (len > 0 && p[0] == '/' &&
		    snprintf(file, sizeof(file), "%.*s/%s", (int)len, p, name) < (int)sizeof(file) &&
		    stat(file, &st) == 0 && S_ISREG(st.st_mode) && access(file, X_OK) == 0) {
			strcpy(ret, file);
			return 0;
		}
		p += len;
		if (*p == ':')
			p++;
	}
	return -ENOENT;
}

/*
 * Reads the ranges that the subordinate-id file PATH gives the user NAME (id ID) into RET
 * (IDMAP_RANGES_MAX).  Returns how many, or -errno when the file cannot be read.
 */
static int read_subids(const char *path, const char *name, uid_t id, struct idmap_range *ret)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *text = NULL;
	ssize_t len;

	if (fd < 0)
		return negative_errno();
	/* Pages not read into are never touched: the most allowed costs only what the file holds. */
	text = malloc(IDMAP_FILE_MAX + 1);
	if (!text)
		return -ENOMEM;
	len = read_full(fd, text, IDMAP_FILE_MAX + 1);
	if (len < 0)
		return (int)len;
	if (len > (ssize_t)IDMAP_FILE_MAX)
		return -EFBIG;
	return idmap_parse_subid(text, (size_t)len, name, (uint32_t)id, ret, IDMAP_RANGES_MAX);
}

/* The subordinate ids /etc/subuid and /etc/subgid give the caller. */
struct subids {
	struct idmap_range uids[IDMAP_RANGES_MAX];
	struct idmap_range gids[IDMAP_RANGES_MAX];
	int n_uids;
	int n_gids;
};

/*
 * Reads the caller's subordinate ids into RET and finds newuidmap and newgidmap (into IDS).
 * Returns 0 when they can be used, or -errno (-ENOENT: none for this user, or no helpers) with
 * the reason for the user in REASON.  The files are only read to build the maps: newuidmap
 * checks them again, as the authority.
 */
static int find_subids(uid_t uid, struct subids *ret, struct run_ids *ids, char *reason, size_t size)
{
	struct passwd *pw = getpwuid(uid);
	char uid_str[16];
	const char *name, *missing = NULL;

	snprintf(uid_str, sizeof(uid_str), "%u", (unsigned)uid);
	name = pw && pw->pw_name && *pw->pw_name ? pw->pw_name : uid_str;
	ret->n_uids = read_subids("/etc/subuid", name, uid, ret->uids);
	ret->n_gids = read_subids("/etc/subgid", name, uid, ret->gids);
	if (ret->n_uids < 0 && ret->n_uids != -ENOENT) {
		snprintf(reason, size, "cannot read /etc/subuid (%s)", strerror(-ret->n_uids));
		return ret->n_uids;
	}
	if (ret->n_gids < 0 && ret->n_gids != -ENOENT) {
		snprintf(reason, size, "cannot read /etc/subgid (%s)", strerror(-ret->n_gids));
		return ret->n_gids;
	}
	if (ret->n_uids <= 0)
		missing = ret->n_gids <= 0 ? "/etc/subuid and /etc/subgid" : "/etc/subuid";
	else if (ret->n_gids <= 0)
		missing = "/etc/subgid";
	if (missing) {
		snprintf(reason, size, "no subordinate ids for '%s' in %s", name, missing);
		return -ENOENT;
	}
	if (find_on_path("newuidmap", ids->newuidmap) < 0 || find_on_path("newgidmap", ids->newgidmap) < 0) {
		snprintf(reason, size, "no newuidmap and newgidmap on PATH (package uidmap)");
		return -ENOENT;
	}
	return 0;
}

/* Decides RET for this caller; says in one line what an unprivileged run gives up, if anything. */
static int plan_ids(const struct run_args *a, struct run_ids *ret)
{
	static struct subids sub;
	uid_t uid = geteuid();
	gid_t gid = getegid();
	size_t n_uids = 0, n_gids = 0;
	char reason[256];
	int r;

	*ret = (struct run_ids){ 0 };
	if (uid == 0)
		return 0; /* root: CAP_SYS_ADMIN already, and namespaces without a user namespace */
	if (find_subids(uid, &sub, ret, reason, sizeof(reason)) == 0) {
		ret->userns = ret->helpers = true;
		n_uids = (size_t)sub.n_uids;
		n_gids = (size_t)sub.n_gids;
	} else if (a->rootfs) {
		ret->userns = true;
		log_warn("%s: only your own uid and gid are mapped into the sandbox, so other ids do not exist "
			 "there (chown, setgroups, tools that map ids)",
			 reason);
	} else {
		ret->no_new_privs = true;
		log_warn("%s: running CMD with no_new_privs, so setuid programs will not gain privileges", reason);
		return 0;
	}
	r = idmap_build(a->userns_mode, (uint32_t)uid, sub.uids, n_uids, &ret->uids);
	if (r == 0)
		r = idmap_build(a->userns_mode, (uint32_t)gid, sub.gids, n_gids, &ret->gids);
	if (r < 0)
		return log_error_errno(r, "cannot build the user namespace maps for uid %u, gid %u: %m", (unsigned)uid,
				       (unsigned)gid);
	return 0;
}

/* Writes the maps of the sandbox's user namespace, joins it, and lets the sandbox go on. */
static int map_ids(const struct run_ids *ids, pid_t child, int sock, const sigset_t *mask)
{
	char text[IDMAP_TEXT_MAX];
	int r;

	if (log_get_level() >= LOG_DEBUG && idmap_format(&ids->uids, text, sizeof(text)) >= 0)
		log_debug("uid_map of the sandbox: %s", text);
	if (!ids->helpers) {
		r = sandbox_map_own_ids(child, &ids->uids, &ids->gids);
		if (r < 0)
			return log_error_errno(r, "cannot map your uid and gid into the sandbox's user namespace: %m");
	} else {
		const struct {
			const char *helper, *file;
			const struct idmap *map;
		} steps[] = {
			{ ids->newuidmap, "/etc/subuid", &ids->uids },
			{ ids->newgidmap, "/etc/subgid", &ids->gids },
		};
		for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
			r = sandbox_map_with_helper(steps[i].helper, child, steps[i].map, mask);
			if (r == -EPERM)
				return log_error_errno(r,
						       "%s did not map your ids from %s into the sandbox "
						       "(see its message above)",
						       steps[i].helper, steps[i].file);
			if (r < 0)
				return log_error_errno(r, "cannot run %s: %m", steps[i].helper);
		}
	}
	r = sandbox_join_userns(child);
	if (r < 0)
		return log_error_errno(r, "cannot join the sandbox's user namespace: %m");
	r = sandbox_signal_idmaps_done(sock);
	if (r < 0)
		return log_error_errno(r, "cannot tell the sandbox that its ids are mapped: %m");
	return 0;
}

/* The errors of clone3 that say the host forbids this user a user namespace. */
static bool userns_refused(int r)
{
	return r == -EPERM || r == -EACCES || r == -ENOSPC || r == -EUSERS || r == -EINVAL;
}

static int check_rootfs(const char *rootfs, char *resolved)
{
	struct stat st;

	if (!realpath(rootfs, resolved))
		return log_error_errno(negative_errno(), "--rootfs '%s': %m", rootfs);
	if (stat(resolved, &st) < 0 || !S_ISDIR(st.st_mode))
		return log_error_errno(-ENOTDIR, "--rootfs '%s' is not a directory", rootfs);
	return 0;
}

/* What this machine runs by itself, and who serves the rest; the signals the engine forwards. */
static void plan_engine(const struct run_args *a, struct emu_registry *emus, struct engine_config *cfg)
{
	int r;

	cfg->native_mask = native_probe() & ~a->not_native;
	cfg->decision_timeout_ms = (unsigned)a->decision_timeout_ms;
	r = hostbinfmt_load("/proc/sys/fs/binfmt_misc", &cfg->host);
	if (r > 0)
		log_info("leaving %d architectures to the host's binfmt_misc", r);
	r = emu_registry_discover(emus, getenv("PATH"), a->rootfs != NULL);
	if (r <= 0)
		log_warn("no qemu-user emulators found (install qemu-user-static, or pass --emulator ARCH=PATH): "
			 "foreign programs will fail with ENOEXEC");

	/* Signals arrive through the engine's signalfd; CMD gets the original mask back. */
	sigemptyset(&cfg->forward);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD && sig != SIGSEGV && sig != SIGBUS &&
		    sig != SIGFPE && sig != SIGILL && sig != SIGABRT && sig != SIGTRAP && sig != SIGSYS &&
		    sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU && sig < SIGRTMIN)
			sigaddset(&cfg->forward, sig);
}

/* Where the trace goes when the options ask for one: --trace's FILE, or stderr. */
static int open_trace(const struct run_args *a, FILE **ret)
{
	if (a->options.trace != SANDBOX_TRACE_TEXT && a->options.trace != SANDBOX_TRACE_JSON)
		return 0;
	if (!a->trace_path || strcmp(a->trace_path, "-") == 0) {
		*ret = stderr;
		return 0;
	}
	*ret = fopen(a->trace_path, "ae");
	if (!*ret)
		return log_error_errno(negative_errno(), "--trace '%s': %m", a->trace_path);
	return 0;
}

/* Starts CMD (spec) in its sandbox: its pid, or -errno once said why. */
static pid_t start_cmd(struct sandbox_spec *spec, struct run_ids *ids, const char *cmd)
{
	pid_t child;

	/*
	 * Without CAP_SYS_ADMIN seccomp demands no_new_privs, unless CMD is in a user namespace of
	 * ours, where it has that capability: setuid programs keep working there.
	 */
	spec->userns = ids->userns;
	spec->no_new_privs = ids->no_new_privs;
	child = sandbox_start(spec);
	if (child < 0 && spec->userns && !spec->rootfs && userns_refused(child)) {
		log_warn_errno(child, "cannot create a user namespace (%m): running CMD with no_new_privs, "
				      "so setuid programs will not gain privileges");
		spec->userns = ids->userns = false;
		spec->no_new_privs = true;
		child = sandbox_start(spec);
	}
	if (child < 0 && spec->userns && userns_refused(child))
		return log_error_errno(child, "cannot create a user namespace for --rootfs (%m): this host forbids "
					      "them to ordinary users (sysctl user.max_user_namespaces, an LSM)");
	if (child < 0)
		return log_error_errno(child, "cannot start '%s': %m", cmd);
	return child;
}

/* The status of a CMD that never handed over its listener (it said why on stderr). */
static int status_of_failed_start(pid_t child)
{
	int status;

	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	return exit_status_of(status) ? exit_status_of(status) : 125;
}

/*
 * Serves listener (always taken) until CMD is gone: CMD's exit status, or 125 when the
 * supervisor stopped; -errno, once said why, when it could not start serving.
 */
static int serve(struct run_state *state, struct engine_config *cfg, const struct sandbox_config *sb_cfg, int listener)
{
	_cleanup_close_ int fd = listener;
	struct sandbox *sb;
	int r;

	cfg->hooks = (struct engine_hooks){
		.child_status = on_child_status,
		.signal = on_signal,
		.sandbox_empty = on_sandbox_empty,
		.ctx = state,
	};
	cfg->stats_unread = true; /* no status is ever asked of an embedded supervisor */
	r = engine_new(cfg, &state->engine);
	if (r < 0)
		return log_error_errno(r, "cannot start the supervisor: %m");
	r = engine_sandbox_new(state->engine, sb_cfg, &sb);
	if (r < 0)
		return log_error_errno(r, "cannot set up the sandbox: %m");
	r = engine_sandbox_add_listener(state->engine, sb, TAKE_FD(fd));
	if (r < 0)
		return log_error_errno(r, "cannot watch the exec listener: %m");
	/* The child runs already, at the caller's priority; the loop's thread inherits this one. */
	r = caps_raise_priority(CAPS_SUPERVISOR_NICE);
	if (r < 0)
		log_debug_errno(r, "cannot raise the supervisor's priority, keeping it: %m");
	/* Everything that needed root's full powers is done: keep what the rewrites need. */
	if (caps_drop_to_supervisor() < 0)
		log_debug("cannot drop capabilities, keeping them");
	r = engine_run(state->engine);
	if (r < 0)
		log_error_errno(r, "the supervisor stopped: %m");
	state->engine = engine_free(state->engine);
	return r < 0 ? 125 : state->status;
}

int cmd_run(int argc, char **argv)
{
	static struct emu_registry emus;
	static struct run_ids ids;
	struct engine_config cfg = { 0 };
	struct run_state state = { .status = 125 };
	struct sandbox_spec spec = { .sock = -1 };
	struct run_args a;
	char rootfs[4096];
	_cleanup_fclose_ FILE *trace = NULL;
	_cleanup_close_ int sock_parent = -1, sock_child = -1;
	int socks[2], listener, r;
	sigset_t blocked;

	emu_registry_init(&emus);
	if (parse_args(argc, argv, &emus, &a) < 0)
		return 2;
	struct sandbox_config sb_cfg = { .id = "run", .emus = &emus, .options = &a.options };
	if ((a.rootfs && check_rootfs(a.rootfs, rootfs) < 0) || plan_ids(&a, &ids) < 0)
		return 125;
	plan_engine(&a, &emus, &cfg);
	if (open_trace(&a, &sb_cfg.trace) < 0)
		return 125;
	if (sb_cfg.trace != stderr)
		trace = sb_cfg.trace; /* closed when we are done */
	blocked = cfg.forward;
	sigaddset(&blocked, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &blocked, &spec.orig_mask) < 0)
		return log_error_errno(negative_errno(), "cannot block signals: %m"), 125;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks) < 0)
		return log_error_errno(negative_errno(), "cannot create a socket pair: %m"), 125;
	sock_parent = socks[0];
	sock_child = socks[1];

	/* Orphans of CMD come to us and are reaped. */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	spec.rootfs = a.rootfs ? rootfs : NULL;
	spec.argv = a.cmd;
	spec.sock = sock_child;
	state.child = start_cmd(&spec, &ids, a.cmd[0]);
	if (state.child < 0)
		return 125;
	close(TAKE_FD(sock_child));
	if (ids.userns && map_ids(&ids, state.child, sock_parent, &spec.orig_mask) < 0)
		goto kill_cmd;
	listener = sandbox_recv_listener(sock_parent);
	if (listener < 0)
		return status_of_failed_start(state.child);
	r = serve(&state, &cfg, &sb_cfg, listener);
	if (r < 0)
		goto kill_cmd;
	emu_registry_close(&emus);
	sandbox_options_free(&a.options);
	return r;
kill_cmd:
	/* CMD runs, and nothing will serve its execs: it must not go on without us. */
	kill(state.child, SIGKILL);
	return 125;
}
