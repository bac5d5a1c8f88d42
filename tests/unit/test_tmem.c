/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Target-memory reads, on this process's own memory (process_vm_readv of oneself needs no
 * privileges): strings at the kernel's PATH_MAX limit and strings that end right before an
 * unmapped page; the rewrite's single-call and /proc/PID/mem accesses.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "tmem.h"

/* Two pages, the second unmapped: a string of len bytes (and its NUL) ends at the first's end. */
static char *string_at_page_end(size_t len, char **ret_map)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t span = ((len + 1) / (size_t)page + 2) * (size_t)page;
	char *m = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(m != MAP_FAILED);
	assert_int_equal(munmap(m + span - (size_t)page, (size_t)page), 0);
	char *s = m + span - (size_t)page - (len + 1);
	memset(s, 'a', len);
	s[len] = '\0';
	*ret_map = m;
	return s;
}

/*
 * The kernel takes an exec path of PATH_MAX - 1 bytes; tmem_read_string used to read only
 * size - 1 bytes and never saw that path's NUL, so such an exec was left undecided and a
 * foreign program failed with ENOEXEC (found by t_hostile_args).
 */
static void test_path_max(void **state)
{
	static char buf[PATH_MAX];
	char *map;
	char *s;

	(void)state;
	s = string_at_page_end(PATH_MAX - 1, &map);
	assert_int_equal(tmem_read_string(getpid(), (uint64_t)(uintptr_t)s, buf, sizeof(buf)), PATH_MAX - 1);
	assert_int_equal(strlen(buf), PATH_MAX - 1);
	/* One more byte: no NUL among the first PATH_MAX, the kernel's ENAMETOOLONG. */
	s[-1] = 'a';
	assert_int_equal(tmem_read_string(getpid(), (uint64_t)(uintptr_t)(s - 1), buf, sizeof(buf)), -ENAMETOOLONG);
	/* Empty, and ending right before the unmapped page. */
	assert_int_equal(tmem_read_string(getpid(), (uint64_t)(uintptr_t)(s + PATH_MAX - 1), buf, sizeof(buf)), 0);
	assert_int_equal(tmem_read_string(getpid(), (uint64_t)(uintptr_t)(s + 100), buf, 8), -ENAMETOOLONG);
	assert_int_equal(tmem_read_string(getpid(), (uint64_t)(uintptr_t)(s + PATH_MAX - 8), buf, 8), 7);
	assert_string_equal(buf, "aaaaaaa");
	munmap(map, (size_t)((PATH_MAX / sysconf(_SC_PAGESIZE) + 1) * sysconf(_SC_PAGESIZE)));
}

static void test_unmapped(void **state)
{
	char buf[16];

	(void)state;
	assert_int_equal(tmem_read_string(getpid(), 16, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(tmem_read_string(getpid(), 16, buf, 0), -EINVAL);
}

/*
 * The exec rewrite's accesses: one system call each by pid, or through /proc/PID/mem.  A range
 * that runs into an unmapped page is -EFAULT whole either way; a read-only page refuses a write
 * by pid but takes one through the fd (FOLL_FORCE: how a code stub replaces instructions).
 */
static void test_once_and_fd(void **state)
{
	long page = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, (size_t)page * 3, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t end = (uint64_t)(uintptr_t)(m + page * 2);
	char buf[64], ro[8];
	int fd;

	(void)state;
	assert_true(m != MAP_FAILED);
	assert_int_equal(munmap(m + page * 2, (size_t)page), 0);
	fd = tmem_open(getpid());
	assert_true(fd >= 0);

	/* Across the boundary of two mapped pages, then into the unmapped one. */
	memset(buf, 'w', sizeof(buf));
	assert_int_equal(tmem_write_once(getpid(), end - (uint64_t)page - 32, buf, sizeof(buf)), 0);
	assert_int_equal(memcmp(m + page - 32, buf, sizeof(buf)), 0);
	assert_int_equal(tmem_read_once(getpid(), end - 32, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(tmem_fd_read(fd, end - 32, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(tmem_fd_write(fd, end - 32, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(tmem_fd_read(fd, UINT64_MAX - 8, buf, 8), -EFAULT);
	memset(buf, 'f', sizeof(buf));
	assert_int_equal(tmem_fd_write(fd, end - sizeof(buf), buf, sizeof(buf)), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(tmem_fd_read(fd, end - sizeof(buf), buf, sizeof(buf)), 0);
	assert_int_equal(buf[0], 'f');
	assert_int_equal(buf[sizeof(buf) - 1], 'f');

	/* Read-only: by pid no, through the fd yes. */
	assert_int_equal(mprotect(m, (size_t)page, PROT_READ), 0);
	assert_int_equal(tmem_write_once(getpid(), (uint64_t)(uintptr_t)m, "ro", 2), -EFAULT);
	assert_int_equal(tmem_fd_write(fd, (uint64_t)(uintptr_t)m, "ro", 2), 0);
	assert_int_equal(tmem_read_once(getpid(), (uint64_t)(uintptr_t)m, ro, 2), 0);
	assert_memory_equal(ro, "ro", 2);

	close(fd);
	munmap(m, (size_t)page * 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_max),
		cmocka_unit_test(test_unmapped),
		cmocka_unit_test(test_once_and_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
