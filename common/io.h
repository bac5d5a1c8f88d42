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

#endif
