/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_CLASSIFY_H
#define UBINFMT_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch.h"

/* The kernel reads this many bytes of an exec target to pick a handler (BINPRM_BUF_SIZE). */
#define CLASSIFY_HEAD_SIZE 256

enum file_kind {
	FILE_KIND_OTHER, /* neither ELF nor #!: the kernel answers ENOEXEC */
	FILE_KIND_ELF,
	FILE_KIND_SCRIPT,
	FILE_KIND_MAX,
};

struct elf_ident {
	enum arch arch;   /* ARCH_UNKNOWN when no qemu target serves this machine */
	uint8_t elf_class; /* 1 = 32-bit, 2 = 64-bit */
	bool big_endian;
	uint16_t machine; /* e_machine, host order */
	uint32_t flags;   /* e_flags, host order */
	uint16_t type;    /* e_type: ET_EXEC, ET_DYN… */
};

/*
 * A parsed "#!" line, as fs/binfmt_script.c would see it.  interp and arg are NUL-terminated and
 * at most CLASSIFY_HEAD_SIZE - 3 bytes long; arg is "" when has_arg is false.
 */
struct shebang {
	char interp[CLASSIFY_HEAD_SIZE];
	char arg[CLASSIFY_HEAD_SIZE];
	bool has_arg;
};

struct classification {
	enum file_kind kind;
	struct elf_ident elf;     /* valid when kind == FILE_KIND_ELF */
	struct shebang script;    /* valid when kind == FILE_KIND_SCRIPT */
};

/*
 * Classifies an exec target from its first bytes.  Trusts nothing: buf is whatever the sandbox
 * put in the file, len may be anything from 0 to CLASSIFY_HEAD_SIZE (more is ignored).
 * Returns 0 and fills ret, or -ENOEXEC when the kernel would find no handler either (too short,
 * a "#!" line without interpreter, an ELF header the kernel's loader would reject as not ELF).
 * An ELF for an unknown machine is FILE_KIND_ELF with arch ARCH_UNKNOWN, not an error.
 */
int classify(const uint8_t *buf, size_t len, struct classification *ret);

/*
 * Parses a "#!" line exactly like fs/binfmt_script.c (Linux ≥ 5.1): only the first
 * CLASSIFY_HEAD_SIZE bytes count; a line with no newline in them is accepted only if the
 * interpreter name ends (blank or NUL) before the end of the buffer; leading and trailing blanks
 * (space, tab) are dropped; the optional argument is everything after the first blank, NUL or
 * end of line, minus the blanks that open it; a NUL ends each string.  -ENOEXEC when the kernel
 * would refuse it.
 */
int shebang_parse(const uint8_t *buf, size_t len, struct shebang *ret);

/* How many interpreters the kernel follows before failing with ELOOP (fs/exec.c exec_binprm). */
#define SHEBANG_MAX_DEPTH 5

#endif
