/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_IO_H
#define UBINFMT_IO_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Reads from fd until size bytes are in or the file ends, retrying EINTR: the byte count, or
 * -errno.  For small files read whole: read one byte more than the most expected and a full
 * buffer says the file is too long.
 */
ssize_t read_full(int fd, void *buf, size_t size);

/*
 * Reads the small file path (relative to dirfd) with one read, as /proc and /sys files want, into
 * buf as a NUL-terminated string (at most size - 1 bytes): the byte count, or -errno.  Opened
 * O_NONBLOCK, so a FIFO put where a file was expected does not hang the caller.
 */
ssize_t read_small_at(int dirfd, const char *path, char *buf, size_t size);

#endif
