/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_COMM_H
#define UBINFMT_COMM_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The name an exec gives its process (/proc/PID/comm, what ps, top, pidof and pkill show).
 *
 * The kernel takes it from the exec's own path, not from the file it runs: the last component
 * of the path as the caller passed it (execveat's dirfd does not count: "/dev/fd/N/a/b" ends in
 * "b"), or, for an fd's own file (execveat(fd, "", AT_EMPTY_PATH), fexecve), the name of the
 * file's directory entry; cut to TASK_COMM_LEN - 1 bytes.  Under binfmt_misc the interpreter
 * keeps the program's name.  We exec the emulator from an fd, so the kernel names the process
 * after the emulator's directory entry: emu_names.c gives it an entry named as computed here.
 */

/* TASK_COMM_LEN - 1: the kernel's limit, bytes (a name is cut, even inside a UTF-8 character). */
#define COMM_NAME_MAX 15

/*
 * The name an exec of path gives its process, into ret (NUL-terminated).  -EINVAL for a path
 * whose last component is empty, "." or "..": the kernel's exec of it fails anyway, and no
 * directory entry can be named so.
 */
int comm_from_path(const char *path, char ret[COMM_NAME_MAX + 1]);

/*
 * The same for an fd's own file, from what /proc/self/fd/N reads as (link): its last component,
 * less the " (deleted)" the kernel appends to a file with no name left (unlinked: its link
 * count is 0; a memfd's entry is "memfd:NAME").
 */
int comm_from_fd_link(const char *link, bool unlinked, char ret[COMM_NAME_MAX + 1]);

#endif
