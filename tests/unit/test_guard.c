/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The decision guard with real threads: a "loop" whose guarded section blocks on a pipe (as a
 * decision blocks on a FUSE server that does not answer) is abandoned after the deadline, a
 * fresh thread resumes, and the stuck thread, once its wait ends, retires without touching
 * anything; fds handed to guard_close_later meanwhile stay open until it has.  A section that
 * must put something back once its wait ends stays counted until it has.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "guard.h"

struct world {
	struct guard *g;
	int block[2]; /* the stuck section reads block[0] */
	atomic_int overruns;
	struct guard_section seen;
	atomic_int resumed;
	atomic_int retired;  /* the stuck thread came back and was told to retire */
	atomic_int leave_ok; /* a section closed normally */
};

static int stuck_loop(void *ctx)
{
	struct world *w = ctx;
	char c;

	/* One quick section first: closes normally. */
	uint64_t seq = guard_enter(w->g, 7, 3, 100, 1000);
	atomic_store(&w->leave_ok, guard_leave(w->g, seq));
	seq = guard_enter(w->g, 7, 3, 101, 1001);
	if (read(w->block[0], &c, 1) < 0)
		c = 0;
	if (!guard_leave(w->g, seq)) {
		atomic_store(&w->retired, 1);
		guard_retire();
	}
	return -1; /* not reached when the guard works */
}

static int resumed_loop(void *ctx)
{
	struct world *w = ctx;

	atomic_fetch_add(&w->resumed, 1);
	return 42;
}

static void on_overrun(void *ctx, const struct guard_section *s)
{
	struct world *w = ctx;

	w->seen = *s;
	atomic_fetch_add(&w->overruns, 1);
}

static void test_abandons_stuck_section(void **state)
{
	struct world w = { 0 };
	const struct guard_ops ops = { .run = stuck_loop, .resume = resumed_loop, .overrun = on_overrun, .ctx = &w };
	struct timespec a, b;
	int late[2];

	(void)state;
	assert_int_equal(guard_new(100, &w.g), 0);
	assert_int_equal(pipe2(w.block, O_CLOEXEC), 0);

	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(guard_run(w.g, &ops), 42);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	assert_true(ms >= 100);

	assert_true(atomic_load(&w.leave_ok));
	assert_int_equal(atomic_load(&w.overruns), 1);
	assert_int_equal(atomic_load(&w.resumed), 1);
	assert_int_equal(w.seen.kind, GUARD_DECISION);
	assert_int_equal(w.seen.owner, 7);
	assert_int_equal(w.seen.listener, 3);
	assert_int_equal(w.seen.id, 101);
	assert_int_equal(w.seen.tid, 1001);
	assert_int_equal(guard_abandoned(w.g, 7), 1);
	assert_int_equal(guard_abandoned(w.g, 8), 0);

	/* While the stuck thread may still use fd numbers, closing is deferred. */
	assert_int_equal(pipe2(late, O_CLOEXEC), 0);
	guard_close_later(w.g, late[0]);
	assert_true(fcntl(late[0], F_GETFD) >= 0);

	/* The wait ends: the thread learns it was abandoned, retires, and the fd is closed. */
	assert_int_equal(write(w.block[1], "x", 1), 1);
	for (int i = 0; i < 2000 && !atomic_load(&w.retired); i++)
		usleep(1000);
	assert_int_equal(guard_abandoned(w.g, 7), 0);
	assert_true(atomic_load(&w.retired));
	/* retired is set just before the thread retires, which closes the fd: wait for that too. */
	for (int i = 0; i < 2000 && fcntl(late[0], F_GETFD) >= 0; i++)
		usleep(1000);
	assert_int_equal(fcntl(late[0], F_GETFD), -1);
	assert_int_equal(errno, EBADF);

	close(late[1]);
	close(w.block[0]);
	close(w.block[1]);
	w.g = guard_free(w.g);
}

static int quick_loop(void *ctx)
{
	struct world *w = ctx;

	for (int i = 0; i < 1000; i++) {
		uint64_t seq = guard_enter(w->g, 1, 3, (uint64_t)i, 1);
		if (!guard_leave(w->g, seq))
			return -1;
	}
	return 5;
}

static void test_quick_sections_never_abandoned(void **state)
{
	struct world w = { 0 };
	const struct guard_ops ops = { .run = quick_loop, .resume = resumed_loop, .overrun = on_overrun, .ctx = &w };

	(void)state;
	assert_int_equal(guard_new(1000, &w.g), 0);
	assert_int_equal(guard_run(w.g, &ops), 5);
	assert_int_equal(atomic_load(&w.overruns), 0);
	assert_int_equal(guard_abandoned(w.g, 1), 0);

	/* With nothing abandoned, guard_close_later closes at once. */
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	guard_close_later(w.g, p[0]);
	assert_int_equal(fcntl(p[0], F_GETFD), -1);
	close(p[1]);
	w.g = guard_free(w.g);
}

/*
 * A section that must put something back once its wait ends (an exec rewrite's write below a
 * task's stack pointer): its kind and record reach the overrun callback, and it stays counted
 * against its owner, with the fds closed later still open, until guard_retire_from, not merely
 * until guard_leave_keep tells it that it was abandoned.
 */
struct keep_world {
	struct world w;
	int late[2];
	atomic_int still_open;	 /* guard_still_open inside the section, before the wait */
	atomic_int came_back;	 /* the wait ended and guard_leave_keep said "abandoned" */
	atomic_int putting_back; /* the thread is between guard_leave_keep and guard_retire_from */
	int proceed[2];		 /* the test lets it retire by writing here */
	atomic_int retired;
};

static int keep_loop(void *ctx)
{
	struct keep_world *k = ctx;
	char c;

	uint64_t seq = guard_enter_section(k->w.g, &(struct guard_section){
							   .kind = GUARD_INJECT_OWNED,
							   .owner = 9,
							   .ref = 5,
							   .listener = 4,
							   .id = 77,
							   .tid = 1234,
						   });
	atomic_store(&k->still_open, guard_still_open(k->w.g, seq));
	if (read(k->w.block[0], &c, 1) < 0)
		c = 0;
	if (guard_leave_keep(k->w.g, seq))
		return -1; /* not reached when the guard works */
	atomic_store(&k->came_back, 1);
	/* Still counted while it puts back what it holds, which may wait again. */
	atomic_store(&k->putting_back, guard_abandoned(k->w.g, 9) == 1 && !guard_still_open(k->w.g, seq));
	if (read(k->proceed[0], &c, 1) < 0)
		c = 0;
	atomic_store(&k->retired, 1);
	guard_retire_from(k->w.g, seq);
}

static void test_kept_section_counts_until_retired(void **state)
{
	struct keep_world k = { 0 };
	const struct guard_ops ops = { .run = keep_loop, .resume = resumed_loop, .overrun = on_overrun, .ctx = &k.w };

	(void)state;
	assert_int_equal(guard_new(100, &k.w.g), 0);
	assert_int_equal(pipe2(k.w.block, O_CLOEXEC), 0);
	assert_int_equal(pipe2(k.proceed, O_CLOEXEC), 0);
	assert_int_equal(guard_run(k.w.g, &ops), 42);

	assert_true(atomic_load(&k.still_open));
	assert_int_equal(atomic_load(&k.w.overruns), 1);
	assert_int_equal(k.w.seen.kind, GUARD_INJECT_OWNED);
	assert_int_equal(k.w.seen.owner, 9);
	assert_int_equal(k.w.seen.ref, 5);
	assert_int_equal(k.w.seen.listener, 4);
	assert_int_equal(k.w.seen.id, 77);
	assert_int_equal(k.w.seen.tid, 1234);
	assert_int_equal(guard_abandoned(k.w.g, 9), 1);

	assert_int_equal(pipe2(k.late, O_CLOEXEC), 0);
	guard_close_later(k.w.g, k.late[0]);

	/* The wait ends: the thread learns it was abandoned, and is still counted meanwhile. */
	assert_int_equal(write(k.w.block[1], "x", 1), 1);
	for (int i = 0; i < 2000 && !atomic_load(&k.came_back); i++)
		usleep(1000);
	assert_true(atomic_load(&k.came_back));
	for (int i = 0; i < 200 && !atomic_load(&k.putting_back); i++)
		usleep(1000);
	assert_true(atomic_load(&k.putting_back));
	assert_int_equal(guard_abandoned(k.w.g, 9), 1);
	assert_true(fcntl(k.late[0], F_GETFD) >= 0);

	/* Done putting back: retired, no longer counted, and the late fd is closed. */
	assert_int_equal(write(k.proceed[1], "x", 1), 1);
	for (int i = 0; i < 2000 && guard_abandoned(k.w.g, 9) != 0; i++)
		usleep(1000);
	assert_true(atomic_load(&k.retired));
	assert_int_equal(guard_abandoned(k.w.g, 9), 0);
	assert_int_equal(fcntl(k.late[0], F_GETFD), -1);
	assert_int_equal(errno, EBADF);

	close(k.late[1]);
	close(k.proceed[0]);
	close(k.proceed[1]);
	close(k.w.block[0]);
	close(k.w.block[1]);
	k.w.g = guard_free(k.w.g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_abandons_stuck_section),
		cmocka_unit_test(test_quick_sections_never_abandoned),
		cmocka_unit_test(test_kept_section_counts_until_retired),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
