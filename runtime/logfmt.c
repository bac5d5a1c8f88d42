/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "logfmt.h"
#include "macros.h"

DEFINE_CLEANUP(struct json_object *, json_object_put)

/* Appends s to buf as Go's %q would quote it; returns the new length, or size on overflow. */
static size_t quote_go(char *buf, size_t size, size_t len, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	for (const unsigned char *p = (const unsigned char *)s; *p && len < size; p++) {
		char esc[5] = { 0 };
		size_t n;

		switch (*p) {
		case '"':
		case '\\':
			esc[0] = '\\';
			esc[1] = (char)*p;
			break;
		case '\n':
			memcpy(esc, "\\n", 2);
			break;
		case '\r':
			memcpy(esc, "\\r", 2);
			break;
		case '\t':
			memcpy(esc, "\\t", 2);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				esc[0] = '\\';
				esc[1] = 'x';
				esc[2] = hex[*p >> 4];
				esc[3] = hex[*p & 0xf];
			} else {
				esc[0] = (char)*p;
			}
		}
		n = strlen(esc);
		if (len + n >= size)
			return size;
		memcpy(buf + len, esc, n);
		len += n;
	}
	return len;
}

int rt_logfmt(char *buf, size_t size, enum rt_log_format format, const char *level, const char *msg, time_t now)
{
	char stamp[32];
	struct tm tm;
	int n;

	if (!gmtime_r(&now, &tm) || strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(stamp, sizeof(stamp), "1970-01-01T00:00:00Z");

	if (format == RT_LOG_JSON) {
		_cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
		const char *s;

		/* logrus's order: level, msg, time. */
		if (!o || json_object_object_add(o, "level", json_object_new_string(level)) < 0 ||
		    json_object_object_add(o, "msg", json_object_new_string(msg)) < 0 ||
		    json_object_object_add(o, "time", json_object_new_string(stamp)) < 0)
			return -ENOMEM;
		s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		if (!s)
			return -ENOMEM;
		n = snprintf(buf, size, "%s\n", s);
		return n < 0 || (size_t)n >= size ? -ENOSPC : n;
	}

	size_t len;
	n = snprintf(buf, size, "time=\"%s\" level=%s msg=\"", stamp, level);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	len = quote_go(buf, size, (size_t)n, msg);
	if (len + 2 >= size)
		return -ENOSPC;
	buf[len++] = '"';
	buf[len++] = '\n';
	buf[len] = '\0';
	return (int)len;
}
