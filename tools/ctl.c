/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ubinfmt status, trace and attach: talking to a running ubinfmtd over its control socket. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "cliopt.h"
#include "fdpass.h"
#include "json_escape.h"
#include "log.h"
#include "macros.h"
#include "parse.h"
#include "paths.h"
#include "proto.h"

/* Receives and decodes one message into m (whose strings point into buf). */
static int recv_msg(int sock, uint8_t *buf, size_t size, struct proto_msg *m)
{
	int fds[PROTO_MAX_FDS];
	size_t n_fds = 0;
	int n = proto_recv(sock, buf, size, fds, PROTO_MAX_FDS, &n_fds);
	int r;

	/* A refusal closes the connection: its reason may wait behind the reset. */
	if (n == -ECONNRESET)
		n = proto_recv(sock, buf, size, fds, PROTO_MAX_FDS, &n_fds);
	proto_close_fds(fds, n_fds);
	if (n < 0)
		return n;
	if (n == 0)
		return -ECONNRESET;
	r = proto_decode(buf, (size_t)n, m);
	if (r < 0) {
		char why[256];
		log_error("ubinfmtd answered something this ubinfmt cannot read: %s",
			  proto_strerror(r, buf, (size_t)n, why, sizeof(why)));
		return r;
	}
	if (m->type == PROTO_MSG_ERROR) {
		log_error("ubinfmtd: %s", m->error.message);
		return m->error.error < 0 ? m->error.error : -EPROTO;
	}
	return 0;
}

/* Connects to the control socket and says hello; a clear message when no daemon runs. */
static int connect_control(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	struct proto_msg m = { .type = PROTO_MSG_HELLO };
	uint8_t buf[PROTO_MAX_MSG];
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return log_error_errno(-ENAMETOOLONG, "--control '%s': path too long", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return log_error_errno(negative_errno(), "socket: %m");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return log_error_errno(negative_errno(),
				       "cannot reach ubinfmtd at '%s': %m (is it running? "
				       "start it with 'ubinfmtd' or 'systemctl start ubinfmtd')",
				       path);
	m.hello.role = PROTO_ROLE_CLI;
	m.hello.pid = (uint32_t)getpid();
	m.hello.id = "";
	r = proto_send_msg(fd, &m, NULL, 0);
	if (r < 0)
		return log_error_errno(r, "talking to ubinfmtd: %m");
	r = recv_msg(fd, buf, sizeof(buf), &m);
	if (r < 0)
		return r;
	if (m.type != PROTO_MSG_HELLO_ACK)
		return log_error_errno(-EPROTO, "ubinfmtd did not greet back");
	return TAKE_FD(fd);
}

/* The options of status, trace and attach: each command takes the ones its table lists. */
struct ctl_args {
	const char *control;
	const char *id; /* trace --sandbox */
	bool json;
};

enum {
	OPT_CONTROL = 0x100,
	OPT_JSON,
	OPT_SANDBOX
};

static const struct cliopt opt_control = { "control", OPT_CONTROL, required_argument, NULL };
static const struct cliopt opt_json = { "json", OPT_JSON, no_argument, NULL };
static const struct cliopt opt_sandbox = { "sandbox", OPT_SANDBOX, required_argument, NULL };
static const struct cliopt opt_help = { "help", 'h', no_argument, NULL };

static int handle_ctl_option(int key, const char *arg, void *ctx)
{
	struct ctl_args *a = ctx;

	switch (key) {
	case OPT_CONTROL:
		a->control = arg;
		return 0;
	case OPT_JSON:
		a->json = true;
		return 0;
	case OPT_SANDBOX:
		a->id = arg;
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * Parses a command's options (usage: its --help, which lists them in its synopsis) into a.
 * The index of the first operand, 0 after --help, -EINVAL after a usage error (said on stderr).
 */
static int parse_ctl_args(const char *usage, const struct cliopt *options, size_t n_options, int argc, char **argv,
			  struct ctl_args *a)
{
	const struct cliopt_spec spec = {
		.head = usage,
		.options = options,
		.n_options = n_options,
		.handle = handle_ctl_option,
	};

	*a = (struct ctl_args){ .control = UBINFMT_CONTROL_SOCKET, .id = "" };
	return cliopt_parse(&spec, argc, argv, a);
}

static const char status_usage[] = "Usage: ubinfmt status [--json] [--control PATH]\n"
				   "Lists the sandboxes a running ubinfmtd serves, with exec counts and the\n"
				   "supervisor's handling latency (p50/p99).\n";

/* One sandbox of a STATUS answer: a table row, or a JSON object (first: no comma before it). */
static void print_status_entry(const struct proto_status_entry *e, bool json, bool first)
{
	/* The supervisor's own CPU per exec: native (and kernel-answered) vs foreign ones. */
	uint64_t n_native = e->native + e->kernel, n_foreign = e->emulated + e->failed;
	double cpu_n = n_native ? (double)e->native_cpu_ns / (double)n_native / 1000.0 : 0;
	double cpu_f = n_foreign ? (double)e->foreign_cpu_ns / (double)n_foreign / 1000.0 : 0;

	if (!json) {
		/* The same id may be two sandboxes: each agent's ids are its own uid's. */
		char owner[32];
		if (e->origin == PROTO_ORIGIN_AGENT)
			snprintf(owner, sizeof(owner), "agent:%" PRIu32, e->owner_uid);
		else
			snprintf(owner, sizeof(owner), "%s", proto_origin_name(e->origin));
		printf("%-32s %8" PRIu32 " %4" PRIu32 " %10" PRIu64 " %10" PRIu64 " %8" PRIu64 " %8" PRIu64
		       " %9.1f %9.1f %9.1f %9.1f %6" PRIu64 " %s\n",
		       e->id, e->init_pid, e->listeners, e->native, e->emulated, e->failed, e->kernel,
		       (double)e->p50_ns / 1000.0, (double)e->p99_ns / 1000.0, cpu_n, cpu_f, e->abandoned, owner);
		return;
	}
	printf("%s{\"id\":", first ? "" : ",");
	json_print_string(stdout, e->id);
	printf(",\"init_pid\":%" PRIu32 ",\"listeners\":%" PRIu32 ",\"native\":%" PRIu64 ",\"emulated\":%" PRIu64
	       ",\"failed\":%" PRIu64 ",\"kernel\":%" PRIu64
	       ",\"p50_us\":%.1f,\"p99_us\":%.1f,\"native_cpu_us\":%.2f,\"foreign_cpu_us\":%.2f"
	       ",\"abandoned\":%" PRIu64 ",\"origin\":\"%s\",\"owner_uid\":%" PRIu32 "}",
	       e->init_pid, e->listeners, e->native, e->emulated, e->failed, e->kernel, (double)e->p50_ns / 1000.0,
	       (double)e->p99_ns / 1000.0, cpu_n, cpu_f, e->abandoned, proto_origin_name(e->origin), e->owner_uid);
}

int cmd_status(int argc, char **argv)
{
	const struct cliopt options[] = { opt_json, opt_control, opt_help };
	_cleanup_close_ int fd = -1;
	struct ctl_args a;
	bool first = true;
	struct proto_msg m = { .type = PROTO_MSG_STATUS_REQ };
	static uint8_t buf[PROTO_MAX_MSG];
	int r;

	r = parse_ctl_args(status_usage, options, ARRAY_SIZE(options), argc, argv, &a);
	if (r <= 0)
		return r < 0 ? 2 : 0;
	fd = connect_control(a.control);
	if (fd < 0)
		return 1;
	r = proto_send_msg(fd, &m, NULL, 0);
	if (r < 0)
		return log_error_errno(r, "talking to ubinfmtd: %m"), 1;
	if (a.json)
		printf("[");
	else
		printf("%-32s %8s %4s %10s %10s %8s %8s %9s %9s %9s %9s %6s %s\n", "SANDBOX", "PID", "LSN", "NATIVE",
		       "EMULATED", "FAILED", "KERNEL", "P50(us)", "P99(us)", "CPU/N(us)", "CPU/F(us)", "STUCK",
		       "OWNER");
	do {
		r = recv_msg(fd, buf, sizeof(buf), &m);
		if (r < 0)
			return 1;
		if (m.type != PROTO_MSG_STATUS) {
			log_error("ubinfmtd answered %s to a status request", proto_type_name(m.type));
			return 1;
		}
		for (size_t i = 0; i < m.status.n; i++) {
			print_status_entry(&m.status.sandboxes[i], a.json, first);
			first = false;
		}
	} while (m.status.more);
	if (a.json)
		printf("]\n");
	return 0;
}

static const char trace_usage[] = "Usage: ubinfmt trace [--sandbox ID] [--json] [--control PATH]\n"
				  "Streams one line per exec from a running ubinfmtd until interrupted.\n";

int cmd_trace(int argc, char **argv)
{
	const struct cliopt options[] = { opt_sandbox, opt_json, opt_control, opt_help };
	_cleanup_close_ int fd = -1;
	struct proto_msg m = { .type = PROTO_MSG_TRACE_SUB };
	static uint8_t buf[PROTO_MAX_MSG];
	struct ctl_args a;
	const char *id, *control;
	bool json;
	int r;

	r = parse_ctl_args(trace_usage, options, ARRAY_SIZE(options), argc, argv, &a);
	if (r <= 0)
		return r < 0 ? 2 : 0;
	id = a.id;
	control = a.control;
	json = a.json;
	if (id[0] && !proto_id_valid(id)) {
		log_error("--sandbox '%s' is not a sandbox id", id);
		return 2;
	}
	fd = connect_control(control);
	if (fd < 0)
		return 1;
	m.trace_sub.id = id;
	m.trace_sub.json = json;
	r = proto_send_msg(fd, &m, NULL, 0);
	if (r >= 0) {
		/*
		 * The subscription has no answer of its own, but the daemon reads one connection's
		 * messages in order: once a STATS request sent after it is answered, every exec
		 * decided from then on is in the stream.  Saying so on stderr lets a script start
		 * the programs it wants to see only then.
		 */
		struct proto_msg stats = { .type = PROTO_MSG_STATS };
		r = proto_send_msg(fd, &stats, NULL, 0);
	}
	if (r < 0)
		return log_error_errno(r, "talking to ubinfmtd: %m"), 1;
	/* Lines as they come: stdout is line-buffered so a pipe reader sees each at once. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		r = recv_msg(fd, buf, sizeof(buf), &m);
		if (r == -ECONNRESET) {
			log_info("ubinfmtd went away");
			return 0;
		}
		if (r < 0)
			return 1;
		if (m.type == PROTO_MSG_STATS)
			fprintf(stderr, "ubinfmt: tracing %s%s%s of ubinfmtd at %s; Ctrl-C stops\n",
				id[0] ? "sandbox '" : "every sandbox", id, id[0] ? "'" : "", control);
		if (m.type != PROTO_MSG_TRACE_LINE)
			continue;
		if (json || !m.trace_line.id[0])
			printf("%s\n", m.trace_line.line);
		else
			printf("[%s] %s\n", m.trace_line.id, m.trace_line.line);
	}
}

static const char attach_usage[] = "Usage: ubinfmt attach [--control PATH] PID\n"
				   "Makes a running ubinfmtd take over the sandbox whose ubinfmt-init is PID.\n";

int cmd_attach(int argc, char **argv)
{
	const struct cliopt options[] = { opt_control, opt_help };
	_cleanup_close_ int fd = -1;
	struct proto_msg m = { .type = PROTO_MSG_ATTACH };
	static uint8_t buf[PROTO_MAX_MSG];
	struct ctl_args a;
	int r, pid;

	r = parse_ctl_args(attach_usage, options, ARRAY_SIZE(options), argc, argv, &a);
	if (r <= 0)
		return r < 0 ? 2 : 0;
	if (r != argc - 1 || parse_int(argv[r], 1, INT32_MAX, &pid) < 0)
		return fputs(attach_usage, stderr), 2;
	fd = connect_control(a.control);
	if (fd < 0)
		return 1;
	m.attach.pid = (uint32_t)pid;
	r = proto_send_msg(fd, &m, NULL, 0);
	if (r < 0)
		return log_error_errno(r, "talking to ubinfmtd: %m"), 1;
	r = recv_msg(fd, buf, sizeof(buf), &m);
	if (r < 0)
		return 1;
	printf("attached: sandbox '%s'\n", m.hello_ack.id);
	return 0;
}
