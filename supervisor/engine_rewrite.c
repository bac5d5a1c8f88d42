/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Foreign execs in flight: the table of rewrites between their first notification and the
 * trap of the restarted exec, the start of a ptrace rewrite or of a code stub, their ptrace
 * stops, and the restart of execs a killed daemon left unanswered.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi.h"
#include "host.h"
#include "engine_internal.h"
#include "journal.h"
#include "log.h"
#include "slots.h"
#include "macros.h"
#include "procfs.h"
#include "procstatus.h"
#include "stub.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* Linux 6.9: a pidfd for a thread, not only a process */
#endif

/* Whether the task behind pidfd has exited (a pidfd polls readable then). */
static bool task_gone(int pidfd)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

	return poll(&pfd, 1, 0) != 0;
}

/* ---- pending foreign execs ---------------------------------------------------------------- */

struct pending *pending_find(struct engine *e, pid_t tid)
{
	for (size_t i = 0; i < e->n_pending; i++)
		if (e->pending[i].used && e->pending[i].inj.tid == tid)
			return &e->pending[i];
	return NULL;
}

void pending_free(struct pending *p)
{
	inject_clear(&p->inj);
	p->used = false;
	p->sb = NULL;
}

struct pending *pending_new(struct engine *e, struct sandbox *sb)
{
	uint64_t now = engine_now_ns(CLOCK_MONOTONIC);
	ssize_t i;

	for (size_t k = 0; k < e->n_pending; k++) {
		struct pending *p = &e->pending[k];
		if (p->used && p->continued && now - p->since_ns > PENDING_CONTINUED_KEEP_NS) {
			pending_free(p);
		} else if (p->used && p->inj.state == INJECT_WAIT_RESTART &&
			   now - p->since_ns > PENDING_RESTART_TIMEOUT_NS) {
			log_debug("pid %d never came back from its rewritten exec, forgetting it", (int)p->inj.tid);
			pending_free(p);
		}
	}
	i = slot_take(&e->pending, &e->n_pending, 64);
	if (i < 0)
		return NULL;
	struct pending *p = &e->pending[i];
	*p = (struct pending){ .used = true, .sb = sb, .since_ns = now, .cpu_measured = engine_cpu_marked(e) };
	p->inj.emu_fd_target = -1;
	p->inj.mem_fd = -1;
	p->inj.notif_fd = -1;
	/* Its accesses to the task's memory are guarded; an overrun finds the record by index. */
	p->inj.guard = e->guard;
	p->inj.owner = sb ? sb->serial : 0;
	p->inj.ref = i;
	return p;
}

struct exec_env engine_make_env(struct engine *e, const struct sandbox *sb)
{
	return (struct exec_env){
		.host = &e->cfg.host,
		.native_mask = e->cfg.native_mask,
		.emulate_mask = sb->options.arch_mask & sb->emulator_mask,
	};
}

/* ---- rewriting ----------------------------------------------------------------------------- */

/*
 * PTRACE_SEIZE of tid, which waits for its process's exec lock: not tried when another thread
 * of the process is seen in the middle of an exec, which may hold that lock for as long as the
 * sandbox likes (a FUSE file that never answers): -EINPROGRESS, *ret_busy that thread (0: too
 * many threads to look).  Otherwise it waits at most as long as a decision may wait on the
 * sandbox (-ETIMEDOUT): a thread that took the lock after we looked.  Either way the exec is
 * best left to the kernel, which makes it wait for the lock too.
 */
static int seize_alone(struct engine *e, pid_t tid, pid_t *ret_busy)
{
	int r = inject_exec_under_way(tid, ret_busy);

	if (r < 0)
		return r;
	if (r > 0)
		return -EINPROGRESS;
	return inject_seize(tid, e->cfg.decision_timeout_ms);
}

/*
 * The emulator's fd under the name the exec gives the program (comm.h), so that the process is
 * called so and not after qemu; -errno where that cannot be (then the emulator's own fd serves).
 */
static int emulator_named(struct engine *e, const struct exec_ctx *c)
{
	char comm[COMM_NAME_MAX + 1];
	int r;

	if (!e->names)
		return -EOPNOTSUPP;
	if (c->path[0] != '\0')
		r = comm_from_path(c->path, comm);
	else if (c->start_fd >= 0)
		r = emu_names_comm_of_fd(c->start_fd, comm);
	else
		r = -EBADF;
	if (r < 0)
		return r;
	r = emu_names_open(e->names, c->emu, comm);
	if (r < 0)
		log_debug_errno(r, "pid %d: no copy of %s named '%s': it will be named after the emulator", (int)c->tid,
				c->emu->path, comm);
	return r;
}

/*
 * Gives the task the emulator (and, for an ELF named through an fd or by a name its exec takes
 * away, the file, which the emulator must open after the exec: exec_hands_file_fd) and builds
 * the emulator's argv plan.  fds go in while the notification is pending: after the interrupt,
 * ADDFD is refused.
 */
static int add_fds_and_plan(struct engine *e, struct exec_ctx *c, struct pending *p)
{
	_cleanup_close_ int named = emulator_named(e, c);
	int r, file_target_fd = -1;

	r = notif_addfd(c->listener, c->id, named >= 0 ? named : c->emu->fd, true);
	if (r < 0)
		return r;
	p->inj.emu_fd_target = r;
	if (exec_hands_file_fd(c)) {
		file_target_fd = notif_addfd(c->listener, c->id, c->file_fd, false);
		if (file_target_fd < 0)
			return file_target_fd;
	}
	return exec_build_plan(c, &p->inj, file_target_fd);
}

/* The supervisor's time on the exec so far, wall and CPU, for its trace line and counters. */
static void note_busy(struct engine *e, struct pending *p, uint64_t t0)
{
	p->busy_ns = engine_now_ns(CLOCK_MONOTONIC) - t0;
	p->busy_cpu_ns = engine_cpu_since_mark(e);
}

static int start_stub(struct engine *e, struct exec_ctx *c, struct pending *p, uint64_t t0)
{
	uint64_t sp, pc;
	int r;

	if (c->call.abi != host_native_abi())
		return -EPERM;
	r = stub_probe(c->tid, &sp, &pc);
	if (r < 0)
		return r;
	/*
	 * Not our tracee: its pid is not held for us, so its memory goes through its own
	 * /proc/TID/mem; and should an access get stuck, that thread answers on a listener of its own.
	 */
	p->inj.by_fd = true;
	p->inj.notif_fd = fcntl(c->listener, F_DUPFD_CLOEXEC, 3);
	if (p->inj.notif_fd < 0)
		return negative_errno();
	r = add_fds_and_plan(e, c, p);
	if (r < 0)
		return r;
	r = stub_install(&p->inj, sp, pc, c->listener, c->id);
	if (r < 0) {
		(void)stub_restore(&p->inj, c->id, ENOEXEC);
		return r;
	}
	/* "Success": the task returns into the stub, which makes the emulator's exec. */
	r = notif_send_result(c->listener, &e->bufs, c->id, 0, 0);
	if (r < 0) {
		(void)stub_restore(&p->inj, c->id, ENOEXEC);
		return r == -ENOENT ? -ESRCH : r;
	}
	p->inj.state = INJECT_WAIT_RESTART;
	note_busy(e, p, t0);
	log_debug("pid %d is traced by another process: rewrote its exec with a code stub", (int)c->tid);
	return 0;
}

/*
 * Rewrites a foreign exec.  Returns 0 once the notification is answered (the rest happens on
 * ptrace stops), or -errno with the notification still pending (the caller answers it):
 * -EINPROGRESS or -ETIMEDOUT when the task could not be seized because another thread of its
 * process may be in the middle of an exec (inject_seize), and the exec is best left to the kernel.
 */
int engine_start_rewrite(struct engine *e, struct sandbox *sb, struct exec_ctx *c, uint64_t t0)
{
	struct pending *p;
	pid_t busy = 0;
	int r;

	p = pending_new(e, sb);
	if (!p)
		return -ENOMEM;
	p->inj.tid = c->tid;
	p->inj.abi = c->call.abi;
	p->inj.envp = c->call.envp;
	p->rec = c->rec;
	p->rec.emulator = c->emu->path;
	p->rec.decision = DECISION_EMULATE;
	r = seize_alone(e, c->tid, &busy);
	if (r == -EINPROGRESS) {
		if (busy)
			log_debug("pid %d: thread %d of its process is in the middle of an exec, which may hold "
				  "the process's exec lock: not seized, its exec of '%.200s' goes to the kernel",
				  (int)c->tid, (int)busy, c->path);
		else
			log_debug("pid %d: its process has too many threads to look for one in the middle of an "
				  "exec: not seized, its exec of '%.200s' goes to the kernel",
				  (int)c->tid, c->path);
	}
	if (r == -EPERM) {
		r = start_stub(e, c, p, t0);
		if (r < 0)
			pending_free(p);
		return r == -EBUSY ? -EPERM : r;
	}
	if (r < 0) {
		pending_free(p);
		return r;
	}

	r = add_fds_and_plan(e, c, p);
	if (r < 0)
		goto abort;
	p->inj.rewrite = true;
	r = inject_release(&p->inj, c->listener, &e->bufs, c->id);
	if (r < 0)
		goto abort;
	note_busy(e, p, t0);
	return 0;

abort:
	/* Seized but not stopped, so not detachable yet: answer with an error, detach at the stop. */
	if (r == -ENOENT || r == -ESRCH) {
		/*
		 * The notification went away under us: a signal interrupted the exec (a Go program's
		 * runtime does so every 10 ms to a thread in a raw execve: runc init), which restarts
		 * it after our stop, or the task died.  Neither a failure nor an exec to count: the
		 * restarted one is decided afresh.  ENOENT: the notification was gone when we asked.
		 * ESRCH: it went while we asked, an ADDFD the task was to carry out when the signal
		 * took it out of its wait (the kernel fails the ADDFDs still queued so; ESRCH also
		 * comes from the ptrace and memory accesses of a task that died).
		 */
		log_debug_errno(r,
				"pid %d: its exec was interrupted before the emulator could be handed "
				"over (%m); it will come back",
				(int)c->tid);
		p->vanished = true;
	} else {
		log_debug_errno(r, "pid %d: rewrite failed: %m", (int)c->tid);
	}
	p->inj.rewrite = false;
	/* An argv too long once the emulator's own arguments are in (t_hostile_args): E2BIG. */
	p->inj.fail_errno = r == -E2BIG || r == -EFAULT ? -r : ENOEXEC;
	p->rec.decision = DECISION_FAILED;
	p->rec.error = p->inj.fail_errno;
	note_busy(e, p, t0);
	if (inject_release(&p->inj, c->listener, &e->bufs, c->id) < 0)
		pending_free(p);
	return 0;
}

/*
 * Whether tid is blocked in an exec call of any ABI (the number /proc/TID/syscall shows), and
 * in the same pid namespace as ref: false when either cannot be read.
 */
static bool blocked_in_exec(pid_t tid, pid_t ref)
{
	char path[64], buf[256];
	struct stat a, b;
	long nr;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)tid);
	if (stat(path, &a) < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)ref);
	if (ref <= 0 || stat(path, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
		return false;
	if (procfs_read(tid, "syscall", buf, sizeof(buf)) <= 0)
		return false;
	nr = strtol(buf, NULL, 10);
	return host_is_exec_nr(nr);
}

/* The first number of line NAME ("PPid", "Uid") of /proc/TID/status, or -errno. */
static int status_number(pid_t tid, const char *name, uint64_t *ret)
{
	_cleanup_free_ char *status = NULL;
	unsigned long v;
	int r;

	r = procfs_read_all(tid, "status", 1 << 20, &status);
	if (r < 0)
		return r;
	if (procstatus_numbers(status, (size_t)r, name, &v, 1) < 1)
		return -EPROTO;
	*ret = v;
	return 0;
}

/* Whether tid's process descends from ancestor (its parent chain, as our procfs shows it). */
static bool descends_from(pid_t tid, pid_t ancestor)
{
	pid_t cur = tid;

	/* The chain is as long as the sandbox makes it; pid_max bounds a real one far below this. */
	for (unsigned depth = 0; depth < 4096; depth++) {
		uint64_t ppid;
		if (status_number(cur, "PPid", &ppid) < 0 || ppid == 0 || ppid > INT32_MAX)
			return false;
		if ((pid_t)ppid == ancestor)
			return true;
		cur = (pid_t)ppid;
	}
	return false;
}

/* Whether the journal may name tid: see struct journal_scope. */
static bool in_scope(pid_t tid, const struct journal_scope *scope)
{
	uint64_t uid;

	if (!blocked_in_exec(tid, scope->agent) || !descends_from(tid, scope->agent))
		return false;
	if (scope->uid == 0)
		return true;
	return status_number(tid, "Uid", &uid) == 0 && uid == scope->uid;
}

/*
 * A previous daemon received these notifications and died before answering: their tasks wait
 * for an answer nobody will give.  Answer -ERESTARTNOINTR while the task sits in a ptrace
 * interrupt, so that its exec starts over and traps again, to be handled from scratch.
 *
 * The journal comes from the sandbox's agent, which may write anything in it: a notification id
 * it received itself, and any tid.  An entry is acted on only if its id is pending on this
 * listener and its task is the agent's own (in_scope); the task is pinned by a pidfd across
 * the checks, so that a pid reused meanwhile is let go at once.  Without scope->recover (a
 * first hand-over) nothing is acted on: no daemon can have received anything yet.
 */
void engine_recover(struct engine *e, struct listener *l, const struct journal_scope *scope)
{
	struct journal *j = l->journal;

	for (size_t i = 0; i < JOURNAL_SLOTS; i++) {
		struct journal_slot s = j->slots[i];
		_cleanup_close_ int pidfd = -1;
		struct pending *p;

		if (!s.used)
			continue;
		if (!scope || !scope->recover) {
			journal_clear(j, (int)i);
			continue;
		}
		/*
		 * The entry goes only once its outcome is settled: a daemon killed in the middle of
		 * this recovery must leave it for the next one.
		 */
		if (s.tid == 0 || s.tid > INT32_MAX || notif_id_valid(l->fd, s.id) < 0) {
			journal_clear(j, (int)i);
			continue;
		}
		pidfd = (int)syscall(SYS_pidfd_open, (pid_t)s.tid, PIDFD_THREAD);
		if (pidfd < 0 || !in_scope((pid_t)s.tid, scope)) {
			if (pidfd >= 0)
				log_warn("sandbox '%s': its journal names pid %u, which is not one of its agent's "
					 "tasks blocked in an exec: ignoring the entry",
					 l->sb->cfg.id, s.tid);
			journal_clear(j, (int)i);
			continue;
		}
		p = pending_new(e, l->sb);
		if (!p)
			return;
		p->recovery = true;
		p->inj.tid = (pid_t)s.tid;
		p->inj.rewrite = false;
		p->inj.fail_errno = ERESTARTNOINTR; /* the exec starts over */
		pid_t busy;
		int r = seize_alone(e, p->inj.tid, &busy);
		/*
		 * Seized after the task we checked died and its tid was taken (a few microseconds'
		 * window): the interrupt below stops the stranger once, and its stop detaches it
		 * unchanged (not a rewrite).
		 */
		if (r == 0 && task_gone(pidfd))
			log_debug("pid %u exited during the recovery checks", s.tid);
		if (r == 0)
			r = inject_release(&p->inj, l->fd, &e->bufs, s.id);
		if (r == -EINPROGRESS || r == -ETIMEDOUT) {
			/* Not seizable while another of its threads execs: the kernel gets the exec as it is. */
			log_info("sandbox '%s': pid %u, left unanswered by the previous daemon, cannot be seized "
				 "while another thread of its process execs: its exec goes to the kernel",
				 l->sb->cfg.id, s.tid);
			(void)notif_send_continue(l->fd, &e->bufs, s.id);
		}
		journal_clear(j, (int)i);
		if (r < 0) {
			pending_free(p);
			continue;
		}
		log_info("sandbox '%s': restarting the exec of pid %u left unanswered by the previous daemon",
			 l->sb->cfg.id, s.tid);
	}
}

/* ---- ptrace stops -------------------------------------------------------------------------- */

void engine_on_wait_status(struct engine *e, pid_t pid, int status)
{
	struct pending *p = pending_find(e, pid);

	engine_cpu_mark_if(e, p && p->cpu_measured);
	if (!p || p->inj.state == INJECT_WAIT_RESTART || p->inj.state == INJECT_FREE) {
		if (WIFSTOPPED(status) && inject_detach_stray(pid, status) == 0) {
			log_warn("pid %d was in a ptrace stop (status %#x) with no rewrite in flight: let go", (int)pid,
				 (unsigned)status);
			return;
		}
		if (e->cfg.hooks.child_status)
			e->cfg.hooks.child_status(e->cfg.hooks.ctx, pid, status);
		return;
	}
	uint64_t t0 = engine_now_ns(CLOCK_MONOTONIC);
	switch (inject_on_status(&p->inj, status)) {
	case INJECT_PENDING:
		p->busy_ns += engine_now_ns(CLOCK_MONOTONIC) - t0;
		p->busy_cpu_ns += engine_cpu_since_mark(e);
		break;
	case INJECT_DETACHED:
		p->busy_ns += engine_now_ns(CLOCK_MONOTONIC) - t0;
		p->busy_cpu_ns += engine_cpu_since_mark(e);
		break;
	case INJECT_FAILED:
		if (p->recovery || p->vanished) {
			pending_free(p);
			break;
		}
		if (p->rec.decision == DECISION_EMULATE) {
			p->rec.decision = DECISION_FAILED;
			p->rec.error = p->inj.fail_errno ? p->inj.fail_errno : ENOEXEC;
			log_warn("pid %d: rewrite of exec '%.200s' failed at the ptrace stop", (int)pid, p->rec.path);
		}
		engine_finish(e, p->sb, &p->rec, t0, p->busy_ns, p->busy_cpu_ns);
		pending_free(p);
		break;
	case INJECT_GONE:
		log_debug("pid %d exited during a rewrite", (int)pid);
		pending_free(p);
		/* It may also be our own child: its parent must hear about it. */
		if ((WIFEXITED(status) || WIFSIGNALED(status)) && e->cfg.hooks.child_status)
			e->cfg.hooks.child_status(e->cfg.hooks.ctx, pid, status);
		break;
	}
}

/* ---- execs of a task with a rewrite in flight ------------------------------------------------ */

/*
 * The restart of a rewritten exec lost its notification before it was let through: a signal
 * interrupted it (a Go program's SIGURG, under a listener without WAIT_KILLABLE_RECV: runc's).
 * The rewrite is kept: the exec comes back once the handler has run, and that handler's frame
 * may have landed on the scratch block, which the next notification checks and puts back.
 * Forgotten here, that exec would be decided afresh as a native exec of the emulator with a
 * clobbered argv ("qemu: no user program specified").  A task that died instead is forgotten
 * later (PENDING_RESTART_TIMEOUT_NS).
 */
static void log_restart_withdrawn(unsigned pid)
{
	log_debug("pid %u: the restart of its rewritten exec was interrupted; it will come back", pid);
}

/* How many records of sb are kept after their CONTINUE and not yet past their time. */
static size_t continued_of(const struct engine *e, const struct sandbox *sb, uint64_t now)
{
	size_t n = 0;

	for (size_t i = 0; i < e->n_pending; i++) {
		const struct pending *p = &e->pending[i];
		n += p->used && p->continued && p->sb == sb && now - p->since_ns <= PENDING_CONTINUED_KEEP_NS;
	}
	return n;
}

/*
 * Keeps a rewrite whose restart was let through for PENDING_CONTINUED_KEEP_NS (see there), with
 * no fd of its own and only its scratch block meanwhile: a later match reopens what it needs.
 * Not with a code stub, which was taken out before the CONTINUE, nor past the bounds of
 * PENDING_CONTINUED_MAX_BLOCK and PENDING_CONTINUED_PER_SANDBOX.  False: not kept, free it.
 */
static bool keep_continued(const struct engine *e, struct pending *p)
{
	uint64_t now = engine_now_ns(CLOCK_MONOTONIC);

	if (p->inj.stub_len || p->inj.blk.len > PENDING_CONTINUED_MAX_BLOCK ||
	    (!p->continued && continued_of(e, p->sb, now) >= PENDING_CONTINUED_PER_SANDBOX))
		return false;
	if (p->inj.mem_fd >= 0)
		close(TAKE_FD(p->inj.mem_fd));
	if (p->inj.notif_fd >= 0)
		close(TAKE_FD(p->inj.notif_fd));
	free(p->inj.args); /* the plan was written: the block is what a restart is checked against */
	p->inj.args = NULL;
	p->inj.nargs = 0;
	p->continued = true;
	p->since_ns = now;
	return true;
}

bool engine_on_exec_of_rewritten(struct engine *e, struct listener *l, struct pending *p, const struct exec_call *call,
				 uint64_t t0)
{
	const struct seccomp_notif *req = e->bufs.req;
	int r;

	if (p->inj.state == INJECT_WAIT_STOP) {
		/*
		 * A task we still hold: its previous exec was interrupted before our interrupt took
		 * effect (the stop we wait for is still to come), and it exec'd again.  It cannot be
		 * seized twice, and must not be told ENOEXEC for it: restarted, it takes that stop
		 * first, is let go, and comes back with this exec.
		 */
		r = inject_restart_later(&p->inj, l->fd, &e->bufs, req->id);
		if (r == -ESRCH) {
			/* Not our tracee after all: no stop will come, the record is stale. */
			log_warn("pid %u: awaited a ptrace stop of a task we no longer trace: its exec is decided "
				 "afresh",
				 req->pid);
			pending_free(p);
			return false;
		}
		if (r < 0 && r != -ENOENT)
			log_warn_errno(r, "pid %u: cannot restart its exec: %m", req->pid);
		return true;
	}
	if (p->inj.state == INJECT_WAIT_RESTART) {
		/* Both read and write the task's memory in guarded sections (inject.h). */
		r = inject_on_restart(&p->inj, call, l->fd, req->id);
		if (r == 0) {
			/* A stub must be gone before the exec can fail back into that code. */
			if (stub_restore(&p->inj, req->id, 0) < 0)
				log_warn("pid %u: cannot restore the code under the exec stub", req->pid);
			r = notif_send_continue(l->fd, &e->bufs, req->id);
			if (r == -ENOENT && !p->inj.stub_len) {
				log_restart_withdrawn(req->pid);
				return true;
			}
			if (r < 0 && r != -ENOENT)
				log_warn_errno(r, "pid %u: cannot continue rewritten exec: %m", req->pid);
			if (!p->continued)
				engine_finish(e, p->sb, &p->rec, t0, p->busy_ns, p->busy_cpu_ns);
			else
				log_debug("pid %u: its rewritten exec came back after it was let through", req->pid);
			if (r < 0 || !keep_continued(e, p))
				pending_free(p);
			return true;
		}
		if ((r == -ENOENT || r == -ESRCH) && !p->inj.stub_len) {
			log_restart_withdrawn(req->pid);
			return true;
		}
		/*
		 * Not our restart (a handler exec'd something else first, or the exec let through
		 * happened and this is the new program's): forget the rewrite.
		 */
		if (!p->continued)
			log_debug("pid %u: exec is not the rewritten one, dropping the rewrite", req->pid);
		(void)stub_restore(&p->inj, req->id, 0);
		pending_free(p);
	}
	return false;
}
