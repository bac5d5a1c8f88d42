/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Target-memory reads, on this process's own memory (process_vm_readv of oneself needs no
 * privileges): strings at the kernel's PATH_MAX limit and strings that end right before an
 * unmapped page.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_max),
		cmocka_unit_test(test_unmapped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
