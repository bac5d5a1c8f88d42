/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>

#include "json.h"

size_t json_escape_byte(unsigned char c, char out[JSON_ESCAPE_MAX])
{
	if (c == '"' || c == '\\') {
		out[0] = '\\';
		out[1] = (char)c;
		out[2] = '\0';
		return 2;
	}
	if (c < 0x20 || c >= 0x7f)
		return (size_t)snprintf(out, JSON_ESCAPE_MAX, "\\u%04x", c);
	out[0] = (char)c;
	out[1] = '\0';
	return 1;
}

size_t json_quote(char *buf, size_t size, const char *s)
{
	char e[JSON_ESCAPE_MAX];
	size_t pos = 1;

	if (size < 3) {
		if (size)
			buf[0] = '\0';
		return 0;
	}
	buf[0] = '"';
	for (; *s; s++) {
		size_t n = json_escape_byte((unsigned char)*s, e);
		if (pos + n + 2 > size) /* the closing quote and the NUL must still fit */
			break;
		memcpy(buf + pos, e, n);
		pos += n;
	}
	buf[pos++] = '"';
	buf[pos] = '\0';
	return pos;
}

void json_print_string(FILE *f, const char *s)
{
	char e[JSON_ESCAPE_MAX];

	fputc('"', f);
	for (; *s; s++) {
		json_escape_byte((unsigned char)*s, e);
		fputs(e, f);
	}
	fputc('"', f);
}
