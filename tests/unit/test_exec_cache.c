/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "exec_cache.h"

#define NATIVE_MASK (UINT64_C(1) << ARCH_X86_64)

static const struct exec_cache_key base_key = {
	.dev = 0x801,
	.ino = 1234,
	.mnt_id = 27,
	.size = 125688,
	.mtime_sec = 1700000000,
	.mtime_nsec = 123456789,
	.ctime_sec = 1700000001,
	.ctime_nsec = 987654321,
};

static const struct exec_file_facts native_elf = {
	.kind = FILE_KIND_ELF,
	.arch = ARCH_X86_64,
	.elf_type = ET_DYN,
};

/* A change of any one field of the identity is another file: a miss. */
static void test_every_field_counts(void **state)
{
	struct exec_cache cache = { 0 };
	struct exec_cache_key k;

	(void)state;
	exec_cache_put(&cache, &base_key, &native_elf);
	assert_non_null(exec_cache_find(&cache, &base_key));
	assert_int_equal(exec_cache_find(&cache, &base_key)->arch, ARCH_X86_64);
#define MISS_WITH(field, value)                           \
	do {                                              \
		k = base_key;                             \
		k.field = (value);                        \
		assert_null(exec_cache_find(&cache, &k)); \
	} while (0)
	MISS_WITH(dev, 0x802);
	MISS_WITH(ino, 1235);
	MISS_WITH(mnt_id, 28);
	MISS_WITH(size, 125687);
	MISS_WITH(mtime_sec, 1700000002);
	MISS_WITH(mtime_nsec, 123456790);
	MISS_WITH(ctime_sec, 1700000002);
	MISS_WITH(ctime_nsec, 987654322); /* the same second: nanoseconds count */
#undef MISS_WITH
}

/* Only answers that leave the exec to the kernel are kept. */
static void test_keeps(void **state)
{
	struct exec_file_facts f;

	(void)state;
	assert_true(exec_cache_keeps(&native_elf, NATIVE_MASK));
	f = native_elf;
	f.arch = ARCH_AARCH64; /* foreign: emulated or refused, never from the cache */
	assert_false(exec_cache_keeps(&f, NATIVE_MASK));
	f.host_binfmt = true; /* the host's binfmt_misc takes it: the kernel's */
	assert_true(exec_cache_keeps(&f, NATIVE_MASK));
	f = native_elf;
	f.arch = ARCH_AARCH64;
	f.elf_type = ET_REL; /* the kernel refuses it whatever the machine */
	assert_true(exec_cache_keeps(&f, NATIVE_MASK));
	f = (struct exec_file_facts){ .kind = FILE_KIND_SCRIPT };
	assert_false(exec_cache_keeps(&f, NATIVE_MASK));
	f = (struct exec_file_facts){ .kind = FILE_KIND_OTHER };
	assert_true(exec_cache_keeps(&f, NATIVE_MASK));
	f = (struct exec_file_facts){ .kind = FILE_KIND_ELF, .classify_err = -ENOEXEC };
	assert_true(exec_cache_keeps(&f, NATIVE_MASK));
	f = native_elf;
	assert_false(exec_cache_keeps(&f, 0)); /* not native on this host */
}

/* Bounded: the oldest entry goes first; a put of a known key replaces it in place. */
static void test_bounded(void **state)
{
	struct exec_cache cache = { 0 };
	struct exec_cache_key k = base_key;
	struct exec_file_facts other = { .kind = FILE_KIND_OTHER };

	(void)state;
	for (uint64_t i = 0; i < EXEC_CACHE_SIZE; i++) {
		k.ino = 1000 + i;
		exec_cache_put(&cache, &k, &native_elf);
	}
	assert_int_equal(cache.n, EXEC_CACHE_SIZE);
	k.ino = 1000;
	exec_cache_put(&cache, &k, &other); /* known: replaced, nothing evicted */
	assert_int_equal(exec_cache_find(&cache, &k)->kind, FILE_KIND_OTHER);
	k.ino = 1000 + EXEC_CACHE_SIZE;
	exec_cache_put(&cache, &k, &native_elf);
	assert_int_equal(cache.n, EXEC_CACHE_SIZE);
	assert_non_null(exec_cache_find(&cache, &k));
	k.ino = 1000; /* the oldest */
	assert_null(exec_cache_find(&cache, &k));
	k.ino = 1001;
	assert_non_null(exec_cache_find(&cache, &k));
	for (uint64_t i = 0; i < 3 * EXEC_CACHE_SIZE; i++) {
		k.ino = 5000 + i;
		exec_cache_put(&cache, &k, &native_elf);
		assert_int_equal(cache.n, EXEC_CACHE_SIZE);
		assert_non_null(exec_cache_find(&cache, &k));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_field_counts),
		cmocka_unit_test(test_keeps),
		cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
