/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_PARSE_H
#define UBINFMT_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Strict decimal parsers: no sign surprises, no trailing garbage, range-checked. -EINVAL/-ERANGE. */
int parse_u64(const char *s, uint64_t *ret);
int parse_int(const char *s, int min, int max, int *ret);

/* Narrows [*s, *s + *len) to leave out the blanks (space, tab, CR) at both ends. */
void parse_trim_blanks(const char **s, size_t *len);

#endif
