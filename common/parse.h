/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_PARSE_H
#define UBINFMT_PARSE_H

#include <stdint.h>

/* Strict decimal parsers: no sign surprises, no trailing garbage, range-checked. -EINVAL/-ERANGE. */
int parse_u64(const char *s, uint64_t *ret);
int parse_int(const char *s, int min, int max, int *ret);

#endif
