/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the wire decoder: the bytes a hostile agent, client or daemon can send.
 * Whatever decodes must re-encode, decode again to the same message, and re-encode to the same
 * bytes; whatever fails must be explained.  libFuzzer hands over a heap buffer of exactly size
 * bytes, so ASan catches any read past the end.
 *
 *   clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -Icommon -Iproto \
 *         fuzz/fuzz_proto.c proto/proto.c -o fuzz_proto
 *   ./fuzz_proto -max_len=65600 -max_total_time=60 fuzz/corpus-out
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Static: each struct proto_msg is about 8 KiB. */
	static struct proto_msg first, second;
	static uint8_t again[PROTO_MAX_MSG], third[PROTO_MAX_MSG];
	struct proto_hdr h;
	char why[256];
	int r, n;

	r = proto_decode(data, size, &first);
	if (r < 0) {
		if (r != -EPROTO && r != -EPROTONOSUPPORT && r != -EMSGSIZE)
			abort();
		proto_strerror(r, data, size, why, sizeof(why));
		if (why[0] == '\0' || strlen(why) >= sizeof(why))
			abort();
		return 0;
	}
	if (proto_decode_hdr(data, size, &h) != 0 || h.type != (uint16_t)first.type)
		abort();
	n = proto_encode(&first, again, sizeof(again));
	if (n < PROTO_HDR_SIZE)
		abort();
	if (proto_decode(again, (size_t)n, &second) != 0 || !proto_msg_equal(&first, &second))
		abort();
	if (proto_encode(&second, third, sizeof(third)) != n || memcmp(again, third, (size_t)n) != 0)
		abort();
	return 0;
}
