/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json_escape.h"
#include "macros.h"
#include "trace.h"

const char *decision_name(enum decision d)
{
	static const char *const names[DECISION_MAX] = {
		[DECISION_NATIVE] = "native",		[DECISION_EMULATE] = "emulate",
		[DECISION_NO_EMULATOR] = "no-emulator", [DECISION_HOST_BINFMT] = "host-binfmt",
		[DECISION_KERNEL] = "kernel",		[DECISION_DENIED] = "denied",
		[DECISION_FAILED] = "failed",
	};

	return d < DECISION_MAX ? names[d] : "?";
}

void trace_copy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * One byte of a sandbox string as it is printed: json.h's escapes, or in text mode C-like ones
 * (quotes and backslashes backslashed, controls and DEL as \xXX, other bytes as they are).
 */
static size_t escape(unsigned char c, bool json, char out[JSON_ESCAPE_MAX])
{
	if (json)
		return json_escape_byte(c, out);
	if (c == '"' || c == '\\' || c == '\'') {
		out[0] = '\\';
		out[1] = (char)c;
		return 2;
	}
	if (c < 0x20 || c == 0x7f)
		return (size_t)snprintf(out, JSON_ESCAPE_MAX, "\\x%02x", c);
	out[0] = (char)c;
	return 1;
}

/* Bytes s takes quoted and escaped, quotes included. */
static size_t quoted_len(const char *s, bool json)
{
	char e[JSON_ESCAPE_MAX];
	size_t n = 2;

	for (; *s; s++)
		n += escape((unsigned char)*s, json, e);
	return n;
}

/*
 * A line under construction: pos never passes size - 2, so that the '\n' and the NUL always
 * fit; what does not fit is dropped.
 */
struct line {
	char *buf;
	size_t size, pos;
};

static void put_bytes(struct line *l, const char *s, size_t n)
{
	n = MIN(n, l->size - 2 - l->pos);
	memcpy(l->buf + l->pos, s, n);
	l->pos += n;
}

/*
 * Appends s quoted in at most max bytes: when it does not fit, it is cut after a whole escape
 * and still closed, so a JSON line stays valid JSON.
 */
static void put_quoted(struct line *l, const char *s, bool json, size_t max)
{
	char q = json ? '"' : '\'', e[JSON_ESCAPE_MAX];
	size_t used = 2;

	if (max < 2)
		return;
	put_bytes(l, &q, 1);
	for (; *s; s++) {
		size_t n = escape((unsigned char)*s, json, e);
		if (used + n > max)
			break;
		put_bytes(l, e, n);
		used += n;
	}
	put_bytes(l, &q, 1);
}

/* The same without quotes, for the emulator's host path in text lines. */
static void put_escaped(struct line *l, const char *s, size_t max)
{
	char e[JSON_ESCAPE_MAX];
	size_t used = 0;

	for (; *s; s++) {
		size_t n = escape((unsigned char)*s, false, e);
		if (used + n > max)
			break;
		put_bytes(l, e, n);
		used += n;
	}
}

/*
 * Sandbox strings can be long (a path of 255 control characters is 1.5 KiB escaped): share out
 * the room left by the fixed fields so that the shorter strings come out whole and the longer
 * ones are cut to equal shares.
 */
static void share(const size_t want[3], size_t room, size_t give[3])
{
	size_t order[3] = { 0, 1, 2 };

	for (size_t i = 0; i < 3; i++)
		for (size_t j = i + 1; j < 3; j++)
			if (want[order[j]] < want[order[i]]) {
				size_t t = order[i];
				order[i] = order[j];
				order[j] = t;
			}
	for (size_t k = 0; k < 3; k++) {
		size_t i = order[k];
		give[i] = MIN(want[i], room / (3 - k));
		room -= give[i];
	}
}

size_t trace_format(const struct trace_record *r, bool json, char *buf, size_t size)
{
	char when[32], head[192], mid1[32], mid2[96], tail[128];
	time_t secs = (time_t)(r->time_ns / 1000000000u);
	uint64_t usec_part = (r->time_ns % 1000000000u) / 1000u;
	struct line l = { .buf = buf, .size = size };
	size_t want[3], give[3], fixed;
	struct tm tm;

	if (size < 64)
		return 0;
	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	if (json) {
		snprintf(head, sizeof(head),
			 "{\"time\":\"%s.%06" PRIu64 "Z\",\"pid\":%d,\"syscall\":\"%s\",\"path\":", when, usec_part,
			 (int)r->pid, r->syscall);
		snprintf(mid1, sizeof(mid1), ",\"resolved\":");
		snprintf(mid2, sizeof(mid2), ",\"arch\":\"%s\",\"decision\":\"%s\",\"emulator\":", arch_name(r->arch),
			 decision_name(r->decision));
		snprintf(tail, sizeof(tail), ",\"error\":%d,\"usec\":%" PRIu64 ",\"cpu_usec\":%" PRIu64 "}", r->error,
			 r->usec, r->cpu_usec);
		want[2] = r->emulator ? quoted_len(r->emulator, true) : strlen("null");
	} else {
		snprintf(head, sizeof(head), "%s.%06" PRIu64 "Z pid=%d %s path=", when, usec_part, (int)r->pid,
			 r->syscall);
		snprintf(mid1, sizeof(mid1), " resolved=");
		snprintf(mid2, sizeof(mid2), " arch=%s decision=%s emulator=", arch_name(r->arch),
			 decision_name(r->decision));
		if (r->error)
			snprintf(tail, sizeof(tail), " error=%d usec=%" PRIu64 " cpu_usec=%" PRIu64, r->error, r->usec,
				 r->cpu_usec);
		else
			snprintf(tail, sizeof(tail), " usec=%" PRIu64 " cpu_usec=%" PRIu64, r->usec, r->cpu_usec);
		want[2] = quoted_len(r->emulator ? r->emulator : "-", false) - 2;
	}
	want[0] = quoted_len(r->path, json);
	want[1] = quoted_len(r->resolved, json);
	fixed = strlen(head) + strlen(mid1) + strlen(mid2) + strlen(tail);
	/* A buffer too small even for the fixed fields gives a line cut short (but one line). */
	share(want, size - 2 > fixed ? size - 2 - fixed : 0, give);

	put_bytes(&l, head, strlen(head));
	put_quoted(&l, r->path, json, give[0]);
	put_bytes(&l, mid1, strlen(mid1));
	put_quoted(&l, r->resolved, json, give[1]);
	put_bytes(&l, mid2, strlen(mid2));
	if (json && r->emulator)
		put_quoted(&l, r->emulator, true, give[2]);
	else if (json)
		put_bytes(&l, "null", give[2]);
	else
		put_escaped(&l, r->emulator ? r->emulator : "-", give[2]);
	put_bytes(&l, tail, strlen(tail));
	buf[l.pos++] = '\n';
	buf[l.pos] = '\0';
	return l.pos;
}
