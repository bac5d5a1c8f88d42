/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_RT_ARGV_H
#define UBINFMT_RT_ARGV_H

#include <stdbool.h>

/*
 * The command line of an OCI runtime, as runc and crun take it and as engines call them
 * (captured: tests/unit/data/runtime/argv.log):
 *
 *   RUNTIME [GLOBAL-OPTION…] COMMAND [COMMAND-OPTION…] [ID]
 *
 * Only what ubinfmt-runtime needs is read: which command, the bundle of `create` and `run`,
 * crun's --config, and the --log and --log-format the runtime is to write its errors to (the
 * engine shows the user the last error line of that file).  Everything else is skipped, never
 * checked: the real runtime gets the very same argv and says what is wrong with it.
 *
 * Pure: no syscalls, no globals.
 */

enum rt_command {
	RT_CMD_NONE, /* no command word (runc --version, runc --help, runc with nothing) */
	RT_CMD_CREATE,
	RT_CMD_RUN,
	RT_CMD_OTHER, /* start, state, kill, delete, exec, features, spec, an unknown word… */
	RT_CMD_MAX,
};

enum rt_log_format {
	RT_LOG_TEXT, /* runc's default: time="…" level=error msg="…" */
	RT_LOG_JSON, /* {"level":"error","msg":"…","time":"…"} */
	RT_LOG_FORMAT_MAX,
};

struct rt_argv {
	enum rt_command command;
	int command_index; /* argv index of the command word; 0 when RT_CMD_NONE */
	/* Pointers into argv, or NULL when not given. */
	const char *bundle; /* --bundle/-b of create and run; NULL means the cwd */
	const char *config; /* crun's --config/-f, relative to the bundle; NULL means config.json */
	const char *log;    /* global --log FILE (crun also takes "file:FILE", "journald:…") */
	enum rt_log_format log_format;
};

/*
 * Scans argv (argc entries, argv[0] the program) the way runc (Go's flag package under
 * urfave/cli: "--opt value", "--opt=value", also with one dash) and crun (argp: also "-bDIR",
 * short options run together, options after the container id) read it:
 *  - Global options up to the first word that is not one.  Those that take a value: --root,
 *    --log, --log-format, --criu, --rootless, --cgroup-manager (crun).  Any other word starting
 *    with '-' is taken as a flag without a value ("--debug", "--systemd-cgroup", an option a
 *    newer runtime added): a wrong guess can only make the command word unrecognised, and
 *    then the argv passes through untouched.
 *  - "--" ends the options.
 *  - For create and run, every later word up to "--": --bundle/-b (the last one counts),
 *    crun's --config/-f, and the values of --console-socket, --pid-file and --preserve-fds,
 *    so that a value is never taken for an option.
 * Never fails: what it cannot read is left NULL.
 *
 * Trusts the argv to come from the engine (as root, or the rootless engine's own user): it is
 * read, never acted on beyond finding the bundle and the log file the real runtime would use.
 */
void rt_argv_scan(int argc, char *const argv[], struct rt_argv *ret);

/* "create", "run", "other"… for logs and tests. */
const char *rt_command_name(enum rt_command c);

#endif
