/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_REWRITE_H
#define UBINFMT_REWRITE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The pure half of the exec rewrite: which argv the emulator gets, and how that argv is laid
 * out as a scratch block in the target's memory.  No syscalls; tested with cmocka.
 */

/* One argv entry: a string already in the target (addr != 0) or one we add (str). */
struct rw_arg {
	uint64_t addr;
	const char *str;
};

/* At most this many entries in a rewritten argv (far beyond the kernel's practical limit). */
#define REWRITE_MAX_ARGS (1u << 20)

/*
 * What the exec would have become after the kernel followed a #! chain, innermost last:
 * interp[i] with optional arg[i] (NULL when none).
 */
struct rw_chain {
	const char *interp[8];
	const char *arg[8];
	size_t depth;
};

/*
 * Builds the emulator's argv into out (cap entries):
 *   [emu_argv0, "-0", A[0], P, A[1..]]
 * where A/P start as the caller's argv (caller_argv, caller_argc entries) and path, and each
 * #! level turns them into A = [interp, (arg), P, A[1..]], P = interp, like binfmt_script.
 * An empty caller argv counts as [""] (the kernel does the same since 5.18).
 * Returns the entry count, or -E2BIG when cap is too small.
 */
int rewrite_build_argv(const char *emu_argv0, struct rw_arg path, const uint64_t *caller_argv, size_t caller_argc,
		       const struct rw_chain *chain, struct rw_arg *out, size_t cap);

struct rw_block {
	uint64_t base;	     /* lowest address of the block, 16-byte aligned */
	size_t len;	     /* bytes to write at base */
	uint64_t argv_addr;  /* the pointer array */
	uint64_t empty_addr; /* a "" string, execveat's path with AT_EMPTY_PATH */
};

/*
 * Lays out args as a block that ends at or below top: the pointer array (ptr_size 4 or 8,
 * NULL-terminated) at base, then the added strings and "".  Writes into buf (size bytes).
 * Returns 0, -E2BIG if buf is too small, -EOVERFLOW if the block would not fit below top or
 * (ptr_size 4) an address would not fit in 32 bits.
 */
int rewrite_layout(const struct rw_arg *args, size_t n, unsigned ptr_size, uint64_t top, uint8_t *buf, size_t size,
		   struct rw_block *ret);

/* Bytes rewrite_layout will need for args (before alignment padding, which adds < 16). */
size_t rewrite_block_size(const struct rw_arg *args, size_t n, unsigned ptr_size);

#endif
