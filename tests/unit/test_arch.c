/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "arch.h"

/* Debian 12's qemu-user-static: ls /usr/bin/qemu-*-static, minus the prefix and suffix. */
static const char *const qemu_targets[] = {
	"aarch64", "aarch64_be", "alpha",	"arm",	   "armeb",	 "cris",	 "hexagon",
	"hppa",	   "i386",	 "loongarch64", "m68k",	   "microblaze", "microblazeel", "mips",
	"mips64",  "mips64el",	 "mipsel",	"mipsn32", "mipsn32el",	 "nios2",	 "or1k",
	"ppc",	   "ppc64",	 "ppc64le",	"riscv32", "riscv64",	 "s390x",	 "sh4",
	"sh4eb",   "sparc",	 "sparc32plus", "sparc64", "x86_64",	 "xtensa",	 "xtensaeb",
};

static void test_name_round_trip(void **state)
{
	(void)state;
	for (int a = ARCH_UNKNOWN + 1; a < ARCH_MAX; a++) {
		const char *name = arch_name((enum arch)a);
		enum arch back = ARCH_UNKNOWN;

		assert_non_null(name);
		assert_string_not_equal(name, "unknown");
		if (arch_from_name(name, &back) != 0 || back != (enum arch)a)
			fail_msg("'%s' does not map back to %d", name, a);
		for (int b = a + 1; b < ARCH_MAX; b++)
			assert_string_not_equal(name, arch_name((enum arch)b));
	}
}

/* The enum is exactly the 35 qemu-user targets plus x32. */
static void test_qemu_targets(void **state)
{
	bool seen[ARCH_MAX] = { false };
	enum arch a;

	(void)state;
	assert_int_equal(sizeof(qemu_targets) / sizeof(qemu_targets[0]), 35);
	for (size_t i = 0; i < sizeof(qemu_targets) / sizeof(qemu_targets[0]); i++) {
		if (arch_from_name(qemu_targets[i], &a) != 0)
			fail_msg("qemu target '%s' unknown", qemu_targets[i]);
		assert_string_equal(arch_name(a), qemu_targets[i]);
		assert_false(seen[a]);
		seen[a] = true;
	}
	for (int b = ARCH_UNKNOWN + 1; b < ARCH_MAX; b++)
		if (!seen[b] && b != ARCH_X32)
			fail_msg("%s is no qemu target", arch_name((enum arch)b));
}

static void test_aliases(void **state)
{
	static const struct {
		const char *name;
		enum arch arch;
		/* clang-format off */
	} cases[] = {
		{ "amd64", ARCH_X86_64 },     { "x86-64", ARCH_X86_64 },   { "x86_64", ARCH_X86_64 },
		{ "i386", ARCH_I386 },        { "i486", ARCH_I386 },       { "i586", ARCH_I386 },
		{ "i686", ARCH_I386 },        { "x86", ARCH_I386 },        { "x32", ARCH_X32 },
		{ "arm64", ARCH_AARCH64 },    { "aarch64", ARCH_AARCH64 }, { "armhf", ARCH_ARM },
		{ "armel", ARCH_ARM },        { "armv7l", ARCH_ARM },      { "armv7", ARCH_ARM },
		{ "armv6l", ARCH_ARM },       { "armv5tel", ARCH_ARM },    { "armv8l", ARCH_ARM },
		{ "armv7b", ARCH_ARMEB },     { "ppc64el", ARCH_PPC64LE }, { "powerpc", ARCH_PPC },
		{ "powerpc64", ARCH_PPC64 },  { "mips64el", ARCH_MIPS64EL }, { "mipsel", ARCH_MIPSEL },
		{ "loong64", ARCH_LOONGARCH64 }, { "parisc", ARCH_HPPA },  { "openrisc", ARCH_OR1K },
	};
	/* clang-format on */

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum arch a = ARCH_UNKNOWN;

		if (arch_from_name(cases[i].name, &a) != 0 || a != cases[i].arch)
			fail_msg("'%s' gave %s, want %s", cases[i].name, arch_name(a), arch_name(cases[i].arch));
	}
}

static void test_unknown_names(void **state)
{
	static const char *const bad[] = {
		"",	    "unknown",	  "X86_64", "AMD64",	"x86_64 ",    " x86_64", "x86_64\n", "arm64el",
		"mips64le", "aarch64-be", "riscv",  "qemu-arm", "arm-static", "armv9",	 "i786",     "s390",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum arch a = ARCH_SH4EB;

		if (arch_from_name(bad[i], &a) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		assert_int_equal(a, ARCH_SH4EB); /* ret_arch untouched */
	}
	assert_int_equal(arch_from_name(NULL, &(enum arch){ ARCH_UNKNOWN }), -EINVAL);
}

static void test_name_out_of_range(void **state)
{
	(void)state;
	assert_string_equal(arch_name(ARCH_UNKNOWN), "unknown");
	assert_string_equal(arch_name(ARCH_MAX), "unknown");
	assert_string_equal(arch_name((enum arch)1000), "unknown");
}

static void test_from_elf(void **state)
{
	static const struct {
		uint8_t elf_class;
		bool big_endian;
		uint16_t machine;
		uint32_t flags;
		enum arch arch;
		/* clang-format off */
	} cases[] = {
		{ ELFCLASS64, false, EM_X86_64, 0, ARCH_X86_64 },
		{ ELFCLASS32, false, EM_X86_64, 0, ARCH_X32 },
		{ ELFCLASS32, false, EM_386, 0, ARCH_I386 },
		{ ELFCLASS32, false, 6, 0, ARCH_I386 }, /* EM_486 */
		{ ELFCLASS64, false, EM_386, 0, ARCH_UNKNOWN },
		{ ELFCLASS32, false, EM_ARM, 0x05000400, ARCH_ARM }, /* armhf */
		{ ELFCLASS32, false, EM_ARM, 0x05000200, ARCH_ARM }, /* armel */
		{ ELFCLASS32, true, EM_ARM, 0x05000000, ARCH_ARMEB },
		{ ELFCLASS32, true, EM_SPARC, 0, ARCH_SPARC },
		{ ELFCLASS32, true, EM_SPARC32PLUS, 0, ARCH_SPARC32PLUS },
		{ ELFCLASS64, true, EM_SPARCV9, 0, ARCH_SPARC64 },
		{ ELFCLASS32, true, EM_MIPS, 0x1007, ARCH_MIPS },
		{ ELFCLASS32, true, EM_MIPS, 0x1027, ARCH_MIPSN32 },
		{ ELFCLASS32, false, EM_MIPS, EF_MIPS_ABI2, ARCH_MIPSN32EL },
		{ ELFCLASS64, false, EM_MIPS, EF_MIPS_ABI2, ARCH_MIPS64EL },
		{ ELFCLASS32, true, 189, 0, ARCH_MICROBLAZE },
		{ ELFCLASS32, false, 0xbaab, 0, ARCH_MICROBLAZEEL },
		{ ELFCLASS64, false, 258, 0, ARCH_LOONGARCH64 },
		{ ELFCLASS64, false, EM_ALPHA, 0, ARCH_ALPHA },
		{ 0, false, EM_X86_64, 0, ARCH_UNKNOWN },
		{ 3, false, EM_X86_64, 0, ARCH_UNKNOWN },
	};
	/* clang-format on */

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum arch a = arch_from_elf(cases[i].elf_class, cases[i].big_endian, cases[i].machine, cases[i].flags);

		if (a != cases[i].arch)
			fail_msg("case %zu: got %s, want %s", i, arch_name(a), arch_name(cases[i].arch));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_round_trip),	  cmocka_unit_test(test_qemu_targets),
		cmocka_unit_test(test_aliases),		  cmocka_unit_test(test_unknown_names),
		cmocka_unit_test(test_name_out_of_range), cmocka_unit_test(test_from_elf),
	};

	return cmocka_run_group_tests_name("arch", tests, NULL, NULL);
}
