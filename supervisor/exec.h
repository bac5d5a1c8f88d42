/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_EXEC_H
#define UBINFMT_EXEC_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "classify.h"
#include "decide.h"
#include "emu.h"
#include "exec_cache.h"
#include "hostbinfmt.h"
#include "inject.h"
#include "notif.h"
#include "resolve.h"
#include "rewrite.h"
#include "trace.h"

/*
 * One trapped exec, from its arguments to the facts of its decision (decide.h): the target
 * resolved in the task's view, its #! chain followed, its architecture and the permission
 * checks the kernel would make, and for a foreign program the emulator's argv plan.
 */

/* What the decision depends on besides the exec itself. */
struct exec_env {
	const struct hostbinfmt *host; /* the host's binfmt_misc entries: left to the kernel */
	uint64_t native_mask;	       /* 1 << arch for each natively runnable architecture */
	uint64_t emulate_mask;	       /* 1 << arch for each architecture allowed and with an emulator */
};

/* Everything one exec decision needs; lives on the stack of the notification handler. */
struct exec_ctx {
	int listener;
	uint64_t id;
	pid_t tid;
	struct exec_call call;
	char path[PATH_MAX];
	struct target_view view;
	int start_fd; /* our copy of the execveat dirfd, or -1 */
	int file_fd;  /* the resolved target, open for reading */
	struct stat st;
	struct classification cls; /* of the final file (after any #! chain) */
	struct rw_chain chain;
	char interp[SHEBANG_MAX_DEPTH][CLASSIFY_HEAD_SIZE];
	char interp_arg[SHEBANG_MAX_DEPTH][CLASSIFY_HEAD_SIZE];
	/*
	 * The files of the chain, each kept open with its stat for the permission checks: [0] is
	 * file_fd (not owned here), then each interpreter opened.  n_paths names were looked at:
	 * one more than n when the last interpreter did not resolve.
	 */
	struct {
		struct stat st[SHEBANG_MAX_DEPTH + 1];
		int fd[SHEBANG_MAX_DEPTH + 1];
		size_t n, n_paths;
	} files;
	/*
	 * The emulator of an EMULATE decision, looked up by the engine once the decision's guarded
	 * section is left: the sandbox's registry may be gone by the time a stuck decision ends.
	 */
	const struct emu *emu;
	const uint64_t *argv; /* the caller's argv pointers (EXEC_FACT_ARGV), in thread-local scratch */
	size_t argc;
	bool name_closed; /* the exec's own path leads through something its exec closes
				       * (resolve.h's exec_closes_name): the emulator could not open it */
	/*
	 * The sandbox's classification cache as the decision began (a copy: a decision abandoned
	 * to a stuck file may outlive the sandbox), and what the decision learned for it, which
	 * the engine keeps once the decision is back (exec_cache.h).
	 */
	struct exec_cache cache;
	struct exec_cache_entry learned[SHEBANG_MAX_DEPTH + 1];
	size_t n_learned;
	struct trace_record rec;
};

void exec_ctx_close(struct exec_ctx *c);

/*
 * Whether the emulator gets the ELF it loads as an fd added to the task (named to it as
 * /proc/self/fd/N) rather than by the caller's own name: for a name the emulator could not open
 * after the exec, or would open relative to the wrong directory (a file named through an fd of
 * the caller's: execveat with a dirfd, /proc/self/fd/N or /dev/fd/N of a close-on-exec fd).
 * binfmt_misc's flag O does the same with AT_EXECFD.
 */
bool exec_hands_file_fd(const struct exec_ctx *c);

/* Closes the interpreters' files of the chain, once the decision no longer needs them. */
void exec_release_files(struct exec_ctx *c);

/*
 * Gathers fact (any but EXEC_FACT_VIEW, which is the engine's) of c's exec into f: reads the
 * caller's memory, resolves and opens its files in its view, reads their heads and its
 * credentials.  Everything read is the sandbox's: each step bounds what it reads and checks it
 * as its own comment says; failures become facts (the errno the kernel would give), never
 * decisions.  f->have gets fact's bit.
 */
void exec_gather(const struct exec_env *env, struct exec_ctx *c, struct exec_facts *f, enum exec_fact fact);

/*
 * Builds the emulator's argv plan from c->argv into inj (owned by inj).  file_target_fd is the
 * fd added to the target for fd-based execs of an ELF, else -1.
 */
int exec_build_plan(const struct exec_ctx *c, struct injection *inj, int file_target_fd);

#endif
