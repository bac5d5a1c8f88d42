/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "macros.h"
#include "rewrite.h"

static int push(struct rw_arg *out, size_t cap, size_t *n, struct rw_arg a)
{
	if (*n >= cap)
		return -E2BIG;
	out[(*n)++] = a;
	return 0;
}

static struct rw_arg str_arg(const char *s)
{
	return (struct rw_arg){ .addr = 0, .str = s };
}

int rewrite_build_argv(const char *emu_argv0, struct rw_arg path, const uint64_t *caller_argv, size_t caller_argc,
		       const struct rw_chain *chain, struct rw_arg *out, size_t cap)
{
	/*
	 * Each #! level drops argv[0] and puts [interp, (arg), filename] in front, so the final
	 * argv is: the innermost level's prefix, then each outer level's "(arg), filename"
	 * pieces... built here from the inside out without copying the caller's array.
	 */
	size_t depth = chain ? chain->depth : 0;
	size_t n = 0;
	int r;

	if (depth > ARRAY_SIZE(chain->interp))
		return -ELOOP;

	r = push(out, cap, &n, str_arg(emu_argv0));
	if (r < 0)
		return r;
	r = push(out, cap, &n, str_arg("-0"));
	if (r < 0)
		return r;

	if (depth == 0) {
		/* A[0], P, A[1..] */
		r = push(out, cap, &n, caller_argc > 0 ? (struct rw_arg){ .addr = caller_argv[0] } : str_arg(""));
		if (r < 0)
			return r;
		r = push(out, cap, &n, path);
		if (r < 0)
			return r;
	} else {
		/* Innermost interpreter is both argv[0] and the file the emulator opens. */
		r = push(out, cap, &n, str_arg(chain->interp[depth - 1]));
		if (r < 0)
			return r;
		r = push(out, cap, &n, str_arg(chain->interp[depth - 1]));
		if (r < 0)
			return r;
		/* Then, from inner to outer: (arg_i), filename_i where filename_i = interp_{i-1} or path. */
		for (size_t i = depth; i-- > 0;) {
			if (chain->arg[i]) {
				r = push(out, cap, &n, str_arg(chain->arg[i]));
				if (r < 0)
					return r;
			}
			r = push(out, cap, &n, i == 0 ? path : str_arg(chain->interp[i - 1]));
			if (r < 0)
				return r;
		}
	}
	for (size_t i = 1; i < caller_argc; i++) {
		r = push(out, cap, &n, (struct rw_arg){ .addr = caller_argv[i] });
		if (r < 0)
			return r;
	}
	return (int)n;
}

size_t rewrite_block_size(const struct rw_arg *args, size_t n, unsigned ptr_size)
{
	size_t size = (n + 1) * ptr_size + 1; /* array, NULL, "" */

	for (size_t i = 0; i < n; i++)
		if (!args[i].addr)
			size += strlen(args[i].str) + 1;
	return size;
}

static void put_ptr(uint8_t *p, unsigned ptr_size, uint64_t v)
{
	if (ptr_size == 8) {
		memcpy(p, &v, 8);
	} else {
		uint32_t v32 = (uint32_t)v;
		memcpy(p, &v32, 4);
	}
}

int rewrite_layout(const struct rw_arg *args, size_t n, unsigned ptr_size, uint64_t top, uint8_t *buf, size_t size,
		   struct rw_block *ret)
{
	size_t need = rewrite_block_size(args, n, ptr_size);
	uint64_t base, limit = ptr_size == 4 ? UINT32_MAX : UINT64_MAX;

	if (ptr_size != 4 && ptr_size != 8)
		return -EINVAL;
	if (top < need + 16 || top > limit)
		return -EOVERFLOW;
	base = ALIGN_DOWN(top - need, (uint64_t)16);
	if ((uint64_t)size < top - base)
		return -E2BIG;

	size_t len = (size_t)(top - base);
	size_t str_off = (n + 1) * ptr_size;

	memset(buf, 0, len);
	for (size_t i = 0; i < n; i++) {
		uint64_t addr = args[i].addr;
		if (!addr) {
			size_t l = strlen(args[i].str) + 1;
			memcpy(buf + str_off, args[i].str, l);
			addr = base + str_off;
			str_off += l;
		}
		if (addr > limit)
			return -EOVERFLOW;
		put_ptr(buf + i * ptr_size, ptr_size, addr);
	}
	put_ptr(buf + n * ptr_size, ptr_size, 0);
	/* buf[str_off] is already 0: the "" string. */
	*ret = (struct rw_block){
		.base = base,
		.len = len,
		.argv_addr = base,
		.empty_addr = base + str_off,
	};
	return 0;
}
