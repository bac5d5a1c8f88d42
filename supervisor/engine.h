/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_ENGINE_H
#define UBINFMT_ENGINE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "emu.h"
#include "hostbinfmt.h"

/*
 * The engine: serves the seccomp listeners of one or more sandboxes on one io_uring loop,
 * deciding for every trapped exec whether it runs natively, under an emulator, or fails the
 * way the kernel would make it fail.
 */

struct engine;

struct engine_hooks {
	/* A child of ours (not a task we trace for a rewrite) changed state. */
	void (*child_status)(void *ctx, pid_t pid, int status);
	/* A signal from the forward set arrived. */
	void (*signal)(void *ctx, int signo);
	/* A listener hung up: every task it filtered is gone. */
	void (*listener_gone)(void *ctx, int listener);
	void *ctx;
};

struct engine_config {
	struct emu_registry *emus;  /* borrowed */
	uint64_t native_mask;       /* 1 << arch for every natively runnable architecture */
	struct hostbinfmt host;     /* the host's enabled binfmt_misc magic entries */
	FILE *trace;                /* one line per exec, or NULL */
	bool trace_json;
	sigset_t forward;           /* signals handed to hooks.signal (must be blocked by the caller) */
	struct engine_hooks hooks;
};

int engine_new(const struct engine_config *cfg, struct engine **ret);
struct engine *engine_free(struct engine *e);

/* Starts serving a listener fd; the engine owns it from now on. */
int engine_add_listener(struct engine *e, int listener);

/* Runs the loop until engine_exit; returns its value (or -errno when the ring fails). */
int engine_run(struct engine *e);
void engine_exit(struct engine *e, int value);

struct engine_stats {
	uint64_t native;
	uint64_t emulated;
	uint64_t failed;     /* denied, no emulator, rewrite failed */
	uint64_t kernel;     /* left to the kernel's own error */
	uint64_t native_ns;  /* supervisor time spent on native decisions */
	uint64_t foreign_ns; /* supervisor time spent on emulated execs (both trips) */
};

void engine_get_stats(const struct engine *e, struct engine_stats *ret);

#endif
