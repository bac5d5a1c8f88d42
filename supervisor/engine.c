/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "classify.h"
#include "engine.h"
#include "inject.h"
#include "log.h"
#include "loop.h"
#include "macros.h"
#include "notif.h"
#include "perm.h"
#include "resolve.h"
#include "stub.h"
#include "rewrite.h"
#include "tmem.h"
#include "trace.h"

#define ENGINE_RING_ENTRIES 256

/* One foreign exec between its first notification and the trap of its rewritten restart. */
struct pending {
	bool used;
	struct injection inj;
	struct trace_record rec;
	uint64_t busy_ns; /* supervisor time spent on it so far */
	uint64_t since_ns; /* CLOCK_MONOTONIC when the record started */
};

/*
 * A rewritten exec normally traps again within microseconds of the detach; a record still
 * waiting after this long belongs to a task that died (we no longer see its exit) and is
 * dropped, so that a reused tid cannot match it.
 */
#define PENDING_RESTART_TIMEOUT_NS (30ull * 1000000000ull)

struct listener {
	bool used;
	int fd;
	int watch;
};

struct engine {
	struct engine_config cfg;
	struct loop *loop;
	struct notif_bufs bufs;
	int sigfd;
	struct listener *listeners;
	size_t n_listeners;
	struct pending *pending;
	size_t n_pending;
	struct engine_stats stats;
	bool warned_no_emulator[ARCH_MAX];
	uint64_t *argv_buf; /* the caller's argv pointers, REWRITE_MAX_ARGS entries, lazily */
};

/* Everything one exec decision needs; lives on the stack of handle_exec. */
struct exec_ctx {
	int listener;
	uint64_t id;
	pid_t tid;
	struct exec_call call;
	char path[PATH_MAX];
	struct target_view view;
	int start_fd;    /* our copy of the execveat dirfd, or -1 */
	int file_fd;     /* the resolved target, open for reading */
	struct stat st;
	struct classification cls;    /* of the final file (after any #! chain) */
	struct rw_chain chain;
	char interp[SHEBANG_MAX_DEPTH][CLASSIFY_HEAD_SIZE];
	char interp_arg[SHEBANG_MAX_DEPTH][CLASSIFY_HEAD_SIZE];
	const struct emu *emu;
	struct trace_record rec;
};

static uint64_t now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void emit_trace(struct engine *e, struct trace_record *rec)
{
	char line[2048];
	size_t n;

	if (!e->cfg.trace)
		return;
	n = trace_format(rec, e->cfg.trace_json, line, sizeof(line));
	/* One write per line: several sandboxes may share a trace file. */
	(void)!write(fileno(e->cfg.trace), line, n);
}

static void count(struct engine *e, enum decision d, uint64_t ns)
{
	switch (d) {
	case DECISION_NATIVE:
	case DECISION_HOST_BINFMT:
		e->stats.native++;
		e->stats.native_ns += ns;
		break;
	case DECISION_EMULATE:
		e->stats.emulated++;
		e->stats.foreign_ns += ns;
		break;
	case DECISION_KERNEL:
		e->stats.kernel++;
		e->stats.native_ns += ns;
		break;
	case DECISION_NO_EMULATOR:
	case DECISION_DENIED:
	case DECISION_FAILED:
	case DECISION_MAX:
		e->stats.failed++;
		e->stats.foreign_ns += ns;
		break;
	}
}

static void finish(struct engine *e, struct trace_record *rec, uint64_t t0, uint64_t extra_ns)
{
	uint64_t ns = now_ns(CLOCK_MONOTONIC) - t0 + extra_ns;

	rec->usec = ns / 1000u;
	count(e, rec->decision, ns);
	emit_trace(e, rec);
}

/* ---- pending foreign execs ---------------------------------------------------------------- */

static struct pending *pending_find(struct engine *e, pid_t tid)
{
	for (size_t i = 0; i < e->n_pending; i++)
		if (e->pending[i].used && e->pending[i].inj.tid == tid)
			return &e->pending[i];
	return NULL;
}

static void pending_free(struct pending *p);

static struct pending *pending_new(struct engine *e)
{
	uint64_t now = now_ns(CLOCK_MONOTONIC);
	size_t i;

	for (i = 0; i < e->n_pending; i++) {
		struct pending *p = &e->pending[i];
		if (p->used && p->inj.state == INJECT_WAIT_RESTART && now - p->since_ns > PENDING_RESTART_TIMEOUT_NS) {
			log_debug("pid %d never came back from its rewritten exec, forgetting it", (int)p->inj.tid);
			pending_free(p);
		}
		if (!p->used)
			break;
	}
	if (i == e->n_pending) {
		size_t n = e->n_pending ? e->n_pending * 2 : 64;
		struct pending *p = realloc(e->pending, n * sizeof(*p));
		if (!p)
			return NULL;
		memset(p + e->n_pending, 0, (n - e->n_pending) * sizeof(*p));
		e->pending = p;
		e->n_pending = n;
	}
	struct pending *p = &e->pending[i];
	*p = (struct pending){ .used = true, .since_ns = now };
	p->inj.emu_fd_target = -1;
	return p;
}

static void pending_free(struct pending *p)
{
	inject_clear(&p->inj);
	p->used = false;
}

/* ---- deciding ------------------------------------------------------------------------------ */

static void ctx_close(struct exec_ctx *c)
{
	resolve_view_close(&c->view);
	if (c->start_fd >= 0)
		close(c->start_fd);
	if (c->file_fd >= 0)
		close(c->file_fd);
	c->start_fd = c->file_fd = -1;
}

/* Our O_PATH copy of the target's fd number fd (execveat's dirfd). */
static int open_target_fd(pid_t tid, int fd)
{
	char path[64];
	int r;

	if (fd < 0)
		return -EBADF;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)tid, fd);
	r = open(path, O_PATH | O_CLOEXEC);
	if (r < 0)
		return errno == ENOENT ? -EBADF : negative_errno();
	return r;
}

/* Whether the target's fd is close-on-exec (from /proc/TID/fdinfo). */
static bool target_fd_cloexec(pid_t tid, int fd)
{
	char path[64], buf[512];
	_cleanup_close_ int f = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)tid, fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return true;
	n = read(f, buf, sizeof(buf) - 1);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	const char *flags = strstr(buf, "flags:");
	if (!flags)
		return true;
	return strtoul(flags + 6, NULL, 8) & O_CLOEXEC;
}

/* Opens path (in the target's view) for reading and reads its head: 0, or the kernel's errno. */
static int open_and_read(struct exec_ctx *c, int start_fd, const char *path, bool follow, uint8_t *head,
			 size_t *ret_len, struct stat *ret_st, int *ret_fd)
{
	_cleanup_close_ int pfd = -1;
	int fd;
	ssize_t n;

	if (path) {
		pfd = resolve_path(&c->view, start_fd, path, follow);
		if (pfd < 0)
			return pfd;
	} else {
		pfd = fcntl(start_fd, F_DUPFD_CLOEXEC, 3);
		if (pfd < 0)
			return negative_errno();
	}
	fd = resolve_open_regular(pfd, ret_st);
	if (fd < 0)
		return fd;
	/* A regular file, opened O_NONBLOCK: this read does not wait on a FIFO or device. */
	n = pread(fd, head, CLASSIFY_HEAD_SIZE, 0);
	if (n < 0) {
		int r = negative_errno();
		close(fd);
		return r;
	}
	*ret_len = (size_t)n;
	*ret_fd = fd;
	return 0;
}

static bool file_noexec(int fd)
{
	struct statvfs sv;

	return fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_NOEXEC);
}

/*
 * Classifies the file that the exec finally loads, following #! interpreters like
 * fs/binfmt_script.c.  Returns DECISION_EMULATE (c->emu set) for a foreign ELF that an
 * emulator serves and whose whole chain the caller may execute, else what to answer.  Every
 * byte read here is sandbox-controlled: the depth is bounded by the kernel's own limit and each
 * head by CLASSIFY_HEAD_SIZE.
 */
static enum decision classify_target(struct engine *e, struct exec_ctx *c, int *ret_err)
{
	uint8_t head[CLASSIFY_HEAD_SIZE];
	struct stat st[SHEBANG_MAX_DEPTH + 1];
	bool noexec[SHEBANG_MAX_DEPTH + 1];
	enum decision d = DECISION_KERNEL;
	int fd = c->file_fd;
	size_t len, depth;
	ssize_t n;

	n = pread(fd, head, sizeof(head), 0);
	if (n < 0)
		return DECISION_KERNEL;
	len = (size_t)n;
	st[0] = c->st;

	for (depth = 0;; depth++) {
		noexec[depth] = file_noexec(fd);
		if (hostbinfmt_matches(&e->cfg.host, head, len)) {
			d = DECISION_HOST_BINFMT;
			goto out;
		}
		if (classify(head, len, &c->cls) < 0 || c->cls.kind == FILE_KIND_OTHER)
			goto out;
		if (c->cls.kind == FILE_KIND_ELF)
			break;
		if (depth >= SHEBANG_MAX_DEPTH)
			goto out; /* the kernel answers ELOOP */

		/* A script: its interpreter is the next file, resolved from the target's cwd. */
		trace_copy(c->interp[depth], sizeof(c->interp[depth]), c->cls.script.interp);
		trace_copy(c->interp_arg[depth], sizeof(c->interp_arg[depth]), c->cls.script.arg);
		c->chain.interp[depth] = c->interp[depth];
		c->chain.arg[depth] = c->cls.script.has_arg ? c->interp_arg[depth] : NULL;
		c->chain.depth = depth + 1;

		int next_fd;
		int r = open_and_read(c, -1, c->interp[depth], true, head, &len, &st[depth + 1], &next_fd);
		if (fd != c->file_fd)
			close(fd);
		fd = -1;
		if (r < 0)
			goto out;
		fd = next_fd;
	}

	enum arch arch = c->cls.elf.arch;
	c->rec.arch = arch;
	/* Relocatable objects, core files…: the kernel refuses them, whatever the machine. */
	if (arch == ARCH_UNKNOWN || (c->cls.elf.type != ET_EXEC && c->cls.elf.type != ET_DYN))
		goto out;
	if (e->cfg.native_mask & (UINT64_C(1) << arch)) {
		d = DECISION_NATIVE;
		goto out;
	}
	c->emu = emu_registry_get(e->cfg.emus, arch);
	if (!c->emu) {
		*ret_err = ENOEXEC;
		d = DECISION_NO_EMULATOR;
		goto out;
	}

	/*
	 * The emulator is always executable for the caller; the foreign file and each interpreter
	 * must still pass the checks the kernel would have made on them (x bits, noexec mounts).
	 */
	struct creds creds;
	if (perm_read_creds(c->tid, &creds) < 0)
		goto out;
	for (size_t i = 0; i <= depth; i++) {
		if (!perm_may_exec(&creds, &st[i], noexec[i])) {
			*ret_err = EACCES;
			d = DECISION_DENIED;
			goto out;
		}
	}
	d = DECISION_EMULATE;
out:
	if (fd >= 0 && fd != c->file_fd)
		close(fd);
	return d;
}

/* Whether the caller named its file through an fd (fexecve, execveat with a dirfd). */
static bool fd_based(const struct exec_call *call, const char *path)
{
	return call->dirfd != AT_FDCWD && path[0] != '/';
}

static int build_plan(struct engine *e, struct exec_ctx *c, struct injection *inj, int file_target_fd)
{
	char path_str[PATH_MAX + 32];
	struct rw_arg path_arg = { .addr = c->call.path };
	const char *emu_name = strrchr(c->emu->path, '/');
	int argc, n;

	emu_name = emu_name ? emu_name + 1 : c->emu->path;
	path_str[0] = '\0';
	if (fd_based(&c->call, c->path)) {
		/* The kernel's own names for fd-based scripts; for an ELF, the fd we added. */
		if (c->chain.depth == 0)
			snprintf(path_str, sizeof(path_str), "/proc/self/fd/%d", file_target_fd);
		else if (c->path[0] == '\0')
			snprintf(path_str, sizeof(path_str), "/dev/fd/%d", c->call.dirfd);
		else
			snprintf(path_str, sizeof(path_str), "/dev/fd/%d/%s", c->call.dirfd, c->path);
	} else if (c->chain.depth == 0 && c->path[0] == '-') {
		/* qemu would take a leading '-' for an option. */
		snprintf(path_str, sizeof(path_str), "./%s", c->path);
	}
	if (path_str[0])
		path_arg = (struct rw_arg){ .str = path_str };

	if (!e->argv_buf) {
		e->argv_buf = malloc(REWRITE_MAX_ARGS * sizeof(*e->argv_buf));
		if (!e->argv_buf)
			return -ENOMEM;
	}
	argc = 0;
	if (c->call.argv) {
		argc = tmem_read_ptr_array(c->tid, c->call.argv, c->call.ptr_size, e->argv_buf, REWRITE_MAX_ARGS - 16);
		if (argc < 0)
			return argc;
	}

	size_t cap = (size_t)argc + 2 * SHEBANG_MAX_DEPTH + 8;
	struct rw_arg *args = malloc(cap * sizeof(*args));
	if (!args)
		return -ENOMEM;
	n = rewrite_build_argv(emu_name, path_arg, e->argv_buf, (size_t)argc, &c->chain, args, cap);
	if (n < 0) {
		free(args);
		return n;
	}

	/* Move the added strings into the same allocation: they must outlive this context. */
	size_t strings = 0;
	for (int i = 0; i < n; i++)
		if (!args[i].addr)
			strings += strlen(args[i].str) + 1;
	struct rw_arg *owned = realloc(args, (size_t)n * sizeof(*args) + strings);
	if (!owned) {
		free(args);
		return -ENOMEM;
	}
	char *arena = (char *)(owned + n);
	for (int i = 0; i < n; i++) {
		if (owned[i].addr)
			continue;
		size_t l = strlen(owned[i].str) + 1;
		memcpy(arena, owned[i].str, l);
		owned[i].str = arena;
		arena += l;
	}
	inj->args = owned;
	inj->nargs = (size_t)n;
	return 0;
}

/*
 * The caller is traced by someone else, so no ptrace for us: write a code stub at its return
 * address instead (single-threaded x86-64 callers only; see stub.h).  Same contract as
 * start_injection.
 */
static int start_stub(struct engine *e, struct exec_ctx *c, struct pending *p, uint64_t t0)
{
	uint64_t sp, pc;
	int r, file_target_fd = -1;

	if (c->call.abi != EXEC_ABI_X86_64)
		return -EPERM;
	r = stub_probe(c->tid, &sp, &pc);
	if (r < 0)
		return r;
	r = notif_addfd(c->listener, c->id, c->emu->fd, true);
	if (r < 0)
		return r;
	p->inj.emu_fd_target = r;
	if (fd_based(&c->call, c->path) && c->chain.depth == 0) {
		file_target_fd = notif_addfd(c->listener, c->id, c->file_fd, false);
		if (file_target_fd < 0)
			return file_target_fd;
	}
	r = build_plan(e, c, &p->inj, file_target_fd);
	if (r < 0)
		return r;
	r = stub_install(&p->inj, sp, pc);
	if (r < 0) {
		(void)stub_restore(&p->inj);
		return r;
	}
	/* "Success": the task returns into the stub, which makes the emulator's exec. */
	r = notif_send_result(c->listener, &e->bufs, c->id, 0, 0);
	if (r < 0) {
		(void)stub_restore(&p->inj);
		return r == -ENOENT ? -ESRCH : r;
	}
	p->inj.state = INJECT_WAIT_RESTART;
	p->busy_ns = now_ns(CLOCK_MONOTONIC) - t0;
	log_debug("pid %d is traced by another process: rewrote its exec with a code stub", (int)c->tid);
	return 0;
}

/*
 * Rewrites a foreign exec.  Returns 0 once the notification is answered (the rest happens on
 * ptrace stops), or -errno with the notification still pending (the caller answers it).
 */
static int start_injection(struct engine *e, struct exec_ctx *c, uint64_t t0)
{
	struct pending *p;
	int r, file_target_fd = -1;

	p = pending_new(e);
	if (!p)
		return -ENOMEM;
	p->inj.tid = c->tid;
	p->inj.abi = c->call.abi;
	p->inj.envp = c->call.envp;
	p->rec = c->rec;
	p->rec.emulator = c->emu->path;
	p->rec.decision = DECISION_EMULATE;
	r = inject_seize(c->tid);
	if (r == -EPERM) {
		r = start_stub(e, c, p, t0);
		if (r < 0)
			pending_free(p);
		return r == -EBUSY ? -EPERM : r;
	}
	if (r < 0) {
		pending_free(p);
		return r;
	}

	/* fds go in while the notification is pending: after the interrupt, ADDFD is refused. */
	r = notif_addfd(c->listener, c->id, c->emu->fd, true);
	if (r < 0)
		goto abort;
	p->inj.emu_fd_target = r;
	if (fd_based(&c->call, c->path) && c->chain.depth == 0) {
		/* The emulator must be able to open the same file after the exec. */
		file_target_fd = notif_addfd(c->listener, c->id, c->file_fd, false);
		if (file_target_fd < 0) {
			r = file_target_fd;
			goto abort;
		}
	}
	r = build_plan(e, c, &p->inj, file_target_fd);
	if (r < 0)
		goto abort;
	p->inj.rewrite = true;
	r = inject_release(&p->inj, c->listener, &e->bufs, c->id);
	if (r < 0)
		goto abort;
	p->busy_ns = now_ns(CLOCK_MONOTONIC) - t0;
	return 0;

abort:
	/* Seized but not stopped, so not detachable yet: answer with an error, detach at the stop. */
	log_debug_errno(r, "pid %d: rewrite failed: %m", (int)c->tid);
	p->inj.rewrite = false;
	p->inj.fail_errno = r == -E2BIG ? E2BIG : ENOEXEC;
	p->rec.decision = DECISION_FAILED;
	p->rec.error = p->inj.fail_errno;
	p->busy_ns = now_ns(CLOCK_MONOTONIC) - t0;
	if (inject_release(&p->inj, c->listener, &e->bufs, c->id) < 0)
		pending_free(p);
	return 0;
}

static void warn_no_emulator(struct engine *e, const struct exec_ctx *c)
{
	enum arch arch = c->cls.elf.arch;

	if (e->warned_no_emulator[arch])
		return;
	e->warned_no_emulator[arch] = true;
	log_warn("no emulator for %s: exec of '%.200s' fails with ENOEXEC; install qemu-user-static "
		 "or pass --emulator %s=PATH",
		 arch_name(arch), c->path, arch_name(arch));
}

/* Reads the exec's arguments, resolves and classifies its target; answers or starts a rewrite. */
static void handle_exec(struct engine *e, int listener, const struct seccomp_notif *req, const struct exec_call *call,
			uint64_t t0)
{
	struct exec_ctx c = {
		.listener = listener,
		.id = req->id,
		.tid = (pid_t)req->pid,
		.call = *call,
		.view = { .root_fd = -1, .cwd_fd = -1 },
		.start_fd = -1,
		.file_fd = -1,
	};
	enum decision d = DECISION_KERNEL;
	int err = 0, r;

	c.rec = (struct trace_record){
		.time_ns = now_ns(CLOCK_REALTIME),
		.pid = c.tid,
		.syscall = call->is_execveat ? "execveat" : "execve",
		.arch = ARCH_UNKNOWN,
	};

	/* Anything that fails before a decision is the kernel's to answer: let the call run. */
	r = tmem_read_string(c.tid, call->path, c.path, sizeof(c.path));
	if (r < 0)
		goto answer;
	trace_copy(c.rec.path, sizeof(c.rec.path), c.path);
	r = resolve_view_open(c.tid, &c.view);
	if (r < 0) {
		log_debug_errno(r, "pid %d: cannot open its root: %m", (int)c.tid);
		goto answer;
	}
	if (fd_based(call, c.path)) {
		c.start_fd = open_target_fd(c.tid, call->dirfd);
		if (c.start_fd < 0) {
			log_debug_errno(c.start_fd, "pid %d: no fd %d: %m", (int)c.tid, call->dirfd);
			goto answer;
		}
	}

	uint8_t head[CLASSIFY_HEAD_SIZE];
	size_t len;
	bool empty = c.path[0] == '\0';
	if (empty && !(call->flags & AT_EMPTY_PATH))
		goto answer;
	r = open_and_read(&c, c.start_fd, empty ? NULL : c.path, !(call->flags & AT_SYMLINK_NOFOLLOW), head, &len,
			  &c.st, &c.file_fd);
	if (r < 0) {
		log_debug_errno(r, "pid %d: '%.200s' does not resolve to a regular file: %m", (int)c.tid, c.path);
		goto answer;
	}
	if (e->cfg.trace) {
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", c.file_fd);
		ssize_t n = readlink(proc, c.rec.resolved, sizeof(c.rec.resolved) - 1);
		c.rec.resolved[n > 0 ? n : 0] = '\0';
	}
	/* Everything above read the target's memory and files: make sure it is still waiting. */
	if (notif_id_valid(listener, c.id) < 0) {
		ctx_close(&c);
		return;
	}

	d = classify_target(e, &c, &err);
	if (d == DECISION_EMULATE && fd_based(call, c.path) && c.chain.depth > 0 &&
	    target_fd_cloexec(c.tid, call->dirfd))
		d = DECISION_KERNEL; /* the kernel's ENOENT: the script would be gone after exec */
	if (d == DECISION_NO_EMULATOR)
		warn_no_emulator(e, &c);
	if (d == DECISION_EMULATE) {
		r = start_injection(e, &c, t0);
		if (r == 0) {
			ctx_close(&c);
			return;
		}
		if (r == -EPERM)
			log_warn("pid %d is traced by another process (strace, gdb?) and has other threads (or "
				 "uses the i386 syscall ABI), so its exec cannot be rewritten safely: exec of "
				 "'%.200s' fails with ENOEXEC",
				 (int)c.tid, c.path);
		else if (r != -ESRCH)
			log_warn_errno(r, "pid %d: cannot rewrite exec of '%.200s': %m", (int)c.tid, c.path);
		d = DECISION_FAILED;
		err = ENOEXEC;
	}

answer:
	c.rec.decision = d;
	c.rec.error = err;
	if (c.emu)
		c.rec.emulator = c.emu->path;
	switch (d) {
	case DECISION_DENIED:
	case DECISION_FAILED:
	case DECISION_NO_EMULATOR:
		/* No emulator: the kernel would say ENOEXEC too, but say it without running it. */
		r = notif_send_result(listener, &e->bufs, c.id, err, 0);
		break;
	case DECISION_NATIVE:
	case DECISION_HOST_BINFMT:
	case DECISION_KERNEL:
	case DECISION_EMULATE:
	case DECISION_MAX:
	default:
		r = notif_send_continue(listener, &e->bufs, c.id);
		break;
	}
	if (r < 0 && r != -ENOENT)
		log_warn_errno(r, "pid %d: cannot answer exec notification: %m", (int)c.tid);
	ctx_close(&c);
	finish(e, &c.rec, t0, 0);
}

/* ---- listeners ----------------------------------------------------------------------------- */

static void handle_notification(struct engine *e, int listener)
{
	struct seccomp_notif *req = e->bufs.req;
	struct exec_call call;
	struct pending *p;
	uint64_t t0;
	int r;

	r = notif_recv(listener, &e->bufs);
	if (r < 0) {
		if (r != -ENOENT && r != -EINTR)
			log_warn_errno(r, "receiving a notification failed: %m");
		return;
	}
	t0 = now_ns(CLOCK_MONOTONIC);
	log_trace("notif id=%llu pid=%u nr=%d", (unsigned long long)req->id, req->pid, req->data.nr);
	if (notif_decode_exec(&req->data, &call) < 0) {
		(void)notif_send_continue(listener, &e->bufs, req->id);
		return;
	}

	p = pending_find(e, (pid_t)req->pid);
	if (p && p->inj.state == INJECT_WAIT_RESTART) {
		if (inject_on_restart(&p->inj, &call) == 0) {
			/* A stub must be gone before the exec can fail back into that code. */
			if (stub_restore(&p->inj) < 0)
				log_warn("pid %u: cannot restore the code under the exec stub", req->pid);
			r = notif_send_continue(listener, &e->bufs, req->id);
			if (r < 0 && r != -ENOENT)
				log_warn_errno(r, "pid %u: cannot continue rewritten exec: %m", req->pid);
			finish(e, &p->rec, t0, p->busy_ns);
			pending_free(p);
			return;
		}
		/* Not our restart (a handler exec'd something else first): forget the rewrite. */
		log_debug("pid %u: exec is not the rewritten one, dropping the rewrite", req->pid);
		(void)stub_restore(&p->inj);
		pending_free(p);
	}
	handle_exec(e, listener, req, &call, t0);
}

static bool more_pending(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN);
}

static struct engine *listener_engine(void *ctx, int fd, size_t *ret_idx)
{
	struct engine *e = ctx;

	for (size_t i = 0; i < e->n_listeners; i++)
		if (e->listeners[i].used && e->listeners[i].fd == fd)
			*ret_idx = i;
	return e;
}

static int on_listener(void *ctx, int fd, int events)
{
	size_t idx = SIZE_MAX;
	struct engine *e = listener_engine(ctx, fd, &idx);

	if (events > 0 && (events & POLLIN)) {
		/*
		 * One readiness report may stand for several notifications, and a report may be
		 * stale (its notification already drained by an earlier round).  RECV blocks when
		 * nothing is pending, so ask before every RECV: a notification seen by poll cannot
		 * vanish in a way that makes RECV wait (it then fails with ENOENT instead).
		 */
		while (more_pending(fd))
			handle_notification(e, fd);
		return 0;
	}
	if (events < 0)
		log_warn_errno(events, "polling listener %d failed: %m", fd);
	/* POLLHUP without POLLIN: every filtered task is gone. */
	if (idx != SIZE_MAX) {
		e->listeners[idx].used = false;
		close(fd);
	}
	if (e->cfg.hooks.listener_gone)
		e->cfg.hooks.listener_gone(e->cfg.hooks.ctx, fd);
	return -1;
}

int engine_add_listener(struct engine *e, int listener)
{
	size_t i;
	int r;

	for (i = 0; i < e->n_listeners; i++)
		if (!e->listeners[i].used)
			break;
	if (i == e->n_listeners) {
		size_t n = e->n_listeners ? e->n_listeners * 2 : 8;
		struct listener *l = realloc(e->listeners, n * sizeof(*l));
		if (!l)
			return -ENOMEM;
		memset(l + e->n_listeners, 0, (n - e->n_listeners) * sizeof(*l));
		e->listeners = l;
		e->n_listeners = n;
	}
	r = loop_watch(e->loop, listener, POLLIN, on_listener, e);
	if (r < 0)
		return r;
	e->listeners[i] = (struct listener){ .used = true, .fd = listener, .watch = r };
	return 0;
}

/* ---- signals and ptrace stops -------------------------------------------------------------- */

static void on_wait_status(struct engine *e, pid_t pid, int status)
{
	struct pending *p = pending_find(e, pid);

	if (!p || p->inj.state == INJECT_WAIT_RESTART || p->inj.state == INJECT_FREE) {
		if (e->cfg.hooks.child_status)
			e->cfg.hooks.child_status(e->cfg.hooks.ctx, pid, status);
		return;
	}
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	switch (inject_on_status(&p->inj, status)) {
	case INJECT_PENDING:
		p->busy_ns += now_ns(CLOCK_MONOTONIC) - t0;
		break;
	case INJECT_DETACHED:
		p->busy_ns += now_ns(CLOCK_MONOTONIC) - t0;
		if (!p->inj.rewrite) {
			finish(e, &p->rec, t0, p->busy_ns);
			pending_free(p);
		}
		break;
	case INJECT_FAILED:
		if (p->rec.decision == DECISION_EMULATE) {
			p->rec.decision = DECISION_FAILED;
			p->rec.error = p->inj.fail_errno ? p->inj.fail_errno : ENOEXEC;
			log_warn("pid %d: rewrite of exec '%.200s' failed at the ptrace stop", (int)pid, p->rec.path);
		}
		finish(e, &p->rec, t0, p->busy_ns);
		pending_free(p);
		break;
	case INJECT_GONE:
		log_debug("pid %d exited during a rewrite", (int)pid);
		pending_free(p);
		/* It may also be our own child: its parent must hear about it. */
		if ((WIFEXITED(status) || WIFSIGNALED(status)) && e->cfg.hooks.child_status)
			e->cfg.hooks.child_status(e->cfg.hooks.ctx, pid, status);
		break;
	}
}

static void reap(struct engine *e)
{
	for (;;) {
		int status;
		pid_t pid = wait4(-1, &status, WNOHANG | __WALL | WUNTRACED, NULL);
		if (pid <= 0)
			return; /* 0: nothing more; ECHILD: nobody left */
		on_wait_status(e, pid, status);
	}
}

static int on_signal(void *ctx, int fd, int events)
{
	struct engine *e = ctx;
	struct signalfd_siginfo si[16];
	bool chld = false;
	ssize_t n;

	if (events < 0)
		return log_error_errno(events, "polling the signalfd failed: %m");
	while ((n = read(fd, si, sizeof(si))) > 0) {
		for (size_t i = 0; i < (size_t)n / sizeof(si[0]); i++) {
			if (si[i].ssi_signo == SIGCHLD)
				chld = true;
			else if (e->cfg.hooks.signal)
				e->cfg.hooks.signal(e->cfg.hooks.ctx, (int)si[i].ssi_signo);
		}
	}
	/* SIGCHLDs merge: one may stand for many stops and exits, so reap until nothing is left. */
	if (chld)
		reap(e);
	return 0;
}

/* ---- lifetime ------------------------------------------------------------------------------ */

int engine_new(const struct engine_config *cfg, struct engine **ret)
{
	struct engine *e = calloc(1, sizeof(*e));
	sigset_t mask = cfg->forward;
	int r;

	if (!e)
		return -ENOMEM;
	e->cfg = *cfg;
	e->sigfd = -1;
	r = notif_bufs_alloc(&e->bufs);
	if (r < 0)
		goto fail;
	r = loop_new(ENGINE_RING_ENTRIES, &e->loop);
	if (r < 0)
		goto fail;
	sigaddset(&mask, SIGCHLD);
	e->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (e->sigfd < 0) {
		r = negative_errno();
		goto fail;
	}
	r = loop_watch(e->loop, e->sigfd, POLLIN, on_signal, e);
	if (r < 0)
		goto fail;
	*ret = e;
	return 0;
fail:
	engine_free(e);
	return r;
}

struct engine *engine_free(struct engine *e)
{
	if (!e)
		return NULL;
	e->loop = loop_free(e->loop);
	for (size_t i = 0; i < e->n_listeners; i++)
		if (e->listeners[i].used)
			close(e->listeners[i].fd);
	for (size_t i = 0; i < e->n_pending; i++)
		if (e->pending[i].used)
			pending_free(&e->pending[i]);
	if (e->sigfd >= 0)
		close(e->sigfd);
	notif_bufs_free(&e->bufs);
	free(e->listeners);
	free(e->pending);
	free(e->argv_buf);
	free(e);
	return NULL;
}

int engine_run(struct engine *e)
{
	/* Children may have changed state before the loop started watching. */
	reap(e);
	return loop_run(e->loop);
}

void engine_exit(struct engine *e, int value)
{
	loop_exit(e->loop, value);
}

void engine_get_stats(const struct engine *e, struct engine_stats *ret)
{
	*ret = e->stats;
}
