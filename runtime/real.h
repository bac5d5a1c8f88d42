/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_RT_REAL_H
#define UBINFMT_RT_REAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Finding the real runtime.  ubinfmt-runtime may be installed as "runc" first on an engine's
 * PATH (BuildKit inside dockerd looks "runc" up there), so a name is looked up on PATH
 * skipping every file that is ubinfmt-runtime: compared by device and inode after following
 * symlinks, which also catches hard links.  Copies (another inode) that exec'd each other are
 * caught by the identities each one passes on in UBINFMT_RUNTIME_VISITED.
 */

#define RT_VISITED_ENV "UBINFMT_RUNTIME_VISITED"
#define RT_VISITED_MAX 16
/* "dev:ino," per identity, in decimal. */
#define RT_VISITED_LEN (RT_VISITED_MAX * 42)

struct rt_identity {
	dev_t dev;
	ino_t ino;
};

/*
 * Parses RT_VISITED_ENV's value ("dev:ino,dev:ino…"; NULL is empty) into out (max entries),
 * ignoring what does not parse.  Returns the count.  Pure.
 */
size_t rt_identity_parse(const char *s, struct rt_identity *out, size_t max);

/*
 * Writes the list back, with self added (unless already in it); at most RT_VISITED_MAX
 * entries, the oldest dropped.  Pure.
 */
void rt_identity_format(char *buf, size_t size, const struct rt_identity *ids, size_t n, struct rt_identity self);

/*
 * runtime: a path (with '/': taken as it is) or a name looked up on path_env (the PATH
 * value; NULL or empty: the default PATH).  Skips anything in skip[] and every candidate that
 * is not an executable regular file.  On success *ret_path is a new string.  -ELOOP when the
 * path given, or every candidate of that name, is ubinfmt-runtime itself; -ENOENT when there is
 * none; -ENOMEM.
 */
int rt_real_find(const char *runtime, const char *path_env, const struct rt_identity *skip, size_t n_skip,
		 char **ret_path);

/* The identity of the running program (/proc/self/exe). */
int rt_self_identity(struct rt_identity *ret);

#endif
