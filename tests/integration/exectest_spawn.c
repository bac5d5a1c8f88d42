/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * exectest spawn: one launch of a program through posix_spawn, vfork+execve, fork+execve or
 * execve from a non-main thread, checked three ways: the caller's path and argv memory is
 * byte-for-byte unchanged afterwards, the pid the caller got is the one the program reports as
 * the first line of its output (`echo $$`), and the exit status comes back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exectest.h"
#include "parse.h"

#define SPAWN_OUTPUT_MAX 65536
#define FRAME_STRINGS_MAX 8192

enum spawn_kind {
	SPAWN_POSIX_SPAWN,
	SPAWN_VFORK,
	SPAWN_FORK,
	SPAWN_THREAD,
	SPAWN_KIND_MAX,
};

static const char *const spawn_names[SPAWN_KIND_MAX] = {
	[SPAWN_POSIX_SPAWN] = "posix_spawn",
	[SPAWN_VFORK] = "vfork",
	[SPAWN_FORK] = "fork",
	[SPAWN_THREAD] = "thread",
};

struct launch {
	const char *path;
	char *const *argv;
	int outfd; /* becomes the program's stdout */
};

static void *exec_thread(void *arg)
{
	const struct launch *l = arg;

	execve(l->path, l->argv, environ);
	fprintf(stderr, "exectest: execve '%s' from a thread: %m\n", l->path);
	_exit(127);
}

/* A vfork child shares our memory and stack: it only does dup2, execve and _exit. */
static pid_t launch_vfork(const struct launch *l)
{
	pid_t pid = vfork();

	if (pid == 0) {
		if (dup2(l->outfd, STDOUT_FILENO) < 0)
			_exit(126);
		execve(l->path, l->argv, environ);
		_exit(127);
	}
	return pid;
}

static pid_t launch_fork(const struct launch *l, bool from_thread)
{
	pid_t pid = fork();
	pthread_t t;

	if (pid != 0)
		return pid;
	if (dup2(l->outfd, STDOUT_FILENO) < 0)
		_exit(126);
	if (!from_thread) {
		execve(l->path, l->argv, environ);
		_exit(127);
	}
	/* The exec comes from a non-main thread; the main thread waits for it to take over. */
	if (pthread_create(&t, NULL, exec_thread, (void *)l) != 0)
		_exit(126);
	pthread_join(t, NULL);
	_exit(127);
}

static int launch(enum spawn_kind kind, const struct launch *l, pid_t *ret_pid)
{
	posix_spawn_file_actions_t fa;
	pid_t pid = -1;
	int r;

	switch (kind) {
	case SPAWN_POSIX_SPAWN:
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, l->outfd, STDOUT_FILENO);
		r = posix_spawn(&pid, l->path, &fa, NULL, l->argv, environ);
		posix_spawn_file_actions_destroy(&fa);
		if (r != 0)
			return -r;
		break;
	case SPAWN_VFORK:
		pid = launch_vfork(l);
		break;
	case SPAWN_FORK:
		pid = launch_fork(l, false);
		break;
	case SPAWN_THREAD:
		pid = launch_fork(l, true);
		break;
	case SPAWN_KIND_MAX:
	default:
		return -EINVAL;
	}
	if (pid < 0)
		return -errno;
	*ret_pid = pid;
	return 0;
}

/* A copy of one region of our memory, to prove later that nobody wrote into it. */
struct snap {
	const char *what;
	const void *addr;
	size_t len;
	unsigned char *copy;
};

static void snap_take(struct snap *s, const char *what, const void *addr, size_t len)
{
	s->what = what;
	s->addr = addr;
	s->len = len;
	s->copy = malloc(len);
	if (!s->copy)
		et_die(EXIT_FAIL, "out of memory");
	memcpy(s->copy, addr, len);
}

static bool snap_same(const struct snap *s)
{
	return memcmp(s->addr, s->copy, s->len) == 0;
}

/* Path and argv copied into the stack frame of the caller of launch(). */
struct frame_args {
	char strings[FRAME_STRINGS_MAX];
	char *av[MAX_ARGS + 1]; /* av[0] is the path, then the program's argv, then NULL */
};

/* Copies the n strings src[0..n-1] (the path first) into f. */
static void frame_copy(struct frame_args *f, char **src, int n)
{
	char *p = f->strings, *end = f->strings + sizeof(f->strings);

	if (n > MAX_ARGS)
		et_die(EXIT_USAGE, "spawn: more than %d arguments", MAX_ARGS - 1);
	for (int i = 0; i < n; i++) {
		size_t len = strlen(src[i]) + 1;

		if ((size_t)(end - p) < len)
			et_die(EXIT_USAGE, "spawn: arguments longer than %zu bytes", sizeof(f->strings));
		memcpy(p, src[i], len);
		f->av[i] = p;
		p += len;
	}
	f->av[n] = NULL;
}

/* Snapshots the path, every argv string and the argv pointer array; returns how many. */
static size_t snap_args(struct snap *snaps, const char *path, char **pargv)
{
	size_t n = 0, argc = 0;

	snap_take(&snaps[n++], "path", path, strlen(path) + 1);
	for (; pargv[argc]; argc++)
		snap_take(&snaps[n++], "argv string", pargv[argc], strlen(pargv[argc]) + 1);
	snap_take(&snaps[n++], "argv array", pargv, sizeof(char *) * (argc + 1));
	return n;
}

static bool snaps_unchanged(struct snap *snaps, size_t n, const char *kind)
{
	bool same = true;

	for (size_t i = 0; i < n; i++) {
		if (!snap_same(&snaps[i])) {
			fprintf(stderr, "exectest: fail: the caller's %s at %p changed during %s\n", snaps[i].what,
				snaps[i].addr, kind);
			same = false;
		}
		free(snaps[i].copy);
	}
	if (same)
		printf("ok memory unchanged\n");
	return same;
}

/* The output's first line must be pid; the other lines are echoed as "out LINE". */
static bool check_reported_pid(char *out, pid_t pid, const char *kind)
{
	char *nl = strchr(out, '\n'), *rest = NULL;
	bool ok = false;
	int reported;

	if (nl) {
		*nl = '\0';
		rest = nl + 1;
	}
	printf("pid %d\n", (int)pid);
	if (parse_int(out, 1, INT32_MAX, &reported) < 0) {
		printf("reported '%s'\n", out);
		fprintf(stderr, "exectest: fail: the program's first line is not a pid: '%s'\n", out);
	} else if (reported != pid) {
		printf("reported %d\n", reported);
		fprintf(stderr, "exectest: fail: %s gave pid %d, the program says it is %d\n", kind, (int)pid,
			reported);
	} else {
		printf("reported %d\nok pid\n", reported);
		ok = true;
	}
	for (char *line = rest, *next; line && *line; line = next) {
		next = strchrnul(line, '\n');
		printf("out %.*s\n", (int)(next - line), line);
		if (*next)
			next++;
	}
	return ok;
}

static enum spawn_kind spawn_kind_from(const char *name)
{
	for (int k = 0; k < SPAWN_KIND_MAX; k++)
		if (et_streq(name, spawn_names[k]))
			return (enum spawn_kind)k;
	et_die(EXIT_USAGE, "spawn: unknown mode '%s' (posix_spawn|vfork|fork|thread)", name);
}

/*
 * exectest spawn KIND [--status N] PATH [ARGV0 ARG…].  The path and argv live in this
 * function's stack frame, which a vfork child runs right below and glibc's posix_spawn helper
 * shares, so an exec rewrite that scribbles on them is caught.
 */
int et_spawn(int argc, char **argv)
{
	struct opts o;
	struct frame_args f;
	struct snap snaps[MAX_ARGS + 2];
	char out[SPAWN_OUTPUT_MAX];
	int pipefd[2], status, first, r;
	pid_t pid = -1;

	if (argc < 2)
		et_die(EXIT_USAGE, "spawn: missing KIND (posix_spawn|vfork|fork|thread)");
	enum spawn_kind kind = spawn_kind_from(argv[1]);
	first = et_parse_opts(argc - 1, argv + 1, OPT_STATUS, &o) + 1;
	et_need_operands(argc, first, 1, "spawn");
	frame_copy(&f, argv + first, argc - first);
	/* The program's argv is av[1…], or {PATH} (av itself) when none was given. */
	char *const path = f.av[0];
	char **pargv = f.av[1] ? f.av + 1 : f.av;
	size_t nsnaps = snap_args(snaps, path, pargv);

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		et_die(EXIT_FAIL, "pipe2: %m");
	struct launch l = { .path = path, .argv = pargv, .outfd = pipefd[1] };
	fflush(stdout);
	r = launch(kind, &l, &pid);
	close(pipefd[1]);
	if (r < 0)
		et_die(EXIT_FAIL, "%s '%s': %s", spawn_names[kind], path, strerror(-r));
	et_read_all(pipefd[0], out, sizeof(out));
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) < 0)
		et_die(EXIT_FAIL, "waitpid %d: %m", (int)pid);

	bool ok = check_reported_pid(out, pid, spawn_names[kind]);
	ok = snaps_unchanged(snaps, nsnaps, spawn_names[kind]) && ok;
	et_print_status(status);
	if (o.check_status && !et_status_is(status, o.status)) {
		fprintf(stderr, "exectest: fail: expected exit status %d\n", o.status);
		ok = false;
	}
	if (ok)
		printf("ok %s\n", spawn_names[kind]);
	return ok ? 0 : EXIT_FAIL;
}
