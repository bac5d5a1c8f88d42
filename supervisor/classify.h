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
	FILE_KIND_OTHER, /* neither ELF nor #!: ENOEXEC, unless a host binfmt_misc entry claims it */
	FILE_KIND_ELF,
	FILE_KIND_SCRIPT,
	FILE_KIND_MAX,
};

struct elf_ident {
	enum arch arch;	   /* ARCH_UNKNOWN when no qemu target serves this machine */
	uint8_t elf_class; /* 1 = 32-bit, 2 = 64-bit */
	bool big_endian;
	uint16_t machine; /* e_machine, host order */
	uint32_t flags;	  /* e_flags, host order */
	uint16_t type;	  /* e_type, not checked: the kernel runs only ET_EXEC and ET_DYN */
};

/*
 * A parsed "#!" line, as fs/binfmt_script.c would see it.  interp and arg are NUL-terminated and
 * at most CLASSIFY_HEAD_SIZE - 3 bytes long.  arg is "" when has_arg is false, but has_arg can
 * be true with arg "": the kernel then passes an empty argument ("#!/bin/sh " at the very end of
 * a file, or a blank followed by a NUL).  interp can be "" too (a file that is just "#!", or
 * "#!\0"): the kernel accepts such a line and the exec then fails opening the empty name
 * (EACCES on Linux 6.18), not with ENOEXEC.
 */
struct shebang {
	char interp[CLASSIFY_HEAD_SIZE];
	char arg[CLASSIFY_HEAD_SIZE];
	bool has_arg;
};

struct classification {
	enum file_kind kind;
	struct elf_ident elf;  /* valid when kind == FILE_KIND_ELF */
	struct shebang script; /* valid when kind == FILE_KIND_SCRIPT */
};

/*
 * Classifies an exec target from its first bytes.  Trusts nothing: buf is whatever the sandbox
 * put in the file, len may be anything from 0 up (bytes past CLASSIFY_HEAD_SIZE are ignored).
 * len must be the file's size when that is below CLASSIFY_HEAD_SIZE: a "#!" line is parsed as
 * if zero bytes followed, as in the kernel's buffer, so a short read would change the answer.
 *
 * Returns 0 and fills ret: FILE_KIND_ELF, FILE_KIND_SCRIPT, or FILE_KIND_OTHER for anything
 * that starts with neither magic (including files shorter than the magic).  An ELF for an
 * unknown machine is FILE_KIND_ELF with arch ARCH_UNKNOWN, not an error.
 *
 * Returns -ENOEXEC when no qemu target could take the file: the ELF magic with an EI_CLASS or
 * EI_DATA other than 1 or 2, or fewer bytes than the header of its class (52 or 64); a "#!" line
 * that binfmt_script refuses.  The caller should then let the kernel answer rather than fail the
 * exec itself: Linux's ELF loader checks only the magic, e_type and e_machine, so it still runs a
 * native binary with a bad EI_CLASS or EI_DATA (seen on Linux 6.18, x86-64).
 */
int classify(const uint8_t *buf, size_t len, struct classification *ret);

/*
 * Parses a "#!" line exactly like fs/binfmt_script.c (Linux ≥ 5.1), on the first
 * CLASSIFY_HEAD_SIZE bytes padded with zeros when len is shorter:
 *  - The line ends at the first newline, which is looked for only up to the first NUL.  Without
 *    one, the line ends at the buffer's last byte, and a blank or NUL must follow the
 *    interpreter name at or before that byte, or the name is taken as truncated (-ENOEXEC).
 *  - Blanks (space, tab) before the end of the line are dropped; without a newline that end is
 *    byte 255, so in a shorter file the zero padding protects trailing blanks: "#!/bin/sh -x "
 *    gives the argument "-x ".  A \r is no blank: "#!/bin/sh\r\n" names "/bin/sh\r".
 *  - Blanks before the name are skipped; no name before the end of the line is -ENOEXEC.
 *  - The name ends at the first blank or NUL.  After a blank, the optional argument is the rest
 *    of the line with its leading blanks skipped (inner blanks stay); after a NUL there is none.
 *  - A NUL ends each string, and so does byte 255: each is at most 253 bytes long.
 * -ENOEXEC when the kernel would refuse the line.
 */
int shebang_parse(const uint8_t *buf, size_t len, struct shebang *ret);

/* How many interpreters the kernel follows before failing with ELOOP (fs/exec.c exec_binprm). */
#define SHEBANG_MAX_DEPTH 5

#endif
