/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_DECIDE_H
#define UBINFMT_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch.h"
#include "classify.h"
#include "trace.h"

/*
 * The decision about one trapped exec, as a pure function of what was learned about it.
 * Learning is costly (the caller's memory, its files, its credentials) and some of it is only
 * worth it for some answers, so the decision is reached in steps: decide() either answers, or
 * names the one fact it needs next, which the caller gathers (exec.c) before asking again.
 * Facts are asked for in the order the decision uses them: nothing costly is learned for an
 * answer that does not need it.
 */

/* What decide() may ask for next; each is gathered once. */
enum exec_fact {
	EXEC_FACT_NONE,	     /* nothing: the decision is made */
	EXEC_FACT_VIEW,	     /* the task's root (view_err) */
	EXEC_FACT_PATH,	     /* the path from its memory, and the dirfd of an fd-based exec */
	EXEC_FACT_TARGET,    /* the file the path names, opened and classified */
	EXEC_FACT_INTERP,    /* the #! interpreter of the last file classified, opened and classified */
	EXEC_FACT_REACH,     /* how far the caller's own credentials get along those files */
	EXEC_FACT_SCRIPT_FD, /* whether the dirfd naming a script is close-on-exec */
	EXEC_FACT_ARGV,	     /* the caller's argv pointers */
	EXEC_FACT_MAX,
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
	EXEC_REACH_ALL,	      /* every directory and file the decision looked at */
	EXEC_REACH_MAX,
};

/* The last file of the #! chain classified so far (the exec's own file, then each interpreter). */
struct exec_file_facts {
	int classify_err; /* classify()'s result: 0 or -errno (a head it cannot make sense of) */
	bool host_binfmt; /* a binfmt_misc entry of the host's claims its head */
	enum file_kind kind;
	enum arch arch;	   /* of an ELF */
	uint16_t elf_type; /* of an ELF: e_type */
};

/*
 * Everything the decision is based on.  Fields of a fact are valid once its bit (1 << fact) is
 * in have; those set before the first decide() (stuck, recorded, the masks, empty_path_allowed)
 * always are.  Errors are -errno; the ones the kernel would give are left to the kernel.
 */
struct exec_facts {
	unsigned have;		 /* 1 << enum exec_fact, for each fact gathered */
	bool stuck;		 /* the sandbox has too many decisions stuck: nothing is gathered */
	bool recorded;		 /* a trace record is made of it: what the caller may see is checked */
	uint64_t native_mask;	 /* 1 << arch for each natively runnable architecture */
	uint64_t emulate_mask;	 /* 1 << arch for each architecture allowed and with an emulator */
	bool empty_path_allowed; /* execveat's AT_EMPTY_PATH */

	int view_err; /* EXEC_FACT_VIEW: opening the task's root */

	int path_err;	 /* EXEC_FACT_PATH: reading the path from the task's memory */
	bool empty_path; /* the path is "" */
	bool fd_based;	 /* named through an fd: fexecve, execveat with a dirfd */
	int dirfd_err;	 /* our copy of that fd */

	int open_err; /* EXEC_FACT_TARGET: resolving, opening or reading the file */
	/*
	 * EXEC_FACT_TARGET, then each EXEC_FACT_INTERP: the last file classified, the number of
	 * files classified (1: the exec's own), and whether the interpreter its #! line names
	 * could not be opened (the kernel's to answer).
	 */
	struct exec_file_facts last;
	size_t n_files;
	int interp_err;

	enum exec_reach reach;	/* EXEC_FACT_REACH */
	bool script_fd_cloexec; /* EXEC_FACT_SCRIPT_FD */
	int argv_err;		/* EXEC_FACT_ARGV */
};

/* The answer, or the fact still needed (need != EXEC_FACT_NONE, then nothing else is set). */
struct exec_decision {
	enum exec_fact need;
	/*
	 * NATIVE, HOST_BINFMT, KERNEL: let the call through; EMULATE: rewrite it to arch's
	 * emulator; NO_EMULATOR, DENIED, FAILED: fail it with err without running anything.
	 */
	enum decision decision;
	int err;	/* the errno of a failure; 0 otherwise */
	enum arch arch; /* of EMULATE and NO_EMULATOR */
	/*
	 * For KERNEL: a failure of the supervisor's own that left the exec undecided (-errno; 0
	 * when the kernel answers because of the exec itself), for a warning when it is a lack of
	 * fds or memory.
	 */
	int undecided_by;
};

/* Pure: the decision from f, or the next fact to gather.  No syscalls, no globals. */
void decide(const struct exec_facts *f, struct exec_decision *ret);

/*
 * Pure: the answer when the rewrite of an EMULATE decision failed with r (< 0), the call still
 * pending: another thread of the process in the middle of an exec (-EINPROGRESS, -ETIMEDOUT)
 * leaves it to the kernel, which makes it wait for that exec too; anything else (no emulator
 * in the registry: -ENOEXEC) fails it with ENOEXEC.
 */
void decide_rewrite_failed(int r, struct exec_decision *d);

/*
 * Pure: fills rec's decision and error from the answer d (error err), showing of the target
 * only what reach lets the caller see: a file it could not reach or execute is "denied"
 * (EACCES) whatever it is, with no architecture, and no resolved name unless it reached the
 * file.
 */
void decide_record(enum exec_reach reach, enum decision d, int err, struct trace_record *rec);

#endif
