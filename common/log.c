/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "macros.h"

static enum log_level log_level = LOG_WARN;
static const char *log_program = "ubinfmt";

void log_set_level(enum log_level level)
{
	log_level = level < LOG_LEVEL_MAX ? level : LOG_TRACE;
}

enum log_level log_get_level(void)
{
	return log_level;
}

void log_set_program(const char *name)
{
	log_program = name;
}

int log_parse_level(const char *s, enum log_level *ret_level)
{
	static const char *const names[LOG_LEVEL_MAX] = { "error", "warn", "info", "debug", "trace" };

	for (int i = 0; i < LOG_LEVEL_MAX; i++) {
		if (strcmp(s, names[i]) == 0 || (s[0] == '0' + i && s[1] == '\0')) {
			*ret_level = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void log_setup(const char *program)
{
	const char *s = getenv("UBINFMT_LOG");
	enum log_level level;

	log_set_program(program);
	if (!s || !*s)
		return;
	if (log_parse_level(s, &level) < 0) {
		log_warn("UBINFMT_LOG='%.32s' is not a log level (error, warn, info, debug, trace), ignoring", s);
		return;
	}
	log_set_level(level);
}

void log_more_verbose(void)
{
	if (log_level < LOG_TRACE)
		log_level++;
}

/* One byte of a message as it is printed: itself, or an escape that is not a control byte. */
static size_t escape_byte(unsigned char c, char out[5])
{
	static const char hex[] = "0123456789abcdef";
	char named = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : c == '\\' ? '\\' : 0;

	if (named) {
		out[0] = '\\';
		out[1] = named;
		return 2;
	}
	if (c < 0x20 || c == 0x7f) {
		out[0] = '\\';
		out[1] = 'x';
		out[2] = hex[c >> 4];
		out[3] = hex[c & 0xf];
		return 4;
	}
	out[0] = (char)c;
	return 1;
}

size_t log_escape(char *dst, size_t size, const char *src)
{
	static const char cut_mark[] = "...";
	size_t total = 0, pos = 0, room = size - 1;
	char e[5];

	for (const char *s = src; *s; s++)
		total += escape_byte((unsigned char)*s, e);
	/* Cut short: keep room for the mark, so that a reader knows the line does not end there. */
	if (total > room)
		room = room > strlen(cut_mark) ? room - strlen(cut_mark) : 0;
	for (const char *s = src; *s; s++) {
		size_t n = escape_byte((unsigned char)*s, e);
		if (pos + n > room)
			break;
		memcpy(dst + pos, e, n);
		pos += n;
	}
	if (total > size - 1) {
		size_t m = MIN(strlen(cut_mark), size - 1 - pos);
		memcpy(dst + pos, cut_mark, m);
		pos += m;
	}
	dst[pos] = '\0';
	return pos;
}

void log_emit(enum log_level level, int err, const char *fmt, ...)
{
	static const char *const prefixes[LOG_LEVEL_MAX] = { "error", "warning", "info", "debug", "trace" };
	/* A message as formatted (paths are cut to a few hundred bytes by their callers), and the
	 * line, with room for it escaped: a path of control bytes grows fourfold. */
	char msg[2048], line[4096];
	va_list ap;
	int n;

	/* %m in fmt means the error passed in, not whatever errno happens to hold. */
	if (err < 0)
		errno = -err;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		msg[0] = '\0';
	else if ((size_t)n >= sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4); /* cut by vsnprintf: say so */
	n = snprintf(line, sizeof(line), "%s[%d] %s: ", log_program, (int)getpid(),
		     prefixes[level < LOG_LEVEL_MAX ? level : LOG_TRACE]);
	if (n < 0 || (size_t)n >= sizeof(line) / 2)
		n = 0;
	/* The '\n' always fits: it is the only line end this call writes. */
	size_t len = (size_t)n + log_escape(line + n, sizeof(line) - 1 - (size_t)n, msg);
	line[len++] = '\n';
	/* One write per line, so concurrent writers do not interleave mid-line. */
	(void)!write(STDERR_FILENO, line, len);
}
