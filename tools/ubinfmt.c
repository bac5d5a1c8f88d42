/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"

static const char usage[] =
	"Usage: ubinfmt COMMAND [OPTION…]\n"
	"\n"
	"Runs foreign-architecture programs through qemu-user without binfmt_misc.\n"
	"\n"
	"Commands:\n"
	"  run [--rootfs DIR] [--emulator ARCH=PATH]… [--trace[=FILE]] [--json] [-v] -- CMD [ARG…]\n"
	"        run CMD with an embedded supervisor; foreign programs it starts run emulated\n"
	"  detect [--json] FILE…\n"
	"        say how each FILE would be run\n"
	"  status [--json]\n"
	"        sandboxes served by a running ubinfmtd, with exec counts and latency\n"
	"  trace [--sandbox ID] [--json]\n"
	"        stream one line per exec from a running ubinfmtd\n"
	"  attach PID\n"
	"        make a running ubinfmtd take over the sandbox whose ubinfmt-init is PID\n"
	"  setup docker|podman|containerd [--undo] [--dry-run] [--default] [--root DIR]\n"
	"        [--runtime-path PATH]\n"
	"        add ubinfmt-runtime to an engine's configuration (or take it out again), and\n"
	"        say what changed; 'ubinfmt setup --help' tells more\n"
	"\n"
	"Environment: UBINFMT_LOG=error|warn|info|debug|trace sets the log level.\n";

int main(int argc, char **argv)
{
	log_setup("ubinfmt");
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "detect") == 0)
		return cmd_detect(argc - 1, argv + 1);
	if (strcmp(argv[1], "status") == 0)
		return cmd_status(argc - 1, argv + 1);
	if (strcmp(argv[1], "trace") == 0)
		return cmd_trace(argc - 1, argv + 1);
	if (strcmp(argv[1], "attach") == 0)
		return cmd_attach(argc - 1, argv + 1);
	if (strcmp(argv[1], "setup") == 0)
		return cmd_setup(argc - 1, argv + 1);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	log_error("unknown command '%.64s'; see 'ubinfmt --help'", argv[1]);
	return 2;
}
