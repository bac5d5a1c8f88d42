/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "fdpass.h"
#include "proto.h"

/* ---- sample messages: every type, empty and full-size fields ---- */

/* Longest valid strings; one spare byte lets a test make each one byte too long. */
static char id_max[PROTO_MAX_ID_LEN + 2];
static char option_max[PROTO_MAX_OPTION_LEN + 2];
static char line_max[PROTO_MAX_LINE_LEN + 2];
static char version_max[PROTO_MAX_VERSION_LEN + 2];
static char error_max[PROTO_MAX_ERROR_LEN + 2];
/* 31 options of 2044 bytes and one of 2049 make a HELLO of exactly PROTO_MAX_MSG bytes. */
static char options_big[PROTO_MAX_OPTIONS][2050];
static char status_ids[PROTO_MAX_STATUS][16];

static struct proto_msg samples[32];
static size_t n_samples;
/* Index of the sample whose encoding is exactly PROTO_MAX_MSG bytes. */
static size_t sample_max;

static void fill(char *s, size_t n, const char *alphabet)
{
	size_t k = strlen(alphabet);

	for (size_t i = 0; i < n; i++)
		s[i] = alphabet[i % k];
	s[n] = '\0';
}

static struct proto_msg *add(enum proto_type type)
{
	struct proto_msg *m = &samples[n_samples++];

	assert_true(n_samples <= sizeof(samples) / sizeof(samples[0]));
	memset(m, 0, sizeof(*m));
	m->type = type;
	return m;
}

static int setup_samples(void **state)
{
	struct proto_msg *m;

	(void)state;
	fill(id_max, PROTO_MAX_ID_LEN, "Az09._-");
	fill(option_max, PROTO_MAX_OPTION_LEN, "aarch64=/usr/bin/qemu-aarch64-static:");
	fill(line_max, PROTO_MAX_LINE_LEN, "pid=42 execve path='/bin/sh' ");
	fill(version_max, PROTO_MAX_VERSION_LEN, "0.1.0-");
	fill(error_max, PROTO_MAX_ERROR_LEN, "no such sandbox ");
	n_samples = 0;

	m = add(PROTO_MSG_HELLO);
	m->hello = (struct proto_hello){ .pid = 1,
					 .flags = PROTO_HELLO_F_TRACE | PROTO_HELLO_F_REATTACH,
					 .role = PROTO_ROLE_AGENT,
					 .id = "build-42.arm_64",
					 .n_options = 2,
					 .options = { "aarch64=/opt/qemu-aarch64", "riscv64=/opt/qemu-riscv64" } };
	m = add(PROTO_MSG_HELLO);
	m->hello = (struct proto_hello){ .pid = 4242, .role = PROTO_ROLE_CLI, .id = "" };
	m = add(PROTO_MSG_HELLO);
	m->hello = (struct proto_hello){ .pid = INT32_MAX,
					 .flags = PROTO_HELLO_F_KNOWN,
					 .role = PROTO_ROLE_OCI,
					 .id = id_max,
					 .n_options = 1,
					 .options = { option_max } };
	m = add(PROTO_MSG_HELLO);
	m->hello = (struct proto_hello){ .pid = 7, .role = PROTO_ROLE_AGENT, .id = "", .n_options = PROTO_MAX_OPTIONS };
	for (size_t i = 0; i < PROTO_MAX_OPTIONS; i++) {
		fill(options_big[i], i + 1 < PROTO_MAX_OPTIONS ? 2044 : 2049, i % 2 ? "x=/y" : "k=v");
		m->hello.options[i] = options_big[i];
	}
	sample_max = n_samples - 1;

	m = add(PROTO_MSG_HELLO_ACK);
	m->hello_ack = (struct proto_hello_ack){ .status = 0, .version = "ubinfmt 0.1.0", .id = "sbx1" };
	m = add(PROTO_MSG_HELLO_ACK);
	m->hello_ack = (struct proto_hello_ack){ .status = -EBUSY, .version = version_max, .id = "" };
	m = add(PROTO_MSG_HELLO_ACK);
	m->hello_ack = (struct proto_hello_ack){ .status = -4095, .version = "", .id = id_max };

	m = add(PROTO_MSG_LISTENER);
	m->listener = (struct proto_listener){ .id = "c", .pid = 1 };
	m = add(PROTO_MSG_LISTENER);
	m->listener = (struct proto_listener){ .id = id_max, .pid = INT32_MAX };

	m = add(PROTO_MSG_ATTACH);
	m->attach.pid = 0x01020304;

	add(PROTO_MSG_STATUS_REQ);

	add(PROTO_MSG_STATUS);
	m = add(PROTO_MSG_STATUS);
	m->status.more = true;
	m->status.n = PROTO_MAX_STATUS;
	for (size_t i = 0; i < PROTO_MAX_STATUS; i++) {
		struct proto_status_entry *e = &m->status.sandboxes[i];

		snprintf(status_ids[i], sizeof(status_ids[i]), "sandbox-%zu", i);
		*e = (struct proto_status_entry){ .id = i == 5 ? id_max : status_ids[i],
						  .init_pid = (uint32_t)i,
						  .listeners = (uint32_t)i % 3,
						  .native = i * 1000003u,
						  .emulated = UINT64_MAX - i,
						  .failed = i,
						  .kernel = (uint64_t)i << 40,
						  .p50_ns = 1000 + i,
						  .p99_ns = UINT64_MAX,
						  .abandoned = i * 7,
						  .owner_uid = (uint32_t)(i * 65537u),
						  .origin = (enum proto_origin)(i % PROTO_ORIGIN_MAX) };
	}

	m = add(PROTO_MSG_TRACE_SUB);
	m->trace_sub = (struct proto_trace_sub){ .json = true, .id = "" };
	m = add(PROTO_MSG_TRACE_SUB);
	m->trace_sub = (struct proto_trace_sub){ .json = false, .id = "only.this-one" };

	m = add(PROTO_MSG_TRACE_LINE);
	m->trace_line = (struct proto_trace_line){ .id = "a", .line = "pid=1 execve '/bin/ls' native\n" };
	m = add(PROTO_MSG_TRACE_LINE);
	m->trace_line = (struct proto_trace_line){ .id = "", .line = line_max };
	m = add(PROTO_MSG_TRACE_LINE);
	m->trace_line = (struct proto_trace_line){ .id = "b", .line = "" };

	m = add(PROTO_MSG_STATS);
	for (size_t i = 0; i < PROTO_STAT_MAX; i++)
		m->stats.counters[i] = i == 3 ? UINT64_MAX : 0x0102030405060708ull * (i + 1);
	add(PROTO_MSG_STATS);

	m = add(PROTO_MSG_ERROR);
	m->error = (struct proto_error){ .error = -EPERM, .message = "attach: operation not permitted" };
	m = add(PROTO_MSG_ERROR);
	m->error = (struct proto_error){ .error = -4095, .message = error_max };
	m = add(PROTO_MSG_ERROR);
	m->error = (struct proto_error){ .error = -1, .message = "" };

	add(PROTO_MSG_BYE);
	return 0;
}

/* ---- helpers ---- */

static uint8_t wire[PROTO_MAX_MSG + 64];

static size_t encode_ok(const struct proto_msg *m, uint8_t *buf)
{
	int n = proto_encode(m, buf, PROTO_MAX_MSG);

	if (n < 0)
		fail_msg("encoding a %s sample failed: %d", proto_type_name(m->type), n);
	assert_true(n >= PROTO_HDR_SIZE && n <= PROTO_MAX_MSG);
	return (size_t)n;
}

/*
 * Decodes a private heap copy of exactly len bytes, so that ASan reports any read past the end,
 * and checks that the explanation of a failure is never empty.  When want is given, the message
 * must decode and equal it (compared before the copy is freed: strings point into it).
 */
static int decode_tight(const uint8_t *buf, size_t len, const struct proto_msg *want)
{
	uint8_t *copy = malloc(len ? len : 1);
	static struct proto_msg got;
	char why[256];
	int r;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	r = proto_decode(copy, len, &got);
	if (r < 0) {
		proto_strerror(r, copy, len, why, sizeof(why));
		assert_true(why[0] != '\0');
	}
	if (want) {
		if (r < 0)
			fail_msg("decoding a %s sample failed: %s", proto_type_name(want->type), why);
		assert_true(proto_msg_equal(&got, want));
	}
	free(copy);
	return r;
}

static void set_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void set_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A hand-built message, for what the encoder refuses to produce. */
struct raw {
	uint8_t buf[PROTO_MAX_MSG + 64];
	size_t len;
};

static struct raw rawbuf;

static void raw_bytes(struct raw *r, const void *p, size_t n)
{
	assert_true(r->len + n <= sizeof(r->buf));
	memcpy(r->buf + r->len, p, n);
	r->len += n;
}

static void raw_u16(struct raw *r, uint16_t v)
{
	uint8_t b[2];

	set_le16(b, v);
	raw_bytes(r, b, 2);
}

static void raw_u32(struct raw *r, uint32_t v)
{
	uint8_t b[4];

	set_le32(b, v);
	raw_bytes(r, b, 4);
}

static void raw_u64(struct raw *r, uint64_t v)
{
	raw_u32(r, (uint32_t)v);
	raw_u32(r, (uint32_t)(v >> 32));
}

static void raw_str(struct raw *r, const char *s)
{
	raw_u16(r, (uint16_t)strlen(s));
	raw_bytes(r, s, strlen(s) + 1);
}

static struct raw *raw_begin(uint16_t type)
{
	struct raw *r = &rawbuf;

	r->len = 0;
	raw_u32(r, PROTO_MAGIC);
	raw_u16(r, PROTO_VERSION);
	raw_u16(r, type);
	raw_u32(r, 0);
	return r;
}

/* Sets the header's length to what was built. */
static size_t raw_end(struct raw *r)
{
	set_le32(r->buf + 8, (uint32_t)(r->len - PROTO_HDR_SIZE));
	return r->len;
}

static void raw_status_entry(struct raw *r, uint16_t size, uint32_t init_pid, const char *id)
{
	raw_u16(r, size);
	raw_u32(r, init_pid);
	raw_u32(r, 1);
	for (int i = 0; i < 6; i++)
		raw_u64(r, (uint64_t)i);
	raw_str(r, id);
}

static int decode_raw(struct raw *r)
{
	return decode_tight(r->buf, raw_end(r), NULL);
}

static const char *explain(int err, const uint8_t *buf, size_t len)
{
	static char out[256];

	return proto_strerror(err, buf, len, out, sizeof(out));
}

/* ---- codec tests ---- */

static void test_round_trip(void **state)
{
	static uint8_t again[PROTO_MAX_MSG];
	struct proto_msg got;
	bool seen[PROTO_MSG_MAX] = { false };

	(void)state;
	for (size_t i = 0; i < n_samples; i++) {
		size_t len = encode_ok(&samples[i], wire);
		struct proto_hdr h;

		assert_int_equal(proto_decode_hdr(wire, len, &h), 0);
		assert_int_equal(h.magic, PROTO_MAGIC);
		assert_int_equal(h.version, PROTO_VERSION);
		assert_int_equal(h.type, samples[i].type);
		assert_int_equal(h.length, len - PROTO_HDR_SIZE);
		assert_int_equal(decode_tight(wire, len, &samples[i]), 0);
		/* The encoding is canonical: what decodes re-encodes to the same bytes. */
		assert_int_equal(proto_decode(wire, len, &got), 0);
		assert_int_equal(proto_encode(&got, again, sizeof(again)), (int)len);
		assert_memory_equal(again, wire, len);
		seen[samples[i].type] = true;
	}
	for (int t = 1; t < PROTO_MSG_MAX; t++)
		if (!seen[t])
			fail_msg("no sample of type %s", proto_type_name((enum proto_type)t));
	assert_int_equal(encode_ok(&samples[sample_max], wire), PROTO_MAX_MSG);
	/* The samples are all different, and proto_msg_equal sees it. */
	for (size_t i = 0; i < n_samples; i++)
		for (size_t j = 0; j < n_samples; j++)
			assert_int_equal(proto_msg_equal(&samples[i], &samples[j]), i == j);
}

/* The layout is the documented one, byte for byte. */
static void test_wire_layout(void **state)
{
	static const uint8_t attach[] = { 'U', 'B', 'F', 'M', 1, 0, PROTO_MSG_ATTACH, 0, 4, 0, 0, 0, 4, 3, 2, 1 };
	static const uint8_t hello[] = {
		'U', 'B', 'F', 'M', 1,	 0,   PROTO_MSG_HELLO,
		0,   23,  0,   0,   0,	 7,   0,
		0,   0,		       /* pid */
		1,   0,	  0,   0,      /* flags: trace */
		1,   0,		       /* role: agent */
		2,   0,	  'a', 'b', 0, /* id */
		1,   0,	  3,   0,   'x', '=', 'y',
		0, /* options */
	};
	static const uint8_t error[] = { 'U',  'B', 'F', 'M', 1,   0, PROTO_MSG_ERROR, 0, 9, 0, 0, 0, 0xff, 0xff, 0xff,
					 0xff, 2,   0,	 'n', 'o', 0 };
	struct proto_msg m = { .type = PROTO_MSG_ATTACH, .attach.pid = 0x01020304 };
	uint8_t buf[64];

	(void)state;
	assert_int_equal(proto_encode(&m, buf, sizeof(buf)), sizeof(attach));
	assert_memory_equal(buf, attach, sizeof(attach));

	m = (struct proto_msg){ .type = PROTO_MSG_HELLO,
				.hello = { .pid = 7,
					   .flags = PROTO_HELLO_F_TRACE,
					   .role = PROTO_ROLE_AGENT,
					   .id = "ab",
					   .n_options = 1,
					   .options = { "x=y" } } };
	assert_int_equal(proto_encode(&m, buf, sizeof(buf)), sizeof(hello));
	assert_memory_equal(buf, hello, sizeof(hello));
	assert_int_equal(decode_tight(hello, sizeof(hello), &m), 0);

	m = (struct proto_msg){ .type = PROTO_MSG_ERROR, .error = { .error = -1, .message = "no" } };
	assert_int_equal(proto_encode(&m, buf, sizeof(buf)), sizeof(error));
	assert_memory_equal(buf, error, sizeof(error));

	/* NULL strings encode as "". */
	m = (struct proto_msg){ .type = PROTO_MSG_TRACE_LINE };
	assert_int_equal(proto_encode(&m, buf, sizeof(buf)), PROTO_HDR_SIZE + 6);
	assert_int_equal(proto_decode(buf, PROTO_HDR_SIZE + 6, &m), 0);
	assert_string_equal(m.trace_line.id, "");
	assert_string_equal(m.trace_line.line, "");
}

/* Every prefix of every message fails, as sent (length disagrees) and with a matching length. */
static void test_truncation(void **state)
{
	(void)state;
	for (size_t i = 0; i < n_samples; i++) {
		size_t len = encode_ok(&samples[i], wire);
		/* The 64 KiB sample: its prefixes are tried at a stride, the others exhaustively. */
		size_t step = len > 8192 ? 61 : 1;

		for (size_t cut = 0; cut < len; cut += step) {
			assert_int_equal(decode_tight(wire, cut, NULL), -EPROTO);
			if (cut < PROTO_HDR_SIZE)
				continue;
			set_le32(wire + 8, (uint32_t)(cut - PROTO_HDR_SIZE));
			if (decode_tight(wire, cut, NULL) != -EPROTO)
				fail_msg("%s cut to %zu bytes of %zu decoded", proto_type_name(samples[i].type), cut,
					 len);
			set_le32(wire + 8, (uint32_t)(len - PROTO_HDR_SIZE));
		}
	}
}

/* Fields appended by a newer revision are skipped, at the end of a payload and of a STATUS entry. */
static void test_trailing_bytes(void **state)
{
	struct proto_msg want = { .type = PROTO_MSG_STATUS };
	struct raw *r;

	(void)state;
	for (size_t i = 0; i < n_samples; i++) {
		size_t len = encode_ok(&samples[i], wire);

		if (i == sample_max)
			continue;
		for (size_t extra = 1; extra <= 9; extra += 4) {
			memset(wire + len, 0xa5, extra);
			set_le32(wire + 8, (uint32_t)(len + extra - PROTO_HDR_SIZE));
			assert_int_equal(decode_tight(wire, len + extra, &samples[i]), 0);
		}
	}
	/* A full-size message cannot grow. */
	encode_ok(&samples[sample_max], wire);
	wire[PROTO_MAX_MSG] = 0;
	set_le32(wire + 8, PROTO_MAX_MSG + 1 - PROTO_HDR_SIZE);
	assert_int_equal(decode_tight(wire, PROTO_MAX_MSG + 1, NULL), -EMSGSIZE);

	r = raw_begin(PROTO_MSG_STATUS);
	raw_u32(r, 0);
	raw_u16(r, 2);
	raw_status_entry(r, 56 + 2 + 4 + 3, 9, "abc");
	raw_bytes(r, "new", 3);
	raw_status_entry(r, 56 + 2 + 4, 10, "xyz");
	want.status.n = 2;
	want.status.sandboxes[0] = (struct proto_status_entry){ .id = "abc",
								.init_pid = 9,
								.listeners = 1,
								.emulated = 1,
								.failed = 2,
								.kernel = 3,
								.p50_ns = 4,
								.p99_ns = 5 };
	want.status.sandboxes[1] = want.status.sandboxes[0];
	want.status.sandboxes[1].id = "xyz";
	want.status.sandboxes[1].init_pid = 10;
	assert_int_equal(decode_tight(r->buf, raw_end(r), &want), 0);
}

/*
 * STATUS entries of each revision: without the cpu times, without the owner, with it, and with
 * an origin from a newer daemon, which reads as unknown instead of failing the whole message.
 */
static void test_status_revisions(void **state)
{
	struct proto_msg want = { .type = PROTO_MSG_STATUS };
	struct raw *r;

	(void)state;
	r = raw_begin(PROTO_MSG_STATUS);
	raw_u32(r, 0);
	raw_u16(r, 4);
	raw_status_entry(r, 56 + 6, 1, "old");
	raw_status_entry(r, 56 + 6 + 24, 2, "abn");
	raw_u64(r, 7);
	raw_u64(r, 8);
	raw_u64(r, 9);
	raw_status_entry(r, 56 + 6 + 24 + 6, 3, "own");
	raw_u64(r, 7);
	raw_u64(r, 8);
	raw_u64(r, 9);
	raw_u32(r, 1000);
	raw_u16(r, PROTO_ORIGIN_AGENT);
	raw_status_entry(r, 56 + 6 + 24 + 6 + 2, 4, "new");
	raw_u64(r, 7);
	raw_u64(r, 8);
	raw_u64(r, 9);
	raw_u32(r, 0);
	raw_u16(r, 77);
	raw_u16(r, 0xffff);
	want.status.n = 4;
	for (size_t i = 0; i < 4; i++)
		want.status.sandboxes[i] = (struct proto_status_entry){ .init_pid = (uint32_t)i + 1,
									.listeners = 1,
									.emulated = 1,
									.failed = 2,
									.kernel = 3,
									.p50_ns = 4,
									.p99_ns = 5 };
	want.status.sandboxes[0].id = "old";
	want.status.sandboxes[1].id = "abn";
	want.status.sandboxes[2].id = "own";
	want.status.sandboxes[3].id = "new";
	for (size_t i = 1; i < 4; i++) {
		want.status.sandboxes[i].native_cpu_ns = 7;
		want.status.sandboxes[i].foreign_cpu_ns = 8;
		want.status.sandboxes[i].abandoned = 9;
	}
	want.status.sandboxes[2].owner_uid = 1000;
	want.status.sandboxes[2].origin = PROTO_ORIGIN_AGENT;
	want.status.sandboxes[3].origin = PROTO_ORIGIN_UNKNOWN;
	assert_int_equal(decode_tight(r->buf, raw_end(r), &want), 0);
}

static void test_bad_magic(void **state)
{
	size_t len;

	(void)state;
	len = encode_ok(&samples[0], wire);
	for (size_t i = 0; i < 4; i++) {
		wire[i] ^= 0x20;
		assert_int_equal(decode_tight(wire, len, NULL), -EPROTO);
		assert_non_null(strstr(explain(-EPROTO, wire, len), "not a ubinfmt message"));
		wire[i] ^= 0x20;
	}
	/* Someone else's protocol, e.g. an OCI runtime's JSON on the wrong socket. */
	assert_int_equal(decode_tight((const uint8_t *)"{\"ociVersion\":\"1.0.2\"}", 22, NULL), -EPROTO);
}

static void test_bad_version(void **state)
{
	static const uint16_t versions[] = { 0, 2, 7, 0x100, 0xffff };
	struct proto_hdr h;
	size_t len;

	(void)state;
	len = encode_ok(&samples[0], wire);
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		set_le16(wire + 4, versions[i]);
		assert_int_equal(decode_tight(wire, len, NULL), -EPROTONOSUPPORT);
		assert_int_equal(proto_decode_hdr(wire, len, &h), -EPROTONOSUPPORT);
	}
	set_le16(wire + 4, 7);
	assert_string_equal(explain(-EPROTONOSUPPORT, wire, len),
			    "peer speaks protocol version 7, this ubinfmt speaks 1: upgrade this ubinfmt");
	set_le16(wire + 4, 0);
	assert_string_equal(explain(-EPROTONOSUPPORT, wire, len),
			    "peer speaks protocol version 0, this ubinfmt speaks 1: upgrade the peer");
	/* The version is judged before the size: a newer peer may send larger messages. */
	set_le16(wire + 4, 2);
	set_le32(wire + 8, UINT32_MAX);
	assert_int_equal(decode_tight(wire, len, NULL), -EPROTONOSUPPORT);
}

static void test_bad_type(void **state)
{
	static const uint16_t types[] = { 0, PROTO_MSG_MAX, PROTO_MSG_MAX + 1, 0x8000, 0xffff };
	size_t len;

	(void)state;
	len = encode_ok(&(struct proto_msg){ .type = PROTO_MSG_BYE }, wire);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		set_le16(wire + 6, types[i]);
		assert_int_equal(decode_tight(wire, len, NULL), -EPROTO);
	}
	assert_non_null(strstr(explain(-EPROTO, wire, len), "unknown message type 65535"));
	assert_int_equal(proto_encode(&(struct proto_msg){ .type = 0 }, wire, sizeof(wire)), -EINVAL);
	assert_int_equal(proto_encode(&(struct proto_msg){ .type = PROTO_MSG_MAX }, wire, sizeof(wire)), -EINVAL);
}

static void test_lying_length(void **state)
{
	static uint8_t big[PROTO_MAX_MSG + 2];
	struct proto_msg untouched, probe;
	size_t len;

	(void)state;
	len = encode_ok(&samples[0], wire);
	/* Claims more than arrived, a little, a lot, more than any message. */
	static const uint32_t more[] = { 1, 1000, PROTO_MAX_MSG };
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
		set_le32(wire + 8, (uint32_t)(len - PROTO_HDR_SIZE + more[i]));
		assert_int_not_equal(decode_tight(wire, len, NULL), 0);
	}
	set_le32(wire + 8, (uint32_t)(len - PROTO_HDR_SIZE + 1));
	assert_int_equal(decode_tight(wire, len, NULL), -EPROTO);
	assert_non_null(strstr(explain(-EPROTO, wire, len), "header announces"));
	set_le32(wire + 8, UINT32_MAX);
	assert_int_equal(decode_tight(wire, len, NULL), -EMSGSIZE);
	set_le32(wire + 8, PROTO_MAX_MSG - PROTO_HDR_SIZE + 1);
	assert_int_equal(decode_tight(wire, len, NULL), -EMSGSIZE);
	/* Claims less than arrived. */
	set_le32(wire + 8, (uint32_t)(len - PROTO_HDR_SIZE - 1));
	assert_int_equal(decode_tight(wire, len, NULL), -EPROTO);
	/* An honest length below the type's minimum. */
	assert_int_equal(decode_raw(raw_begin(PROTO_MSG_ATTACH)), -EPROTO);
	assert_string_equal(explain(-EPROTO, rawbuf.buf, rawbuf.len),
			    "malformed ATTACH message: pid: the message ends inside it");
	assert_int_equal(decode_raw(raw_begin(PROTO_MSG_HELLO)), -EPROTO);
	assert_int_equal(decode_raw(raw_begin(PROTO_MSG_STATS)), -EPROTO);
	/* Empty messages stay empty-compatible: BYE with nothing is fine. */
	assert_int_equal(decode_raw(raw_begin(PROTO_MSG_BYE)), 0);

	/* A datagram over the limit, even with an honest header. */
	memset(big, 0, sizeof(big));
	memcpy(big, wire, PROTO_HDR_SIZE);
	set_le16(big + 6, PROTO_MSG_BYE);
	set_le32(big + 8, PROTO_MAX_MSG + 1 - PROTO_HDR_SIZE);
	assert_int_equal(decode_tight(big, PROTO_MAX_MSG + 1, NULL), -EMSGSIZE);
	assert_non_null(strstr(explain(-EMSGSIZE, big, PROTO_MAX_MSG + 1), "over the 65536-byte limit"));
	set_le32(big + 8, PROTO_MAX_MSG - PROTO_HDR_SIZE);
	assert_int_equal(decode_tight(big, PROTO_MAX_MSG, NULL), 0);

	/* Failures leave the output alone. */
	memset(&untouched, 0x5a, sizeof(untouched));
	probe = untouched;
	set_le32(wire + 8, 0);
	assert_int_equal(proto_decode(wire, len, &probe), -EPROTO);
	assert_memory_equal(&probe, &untouched, sizeof(probe));
	assert_int_equal(proto_decode(wire, 3, &probe), -EPROTO);
	assert_memory_equal(&probe, &untouched, sizeof(probe));
	assert_int_equal(proto_decode(NULL, 0, &probe), -EPROTO);
}

static void test_strings(void **state)
{
	static const char *const bad_ids[] = { "a/b", "a b", "caf\xc3\xa9", ".", "..", "a\n", "x:y", "$HOME" };
	struct raw *r;

	(void)state;
	/* Not NUL-terminated: the byte after the string is not 0. */
	r = raw_begin(PROTO_MSG_TRACE_LINE);
	raw_str(r, "a");
	raw_u16(r, 3);
	raw_bytes(r, "abcd", 4);
	assert_int_equal(decode_raw(r), -EPROTO);
	assert_string_equal(explain(-EPROTO, r->buf, r->len), "malformed TRACE_LINE message: line: not NUL-terminated");
	/* A NUL inside. */
	r = raw_begin(PROTO_MSG_TRACE_LINE);
	raw_str(r, "a");
	raw_u16(r, 3);
	raw_bytes(r, "a\0c", 4);
	assert_int_equal(decode_raw(r), -EPROTO);
	assert_non_null(strstr(explain(-EPROTO, r->buf, r->len), "contains a NUL byte"));
	/* Length running past the end, with and without the terminator's room. */
	r = raw_begin(PROTO_MSG_TRACE_LINE);
	raw_str(r, "a");
	raw_u16(r, 5);
	raw_bytes(r, "abcde", 5);
	assert_int_equal(decode_raw(r), -EPROTO);
	r = raw_begin(PROTO_MSG_TRACE_LINE);
	raw_str(r, "a");
	raw_u16(r, 0xffff);
	raw_bytes(r, "abc", 4);
	assert_int_equal(decode_raw(r), -EPROTO);
	/* One byte over each limit, while fully present and terminated. */
	line_max[PROTO_MAX_LINE_LEN] = 'x';
	r = raw_begin(PROTO_MSG_TRACE_LINE);
	raw_str(r, "a");
	raw_u16(r, PROTO_MAX_LINE_LEN + 1);
	raw_bytes(r, line_max, PROTO_MAX_LINE_LEN + 1);
	raw_bytes(r, "", 1);
	line_max[PROTO_MAX_LINE_LEN] = '\0';
	assert_int_equal(decode_raw(r), -EPROTO);
	assert_non_null(strstr(explain(-EPROTO, r->buf, r->len), "line: longer than its limit"));
	r = raw_begin(PROTO_MSG_LISTENER);
	raw_u16(r, PROTO_MAX_ID_LEN + 1);
	raw_bytes(r, id_max, PROTO_MAX_ID_LEN);
	raw_bytes(r, "a", 2);
	raw_u32(r, 1);
	assert_int_equal(decode_raw(r), -EPROTO);
	r = raw_begin(PROTO_MSG_ERROR);
	raw_u32(r, (uint32_t)-EIO);
	raw_u16(r, PROTO_MAX_ERROR_LEN + 1);
	raw_bytes(r, error_max, PROTO_MAX_ERROR_LEN);
	raw_bytes(r, "!", 2);
	assert_int_equal(decode_raw(r), -EPROTO);
	r = raw_begin(PROTO_MSG_HELLO_ACK);
	raw_u32(r, 0);
	raw_u16(r, PROTO_MAX_VERSION_LEN + 1);
	raw_bytes(r, version_max, PROTO_MAX_VERSION_LEN);
	raw_bytes(r, "!", 2);
	raw_str(r, "");
	assert_int_equal(decode_raw(r), -EPROTO);
	r = raw_begin(PROTO_MSG_HELLO);
	raw_u32(r, 1);
	raw_u32(r, 0);
	raw_u16(r, PROTO_ROLE_AGENT);
	raw_str(r, "");
	raw_u16(r, 1);
	option_max[PROTO_MAX_OPTION_LEN] = 'x';
	raw_str(r, option_max);
	option_max[PROTO_MAX_OPTION_LEN] = '\0';
	assert_int_equal(decode_raw(r), -EPROTO);

	/* Sandbox ids: bad characters, "." and "..", empty where one is needed. */
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		r = raw_begin(PROTO_MSG_LISTENER);
		raw_str(r, bad_ids[i]);
		raw_u32(r, 1);
		assert_int_equal(decode_raw(r), -EPROTO);
		r = raw_begin(PROTO_MSG_TRACE_SUB);
		raw_u32(r, 0);
		raw_str(r, bad_ids[i]);
		assert_int_equal(decode_raw(r), -EPROTO);
		assert_false(proto_id_valid(bad_ids[i]));
		assert_int_equal(proto_encode(&(struct proto_msg){ .type = PROTO_MSG_LISTENER,
								   .listener = { .id = bad_ids[i], .pid = 1 } },
					      wire, sizeof(wire)),
				 -EINVAL);
	}
	assert_string_equal(explain(-EPROTO, r->buf, r->len),
			    "malformed TRACE_SUB message: sandbox id is not 1 to 64 bytes of [A-Za-z0-9._-]");
	r = raw_begin(PROTO_MSG_LISTENER);
	raw_str(r, "");
	raw_u32(r, 1);
	assert_int_equal(decode_raw(r), -EPROTO);
	r = raw_begin(PROTO_MSG_STATUS);
	raw_u32(r, 0);
	raw_u16(r, 1);
	raw_status_entry(r, 56 + 2 + 1, 1, "");
	assert_int_equal(decode_raw(r), -EPROTO);
	r = raw_begin(PROTO_MSG_TRACE_SUB);
	raw_u32(r, 0);
	raw_str(r, "");
	assert_int_equal(decode_raw(r), 0);
}

static void test_counts(void **state)
{
	struct proto_msg m;
	struct raw *r;

	(void)state;
	/* 33 options, all present and valid. */
	r = raw_begin(PROTO_MSG_HELLO);
	raw_u32(r, 1);
	raw_u32(r, 0);
	raw_u16(r, PROTO_ROLE_AGENT);
	raw_str(r, "x");
	raw_u16(r, PROTO_MAX_OPTIONS + 1);
	for (int i = 0; i <= PROTO_MAX_OPTIONS; i++)
		raw_str(r, "a=b");
	assert_int_equal(decode_raw(r), -EPROTO);
	assert_string_equal(explain(-EPROTO, r->buf, r->len),
			    "malformed HELLO message: option count: more than 32 options");
	/* More options claimed than present. */
	r = raw_begin(PROTO_MSG_HELLO);
	raw_u32(r, 1);
	raw_u32(r, 0);
	raw_u16(r, PROTO_ROLE_AGENT);
	raw_str(r, "x");
	raw_u16(r, 3);
	raw_str(r, "a=b");
	raw_str(r, "c=d");
	assert_int_equal(decode_raw(r), -EPROTO);

	/* 129 sandboxes. */
	r = raw_begin(PROTO_MSG_STATUS);
	raw_u32(r, 0);
	raw_u16(r, PROTO_MAX_STATUS + 1);
	for (int i = 0; i <= PROTO_MAX_STATUS; i++)
		raw_status_entry(r, 56 + 2 + 2, 1, "s");
	assert_int_equal(decode_raw(r), -EPROTO);
	/* Entries that lie about their size: too small for the known fields, or past the end. */
	r = raw_begin(PROTO_MSG_STATUS);
	raw_u32(r, 0);
	raw_u16(r, 1);
	raw_status_entry(r, 56, 1, "s");
	assert_int_equal(decode_raw(r), -EPROTO);
	r = raw_begin(PROTO_MSG_STATUS);
	raw_u32(r, 0);
	raw_u16(r, 1);
	raw_status_entry(r, 56 + 2 + 2 + 1, 1, "s");
	assert_int_equal(decode_raw(r), -EPROTO);
	r = raw_begin(PROTO_MSG_STATUS);
	raw_u32(r, 0);
	raw_u16(r, 2);
	raw_status_entry(r, 56 + 2 + 2, 1, "s");
	assert_int_equal(decode_raw(r), -EPROTO);
	/* An entry whose string ends outside the entry but inside the message. */
	r = raw_begin(PROTO_MSG_STATUS);
	raw_u32(r, 0);
	raw_u16(r, 1);
	raw_status_entry(r, 56 + 2 + 1, 1, "s");
	assert_int_equal(decode_raw(r), -EPROTO);

	/* Counters: over the wire limit; a newer peer's extra ones; an older peer's fewer. */
	r = raw_begin(PROTO_MSG_STATS);
	raw_u16(r, PROTO_MAX_STATS_WIRE + 1);
	for (int i = 0; i <= PROTO_MAX_STATS_WIRE; i++)
		raw_u64(r, 1);
	assert_int_equal(decode_raw(r), -EPROTO);
	r = raw_begin(PROTO_MSG_STATS);
	raw_u16(r, PROTO_MAX_STATS_WIRE);
	for (int i = 0; i < PROTO_MAX_STATS_WIRE; i++)
		raw_u64(r, (uint64_t)i + 100);
	assert_int_equal(proto_decode(r->buf, raw_end(r), &m), 0);
	for (int i = 0; i < PROTO_STAT_MAX; i++)
		assert_int_equal(m.stats.counters[i], i + 100);
	r = raw_begin(PROTO_MSG_STATS);
	raw_u16(r, 2);
	raw_u64(r, 5);
	raw_u64(r, 6);
	assert_int_equal(proto_decode(r->buf, raw_end(r), &m), 0);
	assert_int_equal(m.stats.counters[0], 5);
	assert_int_equal(m.stats.counters[1], 6);
	for (int i = 2; i < PROTO_STAT_MAX; i++)
		assert_int_equal(m.stats.counters[i], 0);
	r = raw_begin(PROTO_MSG_STATS);
	raw_u16(r, 3);
	raw_u64(r, 5);
	raw_u64(r, 6);
	assert_int_equal(decode_raw(r), -EPROTO);
}

/* Numbers outside their meaning: roles, flags, pids, errnos. */
static void test_values(void **state)
{
	static const uint16_t roles[] = { 0, PROTO_ROLE_MAX, 0xffff };
	static const uint32_t pids[] = { 0, (uint32_t)INT32_MAX + 1, UINT32_MAX };
	struct raw *r;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		r = raw_begin(PROTO_MSG_HELLO);
		raw_u32(r, 1);
		raw_u32(r, 0);
		raw_u16(r, roles[i]);
		raw_str(r, "");
		raw_u16(r, 0);
		assert_int_equal(decode_raw(r), -EPROTO);

		r = raw_begin(PROTO_MSG_HELLO);
		raw_u32(r, pids[i]);
		raw_u32(r, 0);
		raw_u16(r, PROTO_ROLE_CLI);
		raw_str(r, "");
		raw_u16(r, 0);
		assert_int_equal(decode_raw(r), -EPROTO);
		r = raw_begin(PROTO_MSG_ATTACH);
		raw_u32(r, pids[i]);
		assert_int_equal(decode_raw(r), -EPROTO);
		r = raw_begin(PROTO_MSG_LISTENER);
		raw_str(r, "s");
		raw_u32(r, pids[i]);
		assert_int_equal(decode_raw(r), -EPROTO);
	}
	r = raw_begin(PROTO_MSG_HELLO);
	raw_u32(r, 1);
	raw_u32(r, PROTO_HELLO_F_KNOWN + 1);
	raw_u16(r, PROTO_ROLE_CLI);
	raw_str(r, "");
	raw_u16(r, 0);
	assert_int_equal(decode_raw(r), -EPROTO);
	assert_string_equal(explain(-EPROTO, r->buf, r->len), "malformed HELLO message: flags unknown to this version");
	r = raw_begin(PROTO_MSG_STATUS);
	raw_u32(r, 2);
	raw_u16(r, 0);
	assert_int_equal(decode_raw(r), -EPROTO);
	r = raw_begin(PROTO_MSG_TRACE_SUB);
	raw_u32(r, 2);
	raw_str(r, "");
	assert_int_equal(decode_raw(r), -EPROTO);
	/* STATUS allows init pid 0 (unknown), not beyond pid_t. */
	r = raw_begin(PROTO_MSG_STATUS);
	raw_u32(r, 0);
	raw_u16(r, 1);
	raw_status_entry(r, 56 + 2 + 2, 0, "s");
	assert_int_equal(decode_raw(r), 0);
	r = raw_begin(PROTO_MSG_STATUS);
	raw_u32(r, 0);
	raw_u16(r, 1);
	raw_status_entry(r, 56 + 2 + 2, (uint32_t)INT32_MAX + 1, "s");
	assert_int_equal(decode_raw(r), -EPROTO);
	/* Status 0 or -errno; an error is never 0. */
	static const int32_t acks[] = { 1, INT32_MAX, -4096, INT32_MIN };
	for (size_t i = 0; i < sizeof(acks) / sizeof(acks[0]); i++) {
		r = raw_begin(PROTO_MSG_HELLO_ACK);
		raw_u32(r, (uint32_t)acks[i]);
		raw_str(r, "v");
		raw_str(r, "");
		assert_int_equal(decode_raw(r), -EPROTO);
		r = raw_begin(PROTO_MSG_ERROR);
		raw_u32(r, (uint32_t)acks[i]);
		raw_str(r, "m");
		assert_int_equal(decode_raw(r), -EPROTO);
	}
	r = raw_begin(PROTO_MSG_ERROR);
	raw_u32(r, 0);
	raw_str(r, "m");
	assert_int_equal(decode_raw(r), -EPROTO);
}

/* The encoder refuses what no decoder accepts, and never writes past the buffer. */
static void test_encode_limits(void **state)
{
	/* clang-format off */
	static const struct proto_msg bad[] = {
		{ .type = PROTO_MSG_HELLO, .hello = { .pid = 1, .role = 0 } },
		{ .type = PROTO_MSG_HELLO, .hello = { .pid = 1, .role = PROTO_ROLE_MAX } },
		{ .type = PROTO_MSG_HELLO, .hello = { .pid = 0, .role = PROTO_ROLE_CLI } },
		{ .type = PROTO_MSG_HELLO, .hello = { .pid = 1, .role = PROTO_ROLE_CLI, .flags = 1u << 31 } },
		{ .type = PROTO_MSG_HELLO, .hello = { .pid = 1, .role = PROTO_ROLE_CLI, .id = "a b" } },
		{ .type = PROTO_MSG_HELLO,
		  .hello = { .pid = 1, .role = PROTO_ROLE_CLI, .n_options = PROTO_MAX_OPTIONS + 1 } },
		{ .type = PROTO_MSG_HELLO_ACK, .hello_ack = { .status = 1 } },
		{ .type = PROTO_MSG_HELLO_ACK, .hello_ack = { .id = "." } },
		{ .type = PROTO_MSG_LISTENER, .listener = { .id = NULL, .pid = 1 } },
		{ .type = PROTO_MSG_LISTENER, .listener = { .id = "ok", .pid = (uint32_t)INT32_MAX + 1 } },
		{ .type = PROTO_MSG_ATTACH, .attach = { .pid = 0 } },
		{ .type = PROTO_MSG_STATUS, .status = { .n = PROTO_MAX_STATUS + 1 } },
		{ .type = PROTO_MSG_STATUS, .status = { .n = 1, .sandboxes = { { .id = "" } } } },
		{ .type = PROTO_MSG_ERROR, .error = { .error = 0 } },
		{ .type = PROTO_MSG_ERROR, .error = { .error = -4096 } },
	};
	/* clang-format on */
	struct proto_msg m;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (proto_encode(&bad[i], wire, sizeof(wire)) != -EINVAL)
			fail_msg("bad message %zu encoded", i);

	/* Strings one byte over their limits. */
	line_max[PROTO_MAX_LINE_LEN] = 'x';
	m = (struct proto_msg){ .type = PROTO_MSG_TRACE_LINE, .trace_line = { .line = line_max } };
	assert_int_equal(proto_encode(&m, wire, sizeof(wire)), -EINVAL);
	line_max[PROTO_MAX_LINE_LEN] = '\0';
	option_max[PROTO_MAX_OPTION_LEN] = 'x';
	m = (struct proto_msg){ .type = PROTO_MSG_HELLO,
				.hello = {
					.pid = 1, .role = PROTO_ROLE_CLI, .n_options = 1, .options = { option_max } } };
	assert_int_equal(proto_encode(&m, wire, sizeof(wire)), -EINVAL);
	option_max[PROTO_MAX_OPTION_LEN] = '\0';
	version_max[PROTO_MAX_VERSION_LEN] = 'x';
	m = (struct proto_msg){ .type = PROTO_MSG_HELLO_ACK, .hello_ack = { .version = version_max } };
	assert_int_equal(proto_encode(&m, wire, sizeof(wire)), -EINVAL);
	version_max[PROTO_MAX_VERSION_LEN] = '\0';
	error_max[PROTO_MAX_ERROR_LEN] = 'x';
	m = (struct proto_msg){ .type = PROTO_MSG_ERROR, .error = { .error = -EIO, .message = error_max } };
	assert_int_equal(proto_encode(&m, wire, sizeof(wire)), -EINVAL);
	error_max[PROTO_MAX_ERROR_LEN] = '\0';

	/* Too big for PROTO_MAX_MSG, even into a larger buffer: 32 options of 4096 bytes. */
	m = (struct proto_msg){ .type = PROTO_MSG_HELLO,
				.hello = { .pid = 1, .role = PROTO_ROLE_AGENT, .n_options = PROTO_MAX_OPTIONS } };
	for (int i = 0; i < PROTO_MAX_OPTIONS; i++)
		m.hello.options[i] = option_max;
	assert_int_equal(proto_encode(&m, wire, sizeof(wire)), -EMSGSIZE);
	/* The full-size sample plus one byte. */
	m = samples[sample_max];
	m.hello.id = "x";
	assert_int_equal(proto_encode(&m, wire, sizeof(wire)), -EMSGSIZE);

	/* Every buffer size below the message's length, into an exact heap buffer. */
	for (size_t i = 0; i < n_samples; i++) {
		size_t len = encode_ok(&samples[i], wire);
		size_t step = len > 8192 ? 509 : 1;

		for (size_t size = 0; size < len; size += step) {
			uint8_t *b = malloc(size ? size : 1);

			assert_non_null(b);
			assert_int_equal(proto_encode(&samples[i], b, size), -EMSGSIZE);
			free(b);
		}
	}
	assert_int_equal(proto_encode(&samples[0], NULL, 0), -EMSGSIZE);
}

/* A xorshift64* stream: the same mutations on every run. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/*
 * Random damage to valid messages: flipped bits, special values, bytes cut or added, with the
 * header's length fixed up half the time so that payload parsing is reached.  Whatever still
 * decodes must re-encode and decode to the same message.
 */
static void test_mutation(void **state)
{
	static const uint8_t special[] = { 0, 1, 0x7f, 0x80, 0xff, '.', '/', 0x20 };
	static uint8_t again[PROTO_MAX_MSG];
	static struct proto_msg first, second;
	int decoded = 0, rejected = 0;

	(void)state;
	for (int iter = 0; iter < 200000; iter++) {
		size_t s = rng() % n_samples;
		size_t len;
		int edits = 1 + (int)(rng() % 4);

		if (s == sample_max)
			continue;
		len = encode_ok(&samples[s], wire);
		for (int e = 0; e < edits; e++) {
			size_t at = rng() % len;

			switch (rng() % 5) {
			case 0:
				wire[at] ^= (uint8_t)(1u << (rng() % 8));
				break;
			case 1:
				wire[at] = special[rng() % sizeof(special)];
				break;
			case 2:
				len = at;
				break;
			case 3:
				if (len < PROTO_MAX_MSG)
					wire[len++] = (uint8_t)rng();
				break;
			default:
				if (at + 2 <= len)
					set_le16(wire + at, (uint16_t)rng());
				break;
			}
			if (len == 0)
				break;
		}
		if (len >= PROTO_HDR_SIZE && rng() % 2)
			set_le32(wire + 8, (uint32_t)(len - PROTO_HDR_SIZE));
		if (decode_tight(wire, len, NULL) < 0) {
			rejected++;
			continue;
		}
		decoded++;
		assert_int_equal(proto_decode(wire, len, &first), 0);
		int n = proto_encode(&first, again, sizeof(again));
		/* Never fails: what decoded is within every limit (STATS may grow to all its counters). */
		assert_true(n > 0);
		assert_int_equal(proto_decode(again, (size_t)n, &second), 0);
		assert_true(proto_msg_equal(&first, &second));
	}
	/* Both paths were exercised. */
	assert_true(decoded > 1000);
	assert_true(rejected > 1000);
}

static void test_strerror(void **state)
{
	char small[8];

	(void)state;
	assert_string_equal(explain(-EPROTONOSUPPORT, NULL, 0),
			    "peer speaks another protocol version than this ubinfmt's (1)");
	assert_string_equal(explain(-EMSGSIZE, NULL, 0), "message over the 65536-byte limit");
	assert_string_equal(explain(-EPROTO, NULL, 0), "malformed message, or fds the message does not carry");
	assert_string_equal(explain(-EMFILE, NULL, 0), "too many open files to receive the fds the peer sent");
	assert_string_equal(explain(-ECONNRESET, NULL, 0), strerror(ECONNRESET));
	assert_non_null(strstr(explain(-EPROTO, (const uint8_t *)"UBF", 3), "truncated message: 3 bytes"));
	/* A valid message with an error from elsewhere: the error's own words. */
	size_t len = encode_ok(&samples[0], wire);
	assert_string_equal(explain(-EPIPE, wire, len), strerror(EPIPE));
	/* Always NUL-terminated, even when cut short. */
	set_le16(wire + 4, 7);
	assert_ptr_equal(proto_strerror(-EPROTONOSUPPORT, wire, len, small, sizeof(small)), small);
	assert_string_equal(small, "peer sp");
	assert_ptr_equal(proto_strerror(-EPROTO, wire, len, small, 0), small);
}

static void test_names(void **state)
{
	(void)state;
	for (int t = 1; t < PROTO_MSG_MAX; t++)
		assert_string_not_equal(proto_type_name((enum proto_type)t), "?");
	assert_string_equal(proto_type_name(0), "?");
	assert_string_equal(proto_type_name(PROTO_MSG_MAX), "?");
	assert_string_equal(proto_type_name(PROTO_MSG_TRACE_LINE), "TRACE_LINE");
	assert_string_equal(proto_role_name(PROTO_ROLE_AGENT), "agent");
	assert_string_equal(proto_role_name(PROTO_ROLE_OCI), "oci");
	assert_string_equal(proto_role_name(PROTO_ROLE_MAX), "?");
	assert_int_equal(proto_type_max_fds(PROTO_MSG_LISTENER), 2);
	assert_int_equal(proto_type_max_fds(PROTO_MSG_HELLO), 0);
	assert_true(proto_id_valid("a"));
	assert_true(proto_id_valid("..."));
	assert_true(proto_id_valid("-x"));
	assert_true(proto_id_valid(id_max));
	assert_true(proto_id_valid("4c1a7e2b9d0f4c1a7e2b9d0f4c1a7e2b9d0f4c1a7e2b9d0f4c1a7e2b9d0f1234"));
	assert_false(proto_id_valid(""));
	assert_false(proto_id_valid(NULL));
	id_max[PROTO_MAX_ID_LEN] = 'a';
	assert_false(proto_id_valid(id_max));
	id_max[PROTO_MAX_ID_LEN] = '\0';
}

/* ---- fd passing over a real socketpair ---- */

/* The lowest free fd number: it moves if a test leaks an fd. */
static int lowest_free_fd(void)
{
	int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);

	if (fd < 0)
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	close(fd);
	return fd;
}

static void seqpacket_pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

static void assert_same_file(int a, int b)
{
	struct stat sa, sb;

	assert_int_equal(fstat(a, &sa), 0);
	assert_int_equal(fstat(b, &sb), 0);
	assert_int_equal(sa.st_dev, sb.st_dev);
	assert_int_equal(sa.st_ino, sb.st_ino);
}

static void test_fdpass(void **state)
{
	static uint8_t buf[PROTO_MAX_MSG];
	struct proto_msg m = { .type = PROTO_MSG_LISTENER, .listener = { .id = "sbx", .pid = 1 } };
	struct proto_msg got;
	int sv[2], pipefd[2], fds[PROTO_MAX_FDS];
	size_t n_fds = 99;
	char c = 0;
	int len, n, before;

	(void)state;
	before = lowest_free_fd();
	seqpacket_pair(sv);
	/* Sent without close-on-exec: the received copies must get it from MSG_CMSG_CLOEXEC. */
	assert_int_equal(pipe2(pipefd, 0), 0);
	len = proto_encode(&m, wire, sizeof(wire));
	assert_true(len > 0);
	assert_int_equal(proto_send(sv[0], wire, (size_t)len, pipefd, 2), 0);
	n = proto_recv(sv[1], buf, sizeof(buf), fds, PROTO_MAX_FDS, &n_fds);
	assert_int_equal(n, len);
	assert_int_equal(n_fds, 2);
	assert_int_equal(proto_decode(buf, (size_t)n, &got), 0);
	assert_true(proto_msg_equal(&got, &m));
	for (int i = 0; i < 2; i++) {
		assert_true(fds[i] != pipefd[0] && fds[i] != pipefd[1]);
		assert_int_equal(fcntl(fds[i], F_GETFD), FD_CLOEXEC);
		assert_same_file(fds[i], pipefd[i]);
	}
	/* Same pipe: what goes into the received write end comes out of the original read end. */
	assert_int_equal(write(fds[1], "z", 1), 1);
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	assert_int_equal(c, 'z');
	proto_close_fds(fds, 2);
	assert_int_equal(fds[0], -1);

	/* No fds, full-size message. */
	len = proto_encode(&samples[sample_max], wire, sizeof(wire));
	assert_int_equal(len, PROTO_MAX_MSG);
	assert_int_equal(proto_send(sv[0], wire, (size_t)len, NULL, 0), 0);
	assert_int_equal(proto_recv(sv[1], buf, sizeof(buf), NULL, 0, &n_fds), PROTO_MAX_MSG);
	assert_int_equal(n_fds, 0);
	assert_memory_equal(buf, wire, PROTO_MAX_MSG);

	close(pipefd[0]);
	close(pipefd[1]);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(lowest_free_fd(), before);
}

/* Every error path closes what arrived. */
static void test_fdpass_errors(void **state)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * (PROTO_MAX_FDS + 1))];
	} control;
	uint8_t buf[64];
	int sv[2], fds[PROTO_MAX_FDS + 1], got[PROTO_MAX_FDS];
	size_t n_fds = 77;
	int before;

	(void)state;
	seqpacket_pair(sv);
	before = lowest_free_fd();
	for (int i = 0; i <= PROTO_MAX_FDS; i++)
		fds[i] = sv[0];

	/* More fds than the caller takes. */
	assert_int_equal(proto_send(sv[0], (const uint8_t *)"msg", 3, fds, 2), 0);
	assert_int_equal(proto_recv(sv[1], buf, sizeof(buf), got, 1, &n_fds), -EPROTO);
	assert_int_equal(n_fds, 77);
	assert_int_equal(proto_send(sv[0], (const uint8_t *)"msg", 3, fds, 1), 0);
	assert_int_equal(proto_recv(sv[1], buf, sizeof(buf), NULL, 0, &n_fds), -EPROTO);
	assert_int_equal(lowest_free_fd(), before);

	/* A datagram longer than the buffer, with an fd. */
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(proto_send(sv[0], buf, sizeof(buf), fds, 1), 0);
	assert_int_equal(proto_recv(sv[1], buf, 10, got, 1, &n_fds), -EMSGSIZE);
	assert_int_equal(lowest_free_fd(), before);

	/* More fds than any message carries: the kernel cuts the control data. */
	struct iovec iov = { .iov_base = buf, .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof(control.buf)
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * (PROTO_MAX_FDS + 1));
	memcpy(CMSG_DATA(c), fds, sizeof(int) * (PROTO_MAX_FDS + 1));
	assert_int_equal(sendmsg(sv[0], &mh, 0), 1);
	assert_int_equal(proto_recv(sv[1], buf, sizeof(buf), got, PROTO_MAX_FDS, &n_fds), -EPROTO);
	assert_int_equal(lowest_free_fd(), before);

	/* Out of fd slots: the kernel installs one of two and cuts the rest. */
	struct rlimit old, low;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(proto_send(sv[0], (const uint8_t *)"msg", 3, fds, 2), 0);
	low = old;
	low.rlim_cur = (rlim_t)before + 1;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	int r = proto_recv(sv[1], buf, sizeof(buf), got, 2, &n_fds);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(r, -EMFILE);
	assert_int_equal(lowest_free_fd(), before);

	/* Argument limits. */
	assert_int_equal(proto_send(sv[0], buf, 3, fds, PROTO_MAX_FDS + 1), -EINVAL);
	assert_int_equal(proto_send(sv[0], wire, PROTO_MAX_MSG + 1, NULL, 0), -EMSGSIZE);

	/* Non-blocking and empty: -EAGAIN as is. */
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(proto_recv(sv[1], buf, sizeof(buf), got, 1, &n_fds), -EAGAIN);

	/* Peer credentials of a socketpair: ourselves. */
	struct ucred cred;
	assert_int_equal(proto_peer_cred(sv[1], &cred), 0);
	assert_int_equal(cred.pid, getpid());
	assert_int_equal(cred.uid, getuid());
	assert_int_equal(cred.gid, getgid());

	/* The peer goes away: end of file, and sending fails without SIGPIPE. */
	close(sv[0]);
	assert_int_equal(proto_recv(sv[1], buf, sizeof(buf), got, 1, &n_fds), 0);
	assert_int_equal(n_fds, 0);
	assert_int_equal(proto_send(sv[1], (const uint8_t *)"msg", 3, NULL, 0), -EPIPE);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),	 cmocka_unit_test(test_wire_layout),
		cmocka_unit_test(test_truncation),	 cmocka_unit_test(test_trailing_bytes),
		cmocka_unit_test(test_status_revisions), cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_bad_version),	 cmocka_unit_test(test_bad_type),
		cmocka_unit_test(test_lying_length),	 cmocka_unit_test(test_strings),
		cmocka_unit_test(test_counts),		 cmocka_unit_test(test_values),
		cmocka_unit_test(test_encode_limits),	 cmocka_unit_test(test_mutation),
		cmocka_unit_test(test_strerror),	 cmocka_unit_test(test_names),
		cmocka_unit_test(test_fdpass),		 cmocka_unit_test(test_fdpass_errors),
	};

	return cmocka_run_group_tests_name("proto", tests, setup_samples, NULL);
}
