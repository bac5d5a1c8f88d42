/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the pure half of the exec rewrite: rewrite_build_argv() with a caller
 * argv, a path and a #! chain chosen by the input (the sandbox chooses all three: its argv,
 * the path it execs and the #! lines of its scripts), then rewrite_layout() of the result at
 * a stack top, pointer size and buffer size also chosen by the input.  Checked:
 *
 *  - the argv is what binfmt_script would build, level by level, put behind
 *    [emu, "-0", A[0], P] (model_argv below, an independent simulation); -E2BIG exactly when
 *    cap is too small, -ELOOP exactly for a chain deeper than rw_chain holds;
 *  - the layout writes only inside the buffer it is given (a heap block of exactly that
 *    size), returns -E2BIG when it is too small, -EOVERFLOW when the block does not fit below
 *    top or an address does not fit the pointer size, -EINVAL for a bad pointer size;
 *  - a successful block is 16-byte aligned, ends at or below top, decodes to the same argv
 *    (each entry the caller's address or the address of an equal string inside the block),
 *    is NULL-terminated, and its "" string is inside the block.
 *
 * Input layout (all little-endian, short input reads as zeros):
 *   byte 0: caller argc (0..63), byte 1: chain depth (0..10), byte 2: flags (bit 0: path is
 *   one of ours, not an address; bits 1-2: pointer size 4, 8, or a bad one), byte 3: cap slack,
 *   bytes 4..11: stack top, bytes 12..13: buffer size, byte 14: which chain levels have an
 *   argument; then NUL-separated strings: emulator name, path, interp[0], arg[0], interp[1]…
 *
 *   clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -Icommon -Isupervisor \
 *         fuzz/fuzz_rewrite.c supervisor/rewrite.c -o fuzz_rewrite
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rewrite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGC 64
#define MAX_DEPTH 10
#define MODEL_MAX (MAX_ARGC + 3 * MAX_DEPTH + 8)

struct reader {
	const uint8_t *p;
	size_t left;
};

static uint64_t take(struct reader *r, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t b = 0;
		if (r->left) {
			b = *r->p++;
			r->left--;
		}
		v |= (uint64_t)b << (8 * i);
	}
	return v;
}

/* The next NUL-terminated string of the input, copied (the rest of it when no NUL follows). */
static char *take_string(struct reader *r)
{
	const uint8_t *nul = memchr(r->p, '\0', r->left);
	size_t n = nul ? (size_t)(nul - r->p) : r->left;
	char *s = malloc(n + 1);

	if (!s)
		abort();
	memcpy(s, r->p, n);
	s[n] = '\0';
	r->p += n + (nul ? 1 : 0);
	r->left -= n + (nul ? 1 : 0);
	return s;
}

static bool arg_eq(struct rw_arg a, struct rw_arg b)
{
	if (a.addr || b.addr)
		return a.addr == b.addr;
	return strcmp(a.str, b.str) == 0;
}

/*
 * binfmt_script, one level at a time: the file P with argv A becomes the interpreter with
 * argv [interp, (arg), P, A[1..]], and P becomes the interpreter.  Then the emulator's argv is
 * [emu, "-0", A[0], P, A[1..]].  An empty caller argv counts as [""].
 */
static size_t model_argv(const char *emu, struct rw_arg path, const uint64_t *argv, size_t argc,
			 const struct rw_chain *chain, struct rw_arg *out)
{
	struct rw_arg a[MODEL_MAX], next[MODEL_MAX], p = path;
	size_t n = 0, na;

	if (argc == 0) {
		a[0] = (struct rw_arg){ .str = "" };
		na = 1;
	} else {
		for (na = 0; na < argc; na++)
			a[na] = (struct rw_arg){ .addr = argv[na] };
	}
	for (size_t level = 0; level < chain->depth; level++) {
		size_t m = 0;
		next[m++] = (struct rw_arg){ .str = chain->interp[level] };
		if (chain->arg[level])
			next[m++] = (struct rw_arg){ .str = chain->arg[level] };
		next[m++] = p;
		for (size_t i = 1; i < na; i++)
			next[m++] = a[i];
		memcpy(a, next, m * sizeof(*a));
		na = m;
		p = (struct rw_arg){ .str = chain->interp[level] };
	}
	out[n++] = (struct rw_arg){ .str = emu };
	out[n++] = (struct rw_arg){ .str = "-0" };
	out[n++] = a[0];
	out[n++] = p;
	for (size_t i = 1; i < na; i++)
		out[n++] = a[i];
	return n;
}

static uint64_t get_ptr(const uint8_t *p, unsigned ptr_size)
{
	uint64_t v = 0;

	memcpy(&v, p, ptr_size); /* little-endian host */
	return v;
}

static void check_layout(const struct rw_arg *args, size_t n, unsigned ptr_size, uint64_t top, size_t bufsize)
{
	uint8_t *buf = malloc(bufsize ? bufsize : 1);
	struct rw_block blk;
	int r;

	if (!buf)
		abort();
	memset(&blk, 0x5a, sizeof(blk));
	r = rewrite_layout(args, n, ptr_size, top, buf, bufsize, &blk);
	if (ptr_size != 4 && ptr_size != 8) {
		if (r != -EINVAL)
			abort();
		goto out;
	}
	size_t need = rewrite_block_size(args, n, ptr_size);
	uint64_t limit = ptr_size == 4 ? UINT32_MAX : UINT64_MAX;
	bool addr_too_big = false;
	for (size_t i = 0; i < n; i++)
		if (args[i].addr > limit)
			addr_too_big = true;
	if (top < need + 16 || top > limit) {
		if (r != -EOVERFLOW)
			abort();
		goto out;
	}
	uint64_t base = (top - need) & ~(uint64_t)15;
	if (bufsize < top - base) {
		if (r != -E2BIG)
			abort();
		goto out;
	}
	/* Strings we add live in the block, below top: their addresses fit when top does. */
	if (addr_too_big) {
		if (r != -EOVERFLOW)
			abort();
		goto out;
	}
	if (r != 0)
		abort();
	if (blk.base != base || blk.base % 16 != 0 || blk.len != top - base || blk.argv_addr != base ||
	    blk.empty_addr < base + (n + 1) * ptr_size || blk.empty_addr >= top || buf[blk.empty_addr - base] != '\0')
		abort();
	for (size_t i = 0; i < n; i++) {
		uint64_t v = get_ptr(buf + i * ptr_size, ptr_size);
		if (args[i].addr) {
			if (v != args[i].addr)
				abort();
			continue;
		}
		size_t l = strlen(args[i].str) + 1;
		if (v < base + (n + 1) * ptr_size || v + l > top || memcmp(buf + (v - base), args[i].str, l) != 0)
			abort();
	}
	if (get_ptr(buf + n * ptr_size, ptr_size) != 0)
		abort();
out:
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader rd = { data, size };
	size_t argc = take(&rd, 1) % MAX_ARGC;
	size_t depth = take(&rd, 1) % (MAX_DEPTH + 1);
	unsigned flags = (unsigned)take(&rd, 1);
	size_t slack = take(&rd, 1);
	uint64_t top = take(&rd, 8);
	size_t bufsize = take(&rd, 2);
	unsigned has_arg = (unsigned)take(&rd, 1);
	unsigned ptr_sizes[4] = { 8, 4, 8, 6 };
	unsigned ptr_size = ptr_sizes[flags >> 1 & 3];
	uint64_t mask = ptr_size == 4 ? UINT32_MAX : UINT64_MAX;
	char *strings[2 + 2 * MAX_DEPTH] = { 0 };
	uint64_t argv[MAX_ARGC];
	struct rw_chain chain = { .depth = depth };
	struct rw_arg path, model[MODEL_MAX], *out;
	size_t n_model, cap;
	int n;

	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		strings[i] = take_string(&rd);
	/* Caller addresses: non-zero (the array ends at NULL), derived from top so they vary. */
	for (size_t i = 0; i < argc; i++) {
		uint64_t v = ((top >> (i % 48)) + 0x1000 + i * 8) & mask;
		argv[i] = v ? v : 1;
	}
	path = flags & 1 ? (struct rw_arg){ .str = strings[1] } : (struct rw_arg){ .addr = (top | 1) & mask };
	for (size_t i = 0; i < depth && i < 8; i++) {
		chain.interp[i] = strings[2 + 2 * i];
		chain.arg[i] = has_arg & (1u << i) ? strings[3 + 2 * i] : NULL;
	}

	cap = slack % (MODEL_MAX + 1);
	out = malloc((cap ? cap : 1) * sizeof(*out));
	if (!out)
		abort();
	n = rewrite_build_argv(strings[0], path, argv, argc, &chain, out, cap);
	if (depth > 8) {
		if (n != -ELOOP)
			abort();
		goto out;
	}
	n_model = model_argv(strings[0], path, argv, argc, &chain, model);
	if (n_model > cap) {
		if (n != -E2BIG)
			abort();
		goto out;
	}
	if (n < 0 || (size_t)n != n_model)
		abort();
	for (size_t i = 0; i < n_model; i++)
		if (!arg_eq(out[i], model[i]) || (!out[i].addr && !out[i].str))
			abort();

	check_layout(out, (size_t)n, ptr_size, top, bufsize);
	/* The engine's own sizing: rewrite_block_size() + 16 must always be enough. */
	if (ptr_size != 6)
		check_layout(out, (size_t)n, ptr_size, top, rewrite_block_size(out, (size_t)n, ptr_size) + 16);
out:
	free(out);
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		free(strings[i]);
	return 0;
}
