/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_INJECT_H
#define UBINFMT_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "host.h"
#include "notif.h"
#include "rewrite.h"

struct guard;

/*
 * The exec rewrite, done with a brief ptrace of the trapped task (README, "How it works"):
 * seize, add the emulator fd while the notification is pending, interrupt, answer
 * -ERESTARTNOINTR, and at the resulting stop turn the restarting call into
 * execveat(emu_fd, "", argv', envp, AT_EMPTY_PATH) with argv' written below the stack pointer.
 * Stops arrive through SIGCHLD; nothing here waits synchronously.
 *
 * Two threads share the work, because the caller decides how long an access to its memory
 * takes (its stack on a FUSE file that never answers, a userfaultfd range) and ptrace ties a
 * tracee to the one thread that attached it:
 *
 *   - the tracer thread (inject_tracer_start) makes every ptrace request and nothing else, so
 *     it never waits on a sandbox and every tracee keeps a tracer that answers;
 *   - the loop's thread makes every access to the caller's memory, each in a guarded section
 *     (guard.h) under the decision deadline.  When one is abandoned, the record is taken out of
 *     the loop's tables (engine.c, on_overrun) and belongs to the stuck thread alone: when its
 *     wait ends, that thread puts the task back as it found it (see struct inject_access) and
 *     ends.  Meanwhile the task waits, in our ptrace stop or in its notification: the sandbox
 *     that owns the memory waits on itself, and nobody else waits on it.
 */

enum inject_state {
	INJECT_FREE,
	INJECT_WAIT_STOP,	/* interrupted and answered; waiting for the ptrace stop */
	INJECT_WAIT_MMAP_ENTRY, /* running mmap in the task for scratch memory */
	INJECT_WAIT_MMAP_EXIT,
	INJECT_WAIT_RESTART, /* detached; waiting for the rewritten exec to trap */
	INJECT_STATE_MAX,
};

enum inject_progress {
	INJECT_PENDING,	 /* more stops to come */
	INJECT_DETACHED, /* rewritten and detached: the restarted exec will trap next */
	INJECT_FAILED,	 /* detached without rewrite: the caller's exec fails with fail_errno */
	INJECT_GONE,	 /* the task died */
};

struct injection {
	enum inject_state state;
	pid_t tid;
	enum exec_abi abi;
	uint64_t envp;
	int emu_fd_target; /* the emulator, as the target's fd number */
	bool rewrite;	   /* false: only detach (the notification got an error answer) */
	int stop_sig;	   /* a signal seen at a signal-delivery stop, re-injected at detach */
	int fail_errno;
	struct rw_arg *args; /* the emulator's argv plan */
	size_t nargs;
	uint8_t *block; /* the scratch block as written, to check the restart against */
	struct rw_block blk;
	size_t map_len;	    /* scratch mapped through the task, when the stack had no room */
	uint64_t stub_addr; /* traced callers: where the code stub went, and what it replaced */
	size_t stub_len;
	uint8_t stub_orig[HOST_STUB_MAX_CODE];
	struct host_regs saved;
	bool by_fd;   /* code stubs: memory through mem_fd, opened at the first access */
	int mem_fd;   /* /proc/TID/mem, or -1 */
	int notif_fd; /* code stubs: our own copy of the listener (a stuck thread answers on it), or -1 */
	/* Where its accesses to the caller's memory are guarded (set by the engine; NULL: unguarded). */
	struct guard *guard;
	uint64_t owner; /* its sandbox's serial: the guard counts stuck sections per sandbox */
	uint64_t ref;	/* its record in the engine's table, for the overrun callback */
};

/*
 * Takes and drops a reference on the process's tracer thread (one for every engine), which the
 * first request starts and the last reference stops.  Without a reference every request fails
 * with -ESRCH; a thread that ends detaches its tracees.
 */
int inject_tracer_start(void);
void inject_tracer_stop(void);

/*
 * Whether another thread of tid's process may be in the middle of an exec, and so hold the
 * process's exec lock (cred_guard_mutex), which PTRACE_SEIZE waits for, as long as the sandbox
 * likes (the exec reads a FUSE file that never answers).  1 with *ret_busy set to that thread
 * (0: the process has too many threads to look at them all), 0 when none may, -ESRCH when tid
 * is gone, or -errno.  Then the task is best not seized, and its exec left to the kernel, which
 * makes it wait for that lock too.
 */
int inject_exec_under_way(pid_t tid, pid_t *ret_busy);

/*
 * PTRACE_SEIZE, aborted after timeout_ms (0: no limit) should the exec lock not come by then
 * (-ETIMEDOUT: not seized; an exec of another thread took the lock after inject_exec_under_way
 * looked).  -EPERM when another tracer holds the task (strace, gdb); -ESRCH when it is gone.
 *
 * The tracer thread aborts a seize with SIGRTMAX, sent to it alone: the process's handler of
 * that signal is this module's once the first request was made.
 */
int inject_seize(pid_t tid, unsigned timeout_ms);

/*
 * Interrupts the seized task and answers its notification: -ERESTARTNOINTR when rewriting
 * (inj->rewrite), else -fail_errno.  Then waits (asynchronously) for the stop.
 */
int inject_release(struct injection *inj, int listener, struct notif_bufs *bufs, uint64_t id);

/*
 * Answers another notification of a task released above whose stop is still to come:
 * -ERESTARTNOINTR, so that the task takes that stop first and then makes the same exec again.
 * The task is interrupted again first: should the stop of the first interrupt have been taken
 * some other way, this one still comes, rather than the task going round this answer for good.
 * -ESRCH, the notification left pending, when the task is not our tracee (the record is stale:
 * no stop will come); -ENOENT when the notification is gone already (the task restarts anyway,
 * or died).
 */
int inject_restart_later(const struct injection *inj, int listener, struct notif_bufs *bufs, uint64_t id);

/*
 * A ptrace stop of tid with no rewrite in flight to take it (status from wait4): had we lost
 * track of a task we seized, it would stay stopped for good, so let it go, with the signal of a
 * signal-delivery stop.  0 when it was ours and is detached now; -ESRCH when it was not our
 * tracee (a child of ours in a job-control stop) or is gone.
 */
int inject_detach_stray(pid_t tid, int status);

/* Feeds one wait status of inj->tid (from waitid/wait4 with __WALL|WUNTRACED). */
enum inject_progress inject_on_status(struct injection *inj, int status);

/*
 * The rewritten exec trapped (notification id on listener): checks that call is ours and that
 * the scratch block is intact (a signal frame may have landed on it between detach and
 * restart), rewriting it if not.  -ESTALE when call is not the rewritten exec.
 */
int inject_on_restart(struct injection *inj, const struct exec_call *call, int listener, uint64_t id);

/* Frees what the record owns and marks it INJECT_FREE. */
void inject_clear(struct injection *inj);

/* ---- accesses to the caller's memory (inject.c, stub.c) ----------------------------------- */

/*
 * What becomes of the task if an access to its memory outlives the decision deadline: by
 * then the loop has moved on, and the thread of the access, once its wait ends, is the only
 * one that knows what state the task was left in.
 */
enum inject_putback {
	/*
	 * The notification (listener, id) is pending and nothing was changed yet: the overrun
	 * answers it CONTINUE (the kernel gets the exec as it is), and the thread only frees.
	 */
	INJECT_PUTBACK_CONTINUE,
	/*
	 * The task sits in our ptrace stop: the thread sets regs (which start the exec over, so
	 * that it traps again and is decided afresh) and detaches it, re-injecting a held signal.
	 */
	INJECT_PUTBACK_RESTART,
	/*
	 * The task is blocked in its notification id and its memory may change under the access
	 * (a write below its stack pointer, a code stub): it must not run before the access ends.
	 * The thread puts the original code of a stub back if code_written, then answers id on
	 * inj->notif_fd (our own copy of the listener) with answer_err, or CONTINUE when 0.
	 */
	INJECT_PUTBACK_ANSWER,
};

struct inject_access {
	enum inject_putback putback;
	int listener;		      /* CONTINUE */
	uint64_t id;		      /* CONTINUE, ANSWER */
	const struct host_regs *regs; /* RESTART */
	bool code_written;	      /* ANSWER */
	int answer_err;		      /* ANSWER */
	void *owned;		      /* freed by the stuck thread (the buffer being written, say) */
};

/*
 * Reads or writes len bytes of inj's task at addr in a guarded section: by pid while the task
 * sits in our ptrace stop or in its notification (one system call, then nothing more once the
 * loop has moved on), through inj->mem_fd when inj->by_fd.  buf must not lie inside the
 * record, whose slot the loop may reuse by the time a stuck access ends: the calling thread's
 * own memory, or memory the record points to (the stuck thread then owns it).
 * Returns 0 or -errno; -EAGAIN without touching anything when inj's sandbox already has
 * GUARD_MAX_PER_OWNER stuck sections.  Does not return when the section was abandoned: the
 * thread puts the task back as how says and ends.
 */
int inject_mem_read(struct injection *inj, const struct inject_access *how, uint64_t addr, void *buf, size_t len);
int inject_mem_write(struct injection *inj, const struct inject_access *how, uint64_t addr, const void *buf,
		     size_t len);

#endif
