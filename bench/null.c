/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ubinfmt-null: the floor under ubinfmt's native exec tax.  Runs CMD under the engine's own
 * filter (notif_install_filter, the one `ubinfmt run` and ubinfmt-init install) and answers
 * every notification CONTINUE, woken through the engine's own io_uring readiness path
 * (loop.c: a multishot poll on the listener, RECV and SEND as ioctls after it, and the
 * listener's synchronous wake-up set as the engine sets it).  What is left
 * is the kernel's round trip through a supervisor: ubinfmt/null against ubinfmt/bare in
 * bench/run.sh is the part of the tax no supervisor can avoid, ubinfmt against ubinfmt/null
 * the part that is ours.
 *
 * Usage: ubinfmt-null CMD [ARG…]; exits with CMD's status (128+N when killed by signal N).
 * A benchmark tool, not a supervisor: it decides nothing, and is not installed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "macros.h"
#include "notif.h"
#include "sandbox.h"

struct null_sup {
	struct loop *loop;
	struct notif_bufs bufs;
	uint64_t answered;
};

/* Every pending notification gets CONTINUE; POLLHUP alone: the last filtered task is gone. */
static int on_listener(void *ctx, int fd, int events)
{
	struct null_sup *s = ctx;
	int r;

	if (events < 0)
		return log_error_errno(events, "polling the listener failed: %m");
	if (!(events & POLLIN)) {
		loop_exit(s->loop, 0);
		return -1;
	}
	r = notif_recv(fd, &s->bufs);
	if (r == -ENOENT || r == -EINTR)
		return 0;
	if (r < 0)
		return log_error_errno(r, "receiving a notification failed: %m");
	r = notif_send_continue(fd, &s->bufs, s->bufs.req->id);
	if (r < 0 && r != -ENOENT)
		log_warn_errno(r, "answering notification %llu failed: %m", (unsigned long long)s->bufs.req->id);
	s->answered++;
	return 0;
}

int main(int argc, char **argv)
{
	struct null_sup s = { 0 };
	struct sandbox_spec spec = { 0 };
	int sv[2], listener, status, r;
	pid_t pid;

	log_setup("ubinfmt-null");
	if (argc < 2) {
		fprintf(stderr, "usage: ubinfmt-null CMD [ARG...]\n");
		return 2;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return log_error_errno(negative_errno(), "socketpair: %m"), 125;
	/* Started as `ubinfmt run` starts CMD (tools/sandbox.c): the host's filesystem, no namespaces. */
	spec.argv = argv + 1;
	spec.sock = sv[1];
	sigprocmask(SIG_SETMASK, NULL, &spec.orig_mask);
	pid = sandbox_start(&spec);
	if (pid < 0)
		return log_error_errno(pid, "cannot start '%s': %m", argv[1]), 125;
	close(sv[1]);
	listener = sandbox_recv_listener(sv[0]);
	close(sv[0]);
	if (listener < 0)
		return log_error_errno(listener, "no listener from the child: %m"), 125;
	/* As the engine does for every listener (engine_sandbox_add_listener): part of the path. */
	r = notif_set_sync_wakeup(listener);
	if (r < 0 && r != -EINVAL && r != -ENOTTY)
		log_debug_errno(r, "no synchronous wake-up: %m");
	r = notif_bufs_alloc(&s.bufs);
	if (r >= 0)
		r = loop_new(16, &s.loop);
	if (r >= 0)
		r = loop_watch(s.loop, listener, POLLIN, on_listener, &s);
	if (r >= 0)
		r = loop_run(s.loop);
	if (r < 0)
		log_error_errno(r, "the loop failed: %m");
	s.loop = loop_free(s.loop);
	notif_bufs_free(&s.bufs);
	close(listener);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return log_error_errno(negative_errno(), "waitpid: %m"), 125;
	if (getenv("UBINFMT_NULL_COUNT"))
		fprintf(stderr, "ubinfmt-null: %llu notifications answered\n", (unsigned long long)s.answered);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
