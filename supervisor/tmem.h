/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_TMEM_H
#define UBINFMT_TMEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Reads and writes of a target task's memory.  Every address comes from the sandbox: reads
 * never cross a page boundary in one call (a read past the end of a stack mapping fails whole),
 * lengths are bounded by the caller's buffer, and nothing here blocks on the target.
 */

/* Reads exactly len bytes at addr.  -EFAULT if any byte is unmapped, -ESRCH if the task is gone. */
int tmem_read(pid_t pid, uint64_t addr, void *buf, size_t len);

/*
 * Reads a NUL-terminated string at addr into buf (size bytes, always NUL-terminated on success).
 * Returns its length (at most size - 1); -ENAMETOOLONG if none of the first size bytes is a
 * NUL (with size PATH_MAX: the kernel's own limit); -EFAULT if unmapped.
 */
int tmem_read_string(pid_t pid, uint64_t addr, char *buf, size_t size);

/*
 * Reads a NULL-terminated array of pointers (ptr_size 4 or 8) at addr, at most max entries,
 * widening each to 64 bits in out.  Returns the count (without the NULL); -E2BIG past max.
 */
int tmem_read_ptr_array(pid_t pid, uint64_t addr, unsigned ptr_size, uint64_t *out, size_t max);

/*
 * Reads or writes len bytes at addr in one process_vm_readv/writev: a single system call, so a
 * caller knows that nothing starts after it returns.  -EFAULT unless every byte was reached (a
 * page unmapped, or read-only for a write), -ESRCH if the task is gone.
 */
int tmem_read_once(pid_t pid, uint64_t addr, void *buf, size_t len);
int tmem_write_once(pid_t pid, uint64_t addr, const void *buf, size_t len);

/*
 * The same through /proc/PID/mem, opened once: the fd is bound to the memory of the task that
 * pid named when it was opened, so an access that starts late (after a wait on the sandbox)
 * can never reach another process that reused the pid.  Writes go through read-only pages
 * (FOLL_FORCE): how a code stub replaces instructions.
 */
int tmem_open(pid_t pid);
/* Reads exactly len bytes at addr: -EFAULT if any byte is unmapped or cannot be read in. */
int tmem_fd_read(int fd, uint64_t addr, void *buf, size_t len);
/* Writes exactly len bytes at addr: -EFAULT if any byte is unmapped or cannot be written. */
int tmem_fd_write(int fd, uint64_t addr, const void *buf, size_t len);

#endif
