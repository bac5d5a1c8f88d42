/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "abi.h"
#include "notif.h"

/* What the filter hands over: the arch, the number and six raw 64-bit arguments. */
static struct seccomp_data data(uint32_t arch, uint32_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
				uint64_t a4)
{
	return (struct seccomp_data){
		.nr = (int)nr,
		.arch = arch,
		.args = { a0, a1, a2, a3, a4, 0 },
	};
}

static const struct exec_call poison = { .abi = EXEC_ABI_MAX, .dirfd = 12345, .path = 1, .ptr_size = 99 };

static void test_execve_x86_64(void **state)
{
	struct seccomp_data d = data(AUDIT_ARCH_X86_64, NR_X86_64_EXECVE, 0x7fff00001000, 0x7fff00002000,
				     0x7fff00003000, 0xdead, 0xbeef);
	struct exec_call c = poison;

	(void)state;
	assert_int_equal(notif_decode_exec(&d, &c), 0);
	assert_int_equal(c.abi, EXEC_ABI_X86_64);
	assert_false(c.is_execveat);
	assert_int_equal(c.dirfd, AT_FDCWD);
	assert_int_equal(c.flags, 0); /* execve has no flags, whatever args[4] holds */
	assert_int_equal(c.ptr_size, 8);
	assert_int_equal(c.path, 0x7fff00001000);
	assert_int_equal(c.argv, 0x7fff00002000);
	assert_int_equal(c.envp, 0x7fff00003000);
}

/* execveat: dirfd and flags are ints (sign-extended from the low 32 bits); pointers shift by one. */
static void test_execveat_x86_64(void **state)
{
	struct seccomp_data d = data(AUDIT_ARCH_X86_64, NR_X86_64_EXECVEAT, 0xffffffff00000000u | (uint32_t)AT_FDCWD,
				     0x1000, 0x2000, 0x3000, 0xffffffff00000000u | AT_EMPTY_PATH);
	struct exec_call c = poison;

	(void)state;
	assert_int_equal(notif_decode_exec(&d, &c), 0);
	assert_true(c.is_execveat);
	assert_int_equal(c.dirfd, AT_FDCWD);
	assert_int_equal(c.flags, AT_EMPTY_PATH);
	assert_int_equal(c.path, 0x1000);
	assert_int_equal(c.argv, 0x2000);
	assert_int_equal(c.envp, 0x3000);

	d = data(AUDIT_ARCH_X86_64, NR_X86_64_EXECVEAT, 7, 0x1000, 0x2000, 0x3000, AT_SYMLINK_NOFOLLOW);
	assert_int_equal(notif_decode_exec(&d, &c), 0);
	assert_int_equal(c.dirfd, 7);
	assert_int_equal(c.flags, AT_SYMLINK_NOFOLLOW);
}

/* The 32-bit ABIs: 4-byte pointers, their upper halves (whatever a task put there) dropped. */
static void test_i386_and_x32(void **state)
{
	struct exec_call c = poison;
	struct seccomp_data d = data(AUDIT_ARCH_I386, NR_I386_EXECVE, 0xffffffff08049000u, 0x5555ffff0000aaaau,
				     0xbfff0000u, 0, 0);

	(void)state;
	assert_int_equal(notif_decode_exec(&d, &c), 0);
	assert_int_equal(c.abi, EXEC_ABI_I386);
	assert_int_equal(c.ptr_size, 4);
	assert_false(c.is_execveat);
	assert_int_equal(c.path, 0x08049000u);
	assert_int_equal(c.argv, 0x0000aaaau);
	assert_int_equal(c.envp, 0xbfff0000u);

	d = data(AUDIT_ARCH_I386, NR_I386_EXECVEAT, 3, 0x100000001000u, 0x2000, 0x3000, AT_EMPTY_PATH);
	assert_int_equal(notif_decode_exec(&d, &c), 0);
	assert_true(c.is_execveat);
	assert_int_equal(c.dirfd, 3);
	assert_int_equal(c.path, 0x1000);
	assert_int_equal(c.flags, AT_EMPTY_PATH);

	/* x32: its own numbers, and the x86-64 ones with the x32 bit, both reach the same calls. */
	static const struct {
		uint32_t nr;
		bool at;
		/* clang-format off */
	} x32[] = {
		{ X32_SYSCALL_BIT | NR_X32_EXECVE, false },
		{ X32_SYSCALL_BIT | NR_X86_64_EXECVE, false },
		{ X32_SYSCALL_BIT | NR_X32_EXECVEAT, true },
		{ X32_SYSCALL_BIT | NR_X86_64_EXECVEAT, true },
	};
	/* clang-format on */
	for (size_t i = 0; i < sizeof(x32) / sizeof(x32[0]); i++) {
		d = data(AUDIT_ARCH_X86_64, x32[i].nr, 0xaaaa00000010u, 0xaaaa00000020u, 0xaaaa00000030u,
			 0xaaaa00000040u, 0);
		assert_int_equal(notif_decode_exec(&d, &c), 0);
		assert_int_equal(c.abi, EXEC_ABI_X32);
		assert_int_equal(c.ptr_size, 4);
		assert_int_equal(c.is_execveat, x32[i].at);
		assert_int_equal(c.path, x32[i].at ? 0x20 : 0x10);
		assert_int_equal(c.envp, x32[i].at ? 0x40 : 0x30);
	}
}

/*
 * arm64 (asm-generic numbers): decoding is the same on every host, whatever ABIs its filter
 * covers.
 */
static void test_aarch64(void **state)
{
	struct seccomp_data d = data(AUDIT_ARCH_AARCH64, NR_AARCH64_EXECVE, 0xffff00001000, 0xffff00002000,
				     0xffff00003000, 0xdead, 0xbeef);
	struct exec_call c = poison;

	(void)state;
	assert_int_equal(notif_decode_exec(&d, &c), 0);
	assert_int_equal(c.abi, EXEC_ABI_AARCH64);
	assert_false(c.is_execveat);
	assert_int_equal(c.dirfd, AT_FDCWD);
	assert_int_equal(c.ptr_size, 8);
	assert_int_equal(c.path, 0xffff00001000);
	assert_int_equal(c.argv, 0xffff00002000);
	assert_int_equal(c.envp, 0xffff00003000);

	d = data(AUDIT_ARCH_AARCH64, NR_AARCH64_EXECVEAT, (uint32_t)-100, 0x1000, 0x2000, 0x3000, AT_EMPTY_PATH);
	c = poison;
	assert_int_equal(notif_decode_exec(&d, &c), 0);
	assert_true(c.is_execveat);
	assert_int_equal(c.dirfd, AT_FDCWD);
	assert_int_equal(c.flags, AT_EMPTY_PATH);
	assert_int_equal(c.path, 0x1000);
	assert_int_equal(exec_abi_execveat_nr(EXEC_ABI_AARCH64), NR_AARCH64_EXECVEAT);
	assert_int_equal(exec_abi_mmap_nr(EXEC_ABI_AARCH64), NR_AARCH64_MMAP);
	d = data(AUDIT_ARCH_AARCH64, NR_AARCH64_CHROOT, 0, 0, 0, 0, 0);
	assert_true(notif_changes_root(&d));
	d = data(AUDIT_ARCH_AARCH64, NR_X86_64_CHROOT, 0, 0, 0, 0, 0);
	assert_false(notif_changes_root(&d));
}

/* Anything else is no exec: -EINVAL, the call left as it was. */
static void test_not_exec(void **state)
{
	static const struct {
		uint32_t arch, nr;
		/* clang-format off */
	} rows[] = {
		{ AUDIT_ARCH_X86_64, 0 },
		{ AUDIT_ARCH_X86_64, NR_X86_64_CHROOT },
		{ AUDIT_ARCH_X86_64, NR_I386_EXECVE },
		{ AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | NR_I386_EXECVE },
		{ AUDIT_ARCH_I386, NR_X86_64_EXECVE },
		{ AUDIT_ARCH_I386, NR_X86_64_EXECVEAT },
		{ AUDIT_ARCH_I386, X32_SYSCALL_BIT | NR_I386_EXECVE },
		{ AUDIT_ARCH_AARCH64, NR_X86_64_EXECVE }, /* pipe2 there */
		{ AUDIT_ARCH_AARCH64, NR_I386_EXECVE },   /* io_cancel */
		{ AUDIT_ARCH_ARM, NR_I386_EXECVE },       /* AArch32 tasks are never trapped */
		{ AUDIT_ARCH_X86_64 & ~__AUDIT_ARCH_64BIT, NR_X86_64_EXECVE },
	};
	/* clang-format on */

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct seccomp_data d = data(rows[i].arch, rows[i].nr, 1, 2, 3, 4, 5);
		struct exec_call c = poison;
		assert_int_equal(notif_decode_exec(&d, &c), -EINVAL);
		assert_memory_equal(&c, &poison, sizeof(c));
	}
}

static void test_changes_root(void **state)
{
	static const struct {
		uint32_t arch, nr;
		bool root;
		/* clang-format off */
	} rows[] = {
		{ AUDIT_ARCH_X86_64, NR_X86_64_CHROOT, true },
		{ AUDIT_ARCH_X86_64, NR_X86_64_PIVOT_ROOT, true },
		{ AUDIT_ARCH_X86_64, NR_X86_64_SETNS, true },
		{ AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | NR_X86_64_CHROOT, true },
		{ AUDIT_ARCH_I386, NR_I386_CHROOT, true },
		{ AUDIT_ARCH_I386, NR_I386_PIVOT_ROOT, true },
		{ AUDIT_ARCH_I386, NR_I386_SETNS, true },
		{ AUDIT_ARCH_X86_64, NR_X86_64_EXECVE, false },
		{ AUDIT_ARCH_X86_64, NR_I386_CHROOT, false },
		{ AUDIT_ARCH_I386, NR_X86_64_CHROOT, false },
		{ AUDIT_ARCH_AARCH64, NR_X86_64_CHROOT, false },
	};
	/* clang-format on */

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct seccomp_data d = data(rows[i].arch, rows[i].nr, 0, 0, 0, 0, 0);
		assert_int_equal(notif_changes_root(&d), rows[i].root);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_execve_x86_64), cmocka_unit_test(test_execveat_x86_64),
		cmocka_unit_test(test_i386_and_x32),  cmocka_unit_test(test_aarch64),
		cmocka_unit_test(test_not_exec),      cmocka_unit_test(test_changes_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
