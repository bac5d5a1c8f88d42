/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "slots.h"
#include "loop.h"
#include "macros.h"
#include "ud.h"

enum loop_op {
	LOOP_OP_NONE,
	LOOP_OP_POLL,
	LOOP_OP_CANCEL,
	LOOP_OP_MAX,
};

struct watch {
	bool used;
	bool armed;
	uint32_t gen;
	int fd;
	unsigned events;
	loop_handler handler;
	void *ctx;
};

struct loop {
	struct io_uring ring;
	struct watch *watches;
	size_t n_watches;
	bool exiting;
	int exit_value;
};

int loop_new(unsigned entries, struct loop **ret)
{
	struct loop *loop = calloc(1, sizeof(*loop));
	int r;

	if (!loop)
		return -ENOMEM;
	r = io_uring_queue_init(entries, &loop->ring, 0);
	if (r < 0) {
		free(loop);
		return r;
	}
	*ret = loop;
	return 0;
}

struct loop *loop_free(struct loop *loop)
{
	if (!loop)
		return NULL;
	io_uring_queue_exit(&loop->ring);
	free(loop->watches);
	free(loop);
	return NULL;
}

/* An SQE, submitting what is queued when the submission queue is full. */
static struct io_uring_sqe *get_sqe(struct loop *loop)
{
	struct io_uring_sqe *sqe;

	while (!(sqe = io_uring_get_sqe(&loop->ring))) {
		int r = io_uring_submit(&loop->ring);
		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY)
			return NULL;
	}
	return sqe;
}

static int arm(struct loop *loop, uint32_t slot)
{
	struct watch *w = &loop->watches[slot];
	struct io_uring_sqe *sqe = get_sqe(loop);

	if (!sqe)
		return -EIO;
	io_uring_prep_poll_multishot(sqe, w->fd, w->events);
	io_uring_sqe_set_data64(sqe, ud_pack(LOOP_OP_POLL, w->gen, slot));
	w->armed = true;
	return 0;
}

int loop_watch(struct loop *loop, int fd, unsigned events, loop_handler handler, void *ctx)
{
	ssize_t taken = slot_take(&loop->watches, &loop->n_watches, 16);
	uint32_t slot;

	if (taken < 0)
		return (int)taken;
	slot = (uint32_t)taken; /* 16 doubled 28 times: never past 32 bits */
	struct watch *w = &loop->watches[slot];
	uint32_t gen = (w->gen + 1) & UD_GEN_MASK;
	*w = (struct watch){
		.used = true,
		.gen = gen,
		.fd = fd,
		.events = events,
		.handler = handler,
		.ctx = ctx,
	};
	int r = arm(loop, slot);
	if (r < 0) {
		w->used = false;
		return r;
	}
	return (int)slot;
}

int loop_unwatch(struct loop *loop, int id)
{
	struct watch *w;
	struct io_uring_sqe *sqe;

	if (id < 0 || (uint32_t)id >= loop->n_watches || !loop->watches[id].used)
		return -ENOENT;
	w = &loop->watches[id];
	if (w->armed) {
		sqe = get_sqe(loop);
		if (!sqe)
			return -EIO;
		io_uring_prep_poll_remove(sqe, ud_pack(LOOP_OP_POLL, w->gen, (uint32_t)id));
		io_uring_sqe_set_data64(sqe, ud_pack(LOOP_OP_CANCEL, 0, 0));
	}
	/* Bumping the generation makes any completion still in flight stale. */
	w->used = false;
	w->armed = false;
	w->gen = (w->gen + 1) & UD_GEN_MASK;
	return 0;
}

static void dispatch(struct loop *loop, const struct io_uring_cqe *cqe)
{
	uint64_t ud = cqe->user_data;
	uint32_t slot = ud_slot(ud);
	struct watch *w;

	switch ((enum loop_op)ud_op(ud)) {
	case LOOP_OP_POLL:
		break;
	case LOOP_OP_CANCEL:
		return;
	case LOOP_OP_NONE:
	case LOOP_OP_MAX:
	default:
		log_trace("loop: dropping completion with unknown op %u", ud_op(ud));
		return;
	}
	if (slot >= loop->n_watches || !loop->watches[slot].used || loop->watches[slot].gen != ud_gen(ud)) {
		log_trace("loop: dropping stale completion for watch %u", slot);
		return;
	}
	w = &loop->watches[slot];
	if (!(cqe->flags & IORING_CQE_F_MORE))
		w->armed = false;
	if (w->handler(w->ctx, w->fd, cqe->res) < 0) {
		/* Unless the handler already removed it (and the slot may now be someone else's). */
		w = &loop->watches[slot];
		if (w->used && w->gen == ud_gen(ud))
			(void)loop_unwatch(loop, (int)slot);
		return;
	}
	/* The handler may have added watches (moving the table), removed or replaced this one. */
	w = &loop->watches[slot];
	if (w->used && w->gen == ud_gen(ud) && !w->armed && arm(loop, slot) < 0)
		log_error("loop: cannot re-arm watch on fd %d", w->fd);
}

int loop_run(struct loop *loop)
{
	while (!loop->exiting) {
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		int r;

		r = io_uring_submit_and_wait(&loop->ring, 1);
		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY)
			return log_error_errno(r, "io_uring wait failed: %m");
		io_uring_for_each_cqe (&loop->ring, head, cqe) {
			dispatch(loop, cqe);
			seen++;
		}
		io_uring_cq_advance(&loop->ring, seen);
	}
	return loop->exit_value;
}

void loop_rearm_all(struct loop *loop)
{
	for (uint32_t slot = 0; slot < loop->n_watches; slot++) {
		struct watch *w = &loop->watches[slot];
		if (!w->used)
			continue;
		/* The old poll's completions, whenever they come, are stale by their generation. */
		w->gen = (w->gen + 1) & UD_GEN_MASK;
		w->armed = false;
		if (arm(loop, slot) < 0)
			log_error("loop: cannot re-arm watch on fd %d", w->fd);
	}
}

void loop_exit(struct loop *loop, int value)
{
	if (loop->exiting)
		return;
	loop->exiting = true;
	loop->exit_value = value;
}
