/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "rewrite.h"

/* Caller strings live at made-up target addresses; an entry is either one of them or ours. */
#define A(n) ((struct rw_arg){ .addr = 0x7000 + (n) })
#define S(s) ((struct rw_arg){ .str = (s) })

static void assert_arg(struct rw_arg got, struct rw_arg want)
{
	if (want.addr) {
		assert_int_equal(got.addr, want.addr);
	} else {
		assert_int_equal(got.addr, 0);
		assert_string_equal(got.str, want.str);
	}
}

static void assert_args(const struct rw_arg *got, int n, const struct rw_arg *want, int n_want)
{
	assert_int_equal(n, n_want);
	for (int i = 0; i < n; i++)
		assert_arg(got[i], want[i]);
}

/* A foreign ELF: [emu, -0, argv0, path, argv1…], reusing the caller's strings. */
static void test_direct_elf(void **state)
{
	uint64_t argv[] = { 0x7001, 0x7002, 0x7003 };
	struct rw_arg out[16];
	int n;

	(void)state;
	n = rewrite_build_argv("qemu-aarch64-static", A(0), argv, 3, NULL, out, 16);
	struct rw_arg want[] = { S("qemu-aarch64-static"), S("-0"), A(1), A(0), A(2), A(3) };
	assert_args(out, n, want, 6);
}

/* An empty argv counts as [""], like the kernel since 5.18. */
static void test_empty_argv(void **state)
{
	struct rw_arg out[8];
	int n;

	(void)state;
	n = rewrite_build_argv("qemu", A(0), NULL, 0, NULL, out, 8);
	struct rw_arg want[] = { S("qemu"), S("-0"), S(""), A(0) };
	assert_args(out, n, want, 4);
}

/* One #! level with an argument: binfmt_script's [interp, arg, path, argv1…]. */
static void test_script(void **state)
{
	uint64_t argv[] = { 0x7001, 0x7002 };
	struct rw_chain chain = { .interp = { "/bin/sh" }, .arg = { "-e" }, .depth = 1 };
	struct rw_arg out[16];
	int n;

	(void)state;
	n = rewrite_build_argv("qemu", A(0), argv, 2, &chain, out, 16);
	struct rw_arg want[] = { S("qemu"), S("-0"), S("/bin/sh"), S("/bin/sh"), S("-e"), A(0), A(2) };
	assert_args(out, n, want, 7);
}

/*
 * Script -> script -> ELF: ./s1 ("#!/usr/bin/s2 a1") whose interpreter s2 is "#!/bin/bb sh".
 * The kernel builds [/bin/bb, sh, /usr/bin/s2, a1, ./s1, x, y] and loads /bin/bb.
 */
static void test_script_chain(void **state)
{
	uint64_t argv[] = { 0x7001, 0x7002, 0x7003 };
	struct rw_chain chain = { .interp = { "/usr/bin/s2", "/bin/bb" }, .arg = { "a1", "sh" }, .depth = 2 };
	struct rw_arg out[16];
	int n;

	(void)state;
	n = rewrite_build_argv("qemu", A(0), argv, 3, &chain, out, 16);
	struct rw_arg want[] = { S("qemu"),	   S("-0"), S("/bin/bb"), S("/bin/bb"), S("sh"),
				 S("/usr/bin/s2"), S("a1"), A(0),	  A(2),		A(3) };
	assert_args(out, n, want, 10);
}

/* Levels without an argument add only the filename. */
static void test_script_chain_no_args(void **state)
{
	uint64_t argv[] = { 0x7001 };
	struct rw_chain chain = { .interp = { "/s2", "/s3", "/elf" }, .arg = { NULL, NULL, NULL }, .depth = 3 };
	struct rw_arg out[16];
	int n;

	(void)state;
	n = rewrite_build_argv("qemu", S("/dev/fd/3"), argv, 1, &chain, out, 16);
	struct rw_arg want[] = { S("qemu"), S("-0"), S("/elf"), S("/elf"), S("/s3"), S("/s2"), S("/dev/fd/3") };
	assert_args(out, n, want, 7);
}

static void test_capacity(void **state)
{
	uint64_t argv[] = { 0x7001, 0x7002, 0x7003 };
	struct rw_arg out[5];

	(void)state;
	assert_int_equal(rewrite_build_argv("qemu", A(0), argv, 3, NULL, out, 5), -E2BIG);
	assert_int_equal(rewrite_build_argv("qemu", A(0), argv, 3, NULL, out, 0), -E2BIG);
}

static uint64_t get_ptr(const uint8_t *p, unsigned size)
{
	if (size == 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		return v;
	}
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* The block: pointer array at base, added strings after it, "", all below top. */
static void check_layout(unsigned ptr_size, uint64_t top)
{
	struct rw_arg args[] = { S("qemu-arm"), S("-0"), A(1), A(0), S("added") };
	uint8_t buf[256];
	struct rw_block blk;

	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(rewrite_layout(args, 5, ptr_size, top, buf, sizeof(buf), &blk), 0);
	assert_int_equal(blk.base % 16, 0);
	assert_true(blk.base + blk.len == top);
	assert_true(blk.len >= rewrite_block_size(args, 5, ptr_size));
	assert_int_equal(blk.argv_addr, blk.base);
	assert_true(blk.empty_addr >= blk.base && blk.empty_addr < top);
	assert_int_equal(buf[blk.empty_addr - blk.base], 0);

	for (size_t i = 0; i < 5; i++) {
		uint64_t p = get_ptr(buf + i * ptr_size, ptr_size);
		if (args[i].addr) {
			assert_int_equal(p, args[i].addr);
			continue;
		}
		assert_true(p >= blk.base && p < top);
		assert_string_equal((const char *)buf + (p - blk.base), args[i].str);
	}
	assert_int_equal(get_ptr(buf + 5 * ptr_size, ptr_size), 0);
}

static void test_layout(void **state)
{
	(void)state;
	check_layout(8, 0x7ffffffde000);
	check_layout(8, 0x7ffffffde008);
	check_layout(4, 0xffffd000);
	check_layout(4, 0x0804a123);
}

static void test_layout_limits(void **state)
{
	struct rw_arg args[] = { S("qemu"), A(1) };
	uint8_t buf[64];
	struct rw_block blk;

	(void)state;
	/* 32-bit tasks need every address below 4 GiB. */
	assert_int_equal(rewrite_layout(args, 2, 4, 0x7ffffffde000, buf, sizeof(buf), &blk), -EOVERFLOW);
	struct rw_arg high[] = { (struct rw_arg){ .addr = 0x100000000ull } };
	assert_int_equal(rewrite_layout(high, 1, 4, 0xffff0000, buf, sizeof(buf), &blk), -EOVERFLOW);
	/* No room below a tiny top. */
	assert_int_equal(rewrite_layout(args, 2, 8, 8, buf, sizeof(buf), &blk), -EOVERFLOW);
	/* The caller's buffer is too small. */
	assert_int_equal(rewrite_layout(args, 2, 8, 0x7ffffffde000, buf, 8, &blk), -E2BIG);
	assert_int_equal(rewrite_layout(args, 2, 3, 0x7ffffffde000, buf, sizeof(buf), &blk), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_direct_elf),
		cmocka_unit_test(test_empty_argv),
		cmocka_unit_test(test_script),
		cmocka_unit_test(test_script_chain),
		cmocka_unit_test(test_script_chain_no_args),
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_layout_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
