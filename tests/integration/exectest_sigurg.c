/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * exectest sigurg: what a Go program's runtime does to a thread sitting in a raw execve (runc
 * init is one): it preempts it with SIGURG, sent to that thread alone (tgkill) at a steady pace,
 * handled with SA_RESTART on the thread's alternate signal stack (SA_ONSTACK).  Where the
 * seccomp listener lacks WAIT_KILLABLE_RECV (runc's, crun's) such a signal withdraws a
 * notification the supervisor already holds, and the exec comes back with a new one once the
 * handler has run.
 *
 *   exectest sigurg [--status N] [--jobs J] [--main-stack] M INTERVAL_US PATH [ARGV0 ARG…]
 *
 * M children, J at a time (default 1): fork; in the child a pacer thread sends SIGURG to the
 * main thread every INTERVAL_US microseconds while the main thread makes the raw execve of PATH
 * with "sigurg-<i>" appended to its argv; the program must print exactly that line and exit with
 * status N (default 0).  A child whose exec fails prints "errno NAME" instead and exits 127.
 * --main-stack: the handler runs on the thread's own stack, as a C program's does, so that its
 * frames land below the stack pointer, where a rewrite keeps its scratch block.
 * Prints "bad …" for the first few children that went wrong, then "signals S" (SIGURGs sent),
 * "enoexec K" (execs that failed with ENOEXEC), "other K" (children that went wrong otherwise),
 * and "ok M/M" or "fail GOOD/M".
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exectest.h"
#include "parse.h"

#define SIGURG_MAX_EXECS 100000
#define SIGURG_MAX_INTERVAL_US 1000000
#define SIGURG_OUTPUT_MAX 256
/* A liveness bound for one child (qemu start-up is ~20 ms here), not a timing check. */
#define SIGURG_CHILD_TIMEOUT_MS (30 * 1000)
/* Shown in full: enough to see what went wrong, not a flood. */
#define SIGURG_SHOW_BAD 10
#define SIGURG_MAX_JOBS 64

struct pacer {
	pid_t pid, tid; /* the exec'ing thread */
	long interval_ns;
	unsigned long *sent; /* in memory shared with the parent */
};

/* Go's own handler is SA_SIGINFO; what it does is of no matter here. */
static void on_sigurg(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
}

static void timespec_add_ns(struct timespec *t, long ns)
{
	t->tv_nsec += ns;
	while (t->tv_nsec >= 1000000000L) {
		t->tv_nsec -= 1000000000L;
		t->tv_sec++;
	}
}

/*
 * Go's sysmon preempts a goroutine that has run for 10 ms, again every 10 ms while it goes on:
 * a steady pace on an absolute clock, not a sleep after each signal.  Ends with the exec, which
 * takes every other thread away.
 */
static void *pacer_run(void *arg)
{
	const struct pacer *p = arg;
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		timespec_add_ns(&next, p->interval_ns);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
		if (syscall(SYS_tgkill, p->pid, p->tid, SIGURG) == 0)
			__atomic_fetch_add(p->sent, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Go gives each thread a 32 KiB signal stack (gsignal); more is harmless. */
#define SIGURG_ALTSTACK_SIZE (64 * 1024)

/* The forked child: stdout to its pipe, the pacer started, then the raw execve. */
static _noreturn_ void sigurg_child(const char *path, char **argv, int outfd, long interval_ns, bool main_stack,
				    unsigned long *sent)
{
	struct sigaction sa = { .sa_sigaction = on_sigurg, .sa_flags = SA_SIGINFO | SA_RESTART };
	struct pacer p = { .pid = getpid(), .tid = gettid(), .interval_ns = interval_ns, .sent = sent };
	pthread_t t;
	int err;

	if (dup2(outfd, STDOUT_FILENO) < 0)
		_exit(126);
	if (!main_stack) {
		stack_t ss = { .ss_size = SIGURG_ALTSTACK_SIZE };

		ss.ss_sp = mmap(NULL, ss.ss_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (ss.ss_sp == MAP_FAILED || sigaltstack(&ss, NULL) < 0)
			_exit(126);
		sa.sa_flags |= SA_ONSTACK;
	}
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGURG, &sa, NULL) < 0)
		_exit(126);
	err = pthread_create(&t, NULL, pacer_run, &p);
	if (err) {
		fprintf(stderr, "exectest: pthread_create: %s\n", strerror(err));
		_exit(126);
	}
	/* Raw, as Go's syscall.Exec makes it: no libc retry, no wrapper. */
	syscall(SYS_execve, path, argv, environ);
	err = errno;
	printf("errno %s\n", et_errno_name(err));
	fflush(stdout);
	_exit(127);
}

/* Reads the child's output to EOF into buf (bounded); -ETIMEDOUT if it does not end. */
static int read_child(int fd, char *buf, size_t size)
{
	struct timespec start, now;
	size_t len = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char scratch[512];
		ssize_t n;

		if (poll(&pfd, 1, 1000) < 0 && errno != EINTR)
			et_die(EXIT_FAIL, "poll: %m");
		if (pfd.revents) {
			size_t room = size - 1 - len;
			n = read(fd, room ? buf + len : scratch, room ? room : sizeof(scratch));
			if (n < 0 && errno != EINTR)
				break;
			if (n == 0)
				break;
			if (n > 0 && room)
				len += (size_t)n;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >
		    SIGURG_CHILD_TIMEOUT_MS) {
			buf[len] = '\0';
			return -ETIMEDOUT;
		}
	}
	buf[len] = '\0';
	return 0;
}

/* The first line of /proc/PID/task/TID/NAME, without its newline ("?" if unreadable). */
static void task_line(pid_t pid, const char *tid, const char *name, char *buf, size_t size)
{
	char path[sizeof("/proc//task//") + 16 + NAME_MAX + 16];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%s/%s", (int)pid, tid, name);
	f = fopen(path, "re");
	if (!f || !fgets(buf, (int)size, f))
		snprintf(buf, size, "?");
	if (f)
		fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

/*
 * Where each thread of a child that did not end sits, before it is killed: its state ("t" is
 * a ptrace stop), the kernel function it waits in, and its syscall line (the number first).
 * What a rare hang needs to be told apart: a stop nobody ends, a notification nobody answers,
 * or an exec that keeps being taken back.
 */
static void show_stuck(pid_t pid)
{
	char path[64], state[128], wchan[64], sys[128];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		task_line(pid, d->d_name, "stat", state, sizeof(state));
		task_line(pid, d->d_name, "wchan", wchan, sizeof(wchan));
		task_line(pid, d->d_name, "syscall", sys, sizeof(sys));
		/* stat's third field is the state, after "pid (comm)" */
		const char *s = strrchr(state, ')');
		printf("[tid %s: state %.1s, wchan %s, syscall %.40s] ", d->d_name, s && s[1] ? s + 2 : "?", wchan,
		       sys);
	}
	closedir(dir);
}

/* What the children did, in memory shared by the workers and the parent. */
struct tally {
	unsigned long sent; /* SIGURGs delivered */
	unsigned long good, enoexec, other;
};

/* One child, start to end; tallies how it went and shows the first few that went wrong. */
static void run_one(size_t i, const char *path, char **args, int nargs, long interval_ns, bool main_stack, int want,
		    struct tally *t)
{
	char tag[32], want_line[40], out[SIGURG_OUTPUT_MAX];
	int pipefd[2], status, r;
	unsigned long bad;
	char **argv;
	pid_t pid;

	snprintf(tag, sizeof(tag), "sigurg-%zu", i);
	snprintf(want_line, sizeof(want_line), "%s\n", tag);
	argv = et_make_argv(args, nargs, (char *)path, tag);
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		et_die(EXIT_FAIL, "pipe2: %m");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		et_die(EXIT_FAIL, "fork: %m");
	if (pid == 0)
		sigurg_child(path, argv, pipefd[1], interval_ns, main_stack, &t->sent);
	close(pipefd[1]);
	r = read_child(pipefd[0], out, sizeof(out));
	close(pipefd[0]);
	if (r < 0) {
		if (__atomic_load_n(&t->enoexec, __ATOMIC_RELAXED) + __atomic_load_n(&t->other, __ATOMIC_RELAXED) <
		    SIGURG_SHOW_BAD) {
			printf("stuck sigurg-%zu pid %d: ", i, (int)pid);
			show_stuck(pid);
			printf("\n");
		}
		kill(pid, SIGKILL);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			et_die(EXIT_FAIL, "waitpid %d: %m", (int)pid);
	free(argv);

	if (r == 0 && et_streq(out, want_line) && et_status_is(status, want)) {
		__atomic_fetch_add(&t->good, 1, __ATOMIC_RELAXED);
		return;
	}
	bad = 1 + (et_streq(out, "errno ENOEXEC\n") ? __atomic_fetch_add(&t->enoexec, 1, __ATOMIC_RELAXED)
						    : __atomic_fetch_add(&t->other, 1, __ATOMIC_RELAXED));
	if (bad > SIGURG_SHOW_BAD)
		return;
	printf("bad %s pid %d%s output '%.*s' ", tag, (int)pid, r < 0 ? " timed out" : "", (int)strcspn(out, "\n"),
	       out);
	et_print_status(status);
}

int et_sigurg(int argc, char **argv)
{
	struct opts o;
	int first = et_parse_opts(argc, argv, OPT_STATUS | OPT_JOBS | OPT_MAIN_STACK, &o);
	et_need_operands(argc, first, 3, argv[0]);
	char *path = argv[first + 2];
	int m, interval_us, jobs = o.jobs ? o.jobs : 1, failed_workers = 0;
	pid_t workers[SIGURG_MAX_JOBS];
	struct tally *t;

	if (parse_int(argv[first], 1, SIGURG_MAX_EXECS, &m) < 0)
		et_die(EXIT_USAGE, "sigurg: M must be 1..%d, not '%s'", SIGURG_MAX_EXECS, argv[first]);
	if (parse_int(argv[first + 1], 1, SIGURG_MAX_INTERVAL_US, &interval_us) < 0)
		et_die(EXIT_USAGE, "sigurg: INTERVAL_US must be 1..%d, not '%s'", SIGURG_MAX_INTERVAL_US,
		       argv[first + 1]);
	if (jobs > SIGURG_MAX_JOBS)
		et_die(EXIT_USAGE, "sigurg: --jobs must be 1..%d", SIGURG_MAX_JOBS);
	t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		et_die(EXIT_FAIL, "mmap: %m");
	*t = (struct tally){};

	/* Worker w runs children w, w + jobs, w + 2 jobs…, one after the other. */
	fflush(stdout);
	for (int w = 0; w < jobs; w++) {
		workers[w] = fork();
		if (workers[w] < 0)
			et_die(EXIT_FAIL, "fork: %m");
		if (workers[w] == 0) {
			for (int i = w; i < m; i += jobs)
				run_one((size_t)i, path, argv + first + 3, argc - first - 3, (long)interval_us * 1000,
					o.main_stack, o.check_status ? o.status : 0, t);
			fflush(stdout);
			_exit(0);
		}
	}
	for (int w = 0; w < jobs; w++) {
		int status;

		while (waitpid(workers[w], &status, 0) < 0)
			if (errno != EINTR)
				et_die(EXIT_FAIL, "waitpid %d: %m", (int)workers[w]);
		if (!et_status_is(status, 0))
			failed_workers++;
	}
	if (failed_workers)
		et_die(EXIT_FAIL, "sigurg: %d of %d workers failed", failed_workers, jobs);

	unsigned long good = __atomic_load_n(&t->good, __ATOMIC_RELAXED);
	printf("signals %lu\n", __atomic_load_n(&t->sent, __ATOMIC_RELAXED));
	printf("enoexec %lu\n", __atomic_load_n(&t->enoexec, __ATOMIC_RELAXED));
	printf("other %lu\n", __atomic_load_n(&t->other, __ATOMIC_RELAXED));
	printf("%s %lu/%d\n", good == (unsigned long)m ? "ok" : "fail", good, m);
	if (good != (unsigned long)m) {
		fprintf(stderr, "exectest: fail: sigurg: %lu of %d execs went wrong\n", (unsigned long)m - good, m);
		return EXIT_FAIL;
	}
	return 0;
}
