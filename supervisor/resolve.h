/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_RESOLVE_H
#define UBINFMT_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * Path resolution in a target task's view of the filesystem: its root, its cwd, its procfs
 * magic links.  The supervisor's own root, cwd and /proc/self never leak into a decision.
 */

struct target_view {
	pid_t tid;
	int root_fd;	    /* O_PATH, the target's root directory */
	bool root_borrowed; /* root_fd belongs to a cache, not to the view */
	int cwd_fd;	    /* O_PATH, the target's cwd; -1 until needed */
	dev_t root_dev;
	ino_t root_ino;
	/*
	 * Set by each resolve_path and resolve_check_search: whether the path went through a magic
	 * link of the task's own process that its exec takes away (fd/N of a close-on-exec fd),
	 * so that the name no longer leads to the file once the exec is done.
	 */
	bool exec_closes_name;
};

/* Opens /proc/TID/root (and remembers it for ".." clamping).  -ESRCH if the task is gone. */
int resolve_view_open(pid_t tid, struct target_view *ret);
/* A view on a root already open (root_fd stays the caller's, with its dev and ino). */
void resolve_view_borrow(pid_t tid, int root_fd, dev_t root_dev, ino_t root_ino, struct target_view *ret);
void resolve_view_close(struct target_view *v);

/*
 * Resolves path like the kernel's exec does for the target: absolute paths from the target's
 * root, relative ones from start_fd (the target's cwd when start_fd is -1), ".." clamped at
 * the root, symlinks followed inside the root (at most 40), procfs's self and thread-self
 * naming the target as that procfs numbers it, and procfs magic links (/proc/PID/fd/N, exe,
 * cwd, root) jumping to their objects only where the target may ptrace-read their owner.
 * follow_last is false for AT_SYMLINK_NOFOLLOW.
 * Returns an O_PATH fd of the result or the errno the kernel would give (-ENOENT, -ENOTDIR,
 * -ELOOP, -ENAMETOOLONG, -EACCES for a magic link the target may not follow…), or -EPERM where
 * /proc does not tell what the kernel would do (the kernel's to decide).  Trusts nothing in
 * path nor in the sandbox's procfs beyond what the kernel writes there; never blocks on a FIFO
 * or device because it opens nothing but O_PATH, and the target's procfs files it reads
 * (status) only without crossing a mount.
 */
int resolve_path(struct target_view *v, int start_fd, const char *path, bool follow_last);

struct resolve_search_check {
	/* 1: the task may search (look names up in) a directory with st; 0: it may not; < 0: -errno. */
	int (*may_search)(void *ctx, const struct stat *st);
	void *ctx;
};

/*
 * Walks path in the task's view the way the kernel's exec would (following the final
 * symlink), asking check about every directory it looks a name up in, including those inside
 * symlink targets.  0: every one passed, or the path fails in some other way (the kernel's to
 * report); -EACCES: one did not; -ESRCH: the task is gone.
 */
int resolve_check_search(struct target_view *v, int start_fd, const char *path,
			 const struct resolve_search_check *check);

/*
 * Pure: what the walk does with a symlink's text.  buf holds the path being walked, of which
 * the first next bytes are walked (up to and including the symlink's own name); they are
 * replaced by target's n bytes and a '/', in front of the rest: the new unresolved path.
 * -ENAMETOOLONG, buf unchanged, when that would not fit in size bytes with its NUL.
 */
int resolve_splice(char *buf, size_t size, size_t next, const char *target, size_t n);

/* Opens what resolve_reopen keeps open; called once before the loop starts. */
void resolve_init(void);

/* From <sys/stat.h> with _GNU_SOURCE. */
struct statx;

/*
 * Stats an O_PATH fd (statx: the mount id too) for an exec: 0 if it is a regular file with an
 * x bit, -EACCES for anything else (the kernel's answer for exec of a non-regular file, or of
 * one no one may execute: such a file is never read).
 */
int resolve_stat_regular(int path_fd, struct statx *ret_sx);

/* Opens an O_PATH fd that resolve_stat_regular accepted for reading, non-blocking. */
int resolve_reopen(int path_fd);

#endif
