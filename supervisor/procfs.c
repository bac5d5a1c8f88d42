/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "macros.h"
#include "procfs.h"

static int open_task_file(pid_t tid, const char *name)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)tid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : negative_errno();
	return fd;
}

/* Reads fd to its end or until size - 1 bytes: the length read, or -errno. */
static ssize_t read_to_end(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len < size - 1) {
		ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n < 0)
			return negative_errno();
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

int procfs_read(pid_t tid, const char *name, char *buf, size_t size)
{
	_cleanup_close_ int fd = open_task_file(tid, name);

	if (fd < 0)
		return fd;
	return (int)read_to_end(fd, buf, size);
}

/* Reads fd whole, up to max bytes, into a NUL-terminated malloc'd text: its length, or -errno. */
static int read_all(int fd, size_t max, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t size = 8192, len = 0;

	for (;;) {
		char *grown = realloc(buf, size);
		if (!grown)
			return -ENOMEM;
		buf = grown;
		ssize_t n = read_to_end(fd, buf + len, size - len);
		if (n < 0)
			return (int)n;
		len += (size_t)n;
		if (len < size - 1)
			break; /* the end came first */
		if (size >= max)
			return -EFBIG;
		size = size * 4 > max ? max : size * 4;
	}
	*ret = TAKE_PTR(buf);
	return (int)len;
}

int procfs_read_all(pid_t tid, const char *name, size_t max, char **ret)
{
	_cleanup_close_ int fd = open_task_file(tid, name);

	if (fd < 0)
		return fd;
	return read_all(fd, max, ret);
}

int procfs_read_all_at(int dirfd, const char *name, size_t max, char **ret)
{
	/*
	 * A sandbox may mount over files of its own procfs: crossing no mount and following no
	 * link, what opens is the kernel's file under dirfd, or nothing.
	 */
	struct open_how how = {
		.flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS,
	};
	_cleanup_close_ int fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));

	if (fd < 0)
		return errno == ENOENT ? -ESRCH : negative_errno();
	return read_all(fd, max, ret);
}
