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
 *   exectest fdexec [--keep-fd] [--opath] [--memfd] [--unlink] [--fork] [--via HOW] PATH [ARGV0 ARG…]
 *   exectest arm64-fexecve   (both in exectest_fd.c)
 *   exectest spawn posix_spawn|vfork|fork|thread [--status N] PATH [ARGV0 ARG…]
 *   exectest errno [--thread] [--arg-bytes N] PATH [ARGV0 ARG…]
 *   exectest storm [--status N] N PATH [ARGV0 ARG…]
 *   exectest concurrent [--status N] N PATH [ARGV0 ARG…]
 *   exectest args|race-path|kill-race|forkstorm|fusehang|execmem|fusestack|threadexec …
 *       (hostile modes, see exectest_hostile.c)
 *   exectest sigurg [--status N] [--jobs J] [--main-stack] M INTERVAL_US PATH [ARGV0 ARG…]
 *       (a Go runtime's SIGURG preemption during raw execs, see exectest_sigurg.c)
 *   exectest ptrace CMD [ARG…]
 *       (runs CMD traced, following its children like strace -f, see exectest_ptrace.c)
 *
 * The program's whole argv is given (ARGV0 first); without it argv is just {PATH}.  A mode that
 * execs once only returns when the exec failed: it prints "errno NAME".  spawn (in
 * exectest_spawn.c) prints "pid N", "reported N", "ok pid", "out LINE"…, "ok memory unchanged",
 * "status N" and "ok KIND"; storm and concurrent (exectest_batch.c) append "storm-<i>" or
 * "conc-<i>" to child i's argv, expect exactly that line back, and print "ok N/N" (storm also
 * "signals N", "eintr N", "fdleak N").
 *
 * Exit status: 0 every check passed (errno: the errno was reported), 1 a check failed,
 * 2 usage error, 77 the host cannot do this (printed as "skip: REASON").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exectest.h"
#include "parse.h"

_noreturn_ _printf_(2, 3) void et_die(int status, const char *fmt, ...)
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

_noreturn_ _printf_(1, 2) void et_skip(const char *fmt, ...)
{
	va_list ap;

	fputs("skip: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	exit(EXIT_SKIP);
}

bool et_streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

const char *et_errno_name(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "E?";
}

/* The caller's exec came back: say which errno, on stdout for the scripts, with text on stderr. */
static _noreturn_ void exec_failed(const char *what, int err)
{
	printf("errno %s\n", et_errno_name(err));
	et_die(EXIT_FAIL, "%s: %s", what, strerror(err));
}

/* --- options and helpers shared by the modes ------------------------------------------------ */

int et_parse_opts(int argc, char **argv, unsigned allowed, struct opts *ret_opts)
{
	/* clang-format off */
	static const struct option longopts[] = {
		{ "keep-fd", no_argument, NULL, 'k' },
		{ "opath", no_argument, NULL, 'o' },
		{ "status", required_argument, NULL, 's' },
		{ "thread", no_argument, NULL, 't' },
		{ "arg-bytes", required_argument, NULL, 'b' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "main-stack", no_argument, NULL, 'm' },
		{},
	};
	/* clang-format on */
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
				et_die(EXIT_USAGE, "--status: '%s' is not 0..255", optarg);
			break;
		case 't':
			bit = OPT_THREAD;
			o.thread = true;
			break;
		case 'b':
			bit = OPT_ARG_BYTES;
			if (parse_u64(optarg, &v) < 0 || v > 64 * 1024 * 1024)
				et_die(EXIT_USAGE, "--arg-bytes: '%s' is not 0..64Mi", optarg);
			o.arg_bytes = (size_t)v;
			break;
		case 'j':
			bit = OPT_JOBS;
			if (parse_int(optarg, 1, 64, &o.jobs) < 0)
				et_die(EXIT_USAGE, "--jobs: '%s' is not 1..64", optarg);
			break;
		case 'm':
			bit = OPT_MAIN_STACK;
			o.main_stack = true;
			break;
		default:
			et_die(EXIT_USAGE, "%s: bad option (see the comment at the top of exectest.c)", argv[0]);
		}
		if (!(allowed & bit))
			et_die(EXIT_USAGE, "%s: option '%s' does not apply", argv[0], argv[optind - 1]);
	}
	*ret_opts = o;
	return optind;
}

/* Returned NULL-terminated and heap-allocated; the strings are not copied. */
char **et_make_argv(char **args, int nargs, char *fallback0, char *extra)
{
	char **v;
	int n = 0;

	if (nargs > MAX_ARGS)
		et_die(EXIT_USAGE, "more than %d arguments", MAX_ARGS);
	v = calloc((size_t)nargs + 3, sizeof(*v));
	if (!v)
		et_die(EXIT_FAIL, "out of memory");
	if (nargs == 0)
		v[n++] = fallback0;
	for (int i = 0; i < nargs; i++)
		v[n++] = args[i];
	if (extra)
		v[n++] = extra;
	v[n] = NULL;
	return v;
}

void et_need_operands(int argc, int first, int count, const char *mode)
{
	if (argc - first < count)
		et_die(EXIT_USAGE, "%s: missing operands (see the comment at the top of exectest.c)", mode);
}

/* Clears FD_CLOEXEC on fd when asked to keep it; the fd was opened close-on-exec. */
static void maybe_keep_fd(int fd, bool keep)
{
	if (keep && fcntl(fd, F_SETFD, 0) < 0)
		et_die(EXIT_FAIL, "clear FD_CLOEXEC: %m");
}

size_t et_read_all(int fd, char *buf, size_t size)
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

void et_print_status(int status)
{
	if (WIFEXITED(status))
		printf("status %d\n", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf("signal %d\n", WTERMSIG(status));
	else
		printf("wait-status 0x%x\n", (unsigned)status);
}

bool et_status_is(int status, int want)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == want;
}

/* --- single execs ----------------------------------------------------------------------------- */

/* execveat(dirfd, NAME, …, 0) with an O_PATH directory fd and a relative name. */
static int mode_execveat_dirfd(int argc, char **argv)
{
	struct opts o;
	int first = et_parse_opts(argc, argv, OPT_KEEP_FD, &o);
	et_need_operands(argc, first, 2, argv[0]);
	const char *dir = argv[first];
	char *name = argv[first + 1];
	char **args = et_make_argv(argv + first + 2, argc - first - 2, name, NULL);
	int dirfd;

	dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		et_die(EXIT_FAIL, "open '%s': %m", dir);
	maybe_keep_fd(dirfd, o.keep_fd);
	fflush(stdout);
	syscall(SYS_execveat, dirfd, name, args, environ, 0);
	exec_failed("execveat(dirfd)", errno);
}

/* fexecve on an O_RDONLY (or O_PATH) fd, close-on-exec unless --keep-fd. */
static int mode_fexecve(int argc, char **argv)
{
	struct opts o;
	int first = et_parse_opts(argc, argv, OPT_KEEP_FD | OPT_OPATH, &o);
	et_need_operands(argc, first, 1, argv[0]);
	char *path = argv[first];
	char **args = et_make_argv(argv + first + 1, argc - first - 1, path, NULL);
	int fd;

	fd = open(path, (o.opath ? O_PATH : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		et_die(EXIT_FAIL, "open '%s': %m", path);
	maybe_keep_fd(fd, o.keep_fd);
	fflush(stdout);
	fexecve(fd, args, environ);
	exec_failed("fexecve", errno);
}

/* Copies from to to until the end: 0, or -errno. */
int et_copy_fd(int from, int to)
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

/* An executable MFD_CLOEXEC memfd, open for writing, holding a copy of path; dies on failure. */
int et_memfd_copy(const char *path)
{
	_cleanup_close_ int src = open(path, O_RDONLY | O_CLOEXEC);
	int mfd, r;

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
	if (src < 0)
		et_die(EXIT_FAIL, "open '%s': %m", path);
	mfd = memfd_create("exectest", MFD_CLOEXEC | MFD_EXEC);
	if (mfd < 0 && errno == EINVAL)
		mfd = memfd_create("exectest", MFD_CLOEXEC);
	if (mfd < 0)
		et_die(EXIT_FAIL, "memfd_create: %m");
	r = et_copy_fd(src, mfd);
	if (r < 0)
		et_die(EXIT_FAIL, "copy '%s' into the memfd: %s", path, strerror(-r));
	return mfd;
}

/*
 * Copies PATH into a memfd and fexecve()s it.  Asks for MFD_EXEC where the kernel knows it
 * (vm.memfd_noexec may otherwise make the memfd non-executable).  Kernels that refuse to execute
 * a file open for writing (ETXTBSY) get a read-only reopen of the same memfd instead.
 */
static int mode_memfd(int argc, char **argv)
{
	struct opts o;
	int first = et_parse_opts(argc, argv, OPT_KEEP_FD, &o);
	et_need_operands(argc, first, 1, argv[0]);
	char *path = argv[first];
	char **args = et_make_argv(argv + first + 1, argc - first - 1, path, NULL);
	char proc[64];
	int mfd = et_memfd_copy(path), fd;

	maybe_keep_fd(mfd, o.keep_fd);
	fflush(stdout);
	fexecve(mfd, args, environ);
	if (errno != ETXTBSY)
		exec_failed("fexecve(memfd)", errno);

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", mfd);
	fd = open(proc, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		et_die(EXIT_FAIL, "reopen the memfd read-only through %s: %m", proc);
	close(mfd);
	maybe_keep_fd(fd, o.keep_fd);
	fexecve(fd, args, environ);
	exec_failed("fexecve(read-only memfd)", errno);
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
			 : "a"(11L), "b"((unsigned long)path), "c"((unsigned long)argv), "d"((unsigned long)envp)
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
	int first = et_parse_opts(argc, argv, 0, &o);
	et_need_operands(argc, first, 1, argv[0]);
	char *path = argv[first];
	char **args = et_make_argv(argv + first + 1, argc - first - 1, path, NULL);
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
	mem = mmap(NULL, ALIGN_UP(need, (size_t)4096), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
		   -1, 0);
	if (mem == MAP_FAILED)
		et_die(EXIT_FAIL, "mmap(MAP_32BIT): %m");
	if ((uintptr_t)mem + need > UINT32_MAX)
		et_die(EXIT_FAIL, "MAP_32BIT memory at %p is above 4 GiB", (void *)mem);

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
		et_skip("int 0x80 unavailable: it returned ENOSYS");
	if (r >= 0)
		et_die(EXIT_FAIL, "int 0x80 execve returned %d", r);
	exec_failed("int 0x80 execve", -r);
}
#else
static int mode_int80(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	et_skip("int 0x80 unavailable: not an x86-64 build");
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
	int first = et_parse_opts(argc, argv, OPT_THREAD | OPT_ARG_BYTES, &o);
	et_need_operands(argc, first, 1, argv[0]);
	char *path = argv[first], *big = NULL;
	char **args;
	pthread_t t;
	int err;

	if (o.arg_bytes) {
		big = malloc(o.arg_bytes + 1);
		if (!big)
			et_die(EXIT_FAIL, "out of memory");
		memset(big, 'x', o.arg_bytes);
		big[o.arg_bytes] = '\0';
	}
	args = et_make_argv(argv + first + 1, argc - first - 1, path, big);
	if (o.thread) {
		err = pthread_create(&t, NULL, park_thread, NULL);
		if (err)
			et_die(EXIT_FAIL, "pthread_create: %s", strerror(err));
	}
	fflush(stdout);
	execve(path, args, environ);
	err = errno;
	printf("errno %s\n", et_errno_name(err));
	fprintf(stderr, "exectest: execve '%s': %s\n", path, strerror(err));
	return 0;
}

/* --- main -------------------------------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	/* clang-format off */
} modes[] = {
	{ "execveat-dirfd", mode_execveat_dirfd },
	{ "fexecve", mode_fexecve },
	{ "memfd", mode_memfd },
	{ "fdexec", et_fdexec },
	{ "arm64-fexecve", et_arm64_fexecve },
	{ "int80", mode_int80 },
	{ "spawn", et_spawn },
	{ "errno", mode_errno },
	{ "storm", et_storm },
	{ "concurrent", et_concurrent },
	{ "args", et_args },
	{ "race-path", et_race_path },
	{ "kill-race", et_kill_race },
	{ "forkstorm", et_forkstorm },
	{ "fusehang", et_fusehang },
	{ "execmem", et_execmem },
	{ "fusestack", et_fusestack },
	{ "threadexec", et_threadexec },
	{ "sigurg", et_sigurg },
	{ "ptrace", et_ptrace },
};
/* clang-format on */

int main(int argc, char **argv)
{
	/* Line-buffered even into a pipe, so output before an exec or a fork is never lost twice. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		et_die(EXIT_USAGE, "usage: exectest MODE [OPTION…] ARG… (see the comment at the top of exectest.c)");
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
		if (et_streq(argv[1], modes[i].name))
			return modes[i].run(argc - 1, argv + 1);
	et_die(EXIT_USAGE, "unknown mode '%s'", argv[1]);
}
