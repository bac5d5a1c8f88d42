/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slots.h"

ssize_t slot_take_sized(void **table, size_t *n, size_t elem_size, size_t first)
{
	char *base = *table;
	size_t i, grown;

	for (i = 0; i < *n; i++)
		if (!*(const bool *)(base + i * elem_size))
			return (ssize_t)i;
	grown = *n ? *n * 2 : first;
	if (grown <= *n || grown > SIZE_MAX / elem_size)
		return -ENOMEM;
	base = realloc(base, grown * elem_size);
	if (!base)
		return -ENOMEM;
	memset(base + *n * elem_size, 0, (grown - *n) * elem_size);
	*table = base;
	*n = grown;
	return (ssize_t)i;
}
