/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_UD_H
#define UBINFMT_UD_H

#include <stdint.h>

/*
 * io_uring user_data: an 8-bit op tag, a 24-bit generation and a 32-bit slot index.  No
 * pointers travel through the ring; a completion for a slot that was reused since carries a
 * stale generation and is dropped.  Pure.
 */

#define UD_GEN_MASK 0xffffffu

static inline uint64_t ud_pack(uint8_t op, uint32_t gen, uint32_t slot)
{
	return (uint64_t)op << 56 | (uint64_t)(gen & UD_GEN_MASK) << 32 | slot;
}

static inline uint8_t ud_op(uint64_t ud)
{
	return (uint8_t)(ud >> 56);
}

static inline uint32_t ud_gen(uint64_t ud)
{
	return (uint32_t)(ud >> 32) & UD_GEN_MASK;
}

static inline uint32_t ud_slot(uint64_t ud)
{
	return (uint32_t)ud;
}

#endif
