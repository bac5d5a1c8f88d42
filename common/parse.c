/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "parse.h"

int parse_u64(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

int parse_int(const char *s, int min, int max, int *ret)
{
	uint64_t v;
	int sign = 1, r;

	if (s && *s == '-') {
		sign = -1;
		s++;
	}
	r = parse_u64(s, &v);
	if (r < 0)
		return r;
	if (v > (uint64_t)INT32_MAX + 1)
		return -ERANGE;
	int64_t sv = sign * (int64_t)v;
	if (sv < min || sv > max)
		return -ERANGE;
	*ret = (int)sv;
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

void parse_trim_blanks(const char **s, size_t *len)
{
	while (*len > 0 && is_blank(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_blank((*s)[*len - 1]))
		(*len)--;
}
