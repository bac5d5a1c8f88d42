/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_STUB_H
#define UBINFMT_STUB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "inject.h"

/*
 * The fallback for tasks that someone else already traces (strace -f, gdb): no ptrace for us,
 * so the rewrite is a code stub written over the instructions at the syscall's return address
 * through /proc/PID/mem.  The notification is answered with success, the task returns into
 * the stub, the stub issues the emulator's execveat, and that exec traps again: the original
 * bytes go back before it is allowed to run.  Only for single-threaded callers of the host's
 * own ABI, whose instructions host_stub_code writes: another thread could run the patched code
 * meanwhile.
 */

/*
 * Reads where the blocked task will resume (pc) and its stack pointer from /proc/TID/syscall,
 * and refuses (-EBUSY) when the process has more than one thread.
 */
int stub_probe(pid_t tid, uint64_t *ret_sp, uint64_t *ret_pc);

/*
 * Writes inj's scratch block below sp and the stub at pc, keeping the bytes it replaced; the
 * task is blocked in notification id of listener.  Every access is guarded (inject.h): one that
 * gets stuck leaves the task blocked until it ends, then the stub is undone and the exec fails
 * with ENOEXEC.  inj->notif_fd must be our own copy of the listener.
 */
int stub_install(struct injection *inj, uint64_t sp, uint64_t pc, int listener, uint64_t id);

/*
 * Puts the original instructions back; the task must be blocked in notification id, which,
 * should the write get stuck, is answered with answer_err (0: CONTINUE) once it ends.
 */
int stub_restore(struct injection *inj, uint64_t id, int answer_err);

#endif
