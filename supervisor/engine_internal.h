/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_ENGINE_INTERNAL_H
#define UBINFMT_ENGINE_INTERNAL_H

/*
 * What engine.c (sandboxes, notifications, the loop), engine_listener.c (the listeners) and
 * engine_rewrite.c (foreign execs in flight: ptrace rewrites, code stubs, restarts after a daemon restart) share.  Not for
 * front ends: they see engine.h only.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "cpu_sample.h"
#include "emu_names.h"
#include "engine.h"
#include "exec.h"
#include "histo.h"
#include "inject.h"
#include "notif.h"

struct journal;
struct loop;

struct sandbox {
	struct sandbox_config cfg;
	struct sandbox *next;
	uint64_t serial;	/* never reused: names it in the guard's books (guard.h) */
	uint64_t emulator_mask; /* 1 << arch for each architecture its registry has an emulator for */
	/* cfg.options as they were at creation, without the emulator paths (the front end's: emus) */
	struct sandbox_options options;
	size_t n_listeners;
	bool freeing; /* engine_sandbox_free is closing its listeners */
	struct engine_stats stats;
	struct histo histo;
	bool warned_no_emulator[ARCH_MAX];
	bool warned_stuck;
	/*
	 * What its files' heads said, by file identity (exec_cache.h): its own, shared with no
	 * other sandbox; allocated at its first entry.
	 */
	struct exec_cache *cache;
};

/* One foreign exec between its first notification and the trap of its rewritten restart. */
struct pending {
	bool used;
	bool recovery;	   /* restarting an exec a previous daemon left half-answered: no trace */
	bool vanished;	   /* its notification went before the emulator was handed over: no trace */
	bool continued;	   /* its restart was let through: kept a moment in case the kernel takes it back */
	bool cpu_measured; /* its first notification was: so are its later events (cpu_sample.h) */
	struct sandbox *sb;
	struct injection inj;
	struct trace_record rec;
	uint64_t busy_ns;     /* supervisor time spent on it so far */
	uint64_t busy_cpu_ns; /* supervisor CPU time spent on it so far */
	uint64_t since_ns;    /* CLOCK_MONOTONIC when the record started */
};

/*
 * A rewritten exec normally traps again within microseconds of the detach; a record still
 * waiting after this long belongs to a task that died (we no longer see its exit) and is
 * dropped, so that a reused tid cannot match it.
 */
#define PENDING_RESTART_TIMEOUT_NS (30ull * 1000000000ull)

/*
 * A rewritten exec let through may still not happen: a signal that interrupts the task's wait
 * as our CONTINUE arrives wins (seccomp_do_user_notification goes to its "interrupted" path
 * whatever the reply; no WAIT_KILLABLE_RECV under runc and crun), the handler runs (its frame
 * may land on the scratch block), and the restart comes back as a new notification.  The record
 * stays this long after the CONTINUE so that this one is recognised (inject_on_restart: the
 * same call, from the same tid) and its block put back.  A task whose exec did happen is a new
 * program: no call of its can match, and its next exec, or this timeout, drops the record.
 */
#define PENDING_CONTINUED_KEEP_NS (100ull * 1000000ull)
/*
 * What a sandbox may keep so: a record holds its scratch block (the argv, up to ARG_MAX), and a
 * sandbox exec'ing foreign programs fast would otherwise make the daemon hold rate × 100 ms of
 * them.  Past these, the record goes at once, as it did before (the rare taken-back CONTINUE of
 * such an exec is then decided afresh).
 */
#define PENDING_CONTINUED_MAX_BLOCK (16u * 1024)
#define PENDING_CONTINUED_PER_SANDBOX 64 /* × 16 KiB: 1 MiB at most */

struct listener {
	bool used;
	int fd;
	int watch;
	struct sandbox *sb;
	struct journal *journal; /* the agent's in-flight journal, or NULL */
	/*
	 * Every task under a listener starts with the root of the task that installed its filter,
	 * and the filter traps the calls that change a root.  Until one of them happens, the root
	 * opened for the first exec serves all of them: no /proc/PID/root per exec.
	 */
	int root_fd;
	dev_t root_dev;
	ino_t root_ino;
	bool root_varies;
};

struct engine {
	struct engine_config cfg;
	struct loop *loop;
	struct notif_bufs bufs;
	int sigfd;
	struct sandbox *sandboxes;
	struct listener *listeners;
	size_t n_listeners;
	struct pending *pending;
	size_t n_pending;
	struct engine_stats stats;
	struct histo histo;
	struct guard *guard;		/* the deadline on decisions (guard.h) */
	bool tracing;			/* holds a reference on the tracer thread (inject.h) */
	struct notif_bufs overrun_bufs; /* the watching thread's, to answer an abandoned decision */
	uint64_t next_serial;
	/* The journal slot of the notification being handled (the loop's thread writes it before
	 * guard_enter, the watching thread reads it in on_overrun while that thread is stuck). */
	struct journal *cur_journal;
	int cur_journal_slot;
	uint64_t cpu_mark;		/* thread CPU time when the current event's handling began */
	struct cpu_sampler cpu_sampler; /* which execs' CPU time the stats are measured on */
	unsigned trace_readers;		/* live readers of hooks.exec_done (engine_add_trace_readers) */
	struct emu_names *names;	/* emulators named after their programs, or NULL (emu_names.h) */
};

uint64_t engine_now_ns(clockid_t clock);
/* Accounts a finished exec and hands its trace line to whoever wants it. */
void engine_finish(struct engine *e, struct sandbox *sb, struct trace_record *rec, uint64_t t0, uint64_t extra_ns,
		   uint64_t extra_cpu_ns);
/*
 * The supervisor's own CPU time (CLOCK_THREAD_CPUTIME_ID) since the current event started to
 * be handled: what the goal "supervisor CPU per exec" measures, unlike wall time, which a busy
 * machine inflates with preemption.
 */
void engine_cpu_mark(struct engine *e);
/* engine_cpu_mark if measure, otherwise no mark: the current event's CPU time is not measured. */
void engine_cpu_mark_if(struct engine *e, bool measure);
bool engine_cpu_marked(const struct engine *e);
uint64_t engine_cpu_since_mark(const struct engine *e);
struct exec_env engine_make_env(struct engine *e, const struct sandbox *sb);

/* Receives one notification of l and answers it (engine.c). */
void engine_handle_notification(struct engine *e, struct listener *l);
/* Stops watching l and closes it; the sandbox's last one tells the sandbox_empty hook. */
void engine_listener_close(struct engine *e, struct listener *l);
struct pending *pending_find(struct engine *e, pid_t tid);
/*
 * An exec notification of a task for which p holds a rewrite: the restart of that rewrite (let
 * through, its scratch block put back if a signal frame landed on it), a new exec while its
 * stop is still to come (restarted later), or another exec (the rewrite dropped).  True when
 * the notification is answered here; false: decide it as any exec.
 */
bool engine_on_exec_of_rewritten(struct engine *e, struct listener *l, struct pending *p, const struct exec_call *call,
				 uint64_t t0);
struct pending *pending_new(struct engine *e, struct sandbox *sb);
void pending_free(struct pending *p);

/*
 * Rewrites a foreign exec.  Returns 0 once the notification is answered (the rest happens on
 * ptrace stops), or -errno with the notification still pending (the caller answers it).
 */
int engine_start_rewrite(struct engine *e, struct sandbox *sb, struct exec_ctx *c, uint64_t t0);
/* Restarts the execs a previous daemon left received but unanswered (see journal.h). */
void engine_recover(struct engine *e, struct listener *l, const struct journal_scope *scope);
/* A wait status: a rewrite's ptrace stop, or a child of the front end's. */
void engine_on_wait_status(struct engine *e, pid_t pid, int status);

#endif
