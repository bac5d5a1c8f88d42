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

/*
 * Every exec of every sandbox waits for the supervisor: on a loaded machine it should not wait
 * behind the sandboxes' own processes for a CPU (under 32 exec-storming sandboxes, nice -10
 * cuts the added p99 from ~2 ms to ~0.7 ms).  Sets the calling thread's nice value, which the
 * threads it starts inherit; needs CAP_SYS_NICE, so call it before caps_drop_to_supervisor and
 * after forking anything that must keep the normal priority.  0, or -errno (the caller runs on
 * at its current priority).
 */
#define CAPS_SUPERVISOR_NICE (-10)
int caps_raise_priority(int nice_value);

#endif
