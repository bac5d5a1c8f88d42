/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine's listeners: each seccomp listener fd a sandbox has, watched on the loop, drained
 * when it reports notifications, closed when every task it filtered is gone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kcmp.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine_internal.h"
#include "guard.h"
#include "journal.h"
#include "log.h"
#include "loop.h"
#include "macros.h"
#include "slots.h"

static bool more_pending(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN);
}

static struct listener *listener_by_fd(struct engine *e, int fd)
{
	for (size_t i = 0; i < e->n_listeners; i++)
		if (e->listeners[i].used && e->listeners[i].fd == fd)
			return &e->listeners[i];
	return NULL;
}

void engine_listener_close(struct engine *e, struct listener *l)
{
	struct sandbox *sb = l->sb;

	(void)loop_unwatch(e->loop, l->watch);
	close(l->fd);
	guard_close_later(e->guard, l->root_fd);
	journal_unmap(l->journal);
	*l = (struct listener){ .fd = -1 };
	if (sb && --sb->n_listeners == 0 && !sb->freeing && e->cfg.hooks.sandbox_empty)
		e->cfg.hooks.sandbox_empty(e->cfg.hooks.ctx, sb);
}

static int on_listener(void *ctx, int fd, int events)
{
	struct engine *e = ctx;
	struct listener *l = listener_by_fd(e, fd);

	if (!l)
		return -1;
	if (events > 0 && (events & POLLIN)) {
		/*
		 * One readiness report may stand for several notifications, and a report may be
		 * stale (its notification already drained by an earlier round).  RECV blocks when
		 * nothing is pending, so ask before every RECV: a notification seen by poll cannot
		 * vanish in a way that makes RECV wait (it then fails with ENOENT instead).
		 */
		while (l->used && more_pending(fd))
			engine_handle_notification(e, l);
		return 0;
	}
	if (events < 0)
		log_warn_errno(events, "polling listener %d failed: %m", fd);
	/* POLLHUP without POLLIN: every filtered task is gone. */
	log_debug("listener %d of sandbox '%s': every task it filtered is gone", fd, l->sb ? l->sb->cfg.id : "?");
	engine_listener_close(e, l);
	return -1;
}

int engine_sandbox_add_listener(struct engine *e, struct sandbox *sb, int listener)
{
	return engine_sandbox_add_listener_journal(e, sb, listener, NULL, NULL, false);
}

bool engine_serves_listener(const struct engine *e, int fd)
{
	pid_t self = getpid();

	/* kcmp tells whether two fds are one open file: a listener dup'd or passed around is. */
	for (size_t i = 0; i < e->n_listeners; i++)
		if (e->listeners[i].used && syscall(SYS_kcmp, self, self, KCMP_FILE, e->listeners[i].fd, fd) == 0)
			return true;
	return false;
}

int engine_sandbox_add_listener_journal(struct engine *e, struct sandbox *sb, int listener, struct journal *journal,
					const struct journal_scope *scope, bool late)
{
	ssize_t i = slot_take(&e->listeners, &e->n_listeners, 8);
	int r;

	if (i < 0)
		return (int)i;
	r = notif_set_sync_wakeup(listener);
	if (r < 0 && r != -EINVAL && r != -ENOTTY)
		log_debug_errno(r, "listener %d: no synchronous wake-up: %m", listener);
	r = loop_watch(e->loop, listener, POLLIN, on_listener, e);
	if (r < 0)
		return r;
	e->listeners[i] = (struct listener){
		.used = true,
		.fd = listener,
		.watch = r,
		.sb = sb,
		.journal = journal,
		.root_fd = -1,
		.root_varies = late,
	};
	sb->n_listeners++;
	if (journal)
		engine_recover(e, &e->listeners[i], scope);
	return 0;
}
