/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_SLOTS_H
#define UBINFMT_SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * A table of slots that grows and never moves an entry to another index: callers hand indexes
 * out (the loop's watches in io_uring user data, the engine's listeners, its rewrites in flight,
 * which the guard names by index), so a slot is found by its
 * number for as long as it is used.  An entry is any struct whose first member is `bool used`.
 *
 * slot_take: the index of the first unused slot of *table (*n slots of elem_size bytes),
 * growing the table by doubling (first: its size when empty) with zeroed slots when all are
 * used; -ENOMEM.  The slot is not marked used: the caller fills it in.
 */
ssize_t slot_take_sized(void **table, size_t *n, size_t elem_size, size_t first);

#define slot_take(table, n, first)                                                                       \
	__extension__({                                                                                  \
		_Static_assert(offsetof(__typeof__(**(table)), used) == 0, "a slot begins with `used`"); \
		slot_take_sized((void **)(table), (n), sizeof(**(table)), (first));                      \
	})

#endif
