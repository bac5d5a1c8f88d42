/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_CAPS_H
#define UBINFMT_CAPS_H

/*
 * After set-up a supervisor needs only what the rewrites need: ptrace and memory access to
 * other users' tasks (CAP_SYS_PTRACE), reading their files whatever the modes
 * (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) and signalling them (CAP_KILL).  Drops every other
 * capability from the effective, permitted and inheritable sets; does nothing when not root.
 * Returns 0, or -EPERM when the kernel refused (the caller keeps running with what it had).
 */
int caps_drop_to_supervisor(void);

#endif
