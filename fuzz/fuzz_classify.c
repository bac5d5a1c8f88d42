/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the classifier: classify() and shebang_parse() get the first bytes of a
 * file the sandbox wrote.  libFuzzer hands over a heap buffer of exactly size bytes, so ASan
 * reports any read past it.  Besides "no crash", every answer is checked:
 *
 *  - only 0 or -ENOEXEC come back, and the answer does not change between two calls, nor when
 *    bytes past CLASSIFY_HEAD_SIZE are added or removed;
 *  - an ELF answer has the whole header of its class in the input, and its fields are the
 *    input's bytes in its byte order; the architecture is arch_from_elf()'s;
 *  - a #! answer is what an independent, index-based reading of fs/binfmt_script.c gives
 *    (ref_script below, written apart from classify.c's pointer-based port); both strings are
 *    NUL-terminated inside their arrays, at most CLASSIFY_HEAD_SIZE - 3 bytes long, hold no
 *    newline, the interpreter no blank; the interpreter is empty only where the kernel accepts
 *    an empty one (a NUL where the name would start), the argument is "" without has_arg;
 *  - a short file is parsed as if zero bytes followed it (the kernel's bprm->buf).
 *
 *   fuzz/run.sh builds it; by hand:
 *   clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -Icommon -Isupervisor \
 *         fuzz/fuzz_classify.c supervisor/classify.c supervisor/arch.c -o fuzz_classify
 *   ./fuzz_classify fuzz/corpus/classify
 */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEAD CLASSIFY_HEAD_SIZE

static bool blank(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* A NUL-terminated string of at most HEAD - 3 bytes inside its HEAD-byte array. */
static void check_string(const char *s)
{
	const char *nul = memchr(s, '\0', HEAD);

	if (!nul || (size_t)(nul - s) > HEAD - 3)
		abort();
	for (const char *p = s; p < nul; p++)
		if (*p == '\n')
			abort();
}

/*
 * fs/binfmt_script.c load_script(), read again with indices into the zero-padded 256-byte
 * buffer rather than pointers: returns 0 and the strings, or -ENOEXEC.
 */
static int ref_script(const uint8_t *data, size_t size, char *interp, char *arg, bool *has_arg)
{
	uint8_t b[HEAD] = { 0 };
	size_t end, name, sep, argpos, i;
	bool newline = false;

	if (size < 2 || data[0] != '#' || data[1] != '!')
		return -ENOEXEC;
	memcpy(b, data, size < HEAD ? size : HEAD);

	/* strnchr(buf, 256, '\n'): stops at the first NUL. */
	for (i = 0; i < HEAD && b[i] != '\0'; i++)
		if (b[i] == '\n') {
			newline = true;
			break;
		}
	if (newline) {
		end = i;
	} else {
		/* The name must be followed by a blank or NUL at or before byte 255. */
		for (i = 2; i < HEAD && blank(b[i]); i++)
			;
		if (i == HEAD)
			return -ENOEXEC;
		for (; i < HEAD && !blank(b[i]) && b[i] != '\0'; i++)
			;
		if (i == HEAD)
			return -ENOEXEC;
		end = HEAD - 1;
	}
	while (blank(b[end - 1]))
		end--;
	for (name = 2; name <= end && blank(b[name]); name++)
		;
	if (name >= end)
		return -ENOEXEC;
	for (sep = name; sep <= end && !blank(b[sep]) && b[sep] != '\0'; sep++)
		;
	*has_arg = false;
	argpos = 0;
	if (sep <= end && b[sep] != '\0') {
		for (argpos = sep; argpos <= end && blank(b[argpos]); argpos++)
			;
		*has_arg = argpos <= end;
	}
	b[end] = '\0';
	if (*has_arg)
		b[sep] = '\0';
	memset(interp, 0, HEAD);
	memset(arg, 0, HEAD);
	for (i = name; b[i] != '\0'; i++)
		interp[i - name] = (char)b[i];
	if (*has_arg)
		for (i = argpos; b[i] != '\0'; i++)
			arg[i - argpos] = (char)b[i];
	return 0;
}

static void check_script(const uint8_t *data, size_t size, const struct shebang *s)
{
	char interp[HEAD], arg[HEAD];
	bool has_arg;
	size_t first;

	check_string(s->interp);
	check_string(s->arg);
	if (!s->has_arg && s->arg[0] != '\0')
		abort();
	for (const char *p = s->interp; *p; p++)
		if (blank((uint8_t)*p))
			abort();
	if (s->interp[0] == '\0') {
		/* Accepted only with a NUL where the name starts ("#!", "#!\0", "#!  \0…"). */
		for (first = 2; first < size && first < HEAD && blank(data[first]); first++)
			;
		if (first < size && first < HEAD && data[first] != '\0')
			abort();
	}
	if (ref_script(data, size, interp, arg, &has_arg) != 0)
		abort();
	if (strcmp(interp, s->interp) != 0 || strcmp(arg, s->arg) != 0 || has_arg != s->has_arg)
		abort();
}

static uint16_t u16(const uint8_t *p, bool be)
{
	return be ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static void check_elf(const uint8_t *data, size_t size, const struct elf_ident *e)
{
	size_t need;

	if (e->elf_class != ELFCLASS32 && e->elf_class != ELFCLASS64)
		abort();
	need = e->elf_class == ELFCLASS32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr);
	if (size < need || data[EI_CLASS] != e->elf_class || e->big_endian != (data[EI_DATA] == ELFDATA2MSB))
		abort();
	if (e->machine != u16(data + 18, e->big_endian) || e->type != u16(data + 16, e->big_endian))
		abort();
	if (e->arch != arch_from_elf(e->elf_class, e->big_endian, e->machine, e->flags))
		abort();
	if ((unsigned)e->arch >= ARCH_MAX || !arch_name(e->arch))
		abort();
}

static bool same(const struct classification *a, const struct classification *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == FILE_KIND_ELF)
		return memcmp(&a->elf, &b->elf, sizeof(a->elf)) == 0;
	if (a->kind == FILE_KIND_SCRIPT)
		return strcmp(a->script.interp, b->script.interp) == 0 && strcmp(a->script.arg, b->script.arg) == 0 &&
		       a->script.has_arg == b->script.has_arg;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct classification c, again;
	static struct shebang sb;
	static uint8_t padded[HEAD];
	int r, r2;

	memset(&c, 0x5a, sizeof(c));
	r = classify(data, size, &c);
	if (r != 0 && r != -ENOEXEC)
		abort();

	/* Deterministic, and blind past the kernel's 256 bytes. */
	memset(&again, 0xa5, sizeof(again));
	r2 = classify(data, size < HEAD ? size : HEAD, &again);
	if (r2 != r || (r == 0 && !same(&c, &again)))
		abort();

	r2 = shebang_parse(data, size, &sb);
	if (r2 != 0 && r2 != -ENOEXEC)
		abort();
	if (size >= 2 && data[0] == '#' && data[1] == '!') {
		/* classify() takes #! files exactly as shebang_parse() does. */
		if (r2 != r || (r == 0 && (c.kind != FILE_KIND_SCRIPT || strcmp(sb.interp, c.script.interp) != 0)))
			abort();
		if (r2 == 0)
			check_script(data, size, &sb);
		else {
			char i[HEAD], a[HEAD];
			bool h;
			if (ref_script(data, size, i, a, &h) == 0)
				abort(); /* we refuse a line the kernel takes */
		}
		/* A short file reads as if zero bytes followed it. */
		if (size < HEAD) {
			memset(padded, 0, sizeof(padded));
			memcpy(padded, data, size);
			memset(&again, 0, sizeof(again));
			r2 = classify(padded, sizeof(padded), &again);
			if (r2 != r || (r == 0 && !same(&c, &again)))
				abort();
		}
	} else if (r2 != -ENOEXEC) {
		abort();
	}

	if (r == 0) {
		switch (c.kind) {
		case FILE_KIND_ELF:
			if (size < SELFMAG || memcmp(data, ELFMAG, SELFMAG) != 0)
				abort();
			check_elf(data, size, &c.elf);
			break;
		case FILE_KIND_SCRIPT:
			break;
		case FILE_KIND_OTHER:
			if (size >= SELFMAG && memcmp(data, ELFMAG, SELFMAG) == 0)
				abort();
			if (size >= 2 && data[0] == '#' && data[1] == '!')
				abort();
			break;
		case FILE_KIND_MAX:
		default:
			abort();
		}
	} else if (!(size >= SELFMAG && memcmp(data, ELFMAG, SELFMAG) == 0) &&
		   !(size >= 2 && data[0] == '#' && data[1] == '!')) {
		abort(); /* only ELF and #! files can be refused */
	}
	return 0;
}
