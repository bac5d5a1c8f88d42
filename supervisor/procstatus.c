/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "procstatus.h"

/* The most numbers a line may hold: a task has 65536 groups at most. */
#define PROCSTATUS_MAX_NUMBERS (1 << 17)

const char *procstatus_field(const char *text, size_t len, const char *name, size_t *ret_len)
{
	size_t nl = strlen(name);

	for (size_t pos = 0; pos < len;) {
		const char *line = text + pos;
		const char *end = memchr(line, '\n', len - pos);
		size_t l = end ? (size_t)(end - line) : len - pos;
		if (l > nl && memcmp(line, name, nl) == 0 && line[nl] == ':') {
			*ret_len = l - nl - 1;
			return line + nl + 1;
		}
		pos += l + 1;
	}
	return NULL;
}

int procstatus_numbers(const char *text, size_t len, const char *name, unsigned long *out, size_t max)
{
	size_t flen, i = 0;
	const char *s = procstatus_field(text, len, name, &flen);
	int n = 0;

	if (!s)
		return -EINVAL;
	for (;;) {
		while (i < flen && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i >= flen)
			return n;
		if (s[i] < '0' || s[i] > '9' || n == PROCSTATUS_MAX_NUMBERS)
			return -EINVAL;
		unsigned long v = 0;
		while (i < flen && s[i] >= '0' && s[i] <= '9') {
			v = v * 10 + (unsigned long)(s[i++] - '0');
			if (v > 0xffffffffUL)
				return -EINVAL;
		}
		if ((size_t)n < max)
			out[n] = v;
		n++;
	}
}

int procstatus_caps(const char *text, size_t len, const char *name, uint64_t *ret)
{
	size_t flen, i = 0, digits = 0;
	const char *f = procstatus_field(text, len, name, &flen);
	uint64_t v = 0;

	if (!f)
		return -EINVAL;
	while (i < flen && (f[i] == ' ' || f[i] == '\t'))
		i++;
	for (; i < flen; i++, digits++) {
		char ch = f[i];
		int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
		if (d < 0 || digits == 16)
			return -EINVAL;
		v = v << 4 | (unsigned)d;
	}
	if (digits == 0)
		return -EINVAL;
	*ret = v;
	return 0;
}
