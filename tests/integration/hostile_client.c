/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostile_client: a tenant of ubinfmtd that does what a hostile one would, built from proto/ so
 * that it speaks the real protocol (t_hostile_daemon.sh).  Static, so that it runs inside a
 * container's busybox rootfs too.  Every mode prints "key value" lines on stdout.
 *
 *   hostile_client hello SOCK ROLE [ID [FLAG…]]    one HELLO (ROLE agent|cli; FLAG reattach|trace)
 *   hostile_client ask SOCK ROLE REQUEST [ARG]      HELLO, then attach PID | status | stats | trace
 *   hostile_client flood SOCK N [--ids FROM]        N connections, each HELLO (ids agent-FROM…) and close
 *   hostile_client hold SOCK N SECONDS              N connections at once, silent, held SECONDS
 *   hostile_client sandbox SOCK ID [--reattach] [--trace] [--count N] [--run PATH] [--journal-of PID]
 *                                                   real sandboxes: a child with an exec filter each,
 *                                                   its listener handed over; held until SIGTERM
 *   hostile_client victim SECONDS                   a child blocked in execve under a filter of ours;
 *                                                   prints its tid, then every notification it gets
 *   hostile_client forge SOCK TID [--fresh]         hands over a listener with a journal naming TID
 *   hostile_client status-slow SOCK MS              STATUS_REQ, then waits MS before reading
 *
 * Replies print as "ack ID", "error NAME text", "closed" or "timeout".  Exit status: 0 done,
 * 1 a system call failed, 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fdpass.h"
#include "journal.h"
#include "macros.h"
#include "parse.h"
#include "proto.h"

#define REPLY_TIMEOUT_MS 5000
#define MAX_CHILDREN 4096

static pid_t children[MAX_CHILDREN];
static size_t n_children;

_noreturn_ static void die(const char *what)
{
	fprintf(stderr, "hostile_client: %s: %s\n", what, strerror(errno));
	exit(1);
}

_noreturn_ static void usage(void)
{
	fputs("usage: see the top of hostile_client.c\n", stderr);
	exit(2);
}

static void kill_children(void)
{
	for (size_t i = 0; i < n_children; i++)
		kill(children[i], SIGKILL);
	for (size_t i = 0; i < n_children; i++)
		(void)waitpid(children[i], NULL, 0);
	n_children = 0;
}

static const char *errno_name(int err)
{
	static char buf[16];

	switch (-err) {
	case EPERM:
		return "EPERM";
	case EEXIST:
		return "EEXIST";
	case EDQUOT:
		return "EDQUOT";
	case EPROTO:
		return "EPROTO";
	case ENFILE:
		return "ENFILE";
	case EALREADY:
		return "EALREADY";
	case EBADF:
		return "EBADF";
	case ESRCH:
		return "ESRCH";
	case EINVAL:
		return "EINVAL";
	default:
		snprintf(buf, sizeof(buf), "%d", err);
		return buf;
	}
}

static int connect_to(const char *path, bool nonblock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static enum proto_role parse_role(const char *s)
{
	if (strcmp(s, "agent") == 0)
		return PROTO_ROLE_AGENT;
	if (strcmp(s, "cli") == 0)
		return PROTO_ROLE_CLI;
	usage();
}

static int send_hello(int fd, enum proto_role role, const char *id, uint32_t flags)
{
	struct proto_msg m = { .type = PROTO_MSG_HELLO };

	m.hello = (struct proto_hello){ .pid = (uint32_t)getpid(), .flags = flags, .role = role, .id = id };
	return proto_send_msg(fd, &m, NULL, 0);
}

/* Waits for one message: 1 (in m, strings in buf), 0 closed, -ETIMEDOUT, or -errno. */
static int read_reply(int fd, int timeout_ms, uint8_t *buf, struct proto_msg *m)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int fds[PROTO_MAX_FDS];
	size_t n_fds = 0;
	int n, r;

	r = poll(&pfd, 1, timeout_ms);
	if (r == 0)
		return -ETIMEDOUT;
	n = proto_recv(fd, buf, PROTO_MAX_MSG, fds, PROTO_MAX_FDS, &n_fds);
	/* A peer that closed with our message unread leaves ECONNRESET ahead of its last words. */
	if (n == -ECONNRESET)
		n = proto_recv(fd, buf, PROTO_MAX_MSG, fds, PROTO_MAX_FDS, &n_fds);
	if (n == -ECONNRESET || n == 0)
		return 0;
	if (n < 0)
		return n;
	proto_close_fds(fds, n_fds);
	r = proto_decode(buf, (size_t)n, m);
	return r < 0 ? r : 1;
}

/* The id of the last HELLO_ACK printed. */
static char last_ack_id[PROTO_MAX_ID_LEN + 1];

/* Prints one reply; returns what read_reply did. */
static int print_reply(int fd, const char *label)
{
	static uint8_t buf[PROTO_MAX_MSG];
	struct proto_msg m;
	int r = read_reply(fd, REPLY_TIMEOUT_MS, buf, &m);

	if (r == 0)
		printf("%s closed\n", label);
	else if (r == -ETIMEDOUT)
		printf("%s timeout\n", label);
	else if (r < 0)
		printf("%s failed %s\n", label, strerror(-r));
	else if (m.type == PROTO_MSG_ERROR)
		printf("%s error %s %s\n", label, errno_name(m.error.error), m.error.message);
	else if (m.type == PROTO_MSG_HELLO_ACK) {
		printf("%s ack %s\n", label, m.hello_ack.id);
		snprintf(last_ack_id, sizeof(last_ack_id), "%s", m.hello_ack.id);
	} else if (m.type == PROTO_MSG_STATUS)
		printf("%s status %zu%s\n", label, m.status.n, m.status.more ? " more" : "");
	else if (m.type == PROTO_MSG_STATS)
		printf("%s stats sandboxes %llu\n", label, (unsigned long long)m.stats.counters[PROTO_STAT_SANDBOXES]);
	else if (m.type == PROTO_MSG_TRACE_LINE)
		printf("%s trace [%s] %s\n", label, m.trace_line.id, m.trace_line.line);
	else
		printf("%s %s\n", label, proto_type_name(m.type));
	fflush(stdout);
	return r;
}

/* ---- a real sandbox: a child under an exec filter, its listener ------------------------------ */

/* execve and execveat of the native ABI go to the listener; everything else runs. */
static int install_filter(void)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_execve, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_execveat, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(code), .filter = code };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
}

/*
 * Forks a child that installs the filter, sends back its listener and then, once told to go,
 * execs run (or pauses when run is NULL).  Returns the listener; *ret_go tells the child to go.
 */
static int filtered_child(const char *run, pid_t *ret_pid, int *ret_go)
{
	int sv[2], fds[1], listener;
	uint8_t byte = 0;
	size_t n_fds = 0;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair");
	pid_t parent = getpid();
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		/* Whatever happens to us, no child of ours outlives us. */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		int l = install_filter();
		if (l < 0)
			_exit(120);
		if (proto_send(sv[1], &byte, 1, &l, 1) < 0)
			_exit(121);
		close(l);
		if (read(sv[1], &byte, 1) != 1)
			_exit(0);
		if (!run) {
			for (;;)
				pause();
		}
		char *argv[] = { (char *)run, NULL };
		execv(run, argv);
		_exit(127);
	}
	close(sv[1]);
	if (proto_recv(sv[0], &byte, 1, fds, 1, &n_fds) != 1 || n_fds != 1)
		die("receiving the child's listener");
	listener = fds[0];
	if (n_children < MAX_CHILDREN)
		children[n_children++] = pid;
	*ret_pid = pid;
	*ret_go = sv[0];
	return listener;
}

static void go(int go_fd)
{
	uint8_t byte = 1;

	if (write(go_fd, &byte, 1) != 1)
		die("telling the child to go");
	close(go_fd);
}

/*
 * HELLO and LISTENER for one listener; the connection stays open (returned) on success.  A
 * refused listener gets an ERROR at once: wait_ms says how long to look for one.
 */
static int hand_over(const char *sock, const char *id, uint32_t flags, int listener, int journal, int wait_ms)
{
	int fds[2] = { listener, journal };
	struct proto_msg m = { .type = PROTO_MSG_LISTENER };
	int fd = connect_to(sock, false);

	if (fd < 0) {
		printf("connect failed %s\n", strerror(errno));
		return -1;
	}
	last_ack_id[0] = '\0';
	if (send_hello(fd, PROTO_ROLE_AGENT, id, flags) < 0 || print_reply(fd, "hello") != 1 || !last_ack_id[0]) {
		close(fd);
		return -1;
	}
	m.listener = (struct proto_listener){ .id = last_ack_id, .pid = (uint32_t)getpid() };
	if (proto_send_msg(fd, &m, fds, journal >= 0 ? 2 : 1) < 0) {
		printf("listener closed\n");
		close(fd);
		return -1;
	}
	/* A served listener gets no answer; a refused one an ERROR at once. */
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	if (poll(&pfd, 1, wait_ms) > 0) {
		print_reply(fd, "listener");
		close(fd);
		return -1;
	}
	printf("listener served\n");
	return fd;
}

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* Waits for SIGTERM/SIGINT, watching fds for a daemon that closes on us. */
static void hold_until_term(const int *fds, size_t n)
{
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	while (!stop) {
		for (size_t i = 0; i < n; i++) {
			struct pollfd pfd = { .fd = fds[i], .events = POLLIN };
			if (fds[i] >= 0 && poll(&pfd, 1, 0) > 0)
				print_reply(fds[i], "later");
		}
		usleep(100 * 1000);
	}
}

static int cmd_sandbox(int argc, char **argv)
{
	const char *sock, *id, *run = NULL;
	uint32_t flags = 0;
	int count = 1, journal_of = 0;

	if (argc < 4)
		usage();
	sock = argv[2];
	id = argv[3];
	for (int i = 4; i < argc; i++) {
		if (strcmp(argv[i], "--reattach") == 0)
			flags |= PROTO_HELLO_F_REATTACH;
		else if (strcmp(argv[i], "--trace") == 0)
			flags |= PROTO_HELLO_F_TRACE;
		else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
			(void)parse_int(argv[++i], 1, MAX_CHILDREN, &count);
		else if (strcmp(argv[i], "--run") == 0 && i + 1 < argc)
			run = argv[++i];
		else if (strcmp(argv[i], "--journal-of") == 0 && i + 1 < argc)
			(void)parse_int(argv[++i], 1, INT32_MAX, &journal_of);
		else
			usage();
	}
	int *conns = calloc((size_t)count, sizeof(int));
	int served = 0;
	if (!conns)
		die("calloc");
	for (int i = 0; i < count; i++) {
		char name[PROTO_MAX_ID_LEN + 1];
		pid_t pid;
		int go_fd, journal = -1;
		int listener = filtered_child(run, &pid, &go_fd);

		if (journal_of > 0) {
			/* Somebody else's journal page, taken from its process (root may). */
			char path[64];
			snprintf(path, sizeof(path), "/proc/%d/fd", journal_of);
			journal = -1;
			for (int fd = 0; fd < 1024 && journal < 0; fd++) {
				char link[96], target[128];
				snprintf(link, sizeof(link), "%s/%d", path, fd);
				ssize_t n = readlink(link, target, sizeof(target) - 1);
				if (n > 0 && (target[n] = '\0', strstr(target, "ubinfmt-journal")))
					journal = open(link, O_RDWR | O_CLOEXEC);
			}
		} else {
			journal = journal_create();
		}
		if (count > 1)
			snprintf(name, sizeof(name), "%s-%d", id, i);
		else
			snprintf(name, sizeof(name), "%s", id);
		/* In bulk, only the last one waits to see whether the daemon refused it. */
		conns[i] = hand_over(sock, id[0] ? name : "", flags, listener, journal, i + 1 == count ? 300 : 0);
		close(listener);
		if (journal >= 0)
			close(journal);
		if (conns[i] >= 0)
			served++;
		go(go_fd);
	}
	printf("sandboxes %d\n", served);
	printf("ready\n");
	fflush(stdout);
	hold_until_term(conns, (size_t)count);
	kill_children();
	return 0;
}

/* ---- the journal forgery ------------------------------------------------------------------- */

static int recv_notification(int listener, uint64_t *ret_id, uint32_t *ret_pid)
{
	struct seccomp_notif_sizes sizes;
	struct pollfd pfd = { .fd = listener, .events = POLLIN };

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
		return -1;
	if (poll(&pfd, 1, REPLY_TIMEOUT_MS) <= 0)
		return -1;
	_cleanup_free_ struct seccomp_notif *req = calloc(1, sizes.seccomp_notif);
	if (!req || ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
		return -1;
	*ret_id = req->id;
	*ret_pid = req->pid;
	return 0;
}

/*
 * What a hostile agent can write: a notification id it received itself (its own child's exec,
 * left unanswered so that it stays valid) beside somebody else's tid.
 */
static int cmd_forge(int argc, char **argv)
{
	int victim, fresh = argc > 4 && strcmp(argv[4], "--fresh") == 0;
	pid_t child;
	int go_fd, listener, journal, conn;
	uint64_t id;
	uint32_t pid;

	if (argc < 4 || parse_int(argv[3], 1, INT32_MAX, &victim) < 0)
		usage();
	listener = filtered_child("/bin/true", &child, &go_fd);
	go(go_fd);
	if (recv_notification(listener, &id, &pid) < 0)
		die("receiving our child's notification");
	journal = journal_create();
	if (journal < 0) {
		errno = -journal;
		die("journal_create");
	}
	struct journal *j = mmap(NULL, JOURNAL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, journal, 0);
	if (j == MAP_FAILED)
		die("mmap");
	j->slots[0] = (struct journal_slot){ .id = id, .tid = (uint32_t)victim, .used = 1 };
	printf("forged id %llu (of our pid %u) tid %d\n", (unsigned long long)id, pid, victim);
	fflush(stdout);
	conn = hand_over(argv[2], "", fresh ? 0 : PROTO_HELLO_F_REATTACH, listener, journal, 300);
	/* Long enough for the daemon to act on the page. */
	sleep(2);
	printf("slot used %u\n", __atomic_load_n(&j->slots[0].used, __ATOMIC_ACQUIRE));
	if (conn >= 0)
		close(conn);
	kill_children();
	return 0;
}

/* A task blocked in execve under a listener that nobody answers, and what happens to it. */
static int cmd_victim(int argc, char **argv)
{
	int seconds, go_fd, listener, n = 0;
	pid_t child;
	time_t end;

	if (argc < 3 || parse_int(argv[2], 1, 3600, &seconds) < 0)
		usage();
	listener = filtered_child("/bin/true", &child, &go_fd);
	go(go_fd);
	printf("tid %d\n", (int)child);
	fflush(stdout);
	end = time(NULL) + seconds;
	while (time(NULL) < end) {
		uint64_t id;
		uint32_t pid;
		/* Each exec attempt of the child is one notification; an exec restarted by someone is a second. */
		if (recv_notification(listener, &id, &pid) == 0) {
			printf("notification %d id %llu\n", ++n, (unsigned long long)id);
			fflush(stdout);
		}
	}
	printf("notifications %d\n", n);
	kill_children();
	return 0;
}

/* ---- floods -------------------------------------------------------------------------------- */

static int cmd_flood(int argc, char **argv)
{
	int n, from = -1, acked = 0, errors = 0, closed = 0, failed = 0;

	if (argc < 4 || parse_int(argv[3], 1, 10000000, &n) < 0)
		usage();
	if (argc > 5 && strcmp(argv[4], "--ids") == 0)
		(void)parse_int(argv[5], 0, INT32_MAX, &from);
	for (int i = 0; i < n; i++) {
		static uint8_t buf[PROTO_MAX_MSG];
		char id[PROTO_MAX_ID_LEN + 1] = "";
		struct proto_msg m;
		int fd = connect_to(argv[2], false);

		if (fd < 0) {
			failed++;
			continue;
		}
		if (from >= 0)
			snprintf(id, sizeof(id), "agent-%d", from + i);
		int r = send_hello(fd, PROTO_ROLE_AGENT, id, 0) < 0 ? 0 : read_reply(fd, REPLY_TIMEOUT_MS, buf, &m);
		if (r == 1 && m.type == PROTO_MSG_HELLO_ACK)
			acked++;
		else if (r == 1)
			errors++;
		else
			closed++;
		close(fd);
	}
	printf("acked %d errors %d closed %d failed %d\n", acked, errors, closed, failed);
	return 0;
}

/*
 * N connections at once, saying nothing.  Refused ones get an ERROR and are closed; the others
 * stay until the daemon's deadline drops them or SECONDS pass.
 */
static int cmd_hold(int argc, char **argv)
{
	int n, seconds, refused = 0, held = 0, unconnected = 0;

	if (argc < 5 || parse_int(argv[3], 1, 100000, &n) < 0 || parse_int(argv[4], 1, 3600, &seconds) < 0)
		usage();
	int *fds = calloc((size_t)n, sizeof(int));
	if (!fds)
		die("calloc");
	for (int i = 0; i < n; i++) {
		/* A full backlog answers EAGAIN: try again for a while, as a patient attacker would. */
		fds[i] = -1;
		for (int t = 0; t < 200 && fds[i] < 0; t++) {
			fds[i] = connect_to(argv[2], true);
			if (fds[i] < 0 && errno != EAGAIN)
				break;
			if (fds[i] < 0)
				usleep(10 * 1000);
		}
		if (fds[i] < 0)
			unconnected++;
	}
	/* The daemon answers a refusal at once: whatever is readable now was refused. */
	usleep(1000 * 1000);
	for (int i = 0; i < n; i++) {
		struct pollfd pfd = { .fd = fds[i], .events = POLLIN };
		if (fds[i] < 0)
			continue;
		if (poll(&pfd, 1, 0) > 0) {
			refused++;
			close(fds[i]);
			fds[i] = -1;
		} else {
			held++;
		}
	}
	printf("held %d refused %d unconnected %d\n", held, refused, unconnected);
	printf("ready\n");
	fflush(stdout);
	signal(SIGTERM, on_term);
	for (int s = 0; s < seconds * 10 && !stop; s++)
		usleep(100 * 1000);
	int dropped = 0;
	for (int i = 0; i < n; i++) {
		struct pollfd pfd = { .fd = fds[i], .events = POLLIN };
		if (fds[i] >= 0 && poll(&pfd, 1, 0) > 0)
			dropped++;
	}
	printf("dropped later %d\n", dropped);
	return 0;
}

/* ---- requests ------------------------------------------------------------------------------ */

static int cmd_hello(int argc, char **argv)
{
	uint32_t flags = 0;
	int fd;

	if (argc < 4)
		usage();
	for (int i = 5; i < argc; i++)
		flags |= strcmp(argv[i], "reattach") == 0 ? PROTO_HELLO_F_REATTACH
			 : strcmp(argv[i], "trace") == 0  ? PROTO_HELLO_F_TRACE
							  : 0;
	fd = connect_to(argv[2], false);
	if (fd < 0)
		die("connect");
	(void)send_hello(fd, parse_role(argv[3]), argc > 4 ? argv[4] : "", flags);
	print_reply(fd, "hello");
	close(fd);
	return 0;
}

static int cmd_ask(int argc, char **argv)
{
	struct proto_msg m = { 0 };
	int fd, pid = 0;

	if (argc < 5)
		usage();
	fd = connect_to(argv[2], false);
	if (fd < 0)
		die("connect");
	/* A refused client may find the connection closed already: its answer is still there. */
	(void)send_hello(fd, parse_role(argv[3]), "", 0);
	if (print_reply(fd, "hello") != 1) {
		printf("reply closed\n");
		return 0;
	}
	if (strcmp(argv[4], "attach") == 0 && argc > 5 && parse_int(argv[5], 1, INT32_MAX, &pid) == 0) {
		m.type = PROTO_MSG_ATTACH;
		m.attach.pid = (uint32_t)pid;
	} else if (strcmp(argv[4], "status") == 0) {
		m.type = PROTO_MSG_STATUS_REQ;
	} else if (strcmp(argv[4], "stats") == 0) {
		m.type = PROTO_MSG_STATS;
	} else if (strcmp(argv[4], "trace") == 0) {
		m.type = PROTO_MSG_TRACE_SUB;
		m.trace_sub.id = "";
	} else {
		usage();
	}
	if (proto_send_msg(fd, &m, NULL, 0) < 0) {
		printf("reply closed\n");
		return 0;
	}
	print_reply(fd, "reply");
	close(fd);
	return 0;
}

/* STATUS_REQ from a reader that does not read for a while: the replies must all arrive. */
static int cmd_status_slow(int argc, char **argv)
{
	static uint8_t buf[PROTO_MAX_MSG];
	struct proto_msg m = { .type = PROTO_MSG_STATUS_REQ };
	size_t entries = 0, messages = 0;
	int fd, ms, r;

	if (argc < 4 || parse_int(argv[3], 0, 600000, &ms) < 0)
		usage();
	fd = connect_to(argv[2], false);
	if (fd < 0)
		die("connect");
	if (send_hello(fd, PROTO_ROLE_CLI, "", 0) < 0 || read_reply(fd, REPLY_TIMEOUT_MS, buf, &m) != 1)
		die("hello");
	m = (struct proto_msg){ .type = PROTO_MSG_STATUS_REQ };
	if (proto_send_msg(fd, &m, NULL, 0) < 0)
		die("send");
	usleep((useconds_t)ms * 1000);
	for (;;) {
		r = read_reply(fd, REPLY_TIMEOUT_MS, buf, &m);
		if (r != 1 || m.type != PROTO_MSG_STATUS) {
			printf("entries %zu messages %zu incomplete\n", entries, messages);
			return 0;
		}
		entries += m.status.n;
		messages++;
		if (!m.status.more)
			break;
	}
	printf("entries %zu messages %zu complete\n", entries, messages);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "hello") == 0)
		return cmd_hello(argc, argv);
	if (strcmp(argv[1], "ask") == 0)
		return cmd_ask(argc, argv);
	if (strcmp(argv[1], "flood") == 0)
		return cmd_flood(argc, argv);
	if (strcmp(argv[1], "hold") == 0)
		return cmd_hold(argc, argv);
	if (strcmp(argv[1], "sandbox") == 0)
		return cmd_sandbox(argc, argv);
	if (strcmp(argv[1], "forge") == 0)
		return cmd_forge(argc, argv);
	if (strcmp(argv[1], "victim") == 0)
		return cmd_victim(argc, argv);
	if (strcmp(argv[1], "status-slow") == 0)
		return cmd_status_slow(argc, argv);
	usage();
}
