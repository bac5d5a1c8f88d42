/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_ARCH_H
#define UBINFMT_ARCH_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Every architecture Debian's qemu-user-static can run, named after the qemu-user binary that
 * serves it (qemu-<name>-static).  Pure: no syscalls, no globals beyond constant tables.
 */
enum arch {
	ARCH_UNKNOWN,
	ARCH_X86_64,
	ARCH_I386,
	ARCH_X32, /* EM_X86_64 in a 32-bit ELF: no qemu-user target serves it */
	ARCH_AARCH64,
	ARCH_AARCH64_BE,
	ARCH_ARM,
	ARCH_ARMEB,
	ARCH_ALPHA,
	ARCH_CRIS,
	ARCH_HEXAGON,
	ARCH_HPPA,
	ARCH_LOONGARCH64,
	ARCH_M68K,
	ARCH_MICROBLAZE,
	ARCH_MICROBLAZEEL,
	ARCH_MIPS,
	ARCH_MIPSEL,
	ARCH_MIPSN32,
	ARCH_MIPSN32EL,
	ARCH_MIPS64,
	ARCH_MIPS64EL,
	ARCH_NIOS2,
	ARCH_OR1K,
	ARCH_PPC,
	ARCH_PPC64,
	ARCH_PPC64LE,
	ARCH_RISCV32,
	ARCH_RISCV64,
	ARCH_S390X,
	ARCH_SH4,
	ARCH_SH4EB,
	ARCH_SPARC,
	ARCH_SPARC32PLUS,
	ARCH_SPARC64,
	ARCH_XTENSA,
	ARCH_XTENSAEB,
	ARCH_MAX,
};

/* qemu's name for the architecture ("aarch64", "arm", "ppc64le"…); "unknown" for ARCH_UNKNOWN. */
const char *arch_name(enum arch arch);

/*
 * Accepts qemu's names and the usual aliases (Debian: amd64, arm64, armhf, armel, ppc64el, i686,
 * mips64el…; uname -m: x86_64, aarch64, armv7l, s390x…).  -EINVAL for anything else.
 */
int arch_from_name(const char *name, enum arch *ret_arch);

/*
 * Maps ELF identification to an architecture the way qemu's binfmt registrations do:
 * elf_class is EI_CLASS (1 = 32-bit, 2 = 64-bit), big_endian comes from EI_DATA, machine is
 * e_machine and flags is e_flags (both already converted to host order).  MIPS n32 is told
 * apart from o32 by EF_MIPS_ABI2; sparc32plus is EM_SPARC32PLUS.  ARCH_UNKNOWN when no qemu
 * target matches.
 */
enum arch arch_from_elf(uint8_t elf_class, bool big_endian, uint16_t machine, uint32_t flags);

#endif
