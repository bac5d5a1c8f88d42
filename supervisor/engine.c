/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "decide.h"
#include "engine_internal.h"
#include "exec.h"
#include "guard.h"
#include "histo.h"
#include "inject.h"
#include "journal.h"
#include "log.h"
#include "loop.h"
#include "macros.h"
#include "notif.h"
#include "stub.h"
#include "tmem.h"

#define ENGINE_RING_ENTRIES 256
/*
 * How long one decision may wait on a sandbox's files or memory before the supervisor stops
 * waiting for it (guard.h): long enough for a slow network file system, short enough that
 * other sandboxes barely notice a hung one.
 */
#define ENGINE_DECISION_TIMEOUT_MS 1000
uint64_t engine_now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Counts an exec; its CPU time only if it was measured (cpu_sample.h). */
static void count(struct engine_stats *s, enum decision d, uint64_t ns, bool measured, uint64_t cpu_ns)
{
	bool native = false;

	switch (d) {
	case DECISION_NATIVE:
	case DECISION_HOST_BINFMT:
		s->native++;
		native = true;
		break;
	case DECISION_KERNEL:
		s->kernel++;
		native = true;
		break;
	case DECISION_EMULATE:
		s->emulated++;
		break;
	case DECISION_NO_EMULATOR:
	case DECISION_DENIED:
	case DECISION_FAILED:
	case DECISION_MAX:
		s->failed++;
		break;
	}
	if (native) {
		s->native_ns += ns;
		s->native_cpu_ns += measured ? cpu_ns : 0;
		s->native_cpu_n += measured;
	} else {
		s->foreign_ns += ns;
		s->foreign_cpu_ns += measured ? cpu_ns : 0;
		s->foreign_cpu_n += measured;
	}
}

/* What the getters give: the CPU totals scaled from the measured execs to all of them. */
static void scale_cpu(struct engine_stats *s)
{
	s->native_cpu_ns = cpu_estimate_total(s->native_cpu_ns, s->native_cpu_n, s->native + s->kernel);
	s->foreign_cpu_ns = cpu_estimate_total(s->foreign_cpu_ns, s->foreign_cpu_n, s->emulated + s->failed);
}

void engine_cpu_mark(struct engine *e)
{
	e->cpu_mark = engine_now_ns(CLOCK_THREAD_CPUTIME_ID);
}

/*
 * Reading a thread's CPU clock is a system call (no vDSO clock serves it): two per exec, a
 * tenth of a native exec's.  Only for a sandbox whose execs are traced, or, when someone may
 * read the stats (engine_config.stats_unread), for a sample of the execs (cpu_sample.h).
 */
#define CPU_UNMARKED UINT64_MAX

void engine_cpu_mark_if(struct engine *e, bool measure)
{
	if (measure)
		engine_cpu_mark(e);
	else
		e->cpu_mark = CPU_UNMARKED;
}

bool engine_cpu_marked(const struct engine *e)
{
	return e->cpu_mark != CPU_UNMARKED;
}

uint64_t engine_cpu_since_mark(const struct engine *e)
{
	if (e->cpu_mark == CPU_UNMARKED)
		return 0;
	return engine_now_ns(CLOCK_THREAD_CPUTIME_ID) - e->cpu_mark;
}

/* Whether a record is made of sb's execs: its own trace, or the front end's live readers. */
static bool records_execs(const struct engine *e, const struct sandbox *sb)
{
	return sb && (sb->cfg.trace || (e->cfg.hooks.exec_done && e->trace_readers > 0));
}

/* Accounts a finished exec and hands its trace line to whoever wants it. */
void engine_finish(struct engine *e, struct sandbox *sb, struct trace_record *rec, uint64_t t0, uint64_t extra_ns,
		   uint64_t extra_cpu_ns)
{
	uint64_t ns = engine_now_ns(CLOCK_MONOTONIC) - t0 + extra_ns;
	bool measured = engine_cpu_marked(e);
	uint64_t cpu_ns = engine_cpu_since_mark(e) + extra_cpu_ns;

	rec->cpu_usec = cpu_ns / 1000u;
	rec->usec = ns / 1000u;
	count(&e->stats, rec->decision, ns, measured, cpu_ns);
	histo_add(&e->histo, ns);
	if (!sb)
		return;
	count(&sb->stats, rec->decision, ns, measured, cpu_ns);
	histo_add(&sb->histo, ns);
	if (sb->cfg.trace) {
		char line[4096]; /* room for a path and a target of sandbox bytes, escaped */
		size_t n = trace_format(rec, sb->options.trace == SANDBOX_TRACE_JSON, line, sizeof(line));
		/* One write per line: several writers may share the file. */
		(void)!write(fileno(sb->cfg.trace), line, n);
	}
	if (e->cfg.hooks.exec_done)
		e->cfg.hooks.exec_done(e->cfg.hooks.ctx, sb, rec);
}

static void warn_no_emulator(struct sandbox *sb, const struct exec_ctx *c)
{
	enum arch arch = c->cls.elf.arch;

	if (sb->warned_no_emulator[arch])
		return;
	sb->warned_no_emulator[arch] = true;
	if (!(sb->options.arch_mask & (UINT64_C(1) << arch)) && emu_registry_get(sb->cfg.emus, arch))
		log_warn("sandbox '%s' may not emulate %s (its settings exclude it): exec of '%.200s' fails "
			 "with ENOEXEC",
			 sb->cfg.id, arch_name(arch), c->path);
	else
		log_warn("sandbox '%s': no emulator for %s: exec of '%.200s' fails with ENOEXEC; install "
			 "qemu-user-static or pass --emulator %s=PATH",
			 sb->cfg.id, arch_name(arch), c->path, arch_name(arch));
}

/* ---- one notification ---------------------------------------------------------------------- */

/*
 * The supervisor itself ran out of fds or memory before it could decide: the exec goes to the
 * kernel undecided, which fails a foreign program with ENOEXEC.  Say so (once a second at
 * most), or an exhausted RLIMIT_NOFILE looks like a broken emulator (t_hostile_faults).
 */
static void warn_out_of_resources(int r, pid_t tid, const char *path)
{
	static uint64_t last_ns;
	uint64_t now;

	if (r != -EMFILE && r != -ENFILE && r != -ENOMEM)
		return;
	now = engine_now_ns(CLOCK_MONOTONIC);
	if (last_ns && now - last_ns < 1000000000ull)
		return;
	last_ns = now;
	log_warn_errno(r,
		       "pid %d: exec of '%.200s' left to the kernel undecided, the supervisor is out of "
		       "resources: %m (a foreign program fails with ENOEXEC)",
		       (int)tid, path[0] ? path : "(its path not read yet)");
}

/* The view of the task's filesystem: the listener's cached root, or the task's own. */
static int open_view(struct listener *l, pid_t tid, struct target_view *ret)
{
	int r;

	if (l->root_fd >= 0 && !l->root_varies) {
		resolve_view_borrow(tid, l->root_fd, l->root_dev, l->root_ino, ret);
		return 0;
	}
	r = resolve_view_open(tid, ret);
	if (r < 0 || l->root_varies)
		return r;
	l->root_fd = fcntl(ret->root_fd, F_DUPFD_CLOEXEC, 3);
	l->root_dev = ret->root_dev;
	l->root_ino = ret->root_ino;
	return 0;
}

/*
 * A sandbox whose decisions or rewrites keep getting stuck (a FUSE server of its own that never
 * answers) gets no more threads: its further execs go to the kernel undecided until the stuck
 * ones end.
 */
#define ABANDONED_PER_SANDBOX GUARD_MAX_PER_OWNER

static bool too_many_stuck(struct engine *e, struct sandbox *sb, pid_t tid)
{
	unsigned n = guard_abandoned(e->guard, sb->serial);

	if (n < ABANDONED_PER_SANDBOX)
		return false;
	if (!sb->warned_stuck)
		log_warn("sandbox '%s': %u exec decisions are stuck on its own files or memory; until they end, "
			 "its execs go to the kernel undecided (pid %d first; a foreign program fails with ENOEXEC)",
			 sb->cfg.id, n, (int)tid);
	sb->warned_stuck = true;
	return true;
}

/* The entries in use of the sandbox's cache, for a decision to look files up in. */
static void cache_snapshot(const struct exec_cache *from, struct exec_cache *to)
{
	to->n = from->n;
	to->next = from->next;
	memcpy(to->e, from->e, from->n * sizeof(from->e[0]));
}

/* Keeps what a decision learned in its sandbox's cache (allocated at its first entry). */
static void cache_learn(struct sandbox *sb, const struct exec_ctx *c)
{
	if (c->n_learned == 0)
		return;
	if (!sb->cache) {
		sb->cache = calloc(1, sizeof(*sb->cache));
		if (!sb->cache)
			return; /* no memory: the next exec reads the file again */
	}
	for (size_t i = 0; i < c->n_learned; i++)
		exec_cache_put(sb->cache, &c->learned[i].key, &c->learned[i].facts);
}

/*
 * Gathers what decide() asks for until it decides.  The view comes first, outside the guard;
 * the rest reads the sandbox's memory and files, and so takes as long as the sandbox likes:
 * it runs in a guarded section (guard.h) and touches only c, f and what env points to.
 */
static void gather_and_decide(struct engine *e, struct sandbox *sb, struct listener *l, struct exec_ctx *c,
			      struct exec_facts *f, struct exec_decision *d)
{
	const struct exec_env env = engine_make_env(e, sb);
	uint64_t seq;

	*f = (struct exec_facts){
		.stuck = too_many_stuck(e, sb, c->tid),
		/* Only then is the permission walk worth its cost on a native exec (decide.c). */
		.recorded = records_execs(e, sb),
		.native_mask = env.native_mask,
		.emulate_mask = env.emulate_mask,
		.empty_path_allowed = c->call.flags & AT_EMPTY_PATH,
	};
	decide(f, d);
	if (d->need == EXEC_FACT_VIEW) {
		f->view_err = open_view(l, c->tid, &c->view);
		if (f->view_err < 0)
			log_debug_errno(f->view_err, "pid %d: cannot open its root: %m", (int)c->tid);
		f->have |= 1u << EXEC_FACT_VIEW;
		decide(f, d);
	}
	if (d->need == EXEC_FACT_NONE)
		return;
	/*
	 * Once abandoned, this thread may come back after the engine is gone (the process
	 * exiting): the guard, which then stays, is all it may touch.
	 */
	struct guard *guard = e->guard;
	if (sb->cache)
		cache_snapshot(sb->cache, &c->cache);
	seq = guard_enter(guard, sb->serial, c->listener, c->id, c->tid);
	for (; d->need != EXEC_FACT_NONE; decide(f, d))
		exec_gather(&env, c, f, d->need);
	exec_release_files(c);
	if (!guard_leave(guard, seq)) {
		/* Too late: the exec went to the kernel and another thread runs the loop. */
		exec_ctx_close(c);
		guard_retire();
	}
	cache_learn(sb, c);
}

static void warn_rewrite_failed(const struct engine *e, const struct exec_ctx *c, int r)
{
	if (r == -ETIMEDOUT)
		log_warn("pid %d: seizing it to rewrite its exec took longer than %u ms (another thread of its "
			 "process in the middle of an exec?): exec of '%.200s' goes to the kernel",
			 (int)c->tid, e->cfg.decision_timeout_ms, c->path);
	else if (r == -EPERM)
		log_warn("pid %d is traced by another process (strace, gdb?) and has other threads (or uses the "
			 "i386 syscall ABI), so its exec cannot be rewritten safely: exec of '%.200s' fails with "
			 "ENOEXEC",
			 (int)c->tid, c->path);
	else if (r != -ESRCH && r != -EINPROGRESS)
		log_warn_errno(r, "pid %d: cannot rewrite exec of '%.200s': %m", (int)c->tid, c->path);
}

/*
 * Carries out a decision beyond its answer: the warning of a missing emulator, the rewrite of
 * a foreign exec.  true once the notification needs no answer from here (the rewrite answered
 * it, or it is gone); false with *d the answer to give, changed if the rewrite failed.
 */
static bool act(struct engine *e, struct sandbox *sb, struct exec_ctx *c, struct exec_decision *d, uint64_t t0)
{
	int r;

	if (d->decision == DECISION_NO_EMULATOR)
		warn_no_emulator(sb, c);
	if (d->decision != DECISION_EMULATE)
		return false;
	/*
	 * The decision read the target's memory and files by its pid: before acting on that pid
	 * beyond an answer (which a reused pid's stale notification id could not receive anyway),
	 * make sure the notification is still waiting.
	 */
	if (notif_id_valid(c->listener, c->id) < 0)
		return true;
	c->emu = emu_registry_get(sb->cfg.emus, d->arch);
	r = c->emu ? engine_start_rewrite(e, sb, c, t0) : -ENOEXEC;
	if (r == 0)
		return true;
	/*
	 * -EINPROGRESS, -ETIMEDOUT: another thread of its process is in the middle of an exec: the
	 * kernel would make this one wait for it too, and so it does now, without us.
	 */
	warn_rewrite_failed(e, c, r);
	decide_rewrite_failed(r, d);
	if (d->decision == DECISION_KERNEL)
		c->emu = NULL;
	return false;
}

/* Answers the notification as d says, and accounts the exec with what the caller may see of it. */
static void answer(struct engine *e, struct sandbox *sb, struct exec_ctx *c, const struct exec_facts *f,
		   const struct exec_decision *d, uint64_t t0)
{
	int r;

	/*
	 * What a record may show; an exec no record is made of is only counted, as what it is (a
	 * native exec, whose reach was never checked, would count as the kernel's otherwise).
	 */
	decide_record(f->recorded ? f->reach : EXEC_REACH_ALL, d->decision, d->err, &c->rec);
	if (c->emu)
		c->rec.emulator = c->emu->path;
	switch (d->decision) {
	case DECISION_DENIED:
	case DECISION_FAILED:
	case DECISION_NO_EMULATOR:
		/* No emulator: the kernel would say ENOEXEC too, but say it without running it. */
		r = notif_send_result(c->listener, &e->bufs, c->id, d->err, 0);
		break;
	case DECISION_NATIVE:
	case DECISION_HOST_BINFMT:
	case DECISION_KERNEL:
	case DECISION_EMULATE:
	case DECISION_MAX:
	default:
		r = notif_send_continue(c->listener, &e->bufs, c->id);
		break;
	}
	if (r < 0 && r != -ENOENT)
		log_warn_errno(r, "pid %d: cannot answer exec notification: %m", (int)c->tid);
	exec_ctx_close(c);
	engine_finish(e, sb, &c->rec, t0, 0, 0);
}

/* One exec: gather its facts, decide, act on the decision, answer. */
static void handle_exec(struct engine *e, struct sandbox *sb, struct listener *l, const struct seccomp_notif *req,
			const struct exec_call *call, uint64_t t0)
{
	struct exec_ctx c = {
		.listener = l->fd,
		.id = req->id,
		.tid = (pid_t)req->pid,
		.call = *call,
		.view = { .root_fd = -1, .cwd_fd = -1 },
		.start_fd = -1,
		.file_fd = -1,
	};
	struct exec_facts f;
	struct exec_decision d;

	c.rec = (struct trace_record){
		/* A foreign exec's record may yet be read: a trace reader may come before its restart. */
		.time_ns = records_execs(e, sb) || !e->cfg.stats_unread ? engine_now_ns(CLOCK_REALTIME) : 0,
		.pid = c.tid,
		.syscall = call->is_execveat ? "execveat" : "execve",
		.arch = ARCH_UNKNOWN,
	};
	gather_and_decide(e, sb, l, &c, &f, &d);
	warn_out_of_resources(d.undecided_by, c.tid, c.path);
	if (act(e, sb, &c, &d, t0)) {
		exec_ctx_close(&c);
		return;
	}
	answer(e, sb, &c, &f, &d, t0);
}

static void dispatch_notification(struct engine *e, struct listener *l, uint64_t t0)
{
	struct seccomp_notif *req = e->bufs.req;
	struct exec_call call;
	struct pending *p;

	log_trace("notif id=%llu pid=%u nr=%d", (unsigned long long)req->id, req->pid, req->data.nr);
	if (notif_decode_exec(&req->data, &call) < 0) {
		if (notif_changes_root(&req->data) && !l->root_varies) {
			/* From now on every exec of this listener gets its own task's root. */
			log_debug("pid %u changes its root: no more shared root for listener %d", req->pid, l->fd);
			l->root_varies = true;
			guard_close_later(e->guard, l->root_fd);
			l->root_fd = -1;
		}
		(void)notif_send_continue(l->fd, &e->bufs, req->id);
		return;
	}

	p = pending_find(e, (pid_t)req->pid);
	/* Its first notification was measured: so is this one, from here (RECV's own cost aside). */
	if (p && p->cpu_measured && !engine_cpu_marked(e))
		engine_cpu_mark(e);
	if (p && engine_on_exec_of_rewritten(e, l, p, &call, t0))
		return;
	handle_exec(e, l->sb, l, req, &call, t0);
}

/* Whether the next exec's CPU time is measured for the stats (cpu_sample.h). */
static bool sample_cpu(struct engine *e, const struct sandbox *sb)
{
	return cpu_sample_due(&e->cpu_sampler, sb ? sb->stats.native_cpu_n + sb->stats.foreign_cpu_n : UINT64_MAX);
}

void engine_handle_notification(struct engine *e, struct listener *l)
{
	int r, slot = -1;

	engine_cpu_mark_if(e, records_execs(e, l->sb) || (!e->cfg.stats_unread && sample_cpu(e, l->sb)));
	r = notif_recv(l->fd, &e->bufs);
	if (r < 0) {
		if (r != -ENOENT && r != -EINTR)
			log_warn_errno(r, "receiving a notification failed: %m");
		return;
	}
	/* Until it is answered, a received notification exists only here: note it in the journal. */
	if (l->journal)
		slot = journal_put(l->journal, e->bufs.req->id, (pid_t)e->bufs.req->pid);
	/* Where on_overrun finds it if this thread gets stuck deciding (set before guard_enter). */
	e->cur_journal = l->journal;
	e->cur_journal_slot = slot;
	dispatch_notification(e, l, engine_now_ns(CLOCK_MONOTONIC));
	if (l->journal)
		journal_clear(l->journal, slot);
	e->cur_journal = NULL;
}

/* ---- listeners ----------------------------------------------------------------------------- */

/* ---- sandboxes ----------------------------------------------------------------------------- */

int engine_sandbox_new(struct engine *e, const struct sandbox_config *cfg, struct sandbox **ret)
{
	struct sandbox *sb;

	if (!cfg->emus || cfg->id[0] == '\0' || strnlen(cfg->id, SANDBOX_ID_MAX) >= SANDBOX_ID_MAX)
		return -EINVAL;
	sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	sb->cfg = *cfg;
	sb->cfg.options = NULL; /* read here only: the front end keeps what it owns */
	sb->options = cfg->options ? *cfg->options : (struct sandbox_options)SANDBOX_OPTIONS_INIT;
	memset(sb->options.emulator, 0, sizeof(sb->options.emulator));
	if (sb->options.trace != SANDBOX_TRACE_TEXT && sb->options.trace != SANDBOX_TRACE_JSON)
		sb->cfg.trace = NULL;
	sb->serial = ++e->next_serial;
	for (int a = ARCH_UNKNOWN + 1; a < ARCH_MAX; a++)
		if (emu_registry_get(cfg->emus, (enum arch)a))
			sb->emulator_mask |= UINT64_C(1) << a;
	sb->next = e->sandboxes;
	e->sandboxes = sb;
	*ret = sb;
	return 0;
}

void engine_sandbox_free(struct engine *e, struct sandbox *sb)
{
	struct sandbox **pp;

	if (!sb)
		return;
	/* Nothing may point at it afterwards: its listeners and its rewrites in flight. */
	sb->freeing = true; /* no sandbox_empty callback while tearing down */
	for (size_t i = 0; i < e->n_listeners; i++)
		if (e->listeners[i].used && e->listeners[i].sb == sb)
			engine_listener_close(e, &e->listeners[i]);
	for (size_t i = 0; i < e->n_pending; i++)
		if (e->pending[i].used && e->pending[i].sb == sb)
			e->pending[i].sb = NULL;
	for (pp = &e->sandboxes; *pp; pp = &(*pp)->next)
		if (*pp == sb) {
			*pp = sb->next;
			break;
		}
	free(sb->cache);
	free(sb);
}

struct sandbox *engine_sandbox_next(struct engine *e, struct sandbox *prev)
{
	return prev ? prev->next : e->sandboxes;
}

void engine_add_trace_readers(struct engine *e, int delta)
{
	if (delta < 0 && e->trace_readers < (unsigned)-delta)
		e->trace_readers = 0;
	else
		e->trace_readers += (unsigned)delta;
}

const char *sandbox_id(const struct sandbox *sb)
{
	return sb->cfg.id;
}

void *sandbox_userdata(const struct sandbox *sb)
{
	return sb->cfg.userdata;
}

size_t sandbox_listener_count(const struct sandbox *sb)
{
	return sb->n_listeners;
}

void sandbox_get_stats(const struct sandbox *sb, struct engine_stats *ret)
{
	*ret = sb->stats;
	scale_cpu(ret);
	ret->p50_ns = histo_quantile(&sb->histo, 0.5);
	ret->p99_ns = histo_quantile(&sb->histo, 0.99);
}

void engine_get_stats(const struct engine *e, struct engine_stats *ret)
{
	*ret = e->stats;
	scale_cpu(ret);
	ret->p50_ns = histo_quantile(&e->histo, 0.5);
	ret->p99_ns = histo_quantile(&e->histo, 0.99);
}

/* ---- signals and ptrace stops -------------------------------------------------------------- */

static void reap(struct engine *e)
{
	for (;;) {
		int status;
		pid_t pid = wait4(-1, &status, WNOHANG | __WALL | WUNTRACED, NULL);
		if (pid <= 0)
			return; /* 0: nothing more; ECHILD: nobody left */
		engine_on_wait_status(e, pid, status);
	}
}

static int on_signal(void *ctx, int fd, int events)
{
	struct engine *e = ctx;
	struct signalfd_siginfo si[16];
	bool chld = false;
	ssize_t n;

	if (events < 0)
		return log_error_errno(events, "polling the signalfd failed: %m");
	while ((n = read(fd, si, sizeof(si))) > 0) {
		for (size_t i = 0; i < (size_t)n / sizeof(si[0]); i++) {
			if (si[i].ssi_signo == SIGCHLD)
				chld = true;
			else if (e->cfg.hooks.signal)
				e->cfg.hooks.signal(e->cfg.hooks.ctx, (int)si[i].ssi_signo);
		}
	}
	/* SIGCHLDs merge: one may stand for many stops and exits, so reap until nothing is left. */
	if (chld)
		reap(e);
	return 0;
}

/* ---- lifetime ------------------------------------------------------------------------------ */

/* Not the sandbox's to guess (cpu_sample.h); a fixed seed if the kernel has no random bytes yet. */
static uint64_t sampler_seed(void)
{
	uint64_t seed = 0;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		seed = engine_now_ns(CLOCK_MONOTONIC);
	return seed;
}

int engine_new(const struct engine_config *cfg, struct engine **ret)
{
	struct engine *e = calloc(1, sizeof(*e));
	sigset_t mask = cfg->forward;
	int r;

	if (!e)
		return -ENOMEM;
	e->cfg = *cfg;
	e->sigfd = -1;
	cpu_sampler_init(&e->cpu_sampler, sampler_seed());
	resolve_init();
	r = notif_bufs_alloc(&e->bufs);
	if (r < 0)
		goto fail;
	r = notif_bufs_alloc(&e->overrun_bufs);
	if (r < 0)
		goto fail;
	if (!e->cfg.decision_timeout_ms)
		e->cfg.decision_timeout_ms = ENGINE_DECISION_TIMEOUT_MS;
	r = guard_new(e->cfg.decision_timeout_ms, &e->guard);
	if (r < 0)
		goto fail;
	r = inject_tracer_start();
	if (r < 0)
		goto fail;
	e->tracing = true;
	r = loop_new(ENGINE_RING_ENTRIES, &e->loop);
	if (r < 0)
		goto fail;
	sigaddset(&mask, SIGCHLD);
	e->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (e->sigfd < 0) {
		r = negative_errno();
		goto fail;
	}
	r = loop_watch(e->loop, e->sigfd, POLLIN, on_signal, e);
	if (r < 0)
		goto fail;
	/* Needs CAP_SYS_ADMIN, which the front ends drop after this; without it, qemu's names. */
	r = emu_names_new(&e->names);
	if (r < 0)
		log_debug_errno(r, "no private tmpfs for the emulators' copies: emulated processes will "
				   "be named after the emulator, not their program (/proc/PID/comm)");
	*ret = e;
	return 0;
fail:
	engine_free(e);
	return r;
}

struct engine *engine_free(struct engine *e)
{
	if (!e)
		return NULL;
	while (e->sandboxes)
		engine_sandbox_free(e, e->sandboxes);
	e->loop = loop_free(e->loop);
	for (size_t i = 0; i < e->n_pending; i++)
		if (e->pending[i].used)
			pending_free(&e->pending[i]);
	if (e->sigfd >= 0)
		close(e->sigfd);
	notif_bufs_free(&e->bufs);
	notif_bufs_free(&e->overrun_bufs);
	emu_names_free(e->names);
	e->names = NULL;
	free(e->listeners);
	free(e->pending);
	if (e->tracing)
		inject_tracer_stop();
	/*
	 * A decision abandoned to a wait that has not ended may still read the settings it was
	 * given (e->cfg): only a process on its way out frees an engine with one, so leave it.
	 */
	bool idle = !e->guard || guard_idle(e->guard);
	e->guard = guard_free(e->guard);
	if (idle)
		free(e);
	return NULL;
}

struct loop *engine_loop(struct engine *e)
{
	return e->loop;
}

static int run_loop(void *ctx)
{
	struct engine *e = ctx;

	/* Children may have changed state before the loop started watching. */
	reap(e);
	return loop_run(e->loop);
}

/*
 * A fresh thread after a decision got stuck: the stuck thread's polls complete only when it
 * runs again, so every watch is armed anew from here, and any listener may have notifications
 * waiting that no poll will report twice.
 */
static int resume_loop(void *ctx)
{
	struct engine *e = ctx;

	loop_rearm_all(e->loop);
	return run_loop(e);
}

/*
 * On the watching thread, while no thread runs the loop: section s took too long.  A decision
 * or a read of the rewrite: the kernel gets the exec.  An access of the rewrite after which the
 * task cannot go on as it is: it waits where it is, for the stuck thread to put it back
 * (inject.h).  Either way a rewrite's record leaves the table here, and what it held now
 * belongs to the stuck thread.
 */
static void on_overrun(void *ctx, const struct guard_section *s)
{
	struct engine *e = ctx;
	int r;

	if (s->kind == GUARD_DECISION)
		log_warn("pid %d: deciding its exec took longer than %u ms (its file or its memory is on a file "
			 "system that does not answer, such as a hung FUSE server?): the kernel gets the exec as "
			 "it is, and the supervisor goes on without waiting",
			 (int)s->tid, e->cfg.decision_timeout_ms);
	else
		log_warn("pid %d: rewriting its exec took longer than %u ms (its stack or its code is on a file "
			 "system that does not answer, such as a hung FUSE server?): %s, and the supervisor goes "
			 "on without waiting",
			 (int)s->tid, e->cfg.decision_timeout_ms,
			 s->kind == GUARD_INJECT_CONTINUE ? "the kernel gets the exec as it is"
							  : "it waits for that access, then starts over or fails");
	if (s->kind != GUARD_INJECT_OWNED) {
		r = notif_send_continue(s->listener, &e->overrun_bufs, s->id);
		if (r < 0 && r != -ENOENT)
			log_warn_errno(r, "pid %d: cannot hand its exec to the kernel: %m", (int)s->tid);
	}
	if (s->kind != GUARD_DECISION && s->ref < e->n_pending) {
		struct pending *p = &e->pending[s->ref];
		/* Forgotten, not freed: its fds and buffers are the stuck thread's now. */
		if (p->used && p->inj.tid == s->tid) {
			p->used = false;
			p->sb = NULL;
		}
	}
	/* Counted as the kernel's: the supervisor no longer decides it. */
	e->stats.abandoned++;
	e->stats.kernel++;
	for (struct sandbox *sb = e->sandboxes; sb; sb = sb->next) {
		if (sb->serial != s->owner)
			continue;
		sb->stats.abandoned++;
		sb->stats.kernel++;
		break;
	}
	/* Answered: a restarted daemon must not find it in flight (the stuck thread never clears it). */
	if (e->cur_journal)
		journal_clear(e->cur_journal, e->cur_journal_slot);
	e->cur_journal = NULL;
}

int engine_run(struct engine *e)
{
	const struct guard_ops ops = {
		.run = run_loop,
		.resume = resume_loop,
		.overrun = on_overrun,
		.ctx = e,
	};

	return guard_run(e->guard, &ops);
}

void engine_exit(struct engine *e, int value)
{
	loop_exit(e->loop, value);
}
