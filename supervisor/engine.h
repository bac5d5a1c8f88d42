/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_ENGINE_H
#define UBINFMT_ENGINE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "emu.h"
#include "hostbinfmt.h"
#include "sandbox_options.h"
#include "trace.h"

/*
 * The engine: serves the seccomp listeners of any number of sandboxes on one io_uring loop,
 * deciding for every trapped exec whether it runs natively, under an emulator, or fails the
 * way the kernel would make it fail.  A sandbox is a set of listeners sharing settings
 * (emulators, tracing) and counters: one `ubinfmt run`, one container.
 */

struct engine;
struct sandbox;
struct loop;

#define SANDBOX_ID_MAX 65 /* 64 characters and the NUL */

struct engine_hooks {
	/* A child of ours (not a task we trace for a rewrite) changed state. */
	void (*child_status)(void *ctx, pid_t pid, int status);
	/* A signal from the forward set arrived. */
	void (*signal)(void *ctx, int signo);
	/* The last listener of a sandbox hung up: every task it filtered is gone. */
	void (*sandbox_empty)(void *ctx, struct sandbox *sb);
	/* Every finished exec, for live trace subscribers. */
	void (*exec_done)(void *ctx, struct sandbox *sb, const struct trace_record *rec);
	void *ctx;
};

/*
 * The range front ends accept for engine_config.decision_timeout_ms: the watcher looks four
 * times per deadline, so a shorter one would wake it hundreds of times a second.
 */
#define ENGINE_DECISION_TIMEOUT_MIN_MS 100
#define ENGINE_DECISION_TIMEOUT_MAX_MS 3600000

struct engine_config {
	uint64_t native_mask;	      /* 1 << arch for every natively runnable architecture */
	struct hostbinfmt host;	      /* the host's enabled binfmt_misc magic entries */
	sigset_t forward;	      /* signals handed to hooks.signal (must be blocked by the caller) */
	unsigned decision_timeout_ms; /* how long a decision may wait on a sandbox's files; 0: 1 s */
	/*
	 * No one reads engine_get_stats or sandbox_get_stats (ubinfmt run): the supervisor's CPU
	 * time per exec, two system calls, is then measured only for execs a trace records.
	 */
	bool stats_unread;
	struct engine_hooks hooks;
};

struct sandbox_config {
	char id[SANDBOX_ID_MAX];
	const struct emu_registry *emus; /* borrowed: must outlive the sandbox; the front end made it
	                                  * from options->emulator and its own emulators */
	/*
	 * What the sandbox may emulate (arch_mask) and how it is traced (trace), read at creation
	 * only; NULL: every architecture, no trace of its own.  The front end settles what the
	 * sandbox asked against its own settings before (sandbox_options_narrow).
	 */
	const struct sandbox_options *options;
	FILE *trace; /* where its trace lines go when options->trace asks for them */
	void *userdata;
};

struct engine_stats {
	uint64_t native; /* native and host-binfmt execs */
	uint64_t emulated;
	uint64_t failed;     /* denied, no emulator, rewrite failed */
	uint64_t kernel;     /* left to the kernel's own error */
	uint64_t native_ns;  /* supervisor time spent on native decisions */
	uint64_t foreign_ns; /* supervisor time spent on emulated execs (both trips) */
	/*
	 * Supervisor CPU time (CLOCK_THREAD_CPUTIME_ID) on native decisions, and on emulated or
	 * failed ones: measured on a sample of the execs (cpu_sample.h) and scaled to all of them
	 * by the getters below; native_cpu_n and foreign_cpu_n are the execs measured.
	 */
	uint64_t native_cpu_ns;
	uint64_t foreign_cpu_ns;
	uint64_t native_cpu_n;
	uint64_t foreign_cpu_n;
	/* decisions and rewrite steps given up after the deadline (stuck on the sandbox's files or memory), also in kernel */
	uint64_t abandoned;
	uint64_t p50_ns; /* handling time quantiles over all execs */
	uint64_t p99_ns;
};

int engine_new(const struct engine_config *cfg, struct engine **ret);
struct engine *engine_free(struct engine *e);

/* The loop the engine runs on, for front ends to watch their own fds. */
struct loop *engine_loop(struct engine *e);

/*
 * Runs the loop until engine_exit; returns its value (or -errno when the ring fails).  The loop
 * runs on a thread of its own (another one if a decision gets stuck, see guard.h), which is
 * the tracer of the tasks it rewrites; the calling thread only watches, so its children keep
 * their parent (PR_SET_PDEATHSIG) and hooks run on the loop's thread.
 */
int engine_run(struct engine *e);
void engine_exit(struct engine *e, int value);

/* Ids are labels (status, traces): a front end that needs them unique keeps them so. */
int engine_sandbox_new(struct engine *e, const struct sandbox_config *cfg, struct sandbox **ret);
/* Closes the sandbox's listeners (its tasks' execs then fail with ENOSYS unless another holder exists). */
void engine_sandbox_free(struct engine *e, struct sandbox *sb);
/* Starts serving a listener fd for sb; the engine owns the fd from now on. */
int engine_sandbox_add_listener(struct engine *e, struct sandbox *sb, int listener);
/*
 * Which tasks an agent's journal may name.  The page is the agent's to write, so an entry is
 * acted on only if its notification id is pending on this very listener and its task is one of
 * the agent's own: in its pid namespace, a descendant of it, with its uid unless that is 0,
 * blocked in an exec.  The two are checked apart (the kernel tells whether an id is pending,
 * not whose it is): an agent can pair one of its pending ids with another of its own tasks,
 * never with anyone else's.  A task outside that is never ptraced, whatever the page says.
 */
struct journal_scope {
	pid_t agent;  /* the agent (or the process attached to), in our pid namespace */
	uid_t uid;    /* the agent's uid: tasks of other uids are left alone unless it is 0 */
	bool recover; /* false: a first hand-over, whose journal cannot name anything a daemon
	               * received; its entries are cleared, not acted on */
};

/*
 * The same, with the agent's in-flight journal (owned by the engine from now on, may be NULL):
 * execs that a previous daemon received and never answered are restarted, within scope.
 * late: the listener's tasks ran under another supervisor before (re-attach, attach), so some
 * may have changed their root unseen: no root is shared between its execs.
 */
struct journal;
int engine_sandbox_add_listener_journal(struct engine *e, struct sandbox *sb, int listener, struct journal *journal,
					const struct journal_scope *scope, bool late);
/* Whether fd is the same open listener (dup, received copy) as one the engine serves. */
bool engine_serves_listener(const struct engine *e, int fd);
/* Iterates: NULL starts, NULL ends. */
struct sandbox *engine_sandbox_next(struct engine *e, struct sandbox *prev);

/*
 * The front end's count of live readers of hooks.exec_done (the daemon's trace subscribers),
 * changed by delta.  With none, an exec of a sandbox without a trace of its own skips what only
 * a trace record needs (the target's name, the walk that decides what its caller may see), so
 * that a native exec costs no extra syscall.
 */
void engine_add_trace_readers(struct engine *e, int delta);

const char *sandbox_id(const struct sandbox *sb);
void *sandbox_userdata(const struct sandbox *sb);
size_t sandbox_listener_count(const struct sandbox *sb);
void sandbox_get_stats(const struct sandbox *sb, struct engine_stats *ret);

/* Totals over every sandbox, including ones already freed. */
void engine_get_stats(const struct engine *e, struct engine_stats *ret);

#endif
