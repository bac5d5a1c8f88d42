/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "arch.h"
#include "macros.h"

/* glibc's <elf.h> names some machines differently or not at all; these are the kernel's names. */
#ifndef EM_486
#define EM_486 6 /* qemu-i386 accepts it next to EM_386 (qemu's i486 binfmt entry) */
#endif
#ifndef EM_NIOS2
#define EM_NIOS2 113 /* glibc: EM_ALTERA_NIOS2 */
#endif
#ifndef EM_HEXAGON
#define EM_HEXAGON 164 /* glibc: EM_QDSP6 */
#endif
#ifndef EM_MICROBLAZE
#define EM_MICROBLAZE 189
#endif
#ifndef EM_MICROBLAZE_OLD
#define EM_MICROBLAZE_OLD 0xbaab /* pre-ABI number; still the one qemu's binfmt magic matches */
#endif
#ifndef EM_OPENRISC
#define EM_OPENRISC 92
#endif
#ifndef EM_LOONGARCH
#define EM_LOONGARCH 258
#endif
#ifndef EM_RISCV
#define EM_RISCV 243
#endif

/* Indexed by enum arch: the name of the qemu-user binary (qemu-<name>-static) that runs it. */
static const char *const arch_names[ARCH_MAX] = {
	[ARCH_UNKNOWN] = "unknown",
	[ARCH_X86_64] = "x86_64",
	[ARCH_I386] = "i386",
	[ARCH_X32] = "x32",
	[ARCH_AARCH64] = "aarch64",
	[ARCH_AARCH64_BE] = "aarch64_be",
	[ARCH_ARM] = "arm",
	[ARCH_ARMEB] = "armeb",
	[ARCH_ALPHA] = "alpha",
	[ARCH_CRIS] = "cris",
	[ARCH_HEXAGON] = "hexagon",
	[ARCH_HPPA] = "hppa",
	[ARCH_LOONGARCH64] = "loongarch64",
	[ARCH_M68K] = "m68k",
	[ARCH_MICROBLAZE] = "microblaze",
	[ARCH_MICROBLAZEEL] = "microblazeel",
	[ARCH_MIPS] = "mips",
	[ARCH_MIPSEL] = "mipsel",
	[ARCH_MIPSN32] = "mipsn32",
	[ARCH_MIPSN32EL] = "mipsn32el",
	[ARCH_MIPS64] = "mips64",
	[ARCH_MIPS64EL] = "mips64el",
	[ARCH_NIOS2] = "nios2",
	[ARCH_OR1K] = "or1k",
	[ARCH_PPC] = "ppc",
	[ARCH_PPC64] = "ppc64",
	[ARCH_PPC64LE] = "ppc64le",
	[ARCH_RISCV32] = "riscv32",
	[ARCH_RISCV64] = "riscv64",
	[ARCH_S390X] = "s390x",
	[ARCH_SH4] = "sh4",
	[ARCH_SH4EB] = "sh4eb",
	[ARCH_SPARC] = "sparc",
	[ARCH_SPARC32PLUS] = "sparc32plus",
	[ARCH_SPARC64] = "sparc64",
	[ARCH_XTENSA] = "xtensa",
	[ARCH_XTENSAEB] = "xtensaeb",
};

/*
 * Other spellings people and tools use: Debian architecture names (dpkg --print-architecture),
 * uname -m and GNU triplet CPU parts.  Only unambiguous ones: uname -m says "mips64" for both
 * byte orders, so "mips64" stays qemu's big-endian target.
 */
static const struct {
	const char *alias;
	enum arch arch;
	/* clang-format off */
} arch_aliases[] = {
	{ "amd64", ARCH_X86_64 },
	{ "x86-64", ARCH_X86_64 },
	{ "i486", ARCH_I386 },
	{ "i586", ARCH_I386 },
	{ "i686", ARCH_I386 },
	{ "x86", ARCH_I386 },
	{ "arm64", ARCH_AARCH64 },
	{ "armhf", ARCH_ARM },
	{ "armel", ARCH_ARM },
	{ "armv8l", ARCH_ARM }, /* uname -m under linux32 on arm64 */
	{ "armv7l", ARCH_ARM },
	{ "armv7", ARCH_ARM },
	{ "armv7hl", ARCH_ARM },
	{ "armv6l", ARCH_ARM },
	{ "armv5tel", ARCH_ARM },
	{ "armv5tejl", ARCH_ARM },
	{ "armv7b", ARCH_ARMEB },
	{ "armv8b", ARCH_ARMEB },
	{ "loong64", ARCH_LOONGARCH64 }, /* Debian */
	{ "parisc", ARCH_HPPA },         /* uname -m */
	{ "openrisc", ARCH_OR1K },
	{ "powerpc", ARCH_PPC },
	{ "powerpc64", ARCH_PPC64 },
	{ "ppc64el", ARCH_PPC64LE },
	{ "powerpc64le", ARCH_PPC64LE },
};
/* clang-format on */

/*
 * What qemu's binfmt registrations (Debian's /usr/lib/binfmt.d/qemu-*.conf, qemu's
 * scripts/qemu-binfmt-conf.sh) and its own ELF loader (linux-user/elfload.c elf_check_arch)
 * accept.  A row matches when class, byte order and machine are equal and
 * (flags & flags_mask) == flags_value.  The first match wins, so more specific rows go first.
 */
static const struct {
	uint8_t elf_class;
	bool big_endian;
	uint16_t machine;
	uint32_t flags_mask;
	uint32_t flags_value;
	enum arch arch;
	/* clang-format off */
} elf_rules[] = {
	{ ELFCLASS64, false, EM_X86_64, 0, 0, ARCH_X86_64 },
	{ ELFCLASS32, false, EM_386, 0, 0, ARCH_I386 },
	{ ELFCLASS32, false, EM_486, 0, 0, ARCH_I386 },
	/* Same machine as x86_64 in a 32-bit file: the x32 ABI, which qemu-user cannot run. */
	{ ELFCLASS32, false, EM_X86_64, 0, 0, ARCH_X32 },
	{ ELFCLASS64, false, EM_AARCH64, 0, 0, ARCH_AARCH64 },
	{ ELFCLASS64, true, EM_AARCH64, 0, 0, ARCH_AARCH64_BE },
	/* armhf and armel differ only in EF_ARM_ABI_FLOAT_* flags; qemu-arm runs both. */
	{ ELFCLASS32, false, EM_ARM, 0, 0, ARCH_ARM },
	{ ELFCLASS32, true, EM_ARM, 0, 0, ARCH_ARMEB },
	{ ELFCLASS64, false, EM_ALPHA, 0, 0, ARCH_ALPHA },
	{ ELFCLASS32, false, EM_CRIS, 0, 0, ARCH_CRIS },
	{ ELFCLASS32, false, EM_HEXAGON, 0, 0, ARCH_HEXAGON },
	{ ELFCLASS32, true, EM_PARISC, 0, 0, ARCH_HPPA },
	{ ELFCLASS64, false, EM_LOONGARCH, 0, 0, ARCH_LOONGARCH64 },
	{ ELFCLASS32, true, EM_68K, 0, 0, ARCH_M68K },
	/*
	 * The binfmt magic only knows the old number, but qemu's loader takes both, and current
	 * toolchains write EM_MICROBLAZE.
	 */
	{ ELFCLASS32, true, EM_MICROBLAZE, 0, 0, ARCH_MICROBLAZE },
	{ ELFCLASS32, true, EM_MICROBLAZE_OLD, 0, 0, ARCH_MICROBLAZE },
	{ ELFCLASS32, false, EM_MICROBLAZE, 0, 0, ARCH_MICROBLAZEEL },
	{ ELFCLASS32, false, EM_MICROBLAZE_OLD, 0, 0, ARCH_MICROBLAZEEL },
	/* n32 is a 32-bit ELF for 64-bit MIPS; only EF_MIPS_ABI2 tells it from o32. */
	{ ELFCLASS32, true, EM_MIPS, EF_MIPS_ABI2, EF_MIPS_ABI2, ARCH_MIPSN32 },
	{ ELFCLASS32, false, EM_MIPS, EF_MIPS_ABI2, EF_MIPS_ABI2, ARCH_MIPSN32EL },
	{ ELFCLASS32, true, EM_MIPS, EF_MIPS_ABI2, 0, ARCH_MIPS },
	{ ELFCLASS32, false, EM_MIPS, EF_MIPS_ABI2, 0, ARCH_MIPSEL },
	{ ELFCLASS64, true, EM_MIPS, 0, 0, ARCH_MIPS64 },
	{ ELFCLASS64, false, EM_MIPS, 0, 0, ARCH_MIPS64EL },
	{ ELFCLASS32, false, EM_NIOS2, 0, 0, ARCH_NIOS2 },
	{ ELFCLASS32, true, EM_OPENRISC, 0, 0, ARCH_OR1K },
	{ ELFCLASS32, true, EM_PPC, 0, 0, ARCH_PPC },
	{ ELFCLASS64, true, EM_PPC64, 0, 0, ARCH_PPC64 },
	{ ELFCLASS64, false, EM_PPC64, 0, 0, ARCH_PPC64LE },
	{ ELFCLASS32, false, EM_RISCV, 0, 0, ARCH_RISCV32 },
	{ ELFCLASS64, false, EM_RISCV, 0, 0, ARCH_RISCV64 },
	{ ELFCLASS64, true, EM_S390, 0, 0, ARCH_S390X },
	{ ELFCLASS32, false, EM_SH, 0, 0, ARCH_SH4 },
	{ ELFCLASS32, true, EM_SH, 0, 0, ARCH_SH4EB },
	{ ELFCLASS32, true, EM_SPARC, 0, 0, ARCH_SPARC },
	{ ELFCLASS32, true, EM_SPARC32PLUS, 0, 0, ARCH_SPARC32PLUS },
	{ ELFCLASS64, true, EM_SPARCV9, 0, 0, ARCH_SPARC64 },
	{ ELFCLASS32, false, EM_XTENSA, 0, 0, ARCH_XTENSA },
	{ ELFCLASS32, true, EM_XTENSA, 0, 0, ARCH_XTENSAEB },
};
/* clang-format on */

const char *arch_name(enum arch arch)
{
	/* Out-of-range values are a caller bug, but a log line must never crash the supervisor. */
	if ((unsigned)arch >= ARCH_MAX || !arch_names[arch])
		return "unknown";
	return arch_names[arch];
}

int arch_from_name(const char *name, enum arch *ret_arch)
{
	if (!name)
		return -EINVAL;

	/* Start at 1: "unknown" is what arch_name prints, not a name anyone can ask for. */
	for (size_t i = 1; i < ARCH_MAX; i++) {
		if (arch_names[i] && strcmp(name, arch_names[i]) == 0) {
			*ret_arch = (enum arch)i;
			return 0;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(arch_aliases); i++) {
		if (strcmp(name, arch_aliases[i].alias) == 0) {
			*ret_arch = arch_aliases[i].arch;
			return 0;
		}
	}
	return -EINVAL;
}

enum arch arch_from_elf(uint8_t elf_class, bool big_endian, uint16_t machine, uint32_t flags)
{
	for (size_t i = 0; i < ARRAY_SIZE(elf_rules); i++) {
		if (elf_rules[i].elf_class == elf_class && elf_rules[i].big_endian == big_endian &&
		    elf_rules[i].machine == machine && (flags & elf_rules[i].flags_mask) == elf_rules[i].flags_value)
			return elf_rules[i].arch;
	}
	return ARCH_UNKNOWN;
}
