/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_GUARD_H
#define UBINFMT_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * A deadline on the parts of an exec decision that touch a sandbox's files and memory, and on
 * every access of the exec rewrite to the caller's memory.
 *
 * The loop is single-threaded, and a sandbox decides how long a read of its files or memory
 * takes: a FUSE server that never answers a lookup, a page of the exec path or of the stack
 * mapped from such a file, a userfaultfd range.  Those waits cannot be interrupted, not even by
 * a signal, so a deadline cannot cancel them.  Instead the loop runs on a thread of its own and
 * the thread that called guard_run watches it: when one guarded section outlives the deadline,
 * the section is abandoned (the overrun callback answers its notification or takes its record
 * out of the loop's tables, by kind), its thread is left to its wait, and a fresh thread
 * resumes the loop.  When the wait ends at last, the abandoned thread notices at guard_leave
 * (or guard_leave_keep), finishes with what was handed to it, and ends; it never touches the
 * loop again.
 *
 * Everything a section touches must therefore be its own, or outlive every abandoned thread:
 * fds the loop would close meanwhile go through guard_close_later.  Nothing a section's thread
 * must do after the loop has moved on may need that thread to be the loop: in particular the
 * tasks being rewritten are traced by a thread of their own that never enters a section
 * (inject.h), so that an abandoned loop thread strands no tracee.
 */

struct guard;

/*
 * What the overrun callback does with an abandoned section: the engine's convention, carried
 * by the guard without looking at it.
 */
enum guard_kind {
	/* A decision, its notification pending: answered CONTINUE (the kernel gets the exec). */
	GUARD_DECISION,
	/*
	 * An exec rewrite's read of the caller's memory, its notification pending: answered
	 * CONTINUE, and the rewrite's record (ref) leaves the loop's tables; its thread, back,
	 * frees what the record held.
	 */
	GUARD_INJECT_CONTINUE,
	/*
	 * An exec rewrite's access after which the task cannot simply go on (a write below its
	 * stack pointer while it sits in our ptrace stop, or a code stub): the record leaves the
	 * loop's tables and the task stays as it is; its thread, back, puts the task back (inject.c).
	 */
	GUARD_INJECT_OWNED,
};

/* What the overrun callback learns about an abandoned section. */
struct guard_section {
	uint64_t seq; /* nonzero while the section is open */
	enum guard_kind kind;
	uint64_t owner; /* whose work it is (a sandbox serial): abandoned sections are counted per owner */
	uint64_t ref;	/* the caller's: which record of its tables the section works on */
	int listener;
	uint64_t id; /* the notification it decides */
	pid_t tid;
};

/* A thread that is still waiting after this many abandoned sections is not replaced again. */
#define GUARD_MAX_ABANDONED 64
/*
 * An owner (a sandbox) with this many abandoned sections still waiting gets no more: its
 * further decisions go to the kernel undecided and its rewrites fail, until one of them ends,
 * so that one sandbox cannot take every thread the guard may leave behind.
 */
#define GUARD_MAX_PER_OWNER 4

int guard_new(unsigned timeout_ms, struct guard **ret);
/* Frees g unless abandoned threads may still come back to it (then it is left to the exit). */
struct guard *guard_free(struct guard *g);

/* Opens a decision's section (GUARD_DECISION); returns its sequence number for guard_leave. */
uint64_t guard_enter(struct guard *g, uint64_t owner, int listener, uint64_t id, pid_t tid);
/* Opens a section described by s (its seq is ignored); returns its sequence number. */
uint64_t guard_enter_section(struct guard *g, const struct guard_section *s);
/*
 * Closes the section.  false: it was abandoned meanwhile; the caller must release what it
 * holds, touch nothing shared, and call guard_retire.
 */
bool guard_leave(struct guard *g, uint64_t seq);
/* Ends the calling thread, whose section was abandoned. */
_Noreturn void guard_retire(void);
/*
 * Like guard_leave, except that an abandoned section stays counted (guard_abandoned, and fds
 * closed later stay open) until its thread calls guard_retire_from: for a thread that must
 * still put back what was handed to it, which may wait on the sandbox again.
 */
bool guard_leave_keep(struct guard *g, uint64_t seq);
/*
 * Whether section seq is still open: for a thread about to start another wait inside it, which
 * it must not once the loop has moved on (what it would reach may no longer be what it was).
 */
bool guard_still_open(struct guard *g, uint64_t seq);
/* Forgets the abandoned section seq (see guard_leave_keep) and ends the calling thread. */
_Noreturn void guard_retire_from(struct guard *g, uint64_t seq);

/* Whether no abandoned section is waiting (nothing may still come back to what it used). */
bool guard_idle(struct guard *g);
/* How many abandoned sections of owner are still waiting. */
unsigned guard_abandoned(struct guard *g, uint64_t owner);
/* Closes fd now, or once no abandoned section is waiting (one may still use its number). */
void guard_close_later(struct guard *g, int fd);

struct guard_ops {
	int (*run)(void *ctx);	  /* the loop, on its first thread */
	int (*resume)(void *ctx); /* the loop again, on a fresh thread after an abandon */
	/*
	 * On the watching thread, before resume runs (nothing of the loop runs meanwhile): answer
	 * the abandoned section's notification.  Must not call the guard.
	 */
	void (*overrun)(void *ctx, const struct guard_section *s);
	void *ctx;
};

/*
 * Runs ops->run on a new thread and watches the guarded sections from the calling thread until
 * a runner returns; returns that runner's value, or -errno when no thread could be started.
 */
int guard_run(struct guard *g, const struct guard_ops *ops);

#endif
