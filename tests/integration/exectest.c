/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * exectest: a native helper for the integration tests.  Each mode performs one kind of exec that
 * ubinfmt has to get right (execveat with a directory fd, fexecve, a memfd copy, the i386
 * `int $0x80` ABI, launches through posix_spawn/vfork/fork/a thread, a signal storm, many execs at
 * once) and reports what happened as "key value" lines on stdout; diagnostics go to stderr.
 *
 * Built static so that it also runs inside a bare busybox rootfs.
 *
 *   exectest execveat-dirfd [--keep-fd] DIR NAME [ARGV0 ARG…]
 *   exectest fexecve [--keep-fd] [--opath] PATH [ARGV0 ARG…]
 *   exectest memfd [--keep-fd] PATH [ARGV0 ARG…]
 *   exectest int80 PATH [ARGV0 ARG…]
 *   exectest spawn posix_spawn|vfork|fork|thread [--status N] PATH [ARGV0 ARG…]
 *   exectest errno [--thread] [--arg-bytes N] PATH [ARGV0 ARG…]
 *   exectest storm [--status N] N PATH [ARGV0 ARG…]
 *   exectest concurrent [--status N] N PATH [ARGV0 ARG…]
 *
 * The program's whole argv is given (ARGV0 first); without it argv is just {PATH}.  A mode that
 * execs once only returns when the exec failed: it prints "errno NAME".
 *
 * Exit status: 0 every check passed (errno: the errno was reported), 1 a check failed,
 * 2 usage error, 77 the host cannot do this (printed as "skip: REASON").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "macros.h"
#include "parse.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_SKIP 77

/* Bounds on what the tests pass; generous, but a typo must not allocate gigabytes. */
#define MAX_ARGS 64
#define MAX_CHILDREN 1024
#define CHILD_OUTPUT_MAX 4096
#define SPAWN_OUTPUT_MAX 65536
#define BATCH_TIMEOUT_MS (240 * 1000)

extern char **environ;

static _noreturn_ _printf_(2, 3) void die(int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("exectest: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static _noreturn_ _printf_(1, 2) void skip(const char *fmt, ...)
{
	va_list ap;

	fputs("skip: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	exit(EXIT_SKIP);
}

static bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static const char *errno_name(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "E?";
}

/* The caller's exec came back: say which errno, on stdout for the scripts, with text on stderr. */
static _noreturn_ void exec_failed(const char *what, int err)
{
	printf("errno %s\n", errno_name(err));
	die(EXIT_FAIL, "%s: %s", what, strerror(err));
}

/* --- options shared by the modes ------------------------------------------------------------ */

enum {
	OPT_KEEP_FD = 1 << 0,
	OPT_OPATH = 1 << 1,
	OPT_STATUS = 1 << 2,
	OPT_THREAD = 1 << 3,
	OPT_ARG_BYTES = 1 << 4,
};

struct opts {
	bool keep_fd;   /* leave the exec'd fd open across exec (the default is close-on-exec) */
	bool opath;     /* fexecve an O_PATH fd instead of an O_RDONLY one */
	bool thread;    /* another thread is alive when the exec happens */
	bool check_status;
	int status;     /* expected exit status of each launched program */
	size_t arg_bytes; /* append one argument of this many bytes (E2BIG probes) */
};

/* Parses the options of one mode; argv[0] is the mode name.  Returns the index of the first operand. */
static int parse_opts(int argc, char **argv, unsigned allowed, struct opts *ret_opts)
{
	static const struct option longopts[] = {
		{ "keep-fd", no_argument, NULL, 'k' },
		{ "opath", no_argument, NULL, 'o' },
		{ "status", required_argument, NULL, 's' },
		{ "thread", no_argument, NULL, 't' },
		{ "arg-bytes", required_argument, NULL, 'b' },
		{},
	};
	struct opts o = {};
	uint64_t v;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		unsigned bit;

		switch (c) {
		case 'k':
			bit = OPT_KEEP_FD;
			o.keep_fd = true;
			break;
		case 'o':
			bit = OPT_OPATH;
			o.opath = true;
			break;
		case 's':
			bit = OPT_STATUS;
			o.check_status = true;
			if (parse_int(optarg, 0, 255, &o.status) < 0)
				die(EXIT_USAGE, "--status: '%s' is not 0..255", optarg);
			break;
		case 't':
			bit = OPT_THREAD;
			o.thread = true;
			break;
		case 'b':
			bit = OPT_ARG_BYTES;
			if (parse_u64(optarg, &v) < 0 || v > 64 * 1024 * 1024)
				die(EXIT_USAGE, "--arg-bytes: '%s' is not 0..64Mi", optarg);
			o.arg_bytes = (size_t)v;
			break;
		default:
			die(EXIT_USAGE, "%s: bad option (see the comment at the top of exectest.c)", argv[0]);
		}
		if (!(allowed & bit))
			die(EXIT_USAGE, "%s: option '%s' does not apply", argv[0], argv[optind - 1]);
	}
	*ret_opts = o;
	return optind;
}

/*
 * The argv to exec: operands after PATH, or {PATH} alone; plus an optional extra last argument.
 * Returned NULL-terminated and heap-allocated; the strings are not copied.
 */
static char **make_argv(char **args, int nargs, char *fallback0, char *extra)
{
	char **v;
	int n = 0;

	if (nargs > MAX_ARGS)
		die(EXIT_USAGE, "more than %d arguments", MAX_ARGS);
	v = calloc((size_t)nargs + 3, sizeof(*v));
	if (!v)
		die(EXIT_FAIL, "out of memory");
	if (nargs == 0)
		v[n++] = fallback0;
	for (int i = 0; i < nargs; i++)
		v[n++] = args[i];
	if (extra)
		v[n++] = extra;
	v[n] = NULL;
	return v;
}

static void need_operands(int argc, int first, int count, const char *mode)
{
	if (argc - first < count)
		die(EXIT_USAGE, "%s: missing operands (see the comment at the top of exectest.c)", mode);
}

/* Clears FD_CLOEXEC on fd when asked to keep it; the fd was opened close-on-exec. */
static void maybe_keep_fd(int fd, bool keep)
{
	if (keep && fcntl(fd, F_SETFD, 0) < 0)
		die(EXIT_FAIL, "clear FD_CLOEXEC: %m");
}

/* --- single execs ----------------------------------------------------------------------------- */

/* execveat(dirfd, NAME, …, 0) with an O_PATH directory fd and a relative name. */
static int mode_execveat_dirfd(int argc, char **argv)
{
	struct opts o;
	int first = parse_opts(argc, argv, OPT_KEEP_FD, &o);
	need_operands(argc, first, 2, argv[0]);
	const char *dir = argv[first];
	char *name = argv[first + 1];
	char **args = make_argv(argv + first + 2, argc - first - 2, name, NULL);
	int dirfd;

	dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		die(EXIT_FAIL, "open '%s': %m", dir);
	maybe_keep_fd(dirfd, o.keep_fd);
	fflush(stdout);
	syscall(SYS_execveat, dirfd, name, args, environ, 0);
	exec_failed("execveat(dirfd)", errno);
}

/* fexecve on an O_RDONLY (or O_PATH) fd, close-on-exec unless --keep-fd. */
static int mode_fexecve(int argc, char **argv)
{
	struct opts o;
	int first = parse_opts(argc, argv, OPT_KEEP_FD | OPT_OPATH, &o);
	need_operands(argc, first, 1, argv[0]);
	char *path = argv[first];
	char **args = make_argv(argv + first + 1, argc - first - 1, path, NULL);
	int fd;

	fd = open(path, (o.opath ? O_PATH : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		die(EXIT_FAIL, "open '%s': %m", path);
	maybe_keep_fd(fd, o.keep_fd);
	fflush(stdout);
	fexecve(fd, args, environ);
	exec_failed("fexecve", errno);
}

static int copy_fd(int from, int to)
{
	char buf[65536];

	for (;;) {
		ssize_t n = read(from, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(to, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -errno;
			off += w;
		}
	}
}

/*
 * Copies PATH into a memfd and fexecve()s it.  Asks for MFD_EXEC where the kernel knows it
 * (vm.memfd_noexec may otherwise make the memfd non-executable).  The writable fd is replaced by a
 * read-only reopen, because a file open for writing cannot be executed (ETXTBSY).
 */
static int mode_memfd(int argc, char **argv)
{
	struct opts o;
	int first = parse_opts(argc, argv, OPT_KEEP_FD, &o);
	need_operands(argc, first, 1, argv[0]);
	char *path = argv[first];
	char **args = make_argv(argv + first + 1, argc - first - 1, path, NULL);
	_cleanup_close_ int src = -1, mfd = -1;
	char proc[64];
	int fd, r;

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
	src = open(path, O_RDONLY | O_CLOEXEC);
	if (src < 0)
		die(EXIT_FAIL, "open '%s': %m", path);
	mfd = memfd_create("exectest", MFD_CLOEXEC | MFD_EXEC);
	if (mfd < 0 && errno == EINVAL)
		mfd = memfd_create("exectest", MFD_CLOEXEC);
	if (mfd < 0)
		die(EXIT_FAIL, "memfd_create: %m");
	r = copy_fd(src, mfd);
	if (r < 0)
		die(EXIT_FAIL, "copy '%s' into the memfd: %s", path, strerror(-r));
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", mfd);
	fd = open(proc, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(EXIT_FAIL, "reopen the memfd read-only through %s: %m", proc);
	close(TAKE_FD(mfd));
	maybe_keep_fd(fd, o.keep_fd);
	fflush(stdout);
	fexecve(fd, args, environ);
	exec_failed("fexecve(memfd)", errno);
}

#if defined(__x86_64__)
static void int80_fault(int sig)
{
	static const char msg[] = "skip: int 0x80 unavailable: the instruction faulted\n";

	(void)sig;
	(void)!write(STDOUT_FILENO, msg, sizeof(msg) - 1);
	_exit(EXIT_SKIP);
}

/* execve through the i386 syscall ABI from 64-bit code: eax=11, ebx/ecx/edx = 32-bit pointers. */
static int int80_execve(uint32_t path, uint32_t argv, uint32_t envp)
{
	long ret;

	/* The kernel may clear r8-r15 on the way back from a compat syscall. */
	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(11L), "b"((unsigned long)path), "c"((unsigned long)argv),
			   "d"((unsigned long)envp)
			 : "memory", "cc", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15");
	return (int)ret;
}

/* Bump allocator inside the MAP_32BIT block; the block was sized for everything copied in. */
static uint32_t put32(char *base, size_t *off, const void *data, size_t len)
{
	uint32_t at = (uint32_t)(uintptr_t)(base + *off);

	memcpy(base + *off, data, len);
	*off += len;
	return at;
}

static int mode_int80(int argc, char **argv)
{
	struct opts o;
	int first = parse_opts(argc, argv, 0, &o);
	need_operands(argc, first, 1, argv[0]);
	char *path = argv[first];
	char **args = make_argv(argv + first + 1, argc - first - 1, path, NULL);
	size_t nargs = 0, nenv = 0, need, off = 0;
	uint32_t path32, *argv32, *envp32;
	char *mem;
	int r;

	need = strlen(path) + 1;
	for (; args[nargs]; nargs++)
		need += strlen(args[nargs]) + 1;
	for (; environ[nenv]; nenv++)
		need += strlen(environ[nenv]) + 1;
	need += (nargs + 1 + nenv + 1) * sizeof(uint32_t) + 16;
	mem = mmap(NULL, ALIGN_UP(need, (size_t)4096), PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (mem == MAP_FAILED)
		die(EXIT_FAIL, "mmap(MAP_32BIT): %m");
	if ((uintptr_t)mem + need > UINT32_MAX)
		die(EXIT_FAIL, "MAP_32BIT memory at %p is above 4 GiB", (void *)mem);

	argv32 = (uint32_t *)mem;
	envp32 = argv32 + nargs + 1;
	off = (nargs + 1 + nenv + 1) * sizeof(uint32_t);
	path32 = put32(mem, &off, path, strlen(path) + 1);
	for (size_t i = 0; i < nargs; i++)
		argv32[i] = put32(mem, &off, args[i], strlen(args[i]) + 1);
	argv32[nargs] = 0;
	for (size_t i = 0; i < nenv; i++)
		envp32[i] = put32(mem, &off, environ[i], strlen(environ[i]) + 1);
	envp32[nenv] = 0;

	/* Without IA32 emulation the instruction faults instead of returning -ENOSYS. */
	signal(SIGSEGV, int80_fault);
	signal(SIGILL, int80_fault);
	fflush(stdout);
	r = int80_execve(path32, (uint32_t)(uintptr_t)argv32, (uint32_t)(uintptr_t)envp32);
	signal(SIGSEGV, SIG_DFL);
	signal(SIGILL, SIG_DFL);
	if (r == -ENOSYS)
		skip("int 0x80 unavailable: it returned ENOSYS");
	if (r >= 0)
		die(EXIT_FAIL, "int 0x80 execve returned %d", r);
	exec_failed("int 0x80 execve", -r);
}
#else
static int mode_int80(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	skip("int 0x80 unavailable: not an x86-64 build");
}
#endif

/* --- errno ------------------------------------------------------------------------------------- */

static void *park_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/*
 * execve PATH and print "errno NAME" when it fails (exit 0: reporting is this mode's job).
 * --thread: a second thread is alive at the exec (a multithreaded caller).
 * --arg-bytes N: append one argument of N bytes (E2BIG past MAX_ARG_STRLEN).
 */
static int mode_errno(int argc, char **argv)
{
	struct opts o;
	int first = parse_opts(argc, argv, OPT_THREAD | OPT_ARG_BYTES, &o);
	need_operands(argc, first, 1, argv[0]);
	char *path = argv[first], *big = NULL;
	char **args;
	pthread_t t;
	int err;

	if (o.arg_bytes) {
		big = malloc(o.arg_bytes + 1);
		if (!big)
			die(EXIT_FAIL, "out of memory");
		memset(big, 'x', o.arg_bytes);
		big[o.arg_bytes] = '\0';
	}
	args = make_argv(argv + first + 1, argc - first - 1, path, big);
	if (o.thread) {
		err = pthread_create(&t, NULL, park_thread, NULL);
		if (err)
			die(EXIT_FAIL, "pthread_create: %s", strerror(err));
	}
	fflush(stdout);
	execve(path, args, environ);
	err = errno;
	printf("errno %s\n", errno_name(err));
	fprintf(stderr, "exectest: execve '%s': %s\n", path, strerror(err));
	return 0;
}

/* --- spawn: one launch, checked for pid, memory and status ----------------------------------- */

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
		die(EXIT_FAIL, "out of memory");
	memcpy(s->copy, addr, len);
}

static bool snap_same(const struct snap *s)
{
	return memcmp(s->addr, s->copy, s->len) == 0;
}

static size_t read_all(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return len;
}

static void print_status(int status)
{
	if (WIFEXITED(status))
		printf("status %d\n", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf("signal %d\n", WTERMSIG(status));
	else
		printf("wait-status 0x%x\n", (unsigned)status);
}

static bool status_is(int status, int want)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == want;
}

/*
 * Launches PATH once through the chosen primitive.  The path and argv live in this function's
 * stack frame (a vfork child and a posix_spawn helper run on or beside it), and are snapshotted
 * before and compared after.  The program's first output line must be its own pid.
 */
static int mode_spawn(int argc, char **argv)
{
	struct opts o;
	int first;
	enum spawn_kind kind = SPAWN_KIND_MAX;
	char strings[8192], *av[MAX_ARGS + 1], *p = strings, *end = strings + sizeof(strings);
	struct snap snaps[MAX_ARGS + 2];
	size_t nsnaps = 0;
	char out[SPAWN_OUTPUT_MAX];
	int pipefd[2], status, reported = -1, nargs;
	pid_t pid = -1;
	bool ok = true;
	char *nl;
	int r;

	if (argc < 2)
		die(EXIT_USAGE, "spawn: missing MODE (posix_spawn|vfork|fork|thread)");
	for (int k = 0; k < SPAWN_KIND_MAX; k++)
		if (streq(argv[1], spawn_names[k]))
			kind = (enum spawn_kind)k;
	if (kind == SPAWN_KIND_MAX)
		die(EXIT_USAGE, "spawn: unknown mode '%s'", argv[1]);
	first = parse_opts(argc - 1, argv + 1, OPT_STATUS, &o) + 1;
	need_operands(argc, first, 1, "spawn");

	/* Copy PATH and argv into this frame; argv defaults to {PATH}. */
	nargs = argc - first - 1;
	if (nargs > MAX_ARGS - 1)
		die(EXIT_USAGE, "spawn: more than %d arguments", MAX_ARGS - 1);
	for (int i = 0; i <= nargs; i++) {
		const char *src = argv[first + i];
		size_t len = strlen(src) + 1;

		if ((size_t)(end - p) < len)
			die(EXIT_USAGE, "spawn: arguments longer than %zu bytes", sizeof(strings));
		memcpy(p, src, len);
		av[i] = p;
		p += len;
	}
	av[nargs + 1] = NULL;
	/* av[0] is PATH; the program's argv starts at av[1], or is {PATH} (av itself) when none was given. */
	char *const path = av[0];
	char **pargv = nargs > 0 ? av + 1 : av;
	int pargc = nargs > 0 ? nargs : 1;

	snap_take(&snaps[nsnaps++], "path", path, strlen(path) + 1);
	for (int i = 0; i < pargc; i++)
		snap_take(&snaps[nsnaps++], "argv string", pargv[i], strlen(pargv[i]) + 1);
	snap_take(&snaps[nsnaps++], "argv array", pargv, sizeof(char *) * ((size_t)pargc + 1));

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		die(EXIT_FAIL, "pipe2: %m");
	struct launch l = { .path = path, .argv = pargv, .outfd = pipefd[1] };
	fflush(stdout);
	r = launch(kind, &l, &pid);
	close(pipefd[1]);
	if (r < 0)
		die(EXIT_FAIL, "%s '%s': %s", spawn_names[kind], path, strerror(-r));
	read_all(pipefd[0], out, sizeof(out));
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) < 0)
		die(EXIT_FAIL, "waitpid %d: %m", (int)pid);

	printf("pid %d\n", (int)pid);
	nl = strchr(out, '\n');
	if (nl)
		*nl = '\0';
	if (parse_int(out, 1, INT32_MAX, &reported) < 0) {
		printf("reported '%s'\n", out);
		fprintf(stderr, "exectest: fail: the program's first line is not a pid: '%s'\n", out);
		ok = false;
	} else if (reported != pid) {
		printf("reported %d\n", reported);
		fprintf(stderr, "exectest: fail: %s gave pid %d, the program says it is %d\n",
			spawn_names[kind], (int)pid, reported);
		ok = false;
	} else {
		printf("reported %d\nok pid\n", reported);
	}
	if (nl && nl[1]) {
		for (char *line = nl + 1, *next; *line; line = next) {
			next = strchrnul(line, '\n');
			printf("out %.*s\n", (int)(next - line), line);
			if (*next)
				next++;
		}
	}

	bool same = true;
	for (size_t i = 0; i < nsnaps; i++) {
		if (!snap_same(&snaps[i])) {
			fprintf(stderr, "exectest: fail: the caller's %s at %p changed during %s\n",
				snaps[i].what, snaps[i].addr, spawn_names[kind]);
			same = false;
		}
		free(snaps[i].copy);
	}
	if (same)
		printf("ok memory unchanged\n");
	ok = ok && same;

	print_status(status);
	if (o.check_status && !status_is(status, o.status)) {
		fprintf(stderr, "exectest: fail: expected exit status %d\n", o.status);
		ok = false;
	}
	if (ok)
		printf("ok %s\n", spawn_names[kind]);
	return ok ? 0 : EXIT_FAIL;
}

/* --- batches: many children, each printing its own tag ---------------------------------------- */

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
		die(EXIT_FAIL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		snprintf(c[i].tag, sizeof(c[i].tag), "%s-%zu", prefix, i);
		c[i].argv = make_argv(args, nargs, path, c[i].tag);
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
	size_t open = n;

	if (!pfd)
		die(EXIT_FAIL, "out of memory");
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (open > 0) {
		for (size_t i = 0; i < n; i++)
			pfd[i] = (struct pollfd){ .fd = c[i].out, .events = POLLIN };
		int r = poll(pfd, n, 1000);
		if (r < 0 && errno != EINTR)
			die(EXIT_FAIL, "poll: %m");
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
				open--;
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
				die(EXIT_FAIL, "waitpid %d: %m", (int)c[i].pid);
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
		ok = streq(c[i].buf, want) && status_is(c[i].status, want_status);
		if (ok) {
			good++;
			continue;
		}
		printf("bad %s pid %d output '%.*s' ", c[i].tag, (int)c[i].pid,
		       (int)strcspn(c[i].buf, "\n"), c[i].buf);
		print_status(c[i].status);
	}
	printf("%s %zu/%zu\n", good == n ? "ok" : "fail", good, n);
	if (good != n) {
		fprintf(stderr, "exectest: fail: %s: %zu of %zu children went wrong\n", mode, n - good, n);
		return EXIT_FAIL;
	}
	return 0;
}

/*
 * In a forked batch child: stdout to its pipe, then exec, retrying what a signal interrupted.
 * eintr, when given, is a counter in memory shared with the parent.
 */
static _noreturn_ void child_exec(const char *path, char **argv, int outfd, unsigned long *eintr)
{
	if (dup2(outfd, STDOUT_FILENO) < 0)
		_exit(126);
	for (;;) {
		execve(path, argv, environ);
		if (errno != EINTR)
			break;
		/*
		 * A handler without SA_RESTART ran while the exec waited in a seccomp notification:
		 * the kernel fails such a wait with EINTR (a plain execve never does).  Count it and
		 * retry, as a robust caller would.
		 */
		if (eintr)
			__atomic_fetch_add(eintr, 1, __ATOMIC_RELAXED);
	}
	fprintf(stderr, "exectest: execve '%s': %m\n", path);
	_exit(127);
}

static size_t parse_count(const char *s, const char *mode)
{
	int n;

	if (parse_int(s, 1, MAX_CHILDREN, &n) < 0)
		die(EXIT_USAGE, "%s: N must be 1..%d, not '%s'", mode, MAX_CHILDREN, s);
	return (size_t)n;
}

/* Starts every child blocked on a release pipe, then lets them all exec at the same moment. */
static int mode_concurrent(int argc, char **argv)
{
	struct opts o;
	int first = parse_opts(argc, argv, OPT_STATUS, &o);
	need_operands(argc, first, 2, argv[0]);
	size_t n = parse_count(argv[first], argv[0]);
	char *path = argv[first + 1];
	struct child *c = children_new(n, "conc", argv + first + 2, argc - first - 2, path);
	int release[2], r;

	if (pipe2(release, O_CLOEXEC) < 0)
		die(EXIT_FAIL, "pipe2: %m");
	fflush(stdout);
	for (size_t i = 0; i < n; i++) {
		int out[2];

		if (pipe2(out, O_CLOEXEC) < 0)
			die(EXIT_FAIL, "pipe2: %m");
		c[i].pid = fork();
		if (c[i].pid < 0) {
			children_kill(c, i);
			die(EXIT_FAIL, "fork: %m");
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
	r = children_collect(c, n);
	if (r < 0) {
		children_kill(c, n);
		children_reap(c, n);
		die(EXIT_FAIL, "concurrent: children still running after %d s", BATCH_TIMEOUT_MS / 1000);
	}
	children_reap(c, n);
	return children_verify(c, n, o.check_status ? o.status : 0, "concurrent");
}

static void on_storm_signal(int sig)
{
	(void)sig;
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

/*
 * Forks N children that each exec PATH with a distinct last argument while a thread showers
 * them with signals: SIGURG has a handler with SA_RESTART, SIGWINCH one without.  These two are
 * used rather than SIGUSR1/2 because their default action (after the exec resets handlers) is to
 * ignore them: a SIGUSR1 that lands just after a successful exec would kill the program.
 */
static int mode_storm(int argc, char **argv)
{
	struct opts o;
	int first = parse_opts(argc, argv, OPT_STATUS, &o);
	need_operands(argc, first, 2, argv[0]);
	size_t n = parse_count(argv[first], argv[0]);
	char *path = argv[first + 1];
	struct storm s = { .n = n };
	struct sigaction sa = { .sa_handler = on_storm_signal };
	unsigned long *eintr;
	pthread_t sender;
	int r;

	eintr = mmap(NULL, sizeof(*eintr), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (eintr == MAP_FAILED)
		die(EXIT_FAIL, "mmap: %m");
	*eintr = 0;

	s.c = children_new(n, "storm", argv + first + 2, argc - first - 2, path);
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGURG, &sa, NULL) < 0)
		die(EXIT_FAIL, "sigaction SIGURG: %m");
	sa.sa_flags = 0;
	if (sigaction(SIGWINCH, &sa, NULL) < 0)
		die(EXIT_FAIL, "sigaction SIGWINCH: %m");
	r = pthread_create(&sender, NULL, storm_sender, &s);
	if (r)
		die(EXIT_FAIL, "pthread_create: %s", strerror(r));

	fflush(stdout);
	for (size_t i = 0; i < n; i++) {
		int out[2];

		if (pipe2(out, O_CLOEXEC) < 0)
			die(EXIT_FAIL, "pipe2: %m");
		s.c[i].pid = fork();
		if (s.c[i].pid < 0) {
			atomic_store(&s.stop, true);
			pthread_join(sender, NULL);
			children_kill(s.c, i);
			die(EXIT_FAIL, "fork: %m");
		}
		if (s.c[i].pid == 0)
			child_exec(path, s.c[i].argv, out[1], eintr);
		close(out[1]);
		s.c[i].out = out[0];
		atomic_store(&s.started, i + 1);
	}
	r = children_collect(s.c, n);
	atomic_store(&s.stop, true);
	pthread_join(sender, NULL);
	if (r < 0) {
		children_kill(s.c, n);
		children_reap(s.c, n);
		die(EXIT_FAIL, "storm: children still running after %d s", BATCH_TIMEOUT_MS / 1000);
	}
	children_reap(s.c, n);
	printf("signals %lu\n", s.sent);
	/* Not a failure (every child still ran the right program), but worth seeing. */
	printf("eintr %lu\n", __atomic_load_n(eintr, __ATOMIC_RELAXED));
	return children_verify(s.c, n, o.check_status ? o.status : 0, "storm");
}

/* --- main -------------------------------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} modes[] = {
	{ "execveat-dirfd", mode_execveat_dirfd },
	{ "fexecve", mode_fexecve },
	{ "memfd", mode_memfd },
	{ "int80", mode_int80 },
	{ "spawn", mode_spawn },
	{ "errno", mode_errno },
	{ "storm", mode_storm },
	{ "concurrent", mode_concurrent },
};

int main(int argc, char **argv)
{
	/* Line-buffered even into a pipe, so output before an exec or a fork is never lost twice. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		die(EXIT_USAGE, "usage: exectest MODE [OPTION…] ARG… (see the comment at the top of exectest.c)");
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
		if (streq(argv[1], modes[i].name))
			return modes[i].run(argc - 1, argv + 1);
	die(EXIT_USAGE, "unknown mode '%s'", argv[1]);
}
