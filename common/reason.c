/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "reason.h"

int reason_set(char *reason, size_t size, int error, const char *fmt, ...)
{
	va_list ap;

	if (reason && size > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(reason, size, fmt, ap);
		va_end(ap);
	}
	return error;
}

const char *reason_quote(char buf[static REASON_QUOTE_MAX], const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t pos = 0, shown = 0;

	for (size_t i = 0; i < len; i++, shown++) {
		unsigned char c = (unsigned char)s[i];

		if (shown == 48) {
			memcpy(buf + pos, "\xe2\x80\xa6", 3); /* … */
			pos += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
			buf[pos++] = (char)c;
		} else {
			buf[pos++] = '\\';
			buf[pos++] = 'x';
			buf[pos++] = hex[c >> 4];
			buf[pos++] = hex[c & 0xf];
		}
	}
	buf[pos] = '\0';
	return buf;
}
