/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"
#include "abi.h"
#include "host.h"
#include "inject.h"
#include "io.h"
#include "log.h"
#include "macros.h"
#include "parse.h"
#include "tmem.h"

/* ---- the tracer thread ----------------------------------------------------------------------- */

/*
 * ptrace ties a tracee to the thread that attached it: only that thread may read its
 * registers, set them, resume or detach it.  The loop's thread cannot be that thread: a
 * guarded section may leave it stuck for good (guard.h), and every task it traced with it,
 * whatever sandbox they belong to.  So one thread of the process makes every ptrace request,
 * one batch at a time, and nothing else.  A request on a seized task (INTERRUPT, GETREGS,
 * SETREGS, SYSCALL, DETACH) takes no lock a sandbox can hold and touches none of its memory or
 * files, so the batches end.  SEIZE is the exception: it waits for the process's exec lock
 * (signal->cred_guard_mutex), which an exec in another thread of that process holds while it
 * reads its file, as long as the sandbox likes (a FUSE file whose reads never answer).  So a
 * seize is only tried when no other thread of the process is in such an exec (the engine asks
 * inject_exec_under_way first), and the caller waits for it at most its timeout, then aborts
 * it with a signal (see seize_abort): every other tracee keeps a tracer that answers.
 *
 * The caller waits for its batch: four round trips per foreign exec (seize, interrupt, read
 * the registers, set them and detach).  They go through pipes, not a condition variable: a
 * pipe wakes its reader synchronously, so the scheduler tends to run the tracer on the CPU its
 * caller is about to leave (here 4 µs a round trip, against 7 to 40 µs with a condition
 * variable).
 */

struct trace_req {
	enum __ptrace_request req;
	void *addr;
	void *data;
};

struct trace_batch {
	pid_t tid;
	const struct trace_req *reqs;
	size_t n;
	size_t failed; /* index of the request that failed */
	int result;
};

static struct {
	pthread_mutex_t lock; /* one caller at a time, from its request to the reply */
	int req[2], rep[2];   /* a byte per batch each way: 'b' a batch, 's' stop */
	struct trace_batch *batch;
	unsigned users;
	bool running;
	pthread_t thread;
} tracer = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.req = { -1, -1 },
	.rep = { -1, -1 },
};

/*
 * Aborting a seize.  PTRACE_SEIZE waits for the exec lock with mutex_lock_interruptible: a
 * signal ends that wait, but the kernel then restarts the call whatever the handler's flags
 * (-ERESTARTNOINTR), and it waits again.  So the handler, which runs on the tracer thread
 * between the interrupted wait and its restart, cancels the restart: when the thread is about
 * to run the seize's system call (at the system call instruction with ptrace's number loaded,
 * which the kernel put back for the restart; host_cancel_ptrace_call knows the registers), it
 * steps over the instruction with -EINTR as the result.  The
 * seize then has not happened, and nothing else changed.  A signal that comes before the
 * thread reaches the call, or after it returned, changes nothing: the caller signals again
 * until it has its reply.  Only while seize_abortable is set, on the tracer thread: the
 * signal may also come from outside the process (ignored then).
 */
#define SEIZE_ABORT_SIGNAL SIGRTMAX
#define SEIZE_ABORT_RESEND_MS 20

static __thread volatile sig_atomic_t seize_abortable;

static void seize_abort(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)si;
	if (seize_abortable)
		(void)host_cancel_ptrace_call(ctx);
}

static void run_batch(struct trace_batch *b)
{
	b->result = 0;
	for (b->failed = 0; b->failed < b->n; b->failed++) {
		const struct trace_req *r = &b->reqs[b->failed];
		long ret;

		seize_abortable = r->req == PTRACE_SEIZE;
		ret = ptrace(r->req, b->tid, r->addr, r->data);
		seize_abortable = 0;
		if (ret < 0) {
			b->result = negative_errno();
			return;
		}
	}
}

static bool pipe_byte(int fd, char *c, bool write_it)
{
	for (;;) {
		ssize_t n = write_it ? write(fd, c, 1) : read(fd, c, 1);
		if (n == 1)
			return true;
		if (n < 0 && errno == EINTR)
			continue;
		return false;
	}
}

static void *tracer_main(void *arg)
{
	sigset_t abort_sig;
	char c;

	(void)arg;
	sigemptyset(&abort_sig);
	sigaddset(&abort_sig, SEIZE_ABORT_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &abort_sig, NULL);
	/* The caller that wrote the byte holds the lock until the reply: tracer.batch is its. */
	while (pipe_byte(tracer.req[0], &c, false) && c == 'b') {
		run_batch(tracer.batch);
		if (!pipe_byte(tracer.rep[1], &c, true))
			break;
	}
	return NULL;
}

static void close_pipes(void)
{
	for (int i = 0; i < 2; i++) {
		if (tracer.req[i] >= 0)
			close(tracer.req[i]);
		if (tracer.rep[i] >= 0)
			close(tracer.rep[i]);
		tracer.req[i] = tracer.rep[i] = -1;
	}
}

/*
 * Called with the lock held.  The thread inherits the scheduling of the one that makes the
 * first request, the loop's (a front end raises the loop's priority before it runs it), and
 * is born with every signal blocked: a SIGCHLD taken by it would never reach the loop's signalfd.
 * It unblocks SEIZE_ABORT_SIGNAL alone, whose handler is the process's from then on.
 */
static int tracer_spawn(void)
{
	struct sigaction sa = { .sa_sigaction = seize_abort, .sa_flags = SA_SIGINFO | SA_RESTART };
	sigset_t all, old;
	int err;

	sigfillset(&sa.sa_mask);
	if (sigaction(SEIZE_ABORT_SIGNAL, &sa, NULL) < 0)
		return negative_errno();
	if (pipe2(tracer.req, O_CLOEXEC) < 0 || pipe2(tracer.rep, O_CLOEXEC) < 0) {
		err = errno;
		close_pipes();
		return -err;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&tracer.thread, NULL, tracer_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		close_pipes();
		return -err;
	}
	tracer.running = true;
	return 0;
}

int inject_tracer_start(void)
{
	pthread_mutex_lock(&tracer.lock);
	tracer.users++;
	pthread_mutex_unlock(&tracer.lock);
	return 0;
}

void inject_tracer_stop(void)
{
	char c = 's';

	pthread_mutex_lock(&tracer.lock);
	if (tracer.users > 0 && --tracer.users == 0 && tracer.running) {
		/* Its tracees are detached as it ends (a rewrite in flight restarts its exec). */
		if (pipe_byte(tracer.req[1], &c, true))
			pthread_join(tracer.thread, NULL);
		else
			pthread_detach(tracer.thread);
		tracer.running = false;
		close_pipes();
	}
	pthread_mutex_unlock(&tracer.lock);
}

/*
 * Waits for the tracer's reply to a batch: false when the tracer is gone.  With a timeout, a
 * seize that takes longer is aborted (seize_abort), and *ret_aborted set.
 */
static bool wait_reply(unsigned timeout_ms, bool *ret_aborted)
{
	struct pollfd pfd = { .fd = tracer.rep[0], .events = POLLIN };
	int wait_ms = timeout_ms ? (int)MIN(timeout_ms, (unsigned)INT32_MAX) : -1;
	char c;

	for (;;) {
		int n = poll(&pfd, 1, wait_ms);
		if (n > 0)
			return pipe_byte(tracer.rep[0], &c, false);
		if (n < 0 && errno != EINTR)
			return false;
		if (n == 0) {
			*ret_aborted = true;
			if (pthread_kill(tracer.thread, SEIZE_ABORT_SIGNAL) != 0)
				return false;
			wait_ms = SEIZE_ABORT_RESEND_MS;
		}
	}
}

/*
 * Runs reqs on tid from the tracer thread (started by the first request), in order, until one
 * fails: 0, or the -errno of the one that failed (its index in *ret_failed).  -ESRCH once the
 * tracer is stopped.  timeout_ms (0: none) is for a batch of one PTRACE_SEIZE: -ETIMEDOUT when
 * it was aborted after that long (the task is not seized).
 */
static int trace_bounded(pid_t tid, const struct trace_req *reqs, size_t n, size_t *ret_failed, unsigned timeout_ms)
{
	struct trace_batch b = { .tid = tid, .reqs = reqs, .n = n, .result = -ESRCH };
	bool aborted = false;
	char c = 'b';

	pthread_mutex_lock(&tracer.lock);
	if (!tracer.running && tracer.users > 0)
		b.result = tracer_spawn();
	if (tracer.running) {
		tracer.batch = &b;
		if (!pipe_byte(tracer.req[1], &c, true) ||
		    !(timeout_ms ? wait_reply(timeout_ms, &aborted) : pipe_byte(tracer.rep[0], &c, false)))
			b.result = -ESRCH; /* the tracer is gone: nobody traces anything any more */
	}
	pthread_mutex_unlock(&tracer.lock);
	if (aborted && b.result == -EINTR)
		b.result = -ETIMEDOUT;
	if (ret_failed)
		*ret_failed = b.failed;
	return b.result;
}

static int trace(pid_t tid, const struct trace_req *reqs, size_t n, size_t *ret_failed)
{
	return trace_bounded(tid, reqs, n, ret_failed, 0);
}

static int trace1(pid_t tid, enum __ptrace_request req, void *addr, void *data)
{
	const struct trace_req r = { req, addr, data };

	return trace(tid, &r, 1, NULL);
}

/* ---- seizing and releasing ------------------------------------------------------------------ */

/*
 * About 5 µs a thread here.  A process with more threads counts as having one in an exec: a
 * program that big execs from a child (posix_spawn, fork), whose process has one thread.
 */
#define EXEC_LOOK_MAX_THREADS 512

/* Reads the small file NAME of thread DIR (a name in dirfd, /proc/PID/task): 0, -ENOENT once gone. */
static int read_thread_file(int dirfd, const char *dir, const char *name, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	n = read_small_at(dirfd, path, buf, size);
	return n < 0 ? (int)n : 0;
}

static bool wchan_is(const char *wchan, const char *fn)
{
	size_t len = strlen(fn);

	return strncmp(wchan, fn, len) == 0 && (wchan[len] == '\0' || wchan[len] == '\n' || wchan[len] == '.');
}

/*
 * Whether thread DIR of dirfd (/proc/PID/task), not the one we seize, may hold its process's exec
 * lock, which PTRACE_SEIZE waits for; false once gone.
 *
 * Only an exec holds it for long: from prepare_bprm_creds to the point of no return, while the
 * kernel reads the file, its interpreter, its #! interpreter (from a FUSE server that never
 * answers, as long as the sandbox likes).  A thread in such an exec shows it in /proc: its
 * syscall file names execve or execveat, and its wchan is where it sleeps.  What we leave out:
 *   - a thread waiting in its seccomp notification (seccomp_do_user_notification, maybe with a
 *     compiler's suffix): the filter runs at syscall entry, before the exec takes anything;
 *   - a thread in a ptrace stop or a group stop (ptrace_stop, do_signal_stop, do_freezer_trap):
 *     those happen at syscall entry or on the way back to user space, never with the lock
 *     held, save the PTRACE_EVENT_EXEC stop, after which no other thread is left;
 *   - a thread shown "running": it may be on its way to the lock, but holds it only briefly
 *     once there.  The seize's timeout covers a thread that takes the lock between this look
 *     and the seize and then waits (one that was running, or whose notification another holder
 *     of the listener answered meanwhile);
 *   - a thread not in a system call ("-1 …": in a page fault, or an exited thread-group leader).
 * Anything else (a sleep in the exec, a wchan we cannot read or "0", a syscall file we cannot
 * read) counts as holding it.  i386's execve number is x86-64's munmap: a thread sleeping in
 * munmap counts too, which costs at most this one rewrite.
 */
static bool may_hold_exec_lock(int dirfd, const char *dir)
{
	char buf[128];
	int nr, r;

	r = read_thread_file(dirfd, dir, "syscall", buf, sizeof(buf));
	if (r == -ENOENT || r == -ESRCH)
		return false;
	if (r < 0)
		return true;
	if (strncmp(buf, "running", 7) == 0)
		return false;
	*strchrnul(buf, ' ') = '\0';
	if (parse_int(buf, INT32_MIN, INT32_MAX, &nr) < 0)
		return true;
	if (!host_is_exec_nr(nr))
		return false;
	r = read_thread_file(dirfd, dir, "wchan", buf, sizeof(buf));
	if (r == -ENOENT || r == -ESRCH)
		return false;
	return r < 0 || !(wchan_is(buf, "seccomp_do_user_notification") || wchan_is(buf, "ptrace_stop") ||
			  wchan_is(buf, "do_signal_stop") || wchan_is(buf, "do_freezer_trap"));
}

/*
 * What it trusts: procfs, which the kernel writes (the sandbox chooses only how many threads
 * it has: at most EXEC_LOOK_MAX_THREADS are looked at).  What it checks: every thread of tid's
 * process but tid.
 */
int inject_exec_under_way(pid_t tid, pid_t *ret_busy)
{
	char path[64], buf[4096];
	_cleanup_close_ int dirfd = -1;
	unsigned seen = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)tid);
	dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return errno == ENOENT ? -ESRCH : negative_errno();
	while ((n = getdents64(dirfd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			const struct dirent64 *d = (const struct dirent64 *)(buf + off);
			int other;

			off += d->d_reclen;
			if (parse_int(d->d_name, 1, INT32_MAX, &other) < 0 || other == tid)
				continue;
			if (++seen > EXEC_LOOK_MAX_THREADS) {
				*ret_busy = 0;
				return 1;
			}
			if (may_hold_exec_lock(dirfd, d->d_name)) {
				*ret_busy = other;
				return 1;
			}
		}
	}
	return n < 0 ? negative_errno() : 0;
}

int inject_seize(pid_t tid, unsigned timeout_ms)
{
	const struct trace_req req = { PTRACE_SEIZE, NULL, (void *)(uintptr_t)PTRACE_O_TRACESYSGOOD };

	return trace_bounded(tid, &req, 1, NULL, timeout_ms);
}

int inject_release(struct injection *inj, int listener, struct notif_bufs *bufs, uint64_t id)
{
	int r;

	r = trace1(inj->tid, PTRACE_INTERRUPT, NULL, NULL);
	if (r < 0)
		return r;
	/*
	 * -ERESTARTNOINTR makes the restart unconditional, even if a handler runs first, and
	 * works where the interrupt alone cannot wake the task (WAIT_KILLABLE_RECV filters).
	 * ENOENT means the notification is gone (the task was killed, or interrupted on a kernel
	 * without WAIT_KILLABLE_RECV: it then restarts with -ERESTARTSYS, fixed at the stop).
	 */
	r = inj->rewrite ? notif_send_result(listener, bufs, id, ERESTARTNOINTR, 0)
			 : notif_send_result(listener, bufs, id, inj->fail_errno, 0);
	if (r < 0 && r != -ENOENT)
		return r;
	inj->state = INJECT_WAIT_STOP;
	return 0;
}

int inject_detach_stray(pid_t tid, int status)
{
	int sig = WSTOPSIG(status), event = (unsigned)status >> 16;
	/* Only a signal-delivery stop carries a signal to deliver; syscall and event stops do not. */
	bool signal_stop = event == 0 && sig != (SIGTRAP | 0x80);

	if (!WIFSTOPPED(status))
		return -EINVAL;
	return trace1(tid, PTRACE_DETACH, NULL, (void *)(uintptr_t)(signal_stop ? sig : 0));
}

int inject_restart_later(const struct injection *inj, int listener, struct notif_bufs *bufs, uint64_t id)
{
	/* Idempotent while the trap is pending; a detach clears it (JOBCTL_TRAP_MASK). */
	int r = trace1(inj->tid, PTRACE_INTERRUPT, NULL, NULL);

	if (r == -ESRCH)
		return r;
	return notif_send_result(listener, bufs, id, ERESTARTNOINTR, 0);
}

/* ---- accesses to the caller's memory -------------------------------------------------------- */

/*
 * What a thread needs once its access was abandoned, taken before the section opens: from the
 * overrun on, the record's slot belongs to the loop again (which may reuse it), while what the
 * record pointed to (its fds, its buffers) belongs to this copy alone.
 */
struct handover {
	struct injection inj;
	struct inject_access how;
	struct host_regs regs; /* RESTART: a copy of *how.regs */
};

/* Answers the notification of an ANSWER put-back on our own copy of the listener. */
static void answer_late(const struct handover *h)
{
	struct notif_bufs bufs;
	int r;

	if (h->inj.notif_fd < 0 || notif_bufs_alloc(&bufs) < 0)
		return; /* the task waits until the listener closes, then its exec fails with ENOSYS */
	r = h->how.answer_err ? notif_send_result(h->inj.notif_fd, &bufs, h->how.id, h->how.answer_err, 0)
			      : notif_send_continue(h->inj.notif_fd, &bufs, h->how.id);
	if (r < 0 && r != -ENOENT)
		log_debug_errno(r, "pid %d: cannot answer the exec left to us: %m", (int)h->inj.tid);
	notif_bufs_free(&bufs);
}

/*
 * The calling thread's access outlived the deadline and the loop went on without it; its wait
 * has ended.  What it trusts: only h, its own.  It puts the task back as h->how says (after a
 * write, the task sat still meanwhile: in our ptrace stop, or in its notification), frees what
 * h holds, and ends.  The section stays counted against the sandbox until then: a put-back may
 * wait on the sandbox's memory again (a stub's code).
 */
static _Noreturn void put_back(struct guard *g, uint64_t seq, struct handover *h)
{
	size_t failed;
	int r;

	switch (h->how.putback) {
	case INJECT_PUTBACK_CONTINUE:
		break; /* answered by the overrun */
	case INJECT_PUTBACK_RESTART: {
		const struct host_ptrace set = host_regs_request(&h->regs, true);
		const struct trace_req reqs[] = {
			{ set.req, set.addr, set.data },
			{ PTRACE_DETACH, NULL, (void *)(uintptr_t)h->inj.stop_sig },
		};
		r = trace(h->inj.tid, reqs, ARRAY_SIZE(reqs), &failed);
		if (r < 0 && r != -ESRCH && failed == 0)
			(void)trace1(h->inj.tid, PTRACE_DETACH, NULL, (void *)(uintptr_t)h->inj.stop_sig);
		log_debug("pid %d: the stuck write to its memory ended; its exec starts over", (int)h->inj.tid);
		break;
	}
	case INJECT_PUTBACK_ANSWER:
		if (h->how.code_written && h->inj.stub_len && h->inj.mem_fd >= 0)
			(void)tmem_fd_write(h->inj.mem_fd, h->inj.stub_addr, h->inj.stub_orig, h->inj.stub_len);
		answer_late(h);
		log_debug("pid %d: the stuck access to its memory ended; its exec is answered", (int)h->inj.tid);
		break;
	}
	free(h->how.owned);
	inject_clear(&h->inj);
	guard_retire_from(g, seq);
}

/* One access, by pid or through the task's /proc/TID/mem (*fd, opened here when by_fd). */
static int access_once(struct guard *g, uint64_t seq, pid_t tid, bool by_fd, int *fd, uint64_t addr, void *buf,
		       size_t len, bool write)
{
	int r;

	if (by_fd) {
		if (*fd < 0)
			*fd = tmem_open(tid); /* the open waits on the task too (an exec holds the lock it takes) */
		if (*fd < 0)
			return *fd;
		return write ? tmem_fd_write(*fd, addr, buf, len) : tmem_fd_read(*fd, addr, buf, len);
	}
	r = write ? tmem_write_once(tid, addr, buf, len) : tmem_read_once(tid, addr, buf, len);
	/*
	 * A write refused by a read-only page: /proc/TID/mem forces it in (FOLL_FORCE), as the
	 * write used to fall back to; but not once the loop has moved on, when the pid may name
	 * another process.
	 */
	if (!write || r != -EFAULT || (g && !guard_still_open(g, seq)))
		return r;
	int mem = tmem_open(tid);
	if (mem < 0)
		return mem;
	r = tmem_fd_write(mem, addr, buf, len);
	close(mem);
	return r;
}

/*
 * What it trusts: nothing of the task's; the task decides how long its memory takes (a FUSE
 * page that never comes, a userfaultfd range).  What it checks: the sandbox's count of stuck
 * sections first; then the access runs in a guarded section, and once the section has been
 * abandoned nothing new starts on the task's pid, which may by then name another process: a
 * pid is used while the task sits in our ptrace stop (it cannot be reaped meanwhile) or in
 * its notification, and a code stub's accesses go through the task's own /proc/TID/mem, which
 * names the memory the task had when it was opened.
 */
static int mem_access(struct injection *inj, const struct inject_access *how, uint64_t addr, void *buf, size_t len,
		      bool write)
{
	struct guard *g = inj->guard;
	struct handover h;
	uint64_t seq;
	int r;

	if (!g)
		return access_once(NULL, 0, inj->tid, inj->by_fd, &inj->mem_fd, addr, buf, len, write);
	if (guard_abandoned(g, inj->owner) >= GUARD_MAX_PER_OWNER)
		return -EAGAIN;
	h = (struct handover){ .inj = *inj, .how = *how };
	if (how->regs)
		h.regs = *how->regs;
	seq = guard_enter_section(
		g, &(struct guard_section){
			   .kind = how->putback == INJECT_PUTBACK_CONTINUE ? GUARD_INJECT_CONTINUE : GUARD_INJECT_OWNED,
			   .owner = h.inj.owner,
			   .ref = h.inj.ref,
			   .listener = how->listener,
			   .id = how->id,
			   .tid = h.inj.tid,
		   });
	/* From here on, only h and buf: the record may be taken from us at any moment. */
	r = access_once(g, seq, h.inj.tid, h.inj.by_fd, &h.inj.mem_fd, addr, buf, len, write);
	if (!guard_leave_keep(g, seq))
		put_back(g, seq, &h);
	inj->mem_fd = h.inj.mem_fd >= 0 ? h.inj.mem_fd : -1;
	return r;
}

int inject_mem_read(struct injection *inj, const struct inject_access *how, uint64_t addr, void *buf, size_t len)
{
	return mem_access(inj, how, addr, buf, len, false);
}

int inject_mem_write(struct injection *inj, const struct inject_access *how, uint64_t addr, const void *buf, size_t len)
{
	return mem_access(inj, how, addr, (void *)buf, len, true);
}

/* ---- the ptrace stops ------------------------------------------------------------------------ */

/* Makes the restarting call of inj's ABI the emulator's execveat. */
static void set_execveat_args(const struct injection *inj, struct host_regs *regs, bool restarting)
{
	const uint64_t args[] = {
		(uint32_t)inj->emu_fd_target, inj->blk.empty_addr, inj->blk.argv_addr, inj->envp, AT_EMPTY_PATH,
	};
	long nr = exec_abi_execveat_nr(inj->abi);

	if (restarting)
		host_regs_set_restart_call(regs, inj->abi, nr, args, ARRAY_SIZE(args));
	else
		host_regs_set_call(regs, inj->abi, nr, args, ARRAY_SIZE(args));
}

/* Reads (write: sets) the registers of inj's stopped task. */
static int regs_io(const struct injection *inj, struct host_regs *regs, bool write)
{
	struct host_ptrace p = host_regs_request(regs, write);

	return trace1(inj->tid, (enum __ptrace_request)p.req, p.addr, p.data);
}

static unsigned ptr_size(const struct injection *inj)
{
	return inj->abi == EXEC_ABI_X86_64 || inj->abi == EXEC_ABI_AARCH64 ? 8 : 4;
}

/*
 * Lays the scratch block out below top and writes it; keeps the copy for the restart check.
 * back: the registers that start the exec over, should the write get stuck (the task sits in
 * our ptrace stop meanwhile).
 */
static int write_block(struct injection *inj, uint64_t top, const struct host_regs *back)
{
	size_t need = rewrite_block_size(inj->args, inj->nargs, ptr_size(inj)) + 16;
	uint8_t *buf = malloc(need);
	int r;

	if (!buf)
		return -ENOMEM;
	r = rewrite_layout(inj->args, inj->nargs, ptr_size(inj), top, buf, need, &inj->blk);
	if (r < 0) {
		free(buf);
		return r;
	}
	const struct inject_access how = { .putback = INJECT_PUTBACK_RESTART, .regs = back, .owned = buf };
	r = inject_mem_write(inj, &how, inj->blk.base, buf, inj->blk.len);
	if (r < 0) {
		free(buf);
		return r;
	}
	free(inj->block);
	inj->block = buf;
	return 0;
}

static enum inject_progress detach(struct injection *inj, enum inject_progress progress)
{
	if (trace1(inj->tid, PTRACE_DETACH, NULL, (void *)(uintptr_t)inj->stop_sig) == -ESRCH)
		return INJECT_GONE;
	inj->state = progress == INJECT_DETACHED ? INJECT_WAIT_RESTART : INJECT_FREE;
	return progress;
}

/* Sets regs and detaches in one batch: progress, or GONE; registers refused leave the task as it was. */
static enum inject_progress set_and_detach(struct injection *inj, struct host_regs *regs, enum inject_progress progress)
{
	const struct host_ptrace set = host_regs_request(regs, true);
	const struct trace_req reqs[] = {
		{ (enum __ptrace_request)set.req, set.addr, set.data },
		{ PTRACE_DETACH, NULL, (void *)(uintptr_t)inj->stop_sig },
	};
	size_t failed;
	int r = trace(inj->tid, reqs, ARRAY_SIZE(reqs), &failed);

	if (r == -ESRCH)
		return INJECT_GONE;
	if (r < 0 && failed == 0)
		return detach(inj, INJECT_FAILED);
	inj->state = progress == INJECT_DETACHED ? INJECT_WAIT_RESTART : INJECT_FREE;
	return progress;
}

/* Makes the interrupted exec return -err to the caller instead of restarting. */
static enum inject_progress fail_exec(struct injection *inj, struct host_regs *regs, int err)
{
	host_regs_set_error(regs, inj->abi, err);
	inj->fail_errno = err;
	return set_and_detach(inj, regs, INJECT_FAILED);
}

/*
 * No room below the stack pointer (a tiny thread stack, a huge argv) or addresses that must
 * fit in 32 bits (the i386 ABI called from 64-bit code): have the task map scratch memory
 * itself.  The interrupted syscall restarts as mmap, stopped at entry and exit by
 * PTRACE_SYSCALL; the exec is then set up by hand at the exit stop.
 */
static enum inject_progress start_mmap(struct injection *inj, struct host_regs *regs)
{
	size_t need = rewrite_block_size(inj->args, inj->nargs, ptr_size(inj)) + 16;
	struct host_regs r = *regs;

	inj->saved = *regs;
	inj->map_len = ALIGN_UP(need, (size_t)4096);
	const uint64_t args[] = {
		0,
		inj->map_len,
		PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | (inj->abi == EXEC_ABI_X32 ? X86_MAP_32BIT : 0),
		ptr_size(inj) == 4 && inj->abi != EXEC_ABI_X32 ? UINT32_MAX : UINT64_MAX, /* fd -1 */
		0,
	};
	host_regs_set_restart_call(&r, inj->abi, exec_abi_mmap_nr(inj->abi), args, ARRAY_SIZE(args));
	const struct host_ptrace set = host_regs_request(&r, true);
	const struct trace_req reqs[] = {
		{ (enum __ptrace_request)set.req, set.addr, set.data },
		{ PTRACE_SYSCALL, NULL, NULL },
	};
	int err = trace(inj->tid, reqs, ARRAY_SIZE(reqs), NULL);
	if (err < 0)
		return err == -ESRCH ? INJECT_GONE : fail_exec(inj, regs, ENOEXEC);
	inj->state = INJECT_WAIT_MMAP_ENTRY;
	return INJECT_PENDING;
}

static enum inject_progress on_first_stop(struct injection *inj)
{
	struct host_regs regs;
	int r;

	r = regs_io(inj, &regs, false);
	if (r < 0)
		return r == -ESRCH ? INJECT_GONE : detach(inj, INJECT_FAILED);
	if (!inj->rewrite || !host_regs_restarting(&regs, inj->abi))
		/* Answered with an error, or the exec already finished some other way. */
		return detach(inj, INJECT_FAILED);

	/* Unconditional restart, even if the stop showed -ERESTARTSYS: of the exec as it was if
	 * the write gets stuck, of the rewritten one otherwise. */
	host_regs_keep_restart(&regs);
	r = write_block(inj, ALIGN_DOWN(host_regs_sp(&regs) - host_red_zone(), (uint64_t)16), &regs);
	if (r == -EFAULT || r == -EOVERFLOW || r == -EIO)
		return start_mmap(inj, &regs);
	if (r < 0)
		return r == -ESRCH ? INJECT_GONE : fail_exec(inj, &regs, r == -E2BIG ? E2BIG : ENOEXEC);

	set_execveat_args(inj, &regs, true);
	return set_and_detach(inj, &regs, INJECT_DETACHED);
}

static enum inject_progress on_mmap_exit(struct injection *inj)
{
	struct host_regs regs;
	int64_t addr;
	int r;

	r = regs_io(inj, &regs, false);
	if (r < 0)
		return r == -ESRCH ? INJECT_GONE : detach(inj, INJECT_FAILED);
	addr = host_regs_result(&regs, inj->abi);
	if (addr < 0 && addr > -4096) {
		/* Back to the registers of the interrupted exec, returning -ENOMEM. */
		struct host_regs back = inj->saved;
		return fail_exec(inj, &back, ENOMEM);
	}
	if (ptr_size(inj) == 4 && inj->abi != EXEC_ABI_X32)
		addr = (int64_t)(uint32_t)addr;
	/*
	 * The mmap ran and returned: pointing the task back at its syscall instruction with an
	 * exec's number makes it run that exec on its own when it resumes.  Should the write get
	 * stuck, the exec as it was (which traps again); else the rewritten one.
	 */
	regs = inj->saved;
	host_regs_rewind_restart(&regs, inj->abi);
	r = write_block(inj, (uint64_t)addr + inj->map_len, &regs);
	if (r < 0) {
		struct host_regs back = inj->saved;
		return r == -ESRCH ? INJECT_GONE : fail_exec(inj, &back, ENOEXEC);
	}
	set_execveat_args(inj, &regs, false);
	return set_and_detach(inj, &regs, INJECT_DETACHED);
}

/* A signal-delivery stop during the dance: hold the signal back until we detach. */
static enum inject_progress hold_signal(struct injection *inj, int sig, enum __ptrace_request resume)
{
	if (inj->stop_sig && inj->stop_sig != sig)
		log_debug("inject: tid %d: signal %d dropped while %d is held", (int)inj->tid, inj->stop_sig, sig);
	inj->stop_sig = sig;
	if (trace1(inj->tid, resume, NULL, NULL) < 0)
		return INJECT_GONE;
	return INJECT_PENDING;
}

enum inject_progress inject_on_status(struct injection *inj, int status)
{
	if (WIFEXITED(status) || WIFSIGNALED(status))
		return INJECT_GONE;
	if (!WIFSTOPPED(status))
		return INJECT_PENDING;

	int sig = WSTOPSIG(status);
	int event = (unsigned)status >> 16;
	bool syscall_stop = sig == (SIGTRAP | 0x80);

	switch (inj->state) {
	case INJECT_WAIT_STOP:
		if (event == 0 && !syscall_stop)
			inj->stop_sig = sig; /* signal-delivery stop: regs are just as good here */
		return on_first_stop(inj);
	case INJECT_WAIT_MMAP_ENTRY:
		if (syscall_stop) {
			inj->state = INJECT_WAIT_MMAP_EXIT;
			if (trace1(inj->tid, PTRACE_SYSCALL, NULL, NULL) < 0)
				return INJECT_GONE;
			return INJECT_PENDING;
		}
		return event ? (trace1(inj->tid, PTRACE_SYSCALL, NULL, NULL) < 0 ? INJECT_GONE : INJECT_PENDING)
			     : hold_signal(inj, sig, PTRACE_SYSCALL);
	case INJECT_WAIT_MMAP_EXIT:
		if (syscall_stop)
			return on_mmap_exit(inj);
		return event ? (trace1(inj->tid, PTRACE_SYSCALL, NULL, NULL) < 0 ? INJECT_GONE : INJECT_PENDING)
			     : hold_signal(inj, sig, PTRACE_SYSCALL);
	case INJECT_FREE:
	case INJECT_WAIT_RESTART:
	case INJECT_STATE_MAX:
		break;
	}
	return INJECT_PENDING;
}

int inject_on_restart(struct injection *inj, const struct exec_call *call, int listener, uint64_t id)
{
	uint8_t *now;
	int r;

	if (inj->state != INJECT_WAIT_RESTART || !call->is_execveat || call->abi != inj->abi ||
	    call->dirfd != inj->emu_fd_target || call->argv != inj->blk.argv_addr ||
	    call->path != inj->blk.empty_addr || !(call->flags & AT_EMPTY_PATH))
		return -ESTALE;
	now = malloc(inj->blk.len);
	if (!now)
		return -ENOMEM;
	/*
	 * Reading changes nothing: if it gets stuck the kernel may take the exec as it is.  Not
	 * with a code stub in place, which must be gone before the exec can fail back into it.
	 */
	struct inject_access how = { .putback = INJECT_PUTBACK_CONTINUE, .listener = listener, .id = id, .owned = now };
	if (inj->stub_len)
		how = (struct inject_access){
			.putback = INJECT_PUTBACK_ANSWER, .id = id, .code_written = true, .owned = now
		};
	r = inject_mem_read(inj, &how, inj->blk.base, now, inj->blk.len);
	if (r < 0 || memcmp(now, inj->block, inj->blk.len) != 0) {
		/*
		 * A signal frame landed on the block between detach and restart: put it back.  The
		 * task must not run before this write ends (it would land below its stack pointer):
		 * a stuck write keeps the notification, answered on our own copy of the listener.
		 */
		log_debug("inject: tid %d: scratch block overwritten before restart, rewriting", (int)inj->tid);
		how = (struct inject_access){
			.putback = INJECT_PUTBACK_ANSWER, .id = id, .code_written = inj->stub_len > 0, .owned = now
		};
		if (inj->notif_fd < 0)
			inj->notif_fd = fcntl(listener, F_DUPFD_CLOEXEC, 3);
		if (inj->notif_fd < 0)
			r = negative_errno();
		else if (!inj->by_fd && notif_id_valid(listener, id) < 0)
			r = -ESRCH; /* the pid we would write through is no longer surely its */
		else
			r = inject_mem_write(inj, &how, inj->blk.base, inj->block, inj->blk.len);
	}
	free(now);
	return r;
}

void inject_clear(struct injection *inj)
{
	free(inj->args);
	free(inj->block);
	if (inj->mem_fd >= 0)
		close(inj->mem_fd);
	if (inj->notif_fd >= 0)
		close(inj->notif_fd);
	*inj = (struct injection){ .state = INJECT_FREE, .emu_fd_target = -1, .mem_fd = -1, .notif_fd = -1 };
}
