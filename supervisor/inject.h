/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_INJECT_H
#define UBINFMT_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "notif.h"
#include "rewrite.h"

/*
 * The exec rewrite, done with a brief ptrace of the trapped task (DESIGN.md, "Inject"):
 * seize, add the emulator fd while the notification is pending, interrupt, answer
 * -ERESTARTNOINTR, and at the resulting stop turn the restarting call into
 * execveat(emu_fd, "", argv', envp, AT_EMPTY_PATH) with argv' written below the stack pointer.
 * Stops arrive through SIGCHLD; nothing here waits synchronously.
 *
 * Every ptrace request is made by a thread of its own, the tracer thread, which does nothing
 * else: ptrace ties a tracee to the thread that attached it, and the loop's thread may be left
 * stuck in a guarded section (guard.h), which must not strand every task it traced.
 */

enum inject_state {
	INJECT_FREE,
	INJECT_WAIT_STOP,        /* interrupted and answered; waiting for the ptrace stop */
	INJECT_WAIT_MMAP_ENTRY,  /* running mmap in the task for scratch memory */
	INJECT_WAIT_MMAP_EXIT,
	INJECT_WAIT_RESTART,     /* detached; waiting for the rewritten exec to trap */
	INJECT_STATE_MAX,
};

enum inject_progress {
	INJECT_PENDING,   /* more stops to come */
	INJECT_DETACHED,  /* rewritten and detached: the restarted exec will trap next */
	INJECT_FAILED,    /* detached without rewrite: the caller's exec fails with fail_errno */
	INJECT_GONE,      /* the task died */
};

struct injection {
	enum inject_state state;
	pid_t tid;
	enum exec_abi abi;
	uint64_t envp;
	int emu_fd_target;      /* the emulator, as the target's fd number */
	bool rewrite;           /* false: only detach (the notification got an error answer) */
	int stop_sig;           /* a signal seen at a signal-delivery stop, re-injected at detach */
	int fail_errno;
	struct rw_arg *args;    /* the emulator's argv plan */
	size_t nargs;
	uint8_t *block;         /* the scratch block as written, to check the restart against */
	struct rw_block blk;
	size_t map_len;         /* scratch mapped through the task, when the stack had no room */
	uint64_t stub_addr;     /* traced callers: where the code stub went, and what it replaced */
	size_t stub_len;
	uint8_t stub_orig[64];
	struct user_regs_struct saved;
};

/*
 * Takes and drops a reference on the process's tracer thread (one for every engine), which the
 * first request starts and the last reference stops.  Without a reference every request fails
 * with -ESRCH; a thread that ends detaches its tracees.
 */
int inject_tracer_start(void);
void inject_tracer_stop(void);

/* PTRACE_SEIZE; -EPERM when another tracer holds the task (strace, gdb). */
int inject_seize(pid_t tid);

/*
 * Interrupts the seized task and answers its notification: -ERESTARTNOINTR when rewriting
 * (inj->rewrite), else -fail_errno.  Then waits (asynchronously) for the stop.
 */
int inject_release(struct injection *inj, int listener, struct notif_bufs *bufs, uint64_t id);

/* Feeds one wait status of inj->tid (from waitid/wait4 with __WALL|WUNTRACED). */
enum inject_progress inject_on_status(struct injection *inj, int status);

/*
 * The rewritten exec trapped: checks that call is ours and that the scratch block is intact
 * (a signal frame may have landed on it between detach and restart), rewriting it if not.
 * -ESTALE when call is not the rewritten exec.
 */
int inject_on_restart(struct injection *inj, const struct exec_call *call);

/* Frees what the record owns and marks it INJECT_FREE. */
void inject_clear(struct injection *inj);

#endif
