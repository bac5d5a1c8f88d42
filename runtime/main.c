/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ubinfmt-runtime: an OCI runtime with runc's command line that makes any container one that
 * ubinfmtd serves.  On `create` and `run` it rewrites the bundle's config.json so that execve and
 * execveat go to ubinfmtd's OCI socket (linux.seccomp.listenerPath), then execs the real
 * runtime (runc or crun) with the very same argv; every other command goes straight through.
 * Engines adopt it with one line: dockerd --add-runtime, podman --runtime, a containerd
 * runtime handler's BinaryName, or as "runc" first on PATH.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "bundle.h"
#include "conf.h"
#include "detect.h"
#include "io.h"
#include "log.h"
#include "logfmt.h"
#include "macros.h"
#include "paths.h"
#include "profile.h"
#include "real.h"

#define PROGRAM "ubinfmt-runtime"
#define MSG_MAX 2048

static const char usage[] =
	"Usage: " PROGRAM " [RUNTIME-OPTION…] COMMAND [OPTION…] [ID]\n"
	"\n"
	"An OCI runtime with runc's command line that lets ubinfmtd run a container's\n"
	"foreign-architecture programs through qemu-user, with no seccomp profile to write and no\n"
	"binfmt_misc.  On 'create' and 'run' it edits the bundle's config.json: execve and execveat\n"
	"go to ubinfmtd (linux.seccomp.listenerPath = its OCI socket), everything else in the\n"
	"seccomp profile stays as the engine wrote it.  Then it runs the real runtime (runc or crun)\n"
	"with the very same arguments.  Every other command (start, state, kill, delete, exec,\n"
	"features, --version…) goes straight to the real runtime.\n"
	"\n"
	"Configuration: " RT_CONF_PATH " (or the file named by UBINFMT_RUNTIME_CONFIG), lines of\n"
	"'key = value', '#' comments:\n"
	"  runtime = runc                    the real runtime: a path, or a name looked up on PATH\n"
	"                                    (never this program, even when installed as runc)\n"
	"  socket = " UBINFMT_OCI_SOCKET "     ubinfmtd's OCI socket\n"
	"  mode = always|auto|never          auto: only when the image's entrypoint or /bin/sh is a\n"
	"                                    foreign program, or annotation io.ubinfmt.enable=true\n"
	"  fallback = fail|native            when ubinfmtd's socket is not there: fail with a message,\n"
	"                                    or run the container without emulation\n"
	"  metadata = KEY=VALUE;…            listenerMetadata for profiles that have none\n"
	"\n"
	"Environment: UBINFMT_RUNTIME_REAL, UBINFMT_OCI_SOCKET, UBINFMT_RUNTIME_MODE and\n"
	"UBINFMT_RUNTIME_FALLBACK override the file; UBINFMT_LOG=error|warn|info|debug sets the log\n"
	"level (messages go to stderr and to the runtime's --log file).\n"
	"\n"
	"Annotations: io.ubinfmt.enable=false leaves one container alone (true turns it on in mode\n"
	"auto); io.ubinfmt.runtime=rewritten marks a bundle already edited.\n"
	"\n"
	"Examples:\n"
	"  dockerd --add-runtime ubinfmt=/usr/bin/" PROGRAM "\n"
	"  podman --runtime /usr/bin/" PROGRAM " run …\n"
	"  ctr run --runc-binary /usr/bin/" PROGRAM " …\n"
	"  PATH=/usr/libexec/ubinfmt:$PATH dockerd     (BuildKit looks runc up on PATH)\n"
	"\n"
	"The real runtime's own options and commands: runc --help.\n";

/* What main learned from the command line, for the messages. */
static struct rt_argv arg_cmdline;
static const char *arg_conf_path = RT_CONF_PATH;
static bool arg_conf_explicit; /* named by UBINFMT_RUNTIME_CONFIG: it must exist */

/* ---- messages ------------------------------------------------------------------------------- */

/*
 * Appends one line to the runtime's --log file, in its --log-format: engines show the user the
 * last error line of that file.  crun also takes "journald:…" and "syslog:…", which we leave
 * to it.
 */
static void append_runtime_log(const char *level, const char *msg)
{
	const struct rt_argv *a = &arg_cmdline;
	char line[MSG_MAX + 256], full[MSG_MAX + 32];
	const char *path = a->log;
	_cleanup_close_ int fd = -1;
	int n;

	if (!path || strncmp(path, "journald:", 9) == 0 || strncmp(path, "syslog:", 7) == 0)
		return;
	if (strncmp(path, "file:", 5) == 0)
		path += 5;
	snprintf(full, sizeof(full), PROGRAM ": %s", msg);
	n = rt_logfmt(line, sizeof(line), a->log_format, level, full, time(NULL));
	if (n < 0)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0 || write(fd, line, (size_t)n) != n)
		log_debug("cannot write to the runtime's log '%s': %m", path);
}

/* One line on stderr and in the runtime's log: what happened, and what to do about it. */
_printf_(2, 3) static void report(enum log_level level, const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (level <= log_get_level())
		log_emit(level, 0, "%s", msg);
	if (level <= LOG_WARN)
		append_runtime_log(level == LOG_ERROR ? "error" : "warning", msg);
}

/* ---- configuration -------------------------------------------------------------------------- */

static int read_text(const char *path, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	buf = malloc(RT_CONF_MAX + 2);
	if (!buf)
		return -ENOMEM;
	n = read_full(fd, buf, RT_CONF_MAX + 1);
	if (n < 0)
		return (int)n;
	len = (size_t)n;
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

/* The file (when there is one), then the environment.  Reports and fails on any error. */
static int load_conf(struct rt_conf *c)
{
	char reason[RT_REASON_MAX];
	_cleanup_free_ char *text = NULL;
	const char *s;
	size_t len = 0;
	int r;

	r = rt_conf_init(c);
	if (r < 0)
		return r;
	s = getenv("UBINFMT_RUNTIME_CONFIG");
	if (s && *s) {
		arg_conf_path = s;
		arg_conf_explicit = true;
	}
	r = read_text(arg_conf_path, &text, &len);
	if (r == -ENOENT && !arg_conf_explicit)
		r = 0; /* no file: the defaults */
	else if (r < 0) {
		report(LOG_ERROR, "cannot read the configuration %s (%s): fix or remove it", arg_conf_path,
		       strerror(-r));
		return r;
	} else {
		r = rt_conf_parse(c, arg_conf_path, text, len, reason, sizeof(reason));
		if (r < 0) {
			report(LOG_ERROR, "bad configuration: %s", reason);
			return r;
		}
	}
	for (int i = 0; rt_conf_env_names[i]; i++) {
		r = rt_conf_env(c, rt_conf_env_names[i], getenv(rt_conf_env_names[i]), reason, sizeof(reason));
		if (r < 0) {
			report(LOG_ERROR, "bad environment: %s", reason);
			return r;
		}
	}
	return 0;
}

/* ---- the real runtime ----------------------------------------------------------------------- */

/*
 * The real runtime's path.  The identities to skip are ours and those of the copies that
 * exec'd us (RT_VISITED_ENV), which is then updated for whoever we exec next.
 */
static int find_real(const struct rt_conf *c, char **ret)
{
	struct rt_identity skip[RT_VISITED_MAX + 1], self;
	char visited[RT_VISITED_LEN];
	size_t n;
	int r;

	r = rt_self_identity(&self);
	if (r < 0) {
		report(LOG_ERROR,
		       "cannot tell which file is this program (/proc/self/exe: %s), so cannot look "
		       "for the real runtime safely: is /proc mounted?",
		       strerror(-r));
		return r;
	}
	n = rt_identity_parse(getenv(RT_VISITED_ENV), skip, RT_VISITED_MAX);
	rt_identity_format(visited, sizeof(visited), skip, n, self);
	skip[n++] = self;

	r = rt_real_find(c->runtime, getenv("PATH"), skip, n, ret);
	if (r == -ELOOP) {
		report(LOG_ERROR,
		       "the real runtime '%s' %s is " PROGRAM " itself: install runc (or crun) and name it "
		       "in 'runtime = PATH' of %s or in UBINFMT_RUNTIME_REAL",
		       c->runtime, strchr(c->runtime, '/') ? "" : "found on PATH", arg_conf_path);
		return r;
	}
	if (r < 0) {
		report(LOG_ERROR,
		       "the real runtime '%s' is %s: install runc (or crun), or name it in 'runtime = PATH' "
		       "of %s or in UBINFMT_RUNTIME_REAL",
		       c->runtime, strchr(c->runtime, '/') ? "not an executable file" : "not on PATH", arg_conf_path);
		return r;
	}
	if (setenv(RT_VISITED_ENV, visited, 1) < 0)
		return negative_errno();
	return 0;
}

/* ---- create and run ------------------------------------------------------------------------- */

static const char *bundle_name(void)
{
	return arg_cmdline.bundle ? arg_cmdline.bundle : ".";
}

/*
 * Whether someone listens on the socket: a non-blocking connect, closed at once (the daemon
 * takes a connection that sends nothing for a runtime that gave up, and says so at debug level).
 * A full backlog (EAGAIN) is a daemon that is there.
 */
static int probe_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return negative_errno();
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EAGAIN && errno != EINPROGRESS)
		return negative_errno();
	return 0;
}

/* 1: ubinfmtd's socket is there; 0: not, and the container may run without it; -errno: fail. */
static int check_socket(const struct rt_conf *c, bool may_fall_back)
{
	struct stat st;
	const char *what;

	if (stat(c->socket, &st) == 0) {
		int r = S_ISSOCK(st.st_mode) ? probe_socket(c->socket) : -ENOTSOCK;
		if (r == 0)
			return 1;
		/* A daemon killed by SIGKILL leaves its socket behind: runc would say only "connection refused". */
		what = r == -ENOTSOCK	    ? "is not a socket"
		       : r == -ECONNREFUSED ? "has nobody listening on it (ubinfmtd was stopped without removing it)"
					    : "does not answer";
	} else {
		/* Words the engines do not rewrite: podman turns "no such file or directory" into
		 * "OCI runtime attempted to invoke a command that was not found". */
		what = errno == ENOENT || errno == ENOTDIR ? "is missing"
		       : errno == EACCES		   ? "is out of this user's reach"
							   : "cannot be checked";
	}
	if (may_fall_back && c->fallback == RT_FALLBACK_NATIVE) {
		report(LOG_WARN,
		       "ubinfmtd is not running (its socket %s %s): the container runs without "
		       "emulation (fallback = native), foreign programs in it will fail with 'exec format error'",
		       c->socket, what);
		return 0;
	}
	report(LOG_ERROR,
	       "ubinfmtd is not running: its socket %s %s. Start it (systemctl start ubinfmtd.socket, "
	       "or run ubinfmtd), or set 'fallback = native' in %s to run containers without emulation",
	       c->socket, what, arg_conf_path);
	return -ENXIO;
}

/*
 * Whether this container gets ubinfmtd: 1 yes, 0 no (it runs as it is), -errno on a bad
 * annotation.  Mode auto looks at the image; what it cannot look at gets ubinfmtd: an
 * emulation nobody needed costs one round trip per exec, a missing one breaks the container.
 */
static int wanted(const struct rt_conf *c, struct rt_bundle *b)
{
	const char *enable = rt_annotation(b->config, RT_ANNOTATION_ENABLE);
	struct rt_detect d;
	int r;

	if (enable && strcmp(enable, "true") != 0 && strcmp(enable, "false") != 0) {
		char q[64];
		log_escape(q, sizeof(q), enable);
		report(LOG_ERROR, "annotation " RT_ANNOTATION_ENABLE "='%s' is neither true nor false", q);
		return -EINVAL;
	}
	if (enable && strcmp(enable, "false") == 0) {
		log_debug("annotation " RT_ANNOTATION_ENABLE "=false: the container runs as it is");
		return 0;
	}
	if (c->mode == RT_MODE_ALWAYS || enable)
		return 1;

	r = rt_detect_foreign(b->dir_fd, b->config, rt_host_arch(), &d);
	if (r < 0) {
		log_debug_errno(r, "mode auto: cannot look at the container's root (%m): it gets ubinfmtd");
		return 1;
	}
	log_debug("mode auto: %s: %s", d.what[0] ? d.what : "no entrypoint or /bin/sh found",
		  d.foreign ? "foreign, it gets ubinfmtd" : "nothing foreign, it runs as it is");
	return d.foreign ? 1 : 0;
}

/* The rewrite itself; the bundle is already read. */
static int merge(const struct rt_conf *c, struct rt_bundle *b)
{
	const struct rt_profile_params p = { .socket = c->socket, .metadata = c->metadata };
	struct rt_profile_report rep;
	enum rt_profile_result res;
	char reason[RT_REASON_MAX];
	int r;

	r = rt_profile_merge(b->config, &p, &res, &rep, reason, sizeof(reason));
	if (r < 0) {
		report(LOG_ERROR, "cannot give this container to ubinfmtd: %s", reason);
		return r;
	}
	if (res == RT_PROFILE_DENIED) {
		report(LOG_WARN, "the container's seccomp profile forbids both execve and execveat: nothing for "
				 "ubinfmtd to serve, the profile is left as it is");
		return 0;
	}
	if (res == RT_PROFILE_ALREADY)
		return 0;
	if (rep.conditional > 0)
		report(LOG_WARN,
		       "the seccomp profile's %u conditional rule(s) for execve/execveat (first: %s) "
		       "were replaced by ubinfmt's unconditional notify rule",
		       rep.conditional, rep.first_conditional);
	for (int x = 0; x < 2; x++)
		if (rep.denied[x])
			log_info("the seccomp profile forbids %s: it stays forbidden", x ? "execveat" : "execve");

	r = rt_bundle_write(b);
	if (r < 0) {
		report(LOG_ERROR, "cannot rewrite %s/%s: %s", bundle_name(), b->config_name, strerror(-r));
		return r;
	}
	log_debug("%s/%s: execve/execveat go to %s%s", bundle_name(), b->config_name, c->socket,
		  rep.created ? " (new seccomp section)" : "");
	return 0;
}

/* create and run: decides, checks the socket, rewrites.  0 when the real runtime may go on. */
static int prepare(const struct rt_conf *c)
{
	_cleanup_(rt_bundle_close) struct rt_bundle b = { .dir_fd = -1, .config_dir_fd = -1 };
	char reason[RT_REASON_MAX];
	const char *done;
	int r;

	if (c->mode == RT_MODE_NEVER)
		return 0;
	r = rt_bundle_open(arg_cmdline.bundle, arg_cmdline.config, &b, reason, sizeof(reason));
	if (r < 0) {
		report(LOG_ERROR, "bundle %s: %s (%s)", bundle_name(), reason,
		       r == -EPROTO ? "malformed JSON" : strerror(-r));
		return r;
	}
	r = wanted(c, &b);
	if (r <= 0)
		return r;

	/* Edited before (podman restarting a container): it needs ubinfmtd, fallback or not. */
	done = rt_annotation(b.config, RT_ANNOTATION_REWRITTEN);
	if (done && strcmp(done, RT_ANNOTATION_REWRITTEN_VALUE) == 0) {
		r = check_socket(c, false);
		return r < 0 ? r : 0;
	}
	r = check_socket(c, true);
	if (r <= 0)
		return r;
	return merge(c, &b);
}

/* ---- main ------------------------------------------------------------------------------------ */

static bool own_name(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	return strcmp(slash ? slash + 1 : argv0, PROGRAM) == 0;
}

int main(int argc, char *argv[])
{
	_cleanup_(rt_conf_free) struct rt_conf conf = { 0 };
	_cleanup_free_ char *real = NULL;
	int r;

	log_setup(PROGRAM);
	if (argc < 1 || !argv[0])
		return 1;
	rt_argv_scan(argc, argv, &arg_cmdline);

	/* Our own help under our own name; as "runc", even --help is the real runtime's. */
	if (argc == 2 && own_name(argv[0]) && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return 0;
	}

	r = load_conf(&conf);
	if (r < 0)
		return 1;
	r = find_real(&conf, &real);
	if (r < 0)
		return 1;
	if (arg_cmdline.command == RT_CMD_CREATE || arg_cmdline.command == RT_CMD_RUN) {
		r = prepare(&conf);
		if (r < 0)
			return 1;
	}
	rt_conf_free(&conf);

	/* The very same argv, argv[0] naming the real runtime (runc reads nothing else from it). */
	argv[0] = real;
	execv(real, argv);
	report(LOG_ERROR, "cannot run the real runtime %s: %s", real, strerror(errno));
	return 1;
}
