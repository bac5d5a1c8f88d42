/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "macros.h"
#include "trace.h"

const char *decision_name(enum decision d)
{
	static const char *const names[DECISION_MAX] = {
		[DECISION_NATIVE] = "native",
		[DECISION_EMULATE] = "emulate",
		[DECISION_NO_EMULATOR] = "no-emulator",
		[DECISION_HOST_BINFMT] = "host-binfmt",
		[DECISION_KERNEL] = "kernel",
		[DECISION_DENIED] = "denied",
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

/* Appends s quoted: JSON escapes, or C-like escapes in text mode.  Never overflows. */
static size_t put_quoted(char *buf, size_t size, size_t pos, const char *s, bool json)
{
	if (pos + 1 < size)
		buf[pos++] = json ? '"' : '\'';
	for (; *s && pos + 8 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\' || (!json && c == '\'')) {
			buf[pos++] = '\\';
			buf[pos++] = (char)c;
		} else if (c < 0x20 || c == 0x7f || (json && c >= 0x80)) {
			pos += (size_t)snprintf(buf + pos, size - pos, json ? "\\u%04x" : "\\x%02x", c);
		} else {
			buf[pos++] = (char)c;
		}
	}
	if (pos + 1 < size)
		buf[pos++] = json ? '"' : '\'';
	buf[pos] = '\0';
	return pos;
}

static size_t put(char *buf, size_t size, size_t pos, const char *fmt, ...) _printf_(4, 5);
static size_t put(char *buf, size_t size, size_t pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (pos >= size)
		return pos;
	va_start(ap, fmt);
	n = vsnprintf(buf + pos, size - pos, fmt, ap);
	va_end(ap);
	if (n < 0)
		return pos;
	return MIN(pos + (size_t)n, size - 1);
}

size_t trace_format(const struct trace_record *r, bool json, char *buf, size_t size)
{
	char when[32];
	time_t secs = (time_t)(r->time_ns / 1000000000u);
	struct tm tm;
	size_t pos = 0;

	if (size < 64)
		return 0;
	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	if (json) {
		pos = put(buf, size, pos, "{\"time\":\"%s.%06" PRIu64 "Z\",\"pid\":%d,\"syscall\":\"%s\",\"path\":", when,
			  (r->time_ns % 1000000000u) / 1000u, (int)r->pid, r->syscall);
		pos = put_quoted(buf, size, pos, r->path, true);
		pos = put(buf, size, pos, ",\"resolved\":");
		pos = put_quoted(buf, size, pos, r->resolved, true);
		pos = put(buf, size, pos, ",\"arch\":\"%s\",\"decision\":\"%s\",\"emulator\":", arch_name(r->arch),
			  decision_name(r->decision));
		if (r->emulator)
			pos = put_quoted(buf, size, pos, r->emulator, true);
		else
			pos = put(buf, size, pos, "null");
		pos = put(buf, size, pos, ",\"error\":%d,\"usec\":%" PRIu64 "}\n", r->error, r->usec);
	} else {
		pos = put(buf, size, pos, "%s.%06" PRIu64 "Z pid=%d %s path=", when, (r->time_ns % 1000000000u) / 1000u,
			  (int)r->pid, r->syscall);
		pos = put_quoted(buf, size, pos, r->path, false);
		pos = put(buf, size, pos, " resolved=");
		pos = put_quoted(buf, size, pos, r->resolved, false);
		pos = put(buf, size, pos, " arch=%s decision=%s emulator=%s", arch_name(r->arch),
			  decision_name(r->decision), r->emulator ? r->emulator : "-");
		if (r->error)
			pos = put(buf, size, pos, " error=%d", r->error);
		pos = put(buf, size, pos, " usec=%" PRIu64 "\n", r->usec);
	}
	if (buf[pos - 1] != '\n') {
		/* Truncated: still one line. */
		buf[size - 2] = '\n';
		buf[size - 1] = '\0';
		pos = size - 1;
	}
	return pos;
}
