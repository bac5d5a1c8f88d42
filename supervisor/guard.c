/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guard.h"
#include "log.h"
#include "macros.h"

struct guard {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* on CLOCK_MONOTONIC: the watcher's ticks, and "a runner returned" */
	uint64_t timeout_ns;
	uint64_t next_seq;
	struct guard_section cur; /* the open section of the current runner, seq 0 when none */

	struct guard_section abandoned[GUARD_MAX_ABANDONED];
	atomic_uint n_abandoned; /* changed under the lock, read without it on the hot path */
	bool warned_full;

	int *late_fds; /* closed once no abandoned section is waiting */
	size_t n_late, cap_late;

	const struct guard_ops *ops;
	pthread_t runner; /* the thread running the loop now */
	bool done;
	int result;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int guard_new(unsigned timeout_ms, struct guard **ret)
{
	struct guard *g = calloc(1, sizeof(*g));
	pthread_condattr_t attr;

	if (!g)
		return -ENOMEM;
	g->timeout_ns = (uint64_t)(timeout_ms ? timeout_ms : 1) * 1000000ull;
	g->next_seq = 1;
	pthread_mutex_init(&g->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&g->cond, &attr);
	pthread_condattr_destroy(&attr);
	*ret = g;
	return 0;
}

static void close_late_fds(struct guard *g)
{
	for (size_t i = 0; i < g->n_late; i++)
		close(g->late_fds[i]);
	g->n_late = 0;
}

struct guard *guard_free(struct guard *g)
{
	if (!g)
		return NULL;
	pthread_mutex_lock(&g->lock);
	bool waiting = g->n_abandoned > 0;
	pthread_mutex_unlock(&g->lock);
	if (waiting)
		return NULL; /* an abandoned thread may still come back to the lock: the exit frees it */
	close_late_fds(g);
	free(g->late_fds);
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
	free(g);
	return NULL;
}

/* ---- sections (the loop's threads) -------------------------------------------------------- */

uint64_t guard_enter_section(struct guard *g, const struct guard_section *s)
{
	uint64_t seq;

	pthread_mutex_lock(&g->lock);
	seq = g->next_seq++;
	g->cur = *s;
	g->cur.seq = seq;
	pthread_mutex_unlock(&g->lock);
	return seq;
}

uint64_t guard_enter(struct guard *g, uint64_t owner, int listener, uint64_t id, pid_t tid)
{
	return guard_enter_section(g, &(struct guard_section){
					      .kind = GUARD_DECISION,
					      .owner = owner,
					      .listener = listener,
					      .id = id,
					      .tid = tid,
				      });
}

/* Called with the lock held: the abandoned section seq is over for good. */
static void forget_abandoned(struct guard *g, uint64_t seq)
{
	for (size_t i = 0; i < g->n_abandoned; i++) {
		if (g->abandoned[i].seq != seq)
			continue;
		g->abandoned[i] = g->abandoned[atomic_fetch_sub(&g->n_abandoned, 1) - 1];
		break;
	}
	if (g->n_abandoned == 0)
		close_late_fds(g);
}

bool guard_leave_keep(struct guard *g, uint64_t seq)
{
	bool open;

	pthread_mutex_lock(&g->lock);
	open = g->cur.seq == seq;
	if (open)
		g->cur.seq = 0;
	pthread_mutex_unlock(&g->lock);
	return open;
}

bool guard_still_open(struct guard *g, uint64_t seq)
{
	bool open;

	pthread_mutex_lock(&g->lock);
	open = g->cur.seq == seq;
	pthread_mutex_unlock(&g->lock);
	return open;
}

bool guard_leave(struct guard *g, uint64_t seq)
{
	if (guard_leave_keep(g, seq))
		return true;
	pthread_mutex_lock(&g->lock);
	forget_abandoned(g, seq);
	pthread_mutex_unlock(&g->lock);
	return false;
}

_Noreturn void guard_retire(void)
{
	pthread_exit(NULL);
}

_Noreturn void guard_retire_from(struct guard *g, uint64_t seq)
{
	pthread_mutex_lock(&g->lock);
	forget_abandoned(g, seq);
	pthread_mutex_unlock(&g->lock);
	pthread_exit(NULL);
}

bool guard_idle(struct guard *g)
{
	return atomic_load(&g->n_abandoned) == 0;
}

unsigned guard_abandoned(struct guard *g, uint64_t owner)
{
	unsigned n = 0;

	if (atomic_load_explicit(&g->n_abandoned, memory_order_relaxed) == 0)
		return 0;
	pthread_mutex_lock(&g->lock);
	for (size_t i = 0; i < g->n_abandoned; i++)
		n += g->abandoned[i].owner == owner;
	pthread_mutex_unlock(&g->lock);
	return n;
}

void guard_close_later(struct guard *g, int fd)
{
	if (fd < 0)
		return;
	/* The loop's thread calls this outside any section, so nothing can be abandoned meanwhile. */
	if (atomic_load(&g->n_abandoned) == 0) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&g->lock);
	if (g->n_late == g->cap_late) {
		size_t n = g->cap_late ? g->cap_late * 2 : 16;
		int *p = realloc(g->late_fds, n * sizeof(*p));
		if (!p) {
			/* Better a stale number in a thread that is only going to drop its result. */
			pthread_mutex_unlock(&g->lock);
			close(fd);
			return;
		}
		g->late_fds = p;
		g->cap_late = n;
	}
	g->late_fds[g->n_late++] = fd;
	pthread_mutex_unlock(&g->lock);
}

/* ---- runners and the watcher -------------------------------------------------------------- */

static void runner_finished(struct guard *g, int r)
{
	pthread_mutex_lock(&g->lock);
	g->done = true;
	g->result = r;
	pthread_cond_signal(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

static void *run_main(void *arg)
{
	struct guard *g = arg;

	runner_finished(g, g->ops->run(g->ops->ctx));
	return NULL;
}

static void *resume_main(void *arg)
{
	struct guard *g = arg;

	/* The watcher holds the lock until the overrun callback is done: nothing runs beside it. */
	pthread_mutex_lock(&g->lock);
	pthread_mutex_unlock(&g->lock);
	runner_finished(g, g->ops->resume(g->ops->ctx));
	return NULL;
}

/* Called with the lock held: the current section has outlived the deadline. */
static void abandon(struct guard *g)
{
	struct guard_section s = g->cur;
	pthread_t fresh;
	int err;

	if (g->n_abandoned >= GUARD_MAX_ABANDONED) {
		if (!g->warned_full)
			log_error("%d exec decisions are stuck on the files or memory of their sandboxes; the "
				  "supervisor waits for them before it serves anything else",
				  GUARD_MAX_ABANDONED + 1);
		g->warned_full = true;
		return;
	}
	err = pthread_create(&fresh, NULL, resume_main, g);
	if (err) {
		log_error_errno(-err, "cannot start a thread to take over from a stuck exec decision: %m; the "
				      "supervisor waits for it");
		return;
	}
	/*
	 * The stuck thread keeps its place in the wait; the section is counted as abandoned before
	 * the fresh thread can open another one, so guard_leave tells them apart.
	 */
	g->abandoned[atomic_fetch_add(&g->n_abandoned, 1)] = s;
	g->cur.seq = 0;
	pthread_detach(g->runner);
	g->runner = fresh;
	g->ops->overrun(g->ops->ctx, &s);
}

static void tick_deadline(struct timespec *ts, uint64_t interval_ns)
{
	uint64_t t = now_ns() + interval_ns;

	ts->tv_sec = (time_t)(t / 1000000000ull);
	ts->tv_nsec = (long)(t % 1000000000ull);
}

int guard_run(struct guard *g, const struct guard_ops *ops)
{
	/* A stuck section is noticed between one and one and a quarter deadlines after it opened. */
	uint64_t interval = g->timeout_ns / 4, last_seq = 0, first_seen = 0;
	int err, r;

	g->ops = ops;
	g->done = false;
	err = pthread_create(&g->runner, NULL, run_main, g);
	if (err)
		return -err;

	pthread_mutex_lock(&g->lock);
	while (!g->done) {
		struct timespec ts;

		tick_deadline(&ts, interval);
		(void)pthread_cond_timedwait(&g->cond, &g->lock, &ts);
		if (g->done)
			break;
		if (g->cur.seq == 0) {
			last_seq = 0;
			continue;
		}
		uint64_t now = now_ns();
		if (g->cur.seq != last_seq) {
			last_seq = g->cur.seq;
			first_seen = now;
			continue;
		}
		if (now - first_seen >= g->timeout_ns) {
			abandon(g);
			last_seq = 0;
		}
	}
	r = g->result;
	pthread_t last = g->runner;
	pthread_mutex_unlock(&g->lock);
	pthread_join(last, NULL);
	return r;
}
