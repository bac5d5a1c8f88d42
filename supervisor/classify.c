/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "arch.h"
#include "classify.h"
#include "macros.h"

/* Offsets shared by both classes: e_ident, then e_type and e_machine right after it. */
#define ELF_TYPE_OFFSET offsetof(Elf32_Ehdr, e_type)
#define ELF_MACHINE_OFFSET offsetof(Elf32_Ehdr, e_machine)

static uint16_t get_u16(const uint8_t *p, bool big_endian)
{
	return big_endian ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static uint32_t get_u32(const uint8_t *p, bool big_endian)
{
	if (big_endian)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/*
 * Decodes an ELF header whose magic the caller has already matched.  Trusts nothing in buf: the
 * class and byte order must be valid and the whole header for that class must be within len, so
 * that every field read below is in bounds.
 */
static int elf_parse(const uint8_t *buf, size_t len, struct elf_ident *ret_ident)
{
	uint8_t elf_class, data;
	size_t header_size, flags_offset;
	uint16_t machine;
	uint32_t flags;
	bool big_endian;

	if (len < EI_NIDENT)
		return -ENOEXEC;

	elf_class = buf[EI_CLASS];
	switch (elf_class) {
	case ELFCLASS32:
		header_size = sizeof(Elf32_Ehdr);
		flags_offset = offsetof(Elf32_Ehdr, e_flags);
		break;
	case ELFCLASS64:
		header_size = sizeof(Elf64_Ehdr);
		flags_offset = offsetof(Elf64_Ehdr, e_flags);
		break;
	default:
		return -ENOEXEC;
	}

	data = buf[EI_DATA];
	if (data != ELFDATA2LSB && data != ELFDATA2MSB)
		return -ENOEXEC;
	big_endian = data == ELFDATA2MSB;

	/* A file that ends inside its own header: neither qemu nor a native loader can use it. */
	if (len < header_size)
		return -ENOEXEC;

	machine = get_u16(buf + ELF_MACHINE_OFFSET, big_endian);
	flags = get_u32(buf + flags_offset, big_endian);
	*ret_ident = (struct elf_ident){
		.arch = arch_from_elf(elf_class, big_endian, machine, flags),
		.elf_class = elf_class,
		.big_endian = big_endian,
		.machine = machine,
		.flags = flags,
		.type = get_u16(buf + ELF_TYPE_OFFSET, big_endian),
	};
	return 0;
}

/*
 * Trusts nothing in buf (the sandbox wrote the file) nor len: looks only at the first
 * min(len, CLASSIFY_HEAD_SIZE) bytes, and each parser checks its own bounds.
 */
int classify(const uint8_t *buf, size_t len, struct classification *ret)
{
	struct classification c = { .kind = FILE_KIND_OTHER };
	int r;

	/* The kernel never looks further than this, so neither do we. */
	len = MIN(len, (size_t)CLASSIFY_HEAD_SIZE);

	if (len >= SELFMAG && memcmp(buf, ELFMAG, SELFMAG) == 0) {
		r = elf_parse(buf, len, &c.elf);
		if (r < 0)
			return r;
		c.kind = FILE_KIND_ELF;
	} else if (len >= 2 && buf[0] == '#' && buf[1] == '!') {
		r = shebang_parse(buf, len, &c.script);
		if (r < 0)
			return r;
		c.kind = FILE_KIND_SCRIPT;
	}

	*ret = c;
	return 0;
}

/*
 * The helpers below are fs/binfmt_script.c's, kept in its shape (inclusive "last" pointers,
 * NULL for "not found") so that the two can be compared line by line.
 */
static bool spacetab(char c)
{
	return c == ' ' || c == '\t';
}

static const char *next_non_spacetab(const char *first, const char *last)
{
	for (; first <= last; first++)
		if (!spacetab(*first))
			return first;
	return NULL;
}

static const char *next_terminator(const char *first, const char *last)
{
	for (; first <= last; first++)
		if (spacetab(*first) || !*first)
			return first;
	return NULL;
}

/* The kernel's strnchr(): gives up at the first NUL, so a newline after a NUL is not seen. */
static const char *strnchr_nul(const char *s, size_t count, char c)
{
	for (; count > 0; count--, s++) {
		if (*s == c)
			return s;
		if (*s == '\0')
			break;
	}
	return NULL;
}

/*
 * Trusts nothing in buf.  Works on a zero-padded copy of exactly CLASSIFY_HEAD_SIZE bytes, like
 * the kernel's bprm->buf, so every pointer below stays inside that copy and both strings are
 * NUL-terminated inside it.  Any difference from load_script() would make us run a different
 * interpreter, or a different argv, than the kernel would: keep it in step.
 */
int shebang_parse(const uint8_t *buf, size_t len, struct shebang *ret)
{
	char b[CLASSIFY_HEAD_SIZE] = { 0 };
	const char *buf_end = b + sizeof(b) - 1;
	const char *i_name, *i_sep, *i_arg, *i_end;
	size_t name_len, arg_len = 0;

	if (len < 2 || buf[0] != '#' || buf[1] != '!')
		return -ENOEXEC;
	memcpy(b, buf, MIN(len, sizeof(b)));

	/*
	 * Either a newline proves that nothing is truncated, or a blank or NUL must follow the
	 * interpreter name (arguments may be cut short: the interpreter re-reads the script).
	 */
	i_end = strnchr_nul(b, sizeof(b), '\n');
	if (!i_end) {
		i_end = next_non_spacetab(b + 2, buf_end);
		if (!i_end)
			return -ENOEXEC; /* only blanks */
		if (!next_terminator(i_end, buf_end))
			return -ENOEXEC; /* the name runs to the end of the buffer */
		i_end = buf_end;
	}

	/* Cannot run below b + 2: b[1] is '!'. */
	while (spacetab(i_end[-1]))
		i_end--;

	i_name = next_non_spacetab(b + 2, i_end);
	if (!i_name || i_name == i_end)
		return -ENOEXEC; /* no interpreter name */

	/*
	 * A NUL right after the name means no argument; otherwise the argument starts at the first
	 * non-blank, which can be a NUL: the kernel then passes an empty argument.
	 */
	i_arg = NULL;
	i_sep = next_terminator(i_name, i_end);
	if (i_sep && *i_sep != '\0')
		i_arg = next_non_spacetab(i_sep, i_end);

	/* The kernel cuts both strings here; a NUL inside either cuts it earlier. */
	b[i_end - b] = '\0';
	if (i_arg)
		b[i_sep - b] = '\0';

	name_len = strnlen(i_name, (size_t)(i_end - i_name));
	if (i_arg)
		arg_len = strnlen(i_arg, (size_t)(i_end - i_arg));

	memset(ret, 0, sizeof(*ret));
	memcpy(ret->interp, i_name, name_len);
	if (i_arg)
		memcpy(ret->arg, i_arg, arg_len);
	ret->has_arg = i_arg != NULL;
	return 0;
}
