/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "macros.h"
#include "tmem.h"

#define TMEM_PAGE 4096u

static size_t bytes_to_page_end(uint64_t addr)
{
	return TMEM_PAGE - (size_t)(addr & (TMEM_PAGE - 1));
}

/* One process_vm_readv that stays inside one page; returns bytes read or -errno. */
static ssize_t read_in_page(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n;

	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return negative_errno();
	if (n == 0)
		return -EFAULT;
	return n;
}

int tmem_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len > 0) {
		size_t chunk = MIN(len, bytes_to_page_end(addr));
		ssize_t n = read_in_page(pid, addr, out, chunk);
		if (n < 0)
			return (int)n;
		addr += (size_t)n;
		out += n;
		len -= (size_t)n;
	}
	return 0;
}

int tmem_read_string(pid_t pid, uint64_t addr, char *buf, size_t size)
{
	size_t have = 0;

	/*
	 * A string of size - 1 bytes fits with its NUL, which must then be the size-th byte read:
	 * the kernel takes a path of PATH_MAX - 1 bytes (t_hostile_args), so read up to size.
	 */
	if (size == 0)
		return -EINVAL;
	while (have < size) {
		size_t chunk = MIN(size - have, bytes_to_page_end(addr + have));
		ssize_t n = read_in_page(pid, addr + have, buf + have, chunk);
		if (n < 0)
			return (int)n;
		char *nul = memchr(buf + have, '\0', (size_t)n);
		if (nul)
			return (int)(nul - buf);
		have += (size_t)n;
	}
	return -ENAMETOOLONG;
}

int tmem_read_ptr_array(pid_t pid, uint64_t addr, unsigned ptr_size, uint64_t *out, size_t max)
{
	uint8_t page[TMEM_PAGE];
	size_t count = 0;

	if (ptr_size != 4 && ptr_size != 8)
		return -EINVAL;
	if (addr % ptr_size != 0) {
		/* The kernel accepts unaligned arrays; read them one pointer at a time. */
		for (;; count++) {
			uint64_t v = 0;
			int r = tmem_read(pid, addr + count * ptr_size, &v, ptr_size);
			if (r < 0)
				return r;
			if (v == 0)
				return (int)count;
			if (count >= max)
				return -E2BIG;
			out[count] = v;
		}
	}
	for (;;) {
		uint64_t at = addr + count * ptr_size;
		size_t chunk = bytes_to_page_end(at);
		ssize_t n = read_in_page(pid, at, page, chunk);
		if (n < 0)
			return (int)n;
		for (size_t off = 0; off + ptr_size <= (size_t)n; off += ptr_size) {
			uint64_t v;
			if (ptr_size == 8) {
				memcpy(&v, page + off, 8);
			} else {
				uint32_t v32;
				memcpy(&v32, page + off, 4);
				v = v32;
			}
			if (v == 0)
				return (int)count;
			if (count >= max)
				return -E2BIG;
			out[count++] = v;
		}
	}
}

static int vm_once(pid_t pid, uint64_t addr, void *buf, size_t len, bool write)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n;

	n = write ? process_vm_writev(pid, &local, 1, &remote, 1, 0) : process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return errno == ESRCH ? -ESRCH : errno == EFAULT ? -EFAULT : negative_errno();
	return (size_t)n == len ? 0 : -EFAULT;
}

int tmem_read_once(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	return vm_once(pid, addr, buf, len, false);
}

int tmem_write_once(pid_t pid, uint64_t addr, const void *buf, size_t len)
{
	return vm_once(pid, addr, (void *)buf, len, true);
}

int tmem_open(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? negative_errno() : fd;
}

/*
 * One pread or pwrite loop over /proc/PID/mem.  The kernel stops at the first page it cannot
 * reach (a short count, then EIO); an address past INT64_MAX is no offset at all (EINVAL).
 * Both are the caller's EFAULT: the address is bad, whatever the reason.
 */
static int fd_rw(int fd, uint64_t addr, void *buf, size_t len, bool write)
{
	uint8_t *p = buf;

	while (len > 0) {
		if (addr > (uint64_t)INT64_MAX)
			return -EFAULT;
		ssize_t n = write ? pwrite(fd, p, len, (off_t)addr) : pread(fd, p, len, (off_t)addr);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EIO && errno != EINVAL)
			return negative_errno();
		if (n <= 0)
			return -EFAULT;
		addr += (size_t)n;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int tmem_fd_read(int fd, uint64_t addr, void *buf, size_t len)
{
	return fd_rw(fd, addr, buf, len, false);
}

int tmem_fd_write(int fd, uint64_t addr, const void *buf, size_t len)
{
	return fd_rw(fd, addr, (void *)buf, len, true);
}
