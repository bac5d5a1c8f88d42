/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_GUARD_H
#define UBINFMT_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * A deadline on the parts of an exec decision that touch a sandbox's files and memory.
 *
 * The loop is single-threaded, and a sandbox decides how long a read of its files or memory
 * takes: a FUSE server that never answers a lookup, a page of the exec path mapped from such a
 * file.  Those waits cannot be interrupted, not even by a signal, so a deadline cannot cancel
 * them.  Instead the loop runs on a thread of its own and the thread that called guard_run
 * watches it: when one guarded section outlives the deadline, the section is abandoned (its
 * notification answered by the overrun callback), its thread is left to its wait, and a fresh
 * thread resumes the loop.  When the wait ends at last, the abandoned thread notices at
 * guard_leave, drops what it holds and ends; it never touches the loop again.
 *
 * Everything a section touches must therefore be its own, or outlive every abandoned thread:
 * fds the loop would close meanwhile go through guard_close_later.
 */

struct guard;

/* What the overrun callback learns about an abandoned section. */
struct guard_section {
	uint64_t seq;      /* nonzero while the section is open */
	uint64_t owner;    /* whose work it is (a sandbox serial): abandoned sections are counted per owner */
	int listener;
	uint64_t id;       /* the notification it decides */
	pid_t tid;
};

/* A thread that is still waiting after this many abandoned sections is not replaced again. */
#define GUARD_MAX_ABANDONED 64

int guard_new(unsigned timeout_ms, struct guard **ret);
/* Frees g unless abandoned threads may still come back to it (then it is left to the exit). */
struct guard *guard_free(struct guard *g);

/* Opens a section; returns its sequence number for guard_leave. */
uint64_t guard_enter(struct guard *g, uint64_t owner, int listener, uint64_t id, pid_t tid);
/*
 * Closes the section.  false: it was abandoned meanwhile; the caller must release what it
 * holds, touch nothing shared, and call guard_retire.
 */
bool guard_leave(struct guard *g, uint64_t seq);
/* Ends the calling thread, whose section was abandoned. */
_Noreturn void guard_retire(void);

/* Whether no abandoned section is waiting (nothing may still come back to what it used). */
bool guard_idle(struct guard *g);
/* How many abandoned sections of owner are still waiting. */
unsigned guard_abandoned(struct guard *g, uint64_t owner);
/* Closes fd now, or once no abandoned section is waiting (one may still use its number). */
void guard_close_later(struct guard *g, int fd);

struct guard_ops {
	int (*run)(void *ctx);    /* the loop, on its first thread */
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
