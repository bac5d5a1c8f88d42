/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * exectest's hostile modes, for the t_hostile_*.sh tests: a sandbox doing its worst to the
 * supervisor.
 *
 *   exectest args [--empty-argv] [--bad-argv|--bad-envp|--bad-path] [--count N] [--size M]
 *                 [--env-count N] [--env-size M] PATH [ARGV0 ARG…]
 *       execve PATH with N extra arguments (and N extra environment strings) of M bytes each,
 *       or with an empty argv, or with an argv, envp or path pointer into unmapped memory;
 *       prints "errno NAME" when the exec fails.
 *   exectest race-path N FOREIGN NATIVE
 *       N times: a child execs a path buffer that another of its threads keeps flipping between
 *       FOREIGN and NATIVE (same length), as `uname -m`; prints "ran MACHINE K" per machine,
 *       "errno NAME K" per exec errno, "status S K" for children that ran but failed.
 *   exectest kill-race N MAXUS PATH [ARGV0 ARG…]
 *       N times: a child execs PATH and is SIGKILLed after a pseudo-random 0..MAXUS µs (the
 *       delays sweep the whole range); prints "killed K", "exited K".
 *   exectest fusehang [--release-after SECS] MNT CMD [ARG…]
 *       serves a FUSE file system at MNT whose lookup of "hang" never returns, and whose file
 *       "mem" opens but is never read (see below).
 *   exectest execmem FILE
 *       maps FILE and execs the path that its first page would hold, without reading it: the
 *       exec path lies in memory only FILE's server can fill; prints "errno NAME".
 *   exectest fusestack [--code] FILE PATH [ARGV0 ARG…]
 *       maps a page of FILE, moves the stack pointer onto it (--code: the syscall's return
 *       address) and execs PATH with a raw syscall, never touching the page itself: whoever
 *       writes below the stack pointer (the exec rewrite's scratch block) or reads the code
 *       there (a code stub) waits for FILE's server; prints "errno NAME".
 *   exectest forkstorm N PAR PATH [ARGV0 ARG…]
 *       N children, at most PAR alive at once, each execs PATH; prints "ok K/N" (exit 0) and the
 *       other statuses.
 *   exectest threadexec FILE DELAY_MS PATH [ARGV0 ARG…]
 *       a second thread execs FILE; DELAY_MS later the main thread execs PATH: the main
 *       thread's exec meets an exec of another thread of its process still under way (see
 *       below); prints "tid N" (the second thread), "thread errno NAME", "errno NAME".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fuse.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#include "exectest.h"
#include "parse.h"

#define MAX_RUNS 1000000

static int parse_count(const char *s, int min, int max, const char *what)
{
	int v;

	if (parse_int(s, min, max, &v) < 0)
		et_die(EXIT_USAGE, "%s must be %d..%d, not '%s'", what, min, max, s);
	return v;
}

/* --- args -------------------------------------------------------------------------------------- */

static char **fill(char **v, size_t n, size_t count, size_t size, char c)
{
	for (size_t i = 0; i < count; i++) {
		char *s = malloc(size + 1);
		if (!s)
			et_die(EXIT_FAIL, "out of memory");
		memset(s, c, size);
		if (size >= 2 && c == 'E')
			s[1] = '='; /* "E=EEEE…": a well-formed environment string */
		s[size] = '\0';
		v[n++] = s;
	}
	v[n] = NULL;
	return v;
}

int et_args(int argc, char **argv)
{
	size_t count = 0, size = 1, env_count = 0, env_size = 8;
	bool empty = false, bad_argv = false, bad_envp = false, bad_path = false;
	int i = 1;
	uint64_t u;

	for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		if (et_streq(argv[i], "--empty-argv")) {
			empty = true;
			continue;
		}
		if (et_streq(argv[i], "--bad-argv") || et_streq(argv[i], "--bad-envp") ||
		    et_streq(argv[i], "--bad-path")) {
			bad_argv |= argv[i][6] == 'a';
			bad_envp |= argv[i][6] == 'e';
			bad_path |= argv[i][6] == 'p';
			continue;
		}
		if (i + 1 >= argc || parse_u64(argv[i + 1], &u) < 0 || u > (1u << 26))
			et_die(EXIT_USAGE, "args: '%s' needs a number up to 64Mi", argv[i]);
		if (et_streq(argv[i], "--count"))
			count = (size_t)u;
		else if (et_streq(argv[i], "--size"))
			size = (size_t)u;
		else if (et_streq(argv[i], "--env-count"))
			env_count = (size_t)u;
		else if (et_streq(argv[i], "--env-size"))
			env_size = (size_t)u;
		else
			et_die(EXIT_USAGE, "args: unknown option '%s'", argv[i]);
		i++;
	}
	et_need_operands(argc, i, 1, "args");
	char *path = argv[i];
	int nargs = argc - i - 1;
	size_t n = 0;
	char **av = calloc((size_t)nargs + count + 2, sizeof(*av));
	size_t n_env = 0;
	while (environ[n_env])
		n_env++;
	char **ev = calloc(n_env + env_count + 1, sizeof(*ev));
	if (!av || !ev)
		et_die(EXIT_FAIL, "out of memory");

	if (!empty) {
		if (nargs == 0)
			av[n++] = path;
		for (int k = 0; k < nargs; k++)
			av[n++] = argv[i + 1 + k];
		fill(av, n, count, size, 'a');
	}
	memcpy(ev, environ, n_env * sizeof(*ev));
	fill(ev, n_env, env_count, env_size, 'E');
	fflush(stdout);
	/* Page 0 is never mapped (mmap_min_addr): every read of these pointers faults. */
	execve(bad_path ? (char *)16 : path, bad_argv ? (char **)16 : av, bad_envp ? (char **)16 : ev);
	int err = errno;
	printf("errno %s\n", et_errno_name(err));
	fprintf(stderr, "exectest: execve '%s': %s\n", path, strerror(err));
	return 0;
}

/* --- race-path --------------------------------------------------------------------------------- */

struct flip {
	char *buf;
	const char *a, *b;
	size_t len;
};

static void *flipper(void *arg)
{
	struct flip *f = arg;

	for (unsigned long i = 0;; i++) {
		/* Byte by byte, so that a reader can also catch a mix of both. */
		const char *src = i & 1 ? f->b : f->a;
		for (size_t k = 0; k < f->len; k++)
			((volatile char *)f->buf)[k] = src[k];
	}
	return NULL;
}

struct tally {
	char key[64];
	unsigned n;
};

static void count(struct tally *t, size_t max, const char *key)
{
	for (size_t i = 0; i < max; i++) {
		if (t[i].n && strcmp(t[i].key, key) == 0) {
			t[i].n++;
			return;
		}
		if (!t[i].n) {
			snprintf(t[i].key, sizeof(t[i].key), "%s", key);
			t[i].n = 1;
			return;
		}
	}
}

static void print_tally(const struct tally *t, size_t max)
{
	for (size_t i = 0; i < max && t[i].n; i++)
		printf("%s %u\n", t[i].key, t[i].n);
}

/* Runs one child that execs through a flipping path; its stdout comes back through a pipe. */
static void race_once(const char *a, const char *b, struct tally *t, size_t tmax)
{
	static char buf[4096];
	int p[2];
	pid_t pid;

	if (pipe(p) < 0)
		et_die(EXIT_FAIL, "pipe: %m");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		et_die(EXIT_FAIL, "fork: %m");
	if (pid == 0) {
		static char path[4096];
		struct flip f = { .buf = path, .a = a, .b = b, .len = strlen(a) + 1 };
		pthread_t th;
		char *av[] = { "uname", "-m", NULL };

		close(p[0]);
		dup2(p[1], 1);
		dup2(p[1], 2);
		memcpy(path, a, f.len);
		if (pthread_create(&th, NULL, flipper, &f) != 0)
			_exit(3);
		execve(path, av, environ);
		dprintf(1, "errno %s\n", et_errno_name(errno));
		_exit(0);
	}
	close(p[1]);
	size_t n = et_read_all(p[0], buf, sizeof(buf));
	close(p[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	char key[64];
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	buf[40] = '\0'; /* keys stay short: the output is one word when things went right */
	if (strncmp(buf, "errno ", 6) == 0)
		snprintf(key, sizeof(key), "%.40s", buf);
	else if (et_status_is(status, 0) && n > 0 && !strchr(buf, '\n') && !strchr(buf, ' '))
		snprintf(key, sizeof(key), "ran %.40s", buf);
	else if (WIFEXITED(status))
		snprintf(key, sizeof(key), "status %d", WEXITSTATUS(status));
	else
		snprintf(key, sizeof(key), "wait-status 0x%x", (unsigned)status);
	count(t, tmax, key);
}

int et_race_path(int argc, char **argv)
{
	struct tally t[32] = { 0 };

	et_need_operands(argc, 1, 3, "race-path");
	int n = parse_count(argv[1], 1, MAX_RUNS, "race-path: N");
	if (strlen(argv[2]) != strlen(argv[3]) || strlen(argv[2]) >= 4096)
		et_die(EXIT_USAGE, "race-path: FOREIGN and NATIVE must have the same length");
	for (int i = 0; i < n; i++)
		race_once(argv[2], argv[3], t, ARRAY_SIZE(t));
	print_tally(t, ARRAY_SIZE(t));
	return 0;
}

/* --- kill-race --------------------------------------------------------------------------------- */

int et_kill_race(int argc, char **argv)
{
	unsigned killed = 0, exited = 0, other = 0;

	et_need_operands(argc, 1, 3, "kill-race");
	int n = parse_count(argv[1], 1, MAX_RUNS, "kill-race: N");
	int maxus = parse_count(argv[2], 0, 10 * 1000 * 1000, "kill-race: MAXUS");
	char *path = argv[3];
	char **av = et_make_argv(argv + 4, argc - 4, path, NULL);
	uint32_t x = 2463534242u;

	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			et_die(EXIT_FAIL, "fork: %m");
		if (pid == 0) {
			execve(path, av, environ);
			_exit(127);
		}
		/* A sweep over 0..MAXUS, jittered (xorshift), so every phase gets hit. */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		long us = maxus ? ((long)i * maxus / n + (long)(x % 50u)) % (maxus + 1) : 0;
		struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		kill(pid, SIGKILL);
		int status;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			killed++;
		else if (WIFEXITED(status))
			exited++;
		else
			other++;
	}
	printf("killed %u\nexited %u\n", killed, exited);
	if (other)
		printf("other %u\n", other);
	return 0;
}

/* --- forkstorm --------------------------------------------------------------------------------- */

int et_forkstorm(int argc, char **argv)
{
	struct tally t[32] = { 0 };
	unsigned ok = 0;
	int alive = 0;

	et_need_operands(argc, 1, 3, "forkstorm");
	int n = parse_count(argv[1], 1, MAX_RUNS, "forkstorm: N");
	int par = parse_count(argv[2], 1, 4096, "forkstorm: PAR");
	char *path = argv[3];
	char **av = et_make_argv(argv + 4, argc - 4, path, NULL);

	fflush(stdout);
	for (int started = 0; started < n || alive > 0;) {
		while (started < n && alive < par) {
			pid_t pid = fork();
			if (pid < 0) {
				if (errno == EAGAIN && alive > 0)
					break; /* the pid limit: reap first */
				et_die(EXIT_FAIL, "fork: %m");
			}
			if (pid == 0) {
				execve(path, av, environ);
				_exit(127);
			}
			started++;
			alive++;
		}
		int status;
		pid_t pid = wait(&status);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			et_die(EXIT_FAIL, "wait: %m");
		}
		alive--;
		if (et_status_is(status, 0)) {
			ok++;
		} else {
			char key[64];
			if (WIFEXITED(status))
				snprintf(key, sizeof(key), "status %d", WEXITSTATUS(status));
			else
				snprintf(key, sizeof(key), "signal %d", WTERMSIG(status));
			count(t, ARRAY_SIZE(t), key);
		}
	}
	printf("ok %u/%d\n", ok, n);
	print_tally(t, ARRAY_SIZE(t));
	return 0;
}

/* --- fusehang ---------------------------------------------------------------------------------- */

/*
 * exectest fusehang [--release-after SECS] [--mark-read FILE] MNT CMD [ARG…]
 *     Mounts a FUSE file system at MNT (root only; run it in a private mount namespace) whose
 *     root directory answers every lookup with ENOENT except "hang", which is never answered:
 *     whoever looks up MNT/hang waits until the file system goes away; and "mem", a 4 KiB file
 *     that opens, but whose reads are never answered (a page of it mapped into memory waits
 *     the same way when touched); "exe" is the same file, executable (mode 0755): the kernel's
 *     exec of it waits on its first read; "sly", an executable #! script whose reads are
 *     answered to every reader outside CMD's process tree (a supervisor deciding its exec) and
 *     never to one inside (the kernel's exec of it).  Runs CMD, serving the
 *     file system until CMD exits or SECS seconds have passed; then the connection is closed
 *     (every waiting lookup fails with ENOTCONN) and MNT unmounted.  Prints "hung N" (lookups
 *     left unanswered) and "released-at MS" (ms after CMD started, or "released-at never"),
 *     and exits with CMD's status.  With --mark-read, FILE is created when the first read is
 *     left unanswered: from then on an exec of "exe" is past its open, holding its exec lock.  A sandbox that can mount FUSE (root, or root of its own
 *     user namespace) can build the same trap for a supervisor that reads its files.
 */

static void fuse_reply(int fd, uint64_t unique, int error, const void *body, size_t len)
{
	char buf[sizeof(struct fuse_out_header) + 256];
	struct fuse_out_header h = { .len = (uint32_t)(sizeof(h) + len), .error = -error, .unique = unique };

	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), body, len);
	if (write(fd, buf, sizeof(h) + len) < 0 && errno != ENOENT)
		fprintf(stderr, "exectest: fusehang: reply: %m\n");
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

#define FUSEHANG_MEM_NODE 2
#define FUSEHANG_EXE_NODE 3
#define FUSEHANG_SLY_NODE 4

static const char fusehang_sly[] = "#!/bin/sh\necho sly-ran\n";

/* "mem"; "exe", the same but executable (an exec of it waits on its first read); "sly". */
static void fusehang_file_attr(struct fuse_attr *a, uint64_t node)
{
	a->ino = node;
	a->mode = S_IFREG | (node == FUSEHANG_MEM_NODE ? 0644 : 0755);
	a->nlink = 1;
	a->size = node == FUSEHANG_SLY_NODE ? sizeof(fusehang_sly) - 1 : 4096;
	a->blocks = 8;
	a->blksize = 4096;
}

static uint64_t fusehang_node(const char *name)
{
	if (strcmp(name, "mem") == 0)
		return FUSEHANG_MEM_NODE;
	if (strcmp(name, "exe") == 0)
		return FUSEHANG_EXE_NODE;
	if (strcmp(name, "sly") == 0)
		return FUSEHANG_SLY_NODE;
	return 0;
}

/* Whether task tid (any thread) is root or descends from it (its parent chain in /proc). */
static bool fusehang_in_tree(pid_t tid, pid_t root)
{
	for (int depth = 0; depth < 64 && tid > 1; depth++) {
		char path[64], line[256];
		int ppid = 0;
		FILE *f;

		if (tid == root)
			return true;
		snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
		f = fopen(path, "re");
		if (!f)
			return false;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "PPid: %d", &ppid) == 1)
				break;
		fclose(f);
		tid = ppid;
	}
	return false;
}

/* A read of "sly" from outside CMD's tree (a supervisor deciding its exec): answered at once. */
static void fusehang_read_sly(int fd, const struct fuse_in_header *in)
{
	const struct fuse_read_in *r = (const void *)(in + 1);
	size_t len = sizeof(fusehang_sly) - 1, n = 0;

	if (r->offset < len)
		n = MIN(len - (size_t)r->offset, (size_t)r->size);
	fuse_reply(fd, in->unique, 0, n ? fusehang_sly + r->offset : NULL, n);
}

static void fusehang_mark(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		fprintf(stderr, "exectest: fusehang: %s: %m\n", path);
	else
		close(fd);
}

int et_fusehang(int argc, char **argv)
{
	static char req[FUSE_MIN_READ_BUFFER + 65536];
	int release_ms = -1, i = 1, fd, hung = 0, status = 0;
	const char *mark_read = NULL;
	char opts[128];
	struct timespec t0;
	pid_t pid;

	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (et_streq(argv[i], "--release-after"))
			release_ms = parse_count(argv[i + 1], 0, 3600, "fusehang: SECS") * 1000;
		else if (et_streq(argv[i], "--mark-read"))
			mark_read = argv[i + 1];
		else
			et_die(EXIT_USAGE, "fusehang: unknown option '%s'", argv[i]);
	}
	et_need_operands(argc, i, 2, "fusehang");
	const char *mnt = argv[i];
	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		et_skip("no /dev/fuse: %m");
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other", fd);
	if (mount("exectest-fusehang", mnt, "fuse", MS_NOSUID | MS_NODEV, opts) < 0)
		et_skip("cannot mount FUSE at %s: %m", mnt);

	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0)
		et_die(EXIT_FAIL, "fork: %m");
	if (pid == 0) {
		execvp(argv[i + 1], argv + i + 1);
		fprintf(stderr, "exectest: fusehang: exec %s: %m\n", argv[i + 1]);
		_exit(127);
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int timeout = 100;
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		if (release_ms >= 0 && fd >= 0 && ms_since(&t0) >= release_ms) {
			printf("released-at %ld\n", ms_since(&t0));
			fflush(stdout);
			close(fd); /* aborts the connection: waiting lookups fail */
			fd = -1;
		}
		if (fd < 0) {
			usleep(100 * 1000);
			continue;
		}
		if (poll(&pfd, 1, timeout) <= 0)
			continue;
		ssize_t n = read(fd, req, sizeof(req));
		if (n < (ssize_t)sizeof(struct fuse_in_header))
			continue;
		struct fuse_in_header *in = (struct fuse_in_header *)req;
		const char *name = req + sizeof(*in);
		switch (in->opcode) {
		case FUSE_INIT: {
			struct fuse_init_out o = {
				.major = FUSE_KERNEL_VERSION, .minor = 31, .max_write = 4096, .max_readahead = 4096
			};
			fuse_reply(fd, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_GETATTR: {
			struct fuse_attr_out o = { .attr_valid = 1 };
			if (in->nodeid >= FUSEHANG_MEM_NODE && in->nodeid <= FUSEHANG_SLY_NODE)
				fusehang_file_attr(&o.attr, in->nodeid);
			else {
				o.attr.ino = 1;
				o.attr.mode = S_IFDIR | 0755;
				o.attr.nlink = 2;
			}
			fuse_reply(fd, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_LOOKUP:
			if (strcmp(name, "hang") == 0) {
				hung++; /* never answered */
			} else if (fusehang_node(name)) {
				uint64_t node = fusehang_node(name);
				struct fuse_entry_out o = {
					.nodeid = node, .generation = 1, .entry_valid = 60, .attr_valid = 60
				};
				fusehang_file_attr(&o.attr, node);
				fuse_reply(fd, in->unique, 0, &o, sizeof(o));
			} else {
				fuse_reply(fd, in->unique, ENOENT, NULL, 0);
			}
			break;
		case FUSE_OPEN: {
			/*
			 * Keep the page cache: otherwise every open invalidates it, which waits for
			 * the pages of a read left unanswered, and a second process could not even
			 * open "mem" while a first one hangs on it.
			 */
			struct fuse_open_out o = { .fh = 1, .open_flags = FOPEN_KEEP_CACHE };
			/* "sly" is never cached: each read comes here, to be told apart by its reader. */
			if (in->nodeid == FUSEHANG_SLY_NODE)
				o.open_flags = FOPEN_DIRECT_IO;
			fuse_reply(fd, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_READ:
			if (in->nodeid == FUSEHANG_SLY_NODE && (size_t)n >= sizeof(*in) + sizeof(struct fuse_read_in) &&
			    !fusehang_in_tree((pid_t)in->pid, pid))
				fusehang_read_sly(fd, in);
			else {
				hung++; /* never answered */
				if (mark_read)
					fusehang_mark(mark_read);
				mark_read = NULL;
			}
			break;
		case FUSE_FLUSH:
		case FUSE_RELEASE:
			fuse_reply(fd, in->unique, 0, NULL, 0);
			break;
		case FUSE_INTERRUPT:
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
			break; /* no reply expected (an interrupted lookup stays unanswered) */
		default:
			fuse_reply(fd, in->unique, ENOSYS, NULL, 0);
			break;
		}
	}
	if (fd >= 0) {
		printf("released-at never\n");
		close(fd);
	}
	(void)umount2(mnt, MNT_DETACH);
	printf("hung %d\n", hung);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* --- execmem ----------------------------------------------------------------------------------- */

/*
 * exectest execmem FILE
 *     Maps the first page of FILE and execs the path it would hold, never touching the page
 *     itself: whoever reads the path (the supervisor first, then the kernel) faults it in from
 *     FILE's file system.  Prints "errno NAME" when the exec fails.
 */
int et_execmem(int argc, char **argv)
{
	char *args[] = { "execmem-child", NULL };
	int fd, err;
	void *p;

	et_need_operands(argc, 1, 1, "execmem");
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		et_die(EXIT_FAIL, "execmem: open %s: %m", argv[1]);
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		et_die(EXIT_FAIL, "execmem: mmap %s: %m", argv[1]);
	fflush(stdout);
	execve((const char *)p, args, environ);
	err = errno;
	printf("errno %s\n", et_errno_name(err));
	return 0;
}

/* --- fusestack --------------------------------------------------------------------------------- */

/*
 * exectest fusestack [--code] FILE PATH [ARGV0 ARG…]
 *     Maps the first page of FILE (private, never touched here), points the stack pointer near
 *     its top and makes a raw execve(PATH, ARGV, environ) syscall from inline assembly, so that
 *     nothing is pushed on the new stack: the first write below the stack pointer is the
 *     supervisor's (the rewrite's scratch block, or a code stub's arguments when a tracer holds
 *     the task), and it waits for FILE's file system to fill the page.  With exectest fusehang's
 *     "mem", that is forever, or until the server lets go.  Prints "errno NAME" when the exec
 *     fails.
 *     --code: the stack stays where it is; instead the syscall instruction is the last one of
 *     an anonymous page followed by FILE's page (executable), so the syscall returns into FILE's
 *     page: a code stub, which replaces the instructions at the return address, must read that
 *     page first.  When the exec fails, the task itself runs into that page and waits (SIGBUS
 *     once the server lets go).  x86-64 only.
 */
#if defined(__x86_64__)
static long execve_on_stack(const char *path, char *const *argv, char *const *envp, void *sp)
{
	long ret;

	/* r12 keeps the real stack pointer across the syscall (which clobbers rcx and r11). */
	__asm__ volatile("mov %%rsp, %%r12\n\t"
			 "mov %[sp], %%rsp\n\t"
			 "syscall\n\t"
			 "mov %%r12, %%rsp"
			 : "=a"(ret)
			 : "0"(59L), "D"(path), "S"(argv), "d"(envp), [sp] "r"(sp)
			 : "rcx", "r11", "r12", "memory");
	return ret;
}

/* Jumps to a syscall instruction at insn with execve's arguments: never comes back here. */
static _noreturn_ void execve_at(const char *path, char *const *argv, char *const *envp, const void *insn)
{
	__asm__ volatile("jmp *%[insn]" : : "a"(59L), "D"(path), "S"(argv), "d"(envp), [insn] "r"(insn) : "memory");
	__builtin_unreachable();
}

int et_fusestack(int argc, char **argv)
{
	bool code = argc > 1 && et_streq(argv[1], "--code");
	int first = code ? 2 : 1, fd;
	char *page;

	et_need_operands(argc, first, 2, "fusestack");
	fd = open(argv[first], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		et_die(EXIT_FAIL, "fusestack: open %s: %m", argv[first]);
	char *path = argv[first + 1];
	char **args = et_make_argv(argv + first + 2, argc - first - 2, path, NULL);
	fflush(stdout);
	if (code) {
		char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (two == MAP_FAILED)
			et_die(EXIT_FAIL, "fusestack: mmap: %m");
		two[4094] = 0x0f; /* syscall */
		two[4095] = 0x05;
		if (mprotect(two, 4096, PROT_READ | PROT_EXEC) < 0 ||
		    mmap(two + 4096, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, fd, 0) == MAP_FAILED)
			et_die(EXIT_FAIL, "fusestack: mapping %s after the code: %m", argv[first]);
		execve_at(path, args, environ, two + 4094);
	}
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (page == MAP_FAILED)
		et_die(EXIT_FAIL, "fusestack: mmap %s: %m", argv[first]);
	/* 256 bytes below the top, 16-aligned: the scratch block fits below in the same page. */
	long r = execve_on_stack(path, args, environ, page + 4096 - 256);
	printf("errno %s\n", et_errno_name((int)-r));
	return 0;
}
#else
int et_fusestack(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	et_skip("fusestack: x86-64 only");
}
#endif

/* --- threadexec -------------------------------------------------------------------------------- */

/*
 * exectest threadexec FILE DELAY_MS PATH [ARGV0 ARG…]
 *     A second thread prints "tid N" and execs FILE; DELAY_MS later the main thread execs PATH.
 *     With FILE an exec that stays under way (exectest fusehang's "exe", whose first read is
 *     never answered), the main thread's exec meets another thread of its process in the
 *     middle of an exec: the kernel then holds the process's exec lock (cred_guard_mutex), which
 *     a supervisor's PTRACE_SEIZE of the main thread waits for.  Prints "thread errno NAME" when
 *     FILE's exec fails, "errno NAME" when PATH's does (the process ends then).
 */
static void *exec_thread(void *arg)
{
	char *file = arg;
	char *args[] = { file, NULL };

	printf("tid %d\n", (int)gettid());
	fflush(stdout);
	execve(file, args, environ);
	printf("thread errno %s\n", et_errno_name(errno));
	fflush(stdout);
	return NULL;
}

int et_threadexec(int argc, char **argv)
{
	pthread_t t;
	int err;

	et_need_operands(argc, 1, 3, "threadexec");
	int delay = parse_count(argv[2], 0, 3600 * 1000, "threadexec: DELAY_MS");
	char *path = argv[3];
	char **args = et_make_argv(argv + 4, argc - 4, path, NULL);
	struct timespec ts = { .tv_sec = delay / 1000, .tv_nsec = (long)(delay % 1000) * 1000000 };

	fflush(stdout);
	err = pthread_create(&t, NULL, exec_thread, argv[1]);
	if (err)
		et_die(EXIT_FAIL, "threadexec: pthread_create: %s", strerror(err));
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	execve(path, args, environ);
	err = errno;
	printf("errno %s\n", et_errno_name(err));
	fflush(stdout);
	return 0;
}
