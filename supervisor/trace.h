/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_TRACE_H
#define UBINFMT_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "arch.h"

/* What the supervisor did with one exec. */
enum decision {
	DECISION_NATIVE,      /* runs natively: let the kernel do it */
	DECISION_EMULATE,     /* rewritten to run under the emulator */
	DECISION_NO_EMULATOR, /* foreign, nothing to run it with: the kernel's ENOEXEC */
	DECISION_HOST_BINFMT, /* the host's binfmt_misc handles it: left to the kernel */
	DECISION_KERNEL,      /* not runnable at all (missing, not ELF, …): the kernel's answer */
	/*
	 * The caller may not reach or execute the file or an interpreter of it: EACCES (ours for
	 * what would be emulated, the kernel's otherwise), and a record says nothing more of it.
	 */
	DECISION_DENIED,
	DECISION_FAILED, /* the rewrite failed: answered with an error */
	DECISION_MAX,
};

const char *decision_name(enum decision d);

/* One trace line.  Strings are copied from the sandbox and printed quoted and bounded. */
struct trace_record {
	uint64_t time_ns; /* CLOCK_REALTIME */
	pid_t pid;
	const char *syscall; /* "execve" or "execveat" */
	char path[256];	     /* as given (truncated) */
	char resolved[256];
	enum arch arch;
	enum decision decision;
	const char *emulator; /* path or NULL */
	int error;	      /* errno answered, for DENIED/FAILED/KERNEL when known */
	uint64_t usec;	      /* supervisor wall time on this exec (every trip of a rewrite) */
	uint64_t cpu_usec;    /* supervisor CPU time on it */
};

/* Pure: formats r as one line (text or JSON) ending in '\n'.  Returns the length. */
size_t trace_format(const struct trace_record *r, bool json, char *buf, size_t size);

/* Copies a sandbox string for display: at most size - 1 bytes, NUL-terminated. */
void trace_copy(char *dst, size_t size, const char *src);

#endif
