/* SPDX-License-Identifier: GPL-2.0-or-later */
/* exectest's shared pieces (prefix et_); the command line is described in exectest.c. */
#ifndef UBINFMT_EXECTEST_H
#define UBINFMT_EXECTEST_H

#include <stdbool.h>
#include <stddef.h>

#include "macros.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_SKIP 77

/* Bounds on what the tests pass: generous, but a typo must not allocate gigabytes. */
#define MAX_ARGS 64

extern char **environ;

/* Options, each allowed only for the modes that name it in et_parse_opts()'s mask. */
enum {
	OPT_KEEP_FD = 1 << 0,
	OPT_OPATH = 1 << 1,
	OPT_STATUS = 1 << 2,
	OPT_THREAD = 1 << 3,
	OPT_ARG_BYTES = 1 << 4,
	OPT_JOBS = 1 << 5,
	OPT_MAIN_STACK = 1 << 6,
};

struct opts {
	bool keep_fd; /* leave the exec'd fd open across exec (the default is close-on-exec) */
	bool opath;   /* fexecve an O_PATH fd instead of an O_RDONLY one */
	bool thread;  /* another thread is alive when the exec happens */
	bool check_status;
	int status;	  /* expected exit status of each launched program */
	size_t arg_bytes; /* append one argument of this many bytes (E2BIG probes) */
	int jobs;	  /* children at a time (0: the mode's default) */
	bool main_stack;  /* signal handlers run on the thread's own stack, not an alternate one */
};

/* "exectest: MESSAGE" on stderr, then exit(status). */
_noreturn_ _printf_(2, 3) void et_die(int status, const char *fmt, ...);
/* "skip: REASON" on stdout, then exit 77. */
_noreturn_ _printf_(1, 2) void et_skip(const char *fmt, ...);
bool et_streq(const char *a, const char *b);
const char *et_errno_name(int err);

/* Parses a mode's options (argv[0] is the mode); returns the index of the first operand. */
int et_parse_opts(int argc, char **argv, unsigned allowed, struct opts *ret_opts);
void et_need_operands(int argc, int first, int count, const char *mode);
/* argv to exec: ARGS, or {FALLBACK0} when there are none, plus EXTRA when not NULL. */
char **et_make_argv(char **args, int nargs, char *fallback0, char *extra);

/* Reads fd to EOF into buf (NUL-terminated, truncated to size - 1); returns the length. */
size_t et_read_all(int fd, char *buf, size_t size);
/* "status N", "signal N" or "wait-status 0xN" for a wait status. */
void et_print_status(int status);
bool et_status_is(int status, int want);

/* The modes that live in their own files; argv[0] is the mode's name. */
int et_spawn(int argc, char **argv);	     /* exectest_spawn.c */
int et_storm(int argc, char **argv);	     /* exectest_batch.c */
int et_concurrent(int argc, char **argv);    /* exectest_batch.c */
int et_args(int argc, char **argv);	     /* exectest_hostile.c */
int et_race_path(int argc, char **argv);     /* exectest_hostile.c */
int et_kill_race(int argc, char **argv);     /* exectest_hostile.c */
int et_forkstorm(int argc, char **argv);     /* exectest_hostile.c */
int et_fusehang(int argc, char **argv);	     /* exectest_hostile.c */
int et_execmem(int argc, char **argv);	     /* exectest_hostile.c */
int et_fusestack(int argc, char **argv);     /* exectest_hostile.c */
int et_threadexec(int argc, char **argv);    /* exectest_hostile.c */
int et_copy_fd(int from, int to);	     /* exectest.c */
int et_memfd_copy(const char *path);	     /* exectest.c */
int et_fdexec(int argc, char **argv);	     /* exectest_fd.c */
int et_arm64_fexecve(int argc, char **argv); /* exectest_fd.c */
int et_sigurg(int argc, char **argv);	     /* exectest_sigurg.c */
int et_ptrace(int argc, char **argv);	     /* exectest_ptrace.c */

#endif
