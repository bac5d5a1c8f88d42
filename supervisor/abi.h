/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_ABI_H
#define UBINFMT_ABI_H

#include <stdbool.h>

/*
 * The kernel ABI facts the engine names, in one place.  Syscall numbers are facts of each ABI,
 * not the host headers' choice (a notification may come from any ABI the host runs): spelled
 * out for the ABIs we trap.  The restart errnos never reach user space, so no header exports
 * them (include/linux/errno.h).
 */

#define X32_SYSCALL_BIT 0x40000000u

#define NR_X86_64_MMAP 9
#define NR_X86_64_EXECVE 59
#define NR_X86_64_PIVOT_ROOT 155
#define NR_X86_64_CHROOT 161
#define NR_X86_64_SETNS 308
#define NR_X86_64_EXECVEAT 322
#define NR_X32_EXECVE 520 /* with X32_SYSCALL_BIT */
#define NR_X32_EXECVEAT 545

#define NR_I386_EXECVE 11
#define NR_I386_CHROOT 61
#define NR_I386_MMAP2 192
#define NR_I386_PIVOT_ROOT 217
#define NR_I386_SETNS 346
#define NR_I386_EXECVEAT 358

#define ERESTARTSYS 512
#define ERESTARTNOINTR 513 /* restart whatever the handler's flags */
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

/* The x86-64 ABI lets leaf code use 128 bytes below rsp: what we write goes below that. */
#define X86_64_RED_ZONE 128

/*
 * Whether nr, as /proc/TID/syscall shows it (x32 calls with their bit), is an exec of any ABI
 * we trap.  i386's execve number is x86-64's munmap: a caller that needs the ABI must have it.
 */
static inline bool abi_is_exec_nr(long nr)
{
	return nr == NR_X86_64_EXECVE || nr == NR_X86_64_EXECVEAT || nr == NR_I386_EXECVE ||
	       nr == NR_I386_EXECVEAT || nr == (long)(X32_SYSCALL_BIT | NR_X32_EXECVE) ||
	       nr == (long)(X32_SYSCALL_BIT | NR_X32_EXECVEAT);
}

#endif
