/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "hostbinfmt.h"
#include "macros.h"
#include "parse.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_hex(const char *s, size_t len, uint8_t *out, size_t cap, uint32_t *ret_n)
{
	size_t n = 0;

	if (len % 2 != 0 || len / 2 > cap)
		return -EINVAL;
	for (size_t i = 0; i < len; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[n++] = (uint8_t)(hi << 4 | lo);
	}
	*ret_n = (uint32_t)n;
	return 0;
}

int hostbinfmt_parse_entry(const char *text, size_t len, struct hostbinfmt_entry *ret)
{
	struct hostbinfmt_entry e = { 0 };
	bool have_mask = false;
	uint32_t mask_n = 0;

	for (size_t pos = 0; pos < len;) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - line) : len - pos;
		char num[32];

		pos += l + 1;
		if (l == 7 && memcmp(line, "enabled", 7) == 0) {
			e.enabled = true;
		} else if (l > 7 && memcmp(line, "offset ", 7) == 0) {
			uint64_t off;
			if (l - 7 >= sizeof(num))
				return -EINVAL;
			memcpy(num, line + 7, l - 7);
			num[l - 7] = '\0';
			if (parse_u64(num, &off) < 0 || off >= HOSTBINFMT_MAGIC_MAX)
				return -EINVAL;
			e.offset = (uint32_t)off;
		} else if (l > 6 && memcmp(line, "magic ", 6) == 0) {
			if (parse_hex(line + 6, l - 6, e.magic, sizeof(e.magic), &e.size) < 0)
				return -EINVAL;
			e.is_magic = true;
		} else if (l > 5 && memcmp(line, "mask ", 5) == 0) {
			if (parse_hex(line + 5, l - 5, e.mask, sizeof(e.mask), &mask_n) < 0)
				return -EINVAL;
			have_mask = true;
		}
		/* "interpreter", "flags:", "extension" and "disabled" need no action. */
	}
	if (e.is_magic) {
		if (e.size == 0 || e.offset + e.size > HOSTBINFMT_MAGIC_MAX)
			return -EINVAL;
		if (!have_mask)
			memset(e.mask, 0xff, e.size);
		else if (mask_n != e.size)
			return -EINVAL;
	}
	*ret = e;
	return 0;
}

bool hostbinfmt_matches(const struct hostbinfmt *h, const uint8_t *head, size_t len)
{
	for (size_t i = 0; i < h->n; i++) {
		const struct hostbinfmt_entry *e = &h->entries[i];
		bool match = e->enabled && e->is_magic && e->offset + e->size <= HOSTBINFMT_MAGIC_MAX;

		for (uint32_t j = 0; match && j < e->size; j++) {
			size_t at = (size_t)e->offset + j;
			uint8_t b = at < len ? head[at] : 0;
			match = ((b ^ e->magic[j]) & e->mask[j]) == 0;
		}
		if (match)
			return true;
	}
	return false;
}
