/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_EXEC_CACHE_H
#define UBINFMT_EXEC_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decide.h"

/*
 * What a file's head said (struct exec_file_facts), remembered by the file's identity, so that
 * a repeat exec of the same file (a shell, a compiler driver: thousands of times) skips the
 * reopen and the read of its head.  Pure: the caller stats the file and hands the result in.
 *
 * Why the key is enough.  An entry is found only by a key taken from a fresh statx of the file
 * the exec resolved to, made on every exec before the lookup; nothing is ever looked up by
 * name, and there is no invalidation to forget: what could change the answer changes the key.
 *  - Another file at the name (replaced, renamed over, a mount on top): other dev, ino or
 *    mount id.
 *  - The same inode rewritten (write, truncate, mmap): the kernel sets mtime and ctime.  A
 *    writer can set mtime back (utimensat), not ctime: every write, truncate, chmod, chown,
 *    utimensat, link or rename sets ctime to the current time, which no system call can set
 *    back.  Times are compared to the nanosecond.  On file systems with multigrain timestamps
 *    (Linux >= 6.13: tmpfs, ext4, xfs, btrfs) a change after a statx gets a ctime the statx
 *    could not have seen; elsewhere ctime has the kernel's coarse clock (a jiffy), and a
 *    rewrite to the same size within the jiffy of the cached statx, with mtime set back, would
 *    keep the key.  That is why only answers that leave the exec to the kernel are kept
 *    (exec_cache_keeps): the worst a stale entry can do is let the kernel run the file as it
 *    is, the answer every exec would get with no supervisor at all.  No foreign program, no
 *    #! line (whose interpreter the exec follows) is ever answered from the cache.
 *  - Exec permission (chmod, a noexec remount, the caller's credentials) is not in an entry at
 *    all: the x bits are checked from the fresh statx, and the checks the kernel makes with the
 *    caller's credentials are made on every exec that needs them (decide.c), on the file
 *    opened for it.  The mount id is in the key so that one inode seen through two mounts (a
 *    bind mount, noexec or not) has an entry for each.
 *
 * Bounded (EXEC_CACHE_SIZE entries, first in first out), and one cache per sandbox, never
 * shared: a hit tells a sandbox only that it exec'd the same file before, and its entries are
 * evicted by its own execs only.
 */

#define EXEC_CACHE_SIZE 32

/* A file's identity: everything whose change could change its head or which file it is. */
struct exec_cache_key {
	uint64_t dev; /* makedev(major, minor) */
	uint64_t ino;
	uint64_t mnt_id; /* the unique one from Linux 6.8; 0 where the kernel has none (before 5.8) */
	int64_t size;
	int64_t mtime_sec;
	int64_t ctime_sec;
	uint32_t mtime_nsec;
	uint32_t ctime_nsec;
};

struct exec_cache_entry {
	struct exec_cache_key key;
	struct exec_file_facts facts;
};

struct exec_cache {
	struct exec_cache_entry e[EXEC_CACHE_SIZE];
	uint32_t n;    /* entries in use */
	uint32_t next; /* the one replaced next once full */
};

/*
 * Pure: whether facts may be kept: an answer that leaves the exec to the kernel whatever else
 * is learned (a native ELF, one a host binfmt_misc entry claims, a head the kernel refuses),
 * never a foreign ELF or a #! line.
 */
bool exec_cache_keeps(const struct exec_file_facts *facts, uint64_t native_mask);

/* Pure: the facts kept for key, or NULL. */
const struct exec_file_facts *exec_cache_find(const struct exec_cache *cache, const struct exec_cache_key *key);

/* Pure: keeps facts for key, in place of the entry of the same key or the oldest one. */
void exec_cache_put(struct exec_cache *cache, const struct exec_cache_key *key, const struct exec_file_facts *facts);

#endif
