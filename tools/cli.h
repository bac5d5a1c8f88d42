/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_CLI_H
#define UBINFMT_CLI_H

/* Each command handler parses its own options and returns the process exit status. */
int cmd_run(int argc, char **argv);
int cmd_detect(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_setup(int argc, char **argv);

#endif
