/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"
#include "inject.h"
#include "log.h"
#include "macros.h"
#include "tmem.h"

#define RED_ZONE 128           /* the x86-64 ABI lets leaf code use 128 bytes below rsp */
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

/* ---- the tracer thread ----------------------------------------------------------------------- */

/*
 * ptrace ties a tracee to the thread that attached it: only that thread may read its
 * registers, set them, resume or detach it.  The loop's thread cannot be that thread: a
 * guarded section may leave it stuck for good (guard.h), and every task it traced with it,
 * whatever sandbox they belong to.  So one thread of the process makes every ptrace request,
 * one batch at a time, and nothing else.  A request on a seized task (INTERRUPT, GETREGS,
 * SETREGS, SYSCALL, DETACH) takes no lock a sandbox can hold and touches none of its memory or
 * files, so the batches end.  (SEIZE waits for the process's cred_guard_mutex, which an exec in
 * another thread of that process holds while it reads its file: that wait is not covered.)
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
	pthread_mutex_t lock;     /* one caller at a time, from its request to the reply */
	int req[2], rep[2];       /* a byte per batch each way: 'b' a batch, 's' stop */
	struct trace_batch *batch;
	unsigned users;
	bool running;
	pthread_t thread;
} tracer = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.req = { -1, -1 },
	.rep = { -1, -1 },
};

static void run_batch(struct trace_batch *b)
{
	b->result = 0;
	for (b->failed = 0; b->failed < b->n; b->failed++) {
		const struct trace_req *r = &b->reqs[b->failed];
		if (ptrace(r->req, b->tid, r->addr, r->data) < 0) {
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
	char c;

	(void)arg;
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
 */
static int tracer_spawn(void)
{
	sigset_t all, old;
	int err;

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
 * Runs reqs on tid from the tracer thread (started by the first request), in order, until one
 * fails: 0, or the -errno of the one that failed (its index in *ret_failed).  -ESRCH once the
 * tracer is stopped.
 */
static int trace(pid_t tid, const struct trace_req *reqs, size_t n, size_t *ret_failed)
{
	struct trace_batch b = { .tid = tid, .reqs = reqs, .n = n, .result = -ESRCH };
	char c = 'b';

	pthread_mutex_lock(&tracer.lock);
	if (!tracer.running && tracer.users > 0)
		b.result = tracer_spawn();
	if (tracer.running) {
		tracer.batch = &b;
		if (!pipe_byte(tracer.req[1], &c, true) || !pipe_byte(tracer.rep[0], &c, false))
			b.result = -ESRCH; /* the tracer is gone: nobody traces anything any more */
	}
	pthread_mutex_unlock(&tracer.lock);
	if (ret_failed)
		*ret_failed = b.failed;
	return b.result;
}

static int trace1(pid_t tid, enum __ptrace_request req, void *addr, void *data)
{
	const struct trace_req r = { req, addr, data };

	return trace(tid, &r, 1, NULL);
}

/* ---- seizing and releasing ------------------------------------------------------------------ */

int inject_seize(pid_t tid)
{
	return trace1(tid, PTRACE_SEIZE, NULL, (void *)(uintptr_t)PTRACE_O_TRACESYSGOOD);
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

/* ---- accesses to the caller's memory -------------------------------------------------------- */

/*
 * What a thread needs once its access was abandoned, taken before the section opens: from the
 * overrun on, the record's slot belongs to the loop again (which may reuse it), while what the
 * record pointed to (its fds, its buffers) belongs to this copy alone.
 */
struct handover {
	struct injection inj;
	struct inject_access how;
	struct user_regs_struct regs; /* RESTART: a copy of *how.regs */
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
		const struct trace_req reqs[] = {
			{ PTRACE_SETREGS, NULL, &h->regs },
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
	seq = guard_enter_section(g, &(struct guard_section){
					     .kind = how->putback == INJECT_PUTBACK_CONTINUE ? GUARD_INJECT_CONTINUE
											    : GUARD_INJECT_OWNED,
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

int inject_mem_write(struct injection *inj, const struct inject_access *how, uint64_t addr, const void *buf,
		     size_t len)
{
	return mem_access(inj, how, addr, (void *)buf, len, true);
}

/* ---- the ptrace stops ------------------------------------------------------------------------ */

static bool is_restart_code(int64_t rax)
{
	return rax == -ERESTARTSYS || rax == -ERESTARTNOINTR || rax == -ERESTARTNOHAND ||
	       rax == -ERESTART_RESTARTBLOCK;
}

/* Puts the execveat arguments into the registers of inj's ABI. */
static void set_execveat_args(const struct injection *inj, struct user_regs_struct *regs)
{
	uint64_t nr = (uint64_t)(int64_t)exec_abi_execveat_nr(inj->abi);

	regs->orig_rax = nr;
	if (inj->abi == EXEC_ABI_I386) {
		regs->rbx = (uint32_t)inj->emu_fd_target;
		regs->rcx = inj->blk.empty_addr;
		regs->rdx = inj->blk.argv_addr;
		regs->rsi = inj->envp;
		regs->rdi = AT_EMPTY_PATH;
	} else {
		regs->rdi = (uint32_t)inj->emu_fd_target;
		regs->rsi = inj->blk.empty_addr;
		regs->rdx = inj->blk.argv_addr;
		regs->r10 = inj->envp;
		regs->r8 = AT_EMPTY_PATH;
	}
}

static unsigned ptr_size(const struct injection *inj)
{
	return inj->abi == EXEC_ABI_X86_64 ? 8 : 4;
}

/*
 * Lays the scratch block out below top and writes it; keeps the copy for the restart check.
 * back: the registers that start the exec over, should the write get stuck (the task sits in
 * our ptrace stop meanwhile).
 */
static int write_block(struct injection *inj, uint64_t top, const struct user_regs_struct *back)
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
static enum inject_progress set_and_detach(struct injection *inj, struct user_regs_struct *regs,
					   enum inject_progress progress)
{
	const struct trace_req reqs[] = {
		{ PTRACE_SETREGS, NULL, regs },
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
static enum inject_progress fail_exec(struct injection *inj, struct user_regs_struct *regs, int err)
{
	regs->rax = (uint64_t)(int64_t)-err;
	inj->fail_errno = err;
	return set_and_detach(inj, regs, INJECT_FAILED);
}

/*
 * No room below the stack pointer (a tiny thread stack, a huge argv) or addresses that must
 * fit in 32 bits (the i386 ABI called from 64-bit code): have the task map scratch memory
 * itself.  The interrupted syscall restarts as mmap, stopped at entry and exit by
 * PTRACE_SYSCALL; the exec is then set up by hand at the exit stop.
 */
static enum inject_progress start_mmap(struct injection *inj, struct user_regs_struct *regs)
{
	size_t need = rewrite_block_size(inj->args, inj->nargs, ptr_size(inj)) + 16;
	struct user_regs_struct r = *regs;

	inj->saved = *regs;
	inj->map_len = ALIGN_UP(need, (size_t)4096);
	r.orig_rax = (uint64_t)(int64_t)exec_abi_mmap_nr(inj->abi);
	r.rax = (uint64_t)(int64_t)-ERESTARTNOINTR;
	if (inj->abi == EXEC_ABI_I386) {
		r.rbx = 0;
		r.rcx = inj->map_len;
		r.rdx = PROT_READ | PROT_WRITE;
		r.rsi = MAP_PRIVATE | MAP_ANONYMOUS;
		r.rdi = (uint64_t)-1 & UINT32_MAX;
		r.rbp = 0;
	} else {
		r.rdi = 0;
		r.rsi = inj->map_len;
		r.rdx = PROT_READ | PROT_WRITE;
		r.r10 = MAP_PRIVATE | MAP_ANONYMOUS | (inj->abi == EXEC_ABI_X32 ? MAP_32BIT : 0);
		r.r8 = (uint64_t)-1;
		r.r9 = 0;
	}
	const struct trace_req reqs[] = {
		{ PTRACE_SETREGS, NULL, &r },
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
	struct user_regs_struct regs;
	int r;

	r = trace1(inj->tid, PTRACE_GETREGS, NULL, &regs);
	if (r < 0)
		return r == -ESRCH ? INJECT_GONE : detach(inj, INJECT_FAILED);
	if (!inj->rewrite || !is_restart_code((int64_t)regs.rax))
		/* Answered with an error, or the exec already finished some other way. */
		return detach(inj, INJECT_FAILED);

	/* Unconditional restart, even if the stop showed -ERESTARTSYS: of the exec as it was if
	 * the write gets stuck, of the rewritten one otherwise. */
	regs.rax = (uint64_t)(int64_t)-ERESTARTNOINTR;
	r = write_block(inj, ALIGN_DOWN(regs.rsp - RED_ZONE, (uint64_t)16), &regs);
	if (r == -EFAULT || r == -EOVERFLOW || r == -EIO)
		return start_mmap(inj, &regs);
	if (r < 0)
		return r == -ESRCH ? INJECT_GONE : fail_exec(inj, &regs, r == -E2BIG ? E2BIG : ENOEXEC);

	set_execveat_args(inj, &regs);
	return set_and_detach(inj, &regs, INJECT_DETACHED);
}

static enum inject_progress on_mmap_exit(struct injection *inj)
{
	struct user_regs_struct regs;
	int64_t addr;
	int r;

	r = trace1(inj->tid, PTRACE_GETREGS, NULL, &regs);
	if (r < 0)
		return r == -ESRCH ? INJECT_GONE : detach(inj, INJECT_FAILED);
	addr = inj->abi == EXEC_ABI_I386 ? (int64_t)(int32_t)regs.rax : (int64_t)regs.rax;
	if (addr < 0 && addr > -4096) {
		/* Back to the registers of the interrupted exec, returning -ENOMEM. */
		struct user_regs_struct back = inj->saved;
		return fail_exec(inj, &back, ENOMEM);
	}
	if (inj->abi == EXEC_ABI_I386)
		addr = (int64_t)(uint32_t)regs.rax;
	/*
	 * The mmap ran and returned: pointing the task back at its syscall instruction with an
	 * exec's number in rax makes it run that exec on its own when it resumes.  Should the
	 * write get stuck, the exec as it was (which traps again); else the rewritten one.
	 */
	regs = inj->saved;
	regs.rax = regs.orig_rax;
	regs.rip -= 2;
	r = write_block(inj, (uint64_t)addr + inj->map_len, &regs);
	if (r < 0) {
		struct user_regs_struct back = inj->saved;
		return r == -ESRCH ? INJECT_GONE : fail_exec(inj, &back, ENOEXEC);
	}
	set_execveat_args(inj, &regs);
	regs.rax = regs.orig_rax;
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
