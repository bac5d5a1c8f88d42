/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_EXEC_H
#define UBINFMT_EXEC_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "classify.h"
#include "emu.h"
#include "hostbinfmt.h"
#include "inject.h"
#include "notif.h"
#include "resolve.h"
#include "rewrite.h"
#include "trace.h"

/*
 * One trapped exec, from its arguments to a decision: the target resolved in the task's view,
 * its #! chain followed, its architecture and the permission checks the kernel would make,
 * and for a foreign program the emulator's argv plan.
 */

/* What the decision depends on besides the exec itself. */
struct exec_env {
	const struct hostbinfmt *host;  /* the host's binfmt_misc entries: left to the kernel */
	uint64_t native_mask;           /* 1 << arch for each natively runnable architecture */
	uint64_t emulate_mask;          /* 1 << arch for each architecture allowed and with an emulator */
};

/*
 * How far the caller itself could get to the files of its exec with its own credentials, which
 * decides what a trace record may show of them: nothing that the caller could not learn by
 * itself (stat, readlink, or running the program).
 */
enum exec_reach {
	EXEC_REACH_UNCHECKED, /* not asked: a native exec that no trace record is made of */
	EXEC_REACH_UNKNOWN,   /* its credentials could not be read (the task is gone?) */
	EXEC_REACH_NONE,      /* a directory on the way to the file it named refuses it: EACCES */
	EXEC_REACH_NAMED,     /* it reaches the file it named, but may not exec it (or reach or exec
			       * an interpreter of its #! chain): EACCES */
	EXEC_REACH_ALL,       /* every directory and file the decision looked at */
	EXEC_REACH_MAX,
};

/* Everything one exec decision needs; lives on the stack of the notification handler. */
struct exec_ctx {
	int listener;
	uint64_t id;
	pid_t tid;
	struct exec_call call;
	char path[PATH_MAX];
	struct target_view view;
	int start_fd;    /* our copy of the execveat dirfd, or -1 */
	int file_fd;     /* the resolved target, open for reading */
	struct stat st;
	struct classification cls;    /* of the final file (after any #! chain) */
	struct rw_chain chain;
	char interp[SHEBANG_MAX_DEPTH][CLASSIFY_HEAD_SIZE];
	char interp_arg[SHEBANG_MAX_DEPTH][CLASSIFY_HEAD_SIZE];
	const struct emu *emu;
	const uint64_t *argv; /* the caller's argv pointers (exec_read_argv), in thread-local scratch */
	size_t argc;
	bool traced;                  /* a trace record will be made of it: check what the caller may see */
	bool name_closed;             /* the exec's own path leads through something its exec closes
				       * (resolve.h's exec_closes_name): the emulator could not open it */
	enum exec_reach reach;
	struct trace_record rec;
};


void exec_ctx_close(struct exec_ctx *c);

/* Our O_PATH copy of the target's fd number fd (execveat's dirfd); -EBADF if it has none. */
int exec_open_target_fd(pid_t tid, int fd);
/* Whether the target's fd is close-on-exec (from /proc/TID/fdinfo); true when unknown. */
bool exec_target_fd_cloexec(pid_t tid, int fd);
/* Whether the caller named its file through an fd (fexecve, execveat with a dirfd). */
bool exec_fd_based(const struct exec_call *call, const char *path);
/*
 * Whether the emulator gets the ELF it loads as an fd added to the task (named to it as
 * /proc/self/fd/N) rather than by the caller's own name: for a name the emulator could not open
 * after the exec, or would open relative to the wrong directory (a file named through an fd of
 * the caller's: execveat with a dirfd, /proc/self/fd/N or /dev/fd/N of a close-on-exec fd).
 * binfmt_misc's flag O does the same with AT_EXECFD.
 */
bool exec_hands_file_fd(const struct exec_ctx *c);

/*
 * Opens path (NULL: start_fd itself) in the target's view, only if it is a regular file, and
 * reads its first CLASSIFY_HEAD_SIZE bytes.  0, or the errno the kernel's exec would give.
 */
int exec_open_and_read(struct exec_ctx *c, int start_fd, const char *path, bool follow, uint8_t *head,
		       size_t *ret_len, struct stat *ret_st, int *ret_fd);

/*
 * Classifies c->file_fd (whose first bytes are first_head) and the #! chain behind it.
 * DECISION_EMULATE when a foreign ELF with an emulator (env->emulate_mask) ends the chain and
 * the caller may execute every file of it; otherwise the answer, with *ret_err set for DENIED
 * and NO_EMULATOR.  Any answer but the kernel's own (emulate, no emulator) first passes the
 * search and exec checks the kernel would make with the caller's credentials, and becomes
 * DENIED (EACCES) when one fails; with c->traced, every decision is checked and c->reach set.
 * Leaves c->emu to the caller: the registry may not outlive a stuck decision.
 */
enum decision exec_classify(const struct exec_env *env, struct exec_ctx *c, const uint8_t *first_head,
			    size_t first_len, int *ret_err);

/*
 * For a traced exec whose path did not resolve (ENOENT, ENOTDIR…): whether the caller may
 * search the directories on its way, so that a missing name in a directory it cannot search
 * looks like an existing one (EACCES either way).  Sets c->reach.
 */
void exec_check_unresolved(struct exec_ctx *c);

/*
 * Fills c->rec's decision and error from the answer d (error err), showing of the target only
 * what c->reach lets the caller see: a file it could not reach or execute is "denied" (EACCES)
 * whatever it is, with no architecture, and no resolved name unless it reached the file.
 */
void exec_record_decision(struct exec_ctx *c, enum decision d, int err);

/*
 * Reads the caller's argv pointers into c->argv (a buffer of the calling thread's, reused by
 * its next call): -EFAULT or -E2BIG are the kernel's answers for an argv it could not read.
 */
int exec_read_argv(struct exec_ctx *c);
/*
 * Builds the emulator's argv plan from c->argv into inj (owned by inj).  file_target_fd is the
 * fd added to the target for fd-based execs of an ELF, else -1.
 */
int exec_build_plan(const struct exec_ctx *c, struct injection *inj, int file_target_fd);

#endif
