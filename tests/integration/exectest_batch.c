/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * exectest's batch modes: many children exec at once (concurrent) or under a shower of signals
 * (storm).  Each child gets a distinct last argument, "conc-<i>" or "storm-<i>", and must print
 * exactly that line: the program is something like `busybox echo`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exectest.h"
#include "parse.h"

#define MAX_CHILDREN 1024
#define CHILD_OUTPUT_MAX 4096
#define BATCH_TIMEOUT_MS (240 * 1000)

struct child {
	pid_t pid;
	int out;      /* read end of its stdout, -1 at EOF */
	char tag[32]; /* the distinct last argument, which it must print back */
	char **argv;
	char buf[CHILD_OUTPUT_MAX];
	size_t len;
	int status;
};

static struct child *children_new(size_t n, const char *prefix, char **args, int nargs, char *path)
{
	struct child *c = calloc(n, sizeof(*c));

	if (!c)
		et_die(EXIT_FAIL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		snprintf(c[i].tag, sizeof(c[i].tag), "%s-%zu", prefix, i);
		c[i].argv = et_make_argv(args, nargs, path, c[i].tag);
		c[i].pid = -1;
		c[i].out = -1;
	}
	return c;
}

/* Reads every child's stdout until EOF (bounded per child).  -ETIMEDOUT if they hang. */
static int children_collect(struct child *c, size_t n)
{
	struct pollfd *pfd = calloc(n, sizeof(*pfd));
	struct timespec start, now;
	size_t remaining = 0;

	if (!pfd)
		et_die(EXIT_FAIL, "out of memory");
	for (size_t i = 0; i < n; i++)
		remaining += c[i].out >= 0;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (remaining > 0) {
		for (size_t i = 0; i < n; i++)
			pfd[i] = (struct pollfd){ .fd = c[i].out, .events = POLLIN };
		int r = poll(pfd, n, 1000);
		if (r < 0 && errno != EINTR)
			et_die(EXIT_FAIL, "poll: %m");
		for (size_t i = 0; r > 0 && i < n; i++) {
			if (c[i].out < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char scratch[512];
			size_t room = sizeof(c[i].buf) - 1 - c[i].len;
			ssize_t got = read(c[i].out, room ? c[i].buf + c[i].len : scratch,
					   room ? room : sizeof(scratch));
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				close(c[i].out);
				c[i].out = -1;
				remaining--;
			} else if (room) {
				c[i].len += (size_t)got;
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 > BATCH_TIMEOUT_MS) {
			free(pfd);
			return -ETIMEDOUT;
		}
	}
	free(pfd);
	return 0;
}

static void children_kill(struct child *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (c[i].pid > 0)
			kill(c[i].pid, SIGKILL);
}

static void children_reap(struct child *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (c[i].pid <= 0)
			continue;
		while (waitpid(c[i].pid, &c[i].status, 0) < 0)
			if (errno != EINTR)
				et_die(EXIT_FAIL, "waitpid %d: %m", (int)c[i].pid);
	}
}

/* Every child must have printed exactly "TAG\n" and ended with the expected status. */
static int children_verify(struct child *c, size_t n, int want_status, const char *mode)
{
	size_t good = 0;

	for (size_t i = 0; i < n; i++) {
		char want[40];
		bool ok;

		c[i].buf[c[i].len] = '\0';
		snprintf(want, sizeof(want), "%s\n", c[i].tag);
		ok = et_streq(c[i].buf, want) && et_status_is(c[i].status, want_status);
		if (ok) {
			good++;
			continue;
		}
		printf("bad %s pid %d output '%.*s' ", c[i].tag, (int)c[i].pid, (int)strcspn(c[i].buf, "\n"), c[i].buf);
		et_print_status(c[i].status);
	}
	printf("%s %zu/%zu\n", good == n ? "ok" : "fail", good, n);
	if (good != n) {
		fprintf(stderr, "exectest: fail: %s: %zu of %zu children went wrong\n", mode, n - good, n);
		return EXIT_FAIL;
	}
	return 0;
}

/* Counters shared by the batch children with their parent (MAP_SHARED). */
struct batch_counters {
	unsigned long eintr;  /* execs that failed with EINTR and were retried */
	unsigned long fdleak; /* ... after which the child had more open fds than before */
};

static unsigned count_fds(void)
{
	unsigned n = 0;

	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

/*
 * In a forked batch child: stdout to its pipe, then exec, retrying what a signal interrupted.
 * counters, when given, live in memory shared with the parent.
 */
static _noreturn_ void child_exec(const char *path, char **argv, int outfd, struct batch_counters *counters)
{
	unsigned fds;

	if (dup2(outfd, STDOUT_FILENO) < 0)
		_exit(126);
	fds = counters ? count_fds() : 0;
	for (;;) {
		execve(path, argv, environ);
		if (errno != EINTR || !counters)
			break;
		/*
		 * A handler without SA_RESTART ran while the exec waited in a seccomp notification:
		 * the kernel fails such a wait with EINTR (a plain execve never does).  Count it, and
		 * whether the failed attempt left an fd behind (an injected emulator fd), and retry
		 * as a robust caller would.
		 */
		__atomic_fetch_add(&counters->eintr, 1, __ATOMIC_RELAXED);
		if (count_fds() > fds)
			__atomic_fetch_add(&counters->fdleak, 1, __ATOMIC_RELAXED);
	}
	fprintf(stderr, "exectest: execve '%s': %m\n", path);
	_exit(127);
}

static size_t parse_count(const char *s, const char *mode)
{
	int n;

	if (parse_int(s, 1, MAX_CHILDREN, &n) < 0)
		et_die(EXIT_USAGE, "%s: N must be 1..%d, not '%s'", mode, MAX_CHILDREN, s);
	return (size_t)n;
}

/* Reaps every child after children_collect() returned r; when it timed out, kills them and fails. */
static void children_end(struct child *c, size_t n, int r, const char *mode)
{
	if (r < 0) {
		children_kill(c, n);
		children_reap(c, n);
		et_die(EXIT_FAIL, "%s: children still running after %d s", mode, BATCH_TIMEOUT_MS / 1000);
	}
	children_reap(c, n);
}

/* Starts every child blocked on a release pipe, then lets them all exec at the same moment. */
int et_concurrent(int argc, char **argv)
{
	struct opts o;
	int first = et_parse_opts(argc, argv, OPT_STATUS, &o);
	et_need_operands(argc, first, 2, argv[0]);
	size_t n = parse_count(argv[first], argv[0]);
	char *path = argv[first + 1];
	struct child *c = children_new(n, "conc", argv + first + 2, argc - first - 2, path);
	int release[2];

	if (pipe2(release, O_CLOEXEC) < 0)
		et_die(EXIT_FAIL, "pipe2: %m");
	fflush(stdout);
	for (size_t i = 0; i < n; i++) {
		int out[2];

		if (pipe2(out, O_CLOEXEC) < 0)
			et_die(EXIT_FAIL, "pipe2: %m");
		c[i].pid = fork();
		if (c[i].pid < 0) {
			children_kill(c, i);
			et_die(EXIT_FAIL, "fork: %m");
		}
		if (c[i].pid == 0) {
			char b;

			close(release[1]);
			while (read(release[0], &b, 1) < 0 && errno == EINTR)
				;
			child_exec(path, c[i].argv, out[1], NULL);
		}
		close(out[1]);
		c[i].out = out[0];
	}
	/* EOF on the release pipe wakes every child at once. */
	close(release[1]);
	close(release[0]);
	children_end(c, n, children_collect(c, n), "concurrent");
	return children_verify(c, n, o.check_status ? o.status : 0, "concurrent");
}

static void on_storm_signal(int sig)
{
	(void)sig;
}

/*
 * SIGURG gets a handler with SA_RESTART, SIGWINCH one without.  These two rather than SIGUSR1/2:
 * they are ignored by default, so one that lands just after a successful exec (which resets
 * handlers) is harmless, where a SIGUSR1 would kill the new program.
 */
static void storm_handlers(void)
{
	struct sigaction sa = { .sa_handler = on_storm_signal };

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGURG, &sa, NULL) < 0)
		et_die(EXIT_FAIL, "sigaction SIGURG: %m");
	sa.sa_flags = 0;
	if (sigaction(SIGWINCH, &sa, NULL) < 0)
		et_die(EXIT_FAIL, "sigaction SIGWINCH: %m");
}

struct storm {
	struct child *c;
	size_t n;
	atomic_size_t started; /* children forked so far */
	atomic_bool stop;
	unsigned long sent;
};

/*
 * Signals every started child as fast as it can until told to stop.  Children are only reaped
 * after this thread has stopped, so their pids cannot be reused under it.
 */
static void *storm_sender(void *arg)
{
	struct storm *s = arg;

	while (!atomic_load(&s->stop)) {
		size_t started = atomic_load(&s->started);

		for (size_t i = 0; i < started; i++) {
			int sig = (s->sent & 1) ? SIGWINCH : SIGURG;

			if (kill(s->c[i].pid, sig) == 0)
				s->sent++;
		}
		if (started == 0)
			sched_yield();
	}
	return NULL;
}

static struct batch_counters *shared_counters(void)
{
	struct batch_counters *counters;

	counters = mmap(NULL, sizeof(*counters), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counters == MAP_FAILED)
		et_die(EXIT_FAIL, "mmap: %m");
	*counters = (struct batch_counters){};
	return counters;
}

/* Forks N children that each exec PATH with a distinct last argument while a thread signals them. */
int et_storm(int argc, char **argv)
{
	struct opts o;
	int first = et_parse_opts(argc, argv, OPT_STATUS, &o);
	et_need_operands(argc, first, 2, argv[0]);
	size_t n = parse_count(argv[first], argv[0]);
	char *path = argv[first + 1];
	struct storm s = { .n = n };
	struct batch_counters *counters = shared_counters();
	pthread_t sender;
	int r;

	s.c = children_new(n, "storm", argv + first + 2, argc - first - 2, path);
	storm_handlers();
	r = pthread_create(&sender, NULL, storm_sender, &s);
	if (r)
		et_die(EXIT_FAIL, "pthread_create: %s", strerror(r));
	fflush(stdout);
	for (size_t i = 0; i < n; i++) {
		int out[2];

		if (pipe2(out, O_CLOEXEC) < 0)
			et_die(EXIT_FAIL, "pipe2: %m");
		s.c[i].pid = fork();
		if (s.c[i].pid < 0) {
			atomic_store(&s.stop, true);
			pthread_join(sender, NULL);
			children_kill(s.c, i);
			et_die(EXIT_FAIL, "fork: %m");
		}
		if (s.c[i].pid == 0)
			child_exec(path, s.c[i].argv, out[1], counters);
		close(out[1]);
		s.c[i].out = out[0];
		atomic_store(&s.started, i + 1);
	}
	/* Every output at EOF means every exec is over; stop the storm before reaping. */
	r = children_collect(s.c, n);
	atomic_store(&s.stop, true);
	pthread_join(sender, NULL);
	children_end(s.c, n, r, "storm");
	printf("signals %lu\n", s.sent);
	/* Not failures (every child still ran the right program), but worth seeing. */
	printf("eintr %lu\n", __atomic_load_n(&counters->eintr, __ATOMIC_RELAXED));
	printf("fdleak %lu\n", __atomic_load_n(&counters->fdleak, __ATOMIC_RELAXED));
	return children_verify(s.c, n, o.check_status ? o.status : 0, "storm");
}
