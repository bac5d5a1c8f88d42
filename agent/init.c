/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ubinfmt-init: the in-container side.  A drop-in for tini/catatonit that also installs the
 * exec filter, hands its listener to ubinfmtd and keeps a copy, so that a restarted daemon can
 * take over without losing a single exec.
 */
#define _GNU_SOURCE
#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cliopt.h"
#include "fdpass.h"
#include "journal.h"
#include "log.h"
#include "macros.h"
#include "notif.h"
#include "paths.h"
#include "proto.h"

enum nnp_mode {
	NNP_AUTO,
	NNP_ALWAYS,
	NNP_NEVER,
};

enum fallback_mode {
	FALLBACK_FAIL,
	FALLBACK_NATIVE,
};

static const char *arg_socket = UBINFMT_AGENT_SOCKET;
static const char *arg_id = "";
static bool arg_subreaper;
static bool arg_group;
static bool arg_trace;
static const char *arg_options[PROTO_MAX_OPTIONS]; /* --option: the sandbox's, for ubinfmtd to read */
static size_t arg_n_options;
static enum nnp_mode arg_nnp = NNP_AUTO;
static enum fallback_mode arg_fallback = FALLBACK_FAIL;
static char **arg_cmd;

#define RECONNECT_MS 200
#define FIRST_CONNECT_TRIES 25 /* 5 s for a daemon that is still starting */

/* ---- talking to ubinfmtd -------------------------------------------------------------------- */

static int connect_daemon(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;

	if (strlen(arg_socket) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, arg_socket);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return negative_errno();
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return negative_errno();
	return TAKE_FD(fd);
}

/*
 * How long the daemon may take to answer HELLO: it answers at once unless it is wedged, and a
 * container must not hang at start waiting for it.
 */
#define HELLO_ACK_TIMEOUT_MS 10000

/* The daemon's last refusal, for the error message. */
static char daemon_said[PROTO_MAX_ERROR_LEN];

/*
 * HELLO, HELLO_ACK, LISTENER: hands the listener (and the journal) to the daemon.  The daemon's
 * answer is a message from a privileged peer, but decoded like any other input.
 */
static int hand_over(int sock, int listener, int journal, bool reattach, char *ret_id, size_t id_size)
{
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	struct proto_msg m = { .type = PROTO_MSG_HELLO };
	uint8_t buf[PROTO_MAX_MSG];
	size_t n_fds;
	int fds[PROTO_MAX_FDS];
	int r, n;

	m.hello.pid = (uint32_t)getpid();
	m.hello.role = PROTO_ROLE_AGENT;
	m.hello.id = arg_id;
	/* --trace as the flag every ubinfmtd reads, older ones included (proto.h). */
	m.hello.flags = (arg_trace ? PROTO_HELLO_F_TRACE : 0) | (reattach ? PROTO_HELLO_F_REATTACH : 0);
	m.hello.n_options = arg_n_options;
	for (size_t i = 0; i < arg_n_options; i++)
		m.hello.options[i] = arg_options[i];
	r = proto_send_msg(sock, &m, NULL, 0);
	if (r < 0)
		return r;

	r = poll(&pfd, 1, HELLO_ACK_TIMEOUT_MS);
	if (r == 0) {
		snprintf(daemon_said, sizeof(daemon_said), "no answer within %d s", HELLO_ACK_TIMEOUT_MS / 1000);
		return -ETIMEDOUT;
	}
	n = proto_recv(sock, buf, sizeof(buf), fds, PROTO_MAX_FDS, &n_fds);
	/* A refusal closes the connection: its reason may wait behind the reset. */
	if (n == -ECONNRESET)
		n = proto_recv(sock, buf, sizeof(buf), fds, PROTO_MAX_FDS, &n_fds);
	if (n < 0)
		return n;
	proto_close_fds(fds, n_fds);
	if (n == 0)
		return -ECONNRESET;
	r = proto_decode(buf, (size_t)n, &m);
	if (r < 0)
		return r;
	if (m.type == PROTO_MSG_ERROR) {
		/* The daemon's words are shown quoted: it is privileged, but this is still input. */
		snprintf(daemon_said, sizeof(daemon_said), "%s", m.error.message);
		return m.error.error < 0 ? m.error.error : -EPROTO;
	}
	if (m.type != PROTO_MSG_HELLO_ACK)
		return -EPROTO;
	if (m.hello_ack.status < 0)
		return m.hello_ack.status;
	snprintf(ret_id, id_size, "%s", m.hello_ack.id);

	struct proto_msg l = { .type = PROTO_MSG_LISTENER };
	int send_fds[2] = { listener, journal };
	l.listener.id = ret_id;
	l.listener.pid = (uint32_t)getpid();
	return proto_send_msg(sock, &l, send_fds, journal >= 0 ? 2 : 1);
}

/* ---- the filter ----------------------------------------------------------------------------- */

static bool have_cap_sys_admin(void)
{
	capng_get_caps_process();
	return capng_have_capability(CAPNG_EFFECTIVE, CAP_SYS_ADMIN);
}

/*
 * Installs the exec filter on ourselves (CMD inherits it).  Without CAP_SYS_ADMIN the kernel
 * insists on no_new_privs, which also stops setuid programs from gaining privileges: set it
 * only when needed and allowed, and say so.
 */
static int install_filter(void)
{
	int r;

	if (arg_nnp == NNP_ALWAYS || (arg_nnp == NNP_AUTO && !have_cap_sys_admin())) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			return log_error_errno(negative_errno(), "cannot set no_new_privs: %m");
		/* Asked for: a note.  Chosen for the user (no CAP_SYS_ADMIN): say it by default. */
		log_at(arg_nnp == NNP_ALWAYS ? LOG_INFO : LOG_WARN, 0,
		       "set no_new_privs to install the exec filter: setuid programs in this container "
		       "will not gain privileges");
	}
	r = notif_install_filter();
	if (r == -EBUSY)
		return log_error_errno(r,
				       "cannot install the exec filter: this container already has a seccomp "
				       "listener in its filter chain (nested under LXD, Sysbox or another ubinfmt?)");
	if (r == -EACCES || r == -EPERM)
		return log_error_errno(r, "cannot install the exec filter without CAP_SYS_ADMIN; allow "
					  "--no-new-privs=auto (setuid programs then stay unprivileged)");
	if (r < 0)
		return log_error_errno(r, "cannot install the exec filter: %m");
	return r;
}

/* ---- init duties ---------------------------------------------------------------------------- */

static void block_signals(sigset_t *ret_orig)
{
	sigset_t set;

	/* Everything but the synchronous faults, which must kill us as usual. */
	sigfillset(&set);
	sigdelset(&set, SIGSEGV);
	sigdelset(&set, SIGBUS);
	sigdelset(&set, SIGFPE);
	sigdelset(&set, SIGILL);
	sigdelset(&set, SIGABRT);
	sigdelset(&set, SIGTRAP);
	sigdelset(&set, SIGSYS);
	sigprocmask(SIG_SETMASK, &set, ret_orig);
}

static pid_t spawn(const sigset_t *orig)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	if (arg_group && setpgid(0, 0) == 0 && isatty(STDIN_FILENO)) {
		/* Our own process group owns the terminal now, like an interactive shell's job. */
		signal(SIGTTOU, SIG_IGN);
		(void)tcsetpgrp(STDIN_FILENO, getpgrp());
		signal(SIGTTOU, SIG_DFL);
	}
	sigprocmask(SIG_SETMASK, orig, NULL);
	execvp(arg_cmd[0], arg_cmd);
	int r = negative_errno();
	log_error_errno(r, "cannot run '%s': %m", arg_cmd[0]);
	_exit(r == -ENOENT ? 127 : 126);
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 125;
}

/* Reaps everything; returns CMD's exit code once CMD is gone, -1 while it lives. */
static int reap(pid_t cmd)
{
	int code = -1;

	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			return code;
		if (pid == cmd)
			code = exit_code(status);
	}
}

static void forward(pid_t cmd, int sig)
{
	pid_t target = arg_group ? -cmd : cmd;

	if (kill(target, sig) < 0 && errno != ESRCH)
		log_warn_errno(negative_errno(), "cannot forward signal %d to %d: %m", sig, (int)target);
}

static int compare_int(const void *a, const void *b)
{
	return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/*
 * Closes every fd from 3 up but keep's (-1 entries ignored; n at most 4).  Once CMD runs, the
 * init needs none of what it was started with: a pipe or socket the runtime passed down would
 * stay open in it for the container's whole life, and whoever reads its other end would never
 * see EOF after CMD and its children close theirs.  CMD has its own copies.
 */
static void close_inherited(const int *keep, size_t n)
{
	int sorted[4], next = 3;
	size_t m = 0;

	for (size_t i = 0; i < n && m < ARRAY_SIZE(sorted); i++)
		if (keep[i] >= 3)
			sorted[m++] = keep[i];
	qsort(sorted, m, sizeof(sorted[0]), compare_int);
	for (size_t i = 0; i < m; i++) {
		if (sorted[i] > next)
			(void)close_range((unsigned)next, (unsigned)sorted[i] - 1, 0);
		next = sorted[i] + 1;
	}
	(void)close_range((unsigned)next, ~0U, 0);
}

/*
 * After set-up nothing here may exit on an error: if PID 1 dies, the container dies.  Errors
 * become warnings; the daemon connection is retried for as long as CMD lives.
 */
_noreturn_ static void supervise(pid_t cmd, int sock, int listener, int journal, const sigset_t *mask)
{
	const int keep[] = { sock, listener, journal };
	char id[PROTO_MAX_ID_LEN + 1] = "";
	int sfd;

	close_inherited(keep, ARRAY_SIZE(keep));
	sfd = signalfd(-1, mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		log_warn_errno(negative_errno(), "no signalfd (%m): signals are not forwarded");
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = sock, .events = POLLIN },
		};
		int r = poll(pfd, 2, sock < 0 && listener >= 0 ? RECONNECT_MS : -1);

		if (r < 0 && errno != EINTR)
			log_warn_errno(negative_errno(), "poll: %m");
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo != SIGCHLD) {
					forward(cmd, (int)si.ssi_signo);
					continue;
				}
				int code = reap(cmd);
				if (code >= 0)
					_exit(code);
			}
		}
		if (sock >= 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			/* The daemon never talks to us unprompted: anything here means it went away. */
			uint8_t buf[PROTO_MAX_MSG];
			int fds[PROTO_MAX_FDS];
			size_t n_fds = 0;
			int n = proto_recv(sock, buf, sizeof(buf), fds, PROTO_MAX_FDS, &n_fds);
			proto_close_fds(fds, n_fds);
			if (n <= 0 && n != -EAGAIN) {
				log_warn("ubinfmtd went away; execs wait until it is back");
				close(sock);
				sock = -1;
			}
		}
		if (sock < 0 && listener >= 0) {
			sock = connect_daemon();
			if (sock >= 0) {
				r = hand_over(sock, listener, journal, true, id, sizeof(id));
				if (r < 0) {
					log_debug_errno(r, "re-attaching to ubinfmtd failed: %m");
					close(sock);
					sock = -1;
				} else {
					log_info("re-attached to ubinfmtd as sandbox '%s'", id);
				}
			}
		}
	}
}

/* Runs CMD with no filter at all (--fallback=native). */
_noreturn_ static void run_native(const sigset_t *orig, const sigset_t *mask)
{
	pid_t cmd = spawn(orig);

	if (cmd < 0) {
		log_error_errno(negative_errno(), "cannot fork: %m");
		_exit(125);
	}
	supervise(cmd, -1, -1, -1, mask);
}

enum {
	OPT_SOCKET = 0x100,
	OPT_ID,
	OPT_TRACE,
	OPT_OPTION,
	OPT_NNP,
	OPT_FALLBACK
};

/* clang-format off */
static const struct cliopt options[] = {
	{ NULL, 's', no_argument, "  -s                     register as child subreaper when not PID 1\n" },
	{ NULL, 'g', no_argument, "  -g                     forward signals to CMD's process group, not only CMD\n" },
	{ NULL, 'v', no_argument,
	  "  -v                     more log output (repeat for debug, trace; UBINFMT_LOG=LEVEL\n"
	  "                         sets it too)\n" },
	{ "socket", OPT_SOCKET, required_argument,
	  "  --socket PATH          ubinfmtd's agent socket (default " UBINFMT_AGENT_SOCKET ")\n" },
	{ "id", OPT_ID, required_argument,
	  "  --id ID                the sandbox's name in 'ubinfmt status' (default: chosen by ubinfmtd)\n" },
	{ "trace", OPT_TRACE, no_argument, "  --trace                ask ubinfmtd to trace this sandbox's execs\n" },
	{ "option", OPT_OPTION, required_argument,
	  "  --option KEY=VALUE     a sandbox option for ubinfmtd (repeatable): emulators=all|none|\n"
	  "                         ARCH[,ARCH]… (the ones it may emulate), trace=true|false|json\n" },
	{ "no-new-privs", OPT_NNP, required_argument,
	  "  --no-new-privs=auto|always|never\n"
	  "                         set no_new_privs to install the filter without CAP_SYS_ADMIN\n"
	  "                         (auto: only when needed; it disables setuid programs)\n" },
	{ "fallback", OPT_FALLBACK, required_argument,
	  "  --fallback=fail|native without ubinfmtd or a filter: fail (exit 125), or run CMD\n"
	  "                         without emulation\n" },
	{ "help", 'h', no_argument, NULL },
};
/* clang-format on */

/*
 * --option KEY=VALUE: only its form is checked here, and that it fits a HELLO; ubinfmtd, which
 * knows the keys its version serves, reads it and says what it refuses.
 */
static int add_option(const char *arg)
{
	size_t total = 0;

	if (arg[0] == '=' || !strchr(arg, '=') || strlen(arg) > PROTO_MAX_OPTION_LEN)
		return log_error_errno(-EINVAL, "--option '%s': expected KEY=VALUE of at most %d bytes", arg,
				       PROTO_MAX_OPTION_LEN);
	if (arg_n_options == PROTO_MAX_OPTIONS)
		return log_error_errno(-E2BIG, "--option: at most %d", PROTO_MAX_OPTIONS);
	for (size_t i = 0; i < arg_n_options; i++)
		total += strlen(arg_options[i]) + 3;
	if (total + strlen(arg) + 3 > PROTO_MAX_MSG / 2)
		return log_error_errno(-E2BIG, "--option: the options take more than %d bytes", PROTO_MAX_MSG / 2);
	arg_options[arg_n_options++] = arg;
	return 0;
}

static int handle_option(int key, const char *arg, void *ctx)
{
	(void)ctx;
	switch (key) {
	case 's':
		arg_subreaper = true;
		return 0;
	case 'g':
		arg_group = true;
		return 0;
	case OPT_SOCKET:
		arg_socket = arg;
		return 0;
	case OPT_ID:
		if (!proto_id_valid(arg))
			return log_error_errno(-EINVAL, "--id '%s': use 1 to %d characters of A-Z a-z 0-9 . _ -", arg,
					       PROTO_MAX_ID_LEN);
		arg_id = arg;
		return 0;
	case OPT_TRACE:
		arg_trace = true;
		return 0;
	case OPT_OPTION:
		return add_option(arg);
	case OPT_NNP:
		if (strcmp(arg, "auto") == 0)
			arg_nnp = NNP_AUTO;
		else if (strcmp(arg, "always") == 0)
			arg_nnp = NNP_ALWAYS;
		else if (strcmp(arg, "never") == 0)
			arg_nnp = NNP_NEVER;
		else
			return log_error_errno(-EINVAL, "--no-new-privs='%s': expected auto, always or never", arg);
		return 0;
	case OPT_FALLBACK:
		if (strcmp(arg, "fail") == 0)
			arg_fallback = FALLBACK_FAIL;
		else if (strcmp(arg, "native") == 0)
			arg_fallback = FALLBACK_NATIVE;
		else
			return log_error_errno(-EINVAL, "--fallback='%s': expected fail or native", arg);
		return 0;
	default:
		return -EINVAL;
	}
}

static const struct cliopt_spec cli = {
	.head = "Usage: ubinfmt-init [OPTION…] -- CMD [ARG…]\n"
		"\n"
		"Runs CMD as a container's init (like tini): reaps zombies, forwards signals, exits with\n"
		"CMD's status; and lets ubinfmtd run CMD's foreign-architecture programs through qemu-user.\n"
		"\n",
	.in_order = true,
	.options = options,
	.n_options = ARRAY_SIZE(options),
	.handle = handle_option,
};

static int parse_args(int argc, char **argv)
{
	int r = cliopt_parse(&cli, argc, argv, NULL);

	if (r == 0)
		exit(0);
	if (r < 0)
		return r;
	if (r >= argc) {
		cliopt_usage(&cli, stderr);
		return -EINVAL;
	}
	arg_cmd = argv + r;
	return 0;
}

static int first_connect(void)
{
	int r = -ENOENT;

	for (int i = 0; i < FIRST_CONNECT_TRIES; i++) {
		r = connect_daemon();
		if (r >= 0 || (r != -ENOENT && r != -ECONNREFUSED))
			return r;
		usleep(RECONNECT_MS * 1000 / 1);
	}
	return r;
}

int main(int argc, char **argv)
{
	_cleanup_close_ int sock = -1, listener = -1, journal = -1;
	char id[PROTO_MAX_ID_LEN + 1] = "";
	sigset_t orig, mask;
	pid_t cmd;
	int r;

	log_setup("ubinfmt-init");
	if (parse_args(argc, argv) < 0)
		return 2;
	block_signals(&orig);
	sigprocmask(SIG_SETMASK, NULL, &mask);

	if (getpid() != 1) {
		if (arg_subreaper) {
			if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
				log_warn_errno(negative_errno(), "cannot become a child subreaper: %m");
		} else {
			log_info("not PID 1 and no -s: zombies re-parented above us will not be reaped here");
		}
	}

	/* The daemon first: without it a filter would only make every exec fail. */
	sock = first_connect();
	if (sock < 0) {
		log_error_errno(sock, "cannot reach ubinfmtd at '%s': %m%s", arg_socket,
				arg_fallback == FALLBACK_NATIVE ? "; running without emulation (--fallback=native)"
								: "; start it, or pass --fallback=native");
		if (arg_fallback == FALLBACK_NATIVE)
			run_native(&orig, &mask);
		return 125;
	}
	listener = install_filter();
	if (listener < 0) {
		if (arg_fallback == FALLBACK_NATIVE) {
			log_warn("running without emulation (--fallback=native)");
			close(TAKE_FD(sock));
			run_native(&orig, &mask);
		}
		return 125;
	}
	journal = journal_create();
	if (journal < 0)
		log_warn_errno(journal, "no in-flight journal (%m): a daemon restart may lose execs in flight");
	r = hand_over(sock, listener, journal, false, id, sizeof(id));
	if (r < 0) {
		log_error_errno(r, "ubinfmtd at '%s' refused the sandbox: %s", arg_socket,
				daemon_said[0] ? daemon_said : strerror(-r));
		return 125;
	}
	log_debug("sandbox '%s' handed to ubinfmtd", id);

	cmd = spawn(&orig);
	if (cmd < 0)
		return log_error_errno(negative_errno(), "cannot fork: %m"), 125;
	supervise(cmd, TAKE_FD(sock), TAKE_FD(listener), TAKE_FD(journal), &mask);
}
