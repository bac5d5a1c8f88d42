/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the host binfmt_misc entries: hostbinfmt_parse_entry() on the text of a
 * /proc/sys/fs/binfmt_misc/NAME file, and hostbinfmt_matches() on the first bytes of an exec
 * target (sandbox-controlled).  The input is TEXT, a NUL byte, then HEAD (the file's first
 * bytes; without a NUL, the text is tried against an empty file).  Each gets its own heap
 * buffer of exactly its size, so ASan reports any read past either.  Checked:
 *
 *  - parsing gives 0 or -EINVAL; an accepted magic entry has 1..HOSTBINFMT_MAGIC_MAX bytes and
 *    offset + size within the kernel's BINPRM_BUF_SIZE;
 *  - the entry printed back the way the kernel prints it (fs/binfmt_misc.c bm_entry_read)
 *    parses to the same entry;
 *  - hostbinfmt_matches() answers what the kernel's check_file() does on its zero-padded
 *    BINPRM_BUF_SIZE buffer: bytes past the end of a short file read as zero.
 *
 *   clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -Icommon -Isupervisor \
 *         fuzz/fuzz_hostbinfmt.c supervisor/hostbinfmt.c common/parse.c -o fuzz_hostbinfmt
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostbinfmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BINPRM_BUF_SIZE 256

/* The kernel's check_file() for one magic entry, on a zero-padded copy of the file's head. */
static bool ref_match(const struct hostbinfmt_entry *e, const uint8_t *head, size_t len)
{
	uint8_t buf[BINPRM_BUF_SIZE] = { 0 };

	if (!e->enabled || !e->is_magic)
		return false;
	memcpy(buf, head, len < sizeof(buf) ? len : sizeof(buf));
	for (uint32_t j = 0; j < e->size; j++)
		if ((buf[e->offset + j] ^ e->magic[j]) & e->mask[j])
			return false;
	return true;
}

static size_t hex(char *p, const uint8_t *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		p[2 * i] = digits[b[i] >> 4];
		p[2 * i + 1] = digits[b[i] & 15];
	}
	return 2 * n;
}

/* The entry as the kernel prints it. */
static size_t print_entry(const struct hostbinfmt_entry *e, char *p)
{
	char *start = p;

	p += sprintf(p, "%s\ninterpreter /usr/libexec/qemu-binfmt/x-binfmt-P\nflags: POCF\n",
		     e->enabled ? "enabled" : "disabled");
	if (!e->is_magic)
		return (size_t)(p - start) + (size_t)sprintf(p, "extension .x\n");
	p += sprintf(p, "offset %u\nmagic ", e->offset);
	p += hex(p, e->magic, e->size);
	p += sprintf(p, "\nmask ");
	p += hex(p, e->mask, e->size);
	*p++ = '\n';
	return (size_t)(p - start);
}

static bool same_entry(const struct hostbinfmt_entry *a, const struct hostbinfmt_entry *b)
{
	if (a->enabled != b->enabled || a->is_magic != b->is_magic)
		return false;
	if (!a->is_magic)
		return true;
	return a->offset == b->offset && a->size == b->size && memcmp(a->magic, b->magic, a->size) == 0 &&
	       memcmp(a->mask, b->mask, a->size) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hostbinfmt h;
	static struct hostbinfmt_entry e, again;
	static char text[4 * HOSTBINFMT_MAGIC_MAX + 256];
	const uint8_t *sep = memchr(data, '\0', size);
	size_t text_len = sep ? (size_t)(sep - data) : size;
	size_t head_len = sep ? size - text_len - 1 : 0;
	char *t = malloc(text_len ? text_len : 1);
	uint8_t *head = malloc(head_len ? head_len : 1);
	int r;

	if (!t || !head)
		abort();
	memcpy(t, data, text_len);
	if (head_len)
		memcpy(head, sep + 1, head_len);

	r = hostbinfmt_parse_entry(t, text_len, &e);
	if (r != 0 && r != -EINVAL)
		abort();
	if (r == 0) {
		if (e.is_magic && (e.size == 0 || e.size > HOSTBINFMT_MAGIC_MAX || e.offset + e.size > BINPRM_BUF_SIZE))
			abort();
		size_t n = print_entry(&e, text);
		if (n >= sizeof(text) || hostbinfmt_parse_entry(text, n, &again) != 0 || !same_entry(&e, &again))
			abort();

		memset(&h, 0, sizeof(h));
		h.entries[0] = e;
		h.n = 1;
		if (hostbinfmt_matches(&h, head, head_len) != ref_match(&e, head, head_len))
			abort();
		/* A disabled copy in front changes nothing. */
		h.entries[1] = e;
		h.entries[0].enabled = false;
		h.n = 2;
		if (hostbinfmt_matches(&h, head, head_len) != ref_match(&e, head, head_len))
			abort();
	}
	free(t);
	free(head);
	return 0;
}
