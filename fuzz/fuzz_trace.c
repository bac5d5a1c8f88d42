/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for trace_format(): the trace line carries two sandbox-controlled strings
 * (the exec path as given, and the file it resolved to, whose name the sandbox chose), and
 * whoever reads --trace --json or `ubinfmt trace` parses each line as one JSON object.  Checked,
 * for buffer sizes from the input and for the engine's own 2048 bytes:
 *
 *  - the line is exactly the returned length, ends with its only '\n', and fits the buffer;
 *  - JSON: it parses (json-c) as one object with every documented field, and "path" and
 *    "resolved" decode to a prefix of the record's strings (bytes >= 0x80 come back as
 *    U+0080..U+00FF) — the whole strings in 4 KiB when the emulator path is short;
 *  - text: no control byte and no unescaped quote inside the quoted fields.
 *
 * Input: byte 0 flags (bit 0 JSON, bit 1 an emulator), bytes 1-2 buffer size, byte 3 arch,
 * byte 4 decision, bytes 5-8 error, then NUL-separated path, resolved and emulator strings.
 *
 *   clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -Icommon -Isupervisor \
 *         fuzz/fuzz_trace.c supervisor/trace.c supervisor/arch.c $(pkg-config --cflags --libs json-c)
 */
#include <json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ENGINE_LINE 2048 /* engine.c finish() and daemon/clients.c */

static void take_string(const uint8_t **p, size_t *left, char *dst, size_t cap)
{
	const uint8_t *nul = memchr(*p, '\0', *left);
	size_t n = nul ? (size_t)(nul - *p) : *left;

	memcpy(dst, *p, n < cap - 1 ? n : cap - 1);
	dst[n < cap - 1 ? n : cap - 1] = '\0';
	*p += n + (nul ? 1 : 0);
	*left -= n + (nul ? 1 : 0);
}

/* json-c's UTF-8 back to the bytes it escaped (\u00XX for XX >= 0x80); false if not that. */
static bool latin1_prefix(const char *decoded, const char *orig, bool whole)
{
	const unsigned char *d = (const unsigned char *)decoded;
	const unsigned char *o = (const unsigned char *)orig;

	while (*d) {
		unsigned c = *d++;
		if (c >= 0x80) {
			if ((c & 0xe0) != 0xc0 || (*d & 0xc0) != 0x80)
				return false;
			c = (c & 0x1f) << 6 | (*d++ & 0x3f);
		}
		if (*o++ != c)
			return false;
	}
	return !whole || *o == '\0';
}

static void check_json(const char *line, size_t n, const struct trace_record *r, bool whole)
{
	static const char *const fields[] = { "time", "pid",	  "syscall",  "path",  "resolved",
					      "arch", "decision", "emulator", "error", "usec" };
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o, *v;

	if (!tok)
		abort();
	/* The whole line but its '\n' is the object, and nothing else. */
	o = json_tokener_parse_ex(tok, line, (int)n - 1);
	if (!o || json_tokener_get_error(tok) != json_tokener_success || json_tokener_get_parse_end(tok) != n - 1 ||
	    !json_object_is_type(o, json_type_object))
		abort();
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!json_object_object_get_ex(o, fields[i], NULL))
			abort();
	if (!json_object_object_get_ex(o, "path", &v) || !latin1_prefix(json_object_get_string(v), r->path, whole))
		abort();
	if (!json_object_object_get_ex(o, "resolved", &v) ||
	    !latin1_prefix(json_object_get_string(v), r->resolved, whole))
		abort();
	json_object_put(o);
	json_tokener_free(tok);
}

static void check_text(const char *line, size_t n)
{
	bool in_quote = false;

	for (size_t i = 0; i + 1 < n; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c < 0x20 || c == 0x7f)
			abort();
		if (c == '\\' && in_quote) {
			i++; /* the escaped byte */
			continue;
		}
		if (c == '\'')
			in_quote = !in_quote;
	}
}

static void one(const struct trace_record *r, bool json, size_t bufsize)
{
	char *buf = malloc(bufsize);
	size_t n;

	if (!buf)
		abort();
	n = trace_format(r, json, buf, bufsize);
	if (bufsize < 64) {
		if (n != 0)
			abort();
		free(buf);
		return;
	}
	if (n == 0 || n >= bufsize || buf[n] != '\0' || strlen(buf) != n || buf[n - 1] != '\n' ||
	    memchr(buf, '\n', n - 1))
		abort();
	/*
	 * Big enough for every fixed field: the line must be complete.  With 4 KiB and an emulator
	 * path of a sane length, the sandbox's strings must come out whole (2 x 1532 bytes at
	 * worst once escaped).
	 */
	if (bufsize >= 512) {
		bool whole = bufsize >= 4096 && (!r->emulator || strlen(r->emulator) <= 80);
		if (json)
			check_json(buf, n, r, whole);
		else
			check_text(buf, n);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char emulator[4096];
	struct trace_record r = {
		.time_ns = 1795782600123456789ull,
		.pid = 4242,
		.syscall = "execveat",
	};
	const uint8_t *p = data;
	size_t left = size;
	uint8_t hdr[9] = { 0 };

	memcpy(hdr, data, size < sizeof(hdr) ? size : sizeof(hdr));
	p += size < sizeof(hdr) ? size : sizeof(hdr);
	left -= size < sizeof(hdr) ? size : sizeof(hdr);
	bool json = hdr[0] & 1;
	size_t bufsize = (size_t)(hdr[1] | hdr[2] << 8) % 8192;
	r.arch = (enum arch)(hdr[3] % (ARCH_MAX + 2));
	r.decision = (enum decision)(hdr[4] % (DECISION_MAX + 2));
	memcpy(&r.error, hdr + 5, sizeof(r.error));
	r.usec = (uint64_t)r.error * 1000003u;

	/* As the engine fills them: trace_copy() of the sandbox's strings. */
	char tmp[4096];
	take_string(&p, &left, tmp, sizeof(tmp));
	trace_copy(r.path, sizeof(r.path), tmp);
	take_string(&p, &left, tmp, sizeof(tmp));
	trace_copy(r.resolved, sizeof(r.resolved), tmp);
	take_string(&p, &left, emulator, sizeof(emulator));
	if (hdr[0] & 2)
		r.emulator = emulator;

	one(&r, json, bufsize);
	one(&r, json, ENGINE_LINE);
	one(&r, json, 8192);
	return 0;
}
