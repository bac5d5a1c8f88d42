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

/* asm-generic's numbers, which arm64 uses (AUDIT_ARCH_AARCH64). */
#define NR_AARCH64_SETNS 268
#define NR_AARCH64_PIVOT_ROOT 41
#define NR_AARCH64_CHROOT 51
#define NR_AARCH64_EXECVE 221
#define NR_AARCH64_MMAP 222
#define NR_AARCH64_EXECVEAT 281

/* x32's mmap flag for an address below 2 GiB (x86's MAP_32BIT, which other hosts' headers lack). */
#define X86_MAP_32BIT 0x40

#define ERESTARTSYS 512
#define ERESTARTNOINTR 513 /* restart whatever the handler's flags */
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

/* The x86-64 ABI lets leaf code use 128 bytes below rsp: what we write goes below that. */
#define X86_64_RED_ZONE 128

#endif
