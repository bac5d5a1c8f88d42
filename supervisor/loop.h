/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_LOOP_H
#define UBINFMT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The io_uring event loop: multishot readiness polls on fds (seccomp listeners, signalfd,
 * pidfds, sockets) dispatched to per-watch handlers.  The loop only ever waits for readiness;
 * handlers then do their own non-blocking work.
 */

struct loop;

/*
 * A watch handler gets the poll result: a mask of ready events, or -errno when the poll
 * failed.  Returning a negative value removes the watch.
 */
typedef int (*loop_handler)(void *ctx, int fd, int events);

int loop_new(unsigned entries, struct loop **ret);
struct loop *loop_free(struct loop *loop);

/* Watches fd for events (POLLIN…) until loop_unwatch; returns a watch id ≥ 0. */
int loop_watch(struct loop *loop, int fd, unsigned events, loop_handler handler, void *ctx);
/* Cancels a watch; the fd stays open (it belongs to the caller). */
int loop_unwatch(struct loop *loop, int id);

/*
 * Arms every watch anew from the calling thread: a poll completes through the thread that
 * armed it, so a thread taking over from one that is stuck must arm its own (guard.h).
 */
void loop_rearm_all(struct loop *loop);

/* Runs until loop_exit is called; returns the value passed to it, or -errno on ring failure. */
int loop_run(struct loop *loop);
void loop_exit(struct loop *loop, int value);

#endif
