/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macros.h"
#include "perm.h"

/*
 * /proc/TID/status is about 1.5 KiB, but its Groups: line, which comes before CapEff:, holds
 * up to NGROUPS_MAX (65536) numbers of up to 10 digits: read the whole file, within a bound.
 */
#define STATUS_MAX (1u << 20)

int perm_read_creds(pid_t tid, struct creds *ret)
{
	char path[64], small[8192];
	_cleanup_free_ char *big = NULL;
	_cleanup_close_ int fd = -1;
	char *buf = small;
	size_t size = sizeof(small), len = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : negative_errno();
	for (;;) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0)
			return negative_errno();
		if (n == 0)
			break;
		len += (size_t)n;
		if (len < size - 1)
			continue;
		if (size >= STATUS_MAX)
			return -EFBIG;
		char *grown = realloc(big, size * 4);
		if (!grown)
			return -ENOMEM;
		if (!big)
			memcpy(grown, small, len);
		big = buf = grown;
		size *= 4;
	}
	buf[len] = '\0';
	return perm_parse_status(buf, len, ret);
}
