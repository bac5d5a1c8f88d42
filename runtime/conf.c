/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "macros.h"
#include "paths.h"
#include "parse.h"
#include "reason.h"

enum key {
	KEY_RUNTIME,
	KEY_SOCKET,
	KEY_MODE,
	KEY_FALLBACK,
	KEY_METADATA,
	KEY_MAX,
};

static const char *const key_names[KEY_MAX] = { "runtime", "socket", "mode", "fallback", "metadata" };

/* The environment variable for each key, in enum key's order; metadata has none. */
const char *const rt_conf_env_names[] = { "UBINFMT_RUNTIME_REAL", "UBINFMT_OCI_SOCKET", "UBINFMT_RUNTIME_MODE",
					  "UBINFMT_RUNTIME_FALLBACK", NULL };

static const char *const mode_names[RT_MODE_MAX] = { "always", "auto", "never" };
static const char *const fallback_names[RT_FALLBACK_MAX] = { "fail", "native" };

const char *rt_mode_name(enum rt_mode m)
{
	return m < RT_MODE_MAX ? mode_names[m] : "?";
}

const char *rt_fallback_name(enum rt_fallback f)
{
	return f < RT_FALLBACK_MAX ? fallback_names[f] : "?";
}

int rt_conf_init(struct rt_conf *c)
{
	*c = (struct rt_conf){ .mode = RT_MODE_ALWAYS, .fallback = RT_FALLBACK_FAIL };
	c->runtime = strdup("runc");
	c->socket = strdup(UBINFMT_OCI_SOCKET);
	if (!c->runtime || !c->socket) {
		rt_conf_free(c);
		return -ENOMEM;
	}
	return 0;
}

void rt_conf_free(struct rt_conf *c)
{
	free(c->runtime);
	free(c->socket);
	free(c->metadata);
	*c = (struct rt_conf){ 0 };
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static int replace(char **field, const char *value)
{
	char *copy = value ? strdup(value) : NULL;

	if (value && !copy)
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

/*
 * Checks and stores one value.  where says where it came from ("NAME:LINE" or the variable's
 * name) for the message; value is NUL-terminated and has no NUL inside.
 */
static int set_key(struct rt_conf *c, enum key k, const char *value, const char *where, char *reason,
		   size_t reason_size)
{
	char q[96];

	log_escape(q, sizeof(q), value);
	if (strlen(value) > RT_CONF_VALUE_MAX)
		return reason_set(reason, reason_size, -EINVAL, "%s: %s: longer than %d bytes", where, key_names[k],
				  RT_CONF_VALUE_MAX);
	if (has_control(value))
		return reason_set(reason, reason_size, -EINVAL, "%s: %s: control character in '%s'", where,
				  key_names[k], q);

	switch (k) {
	case KEY_RUNTIME:
		if (!*value)
			return reason_set(reason, reason_size, -EINVAL,
					  "%s: runtime: empty (a path, or a name on PATH such as runc)", where);
		return replace(&c->runtime, value);
	case KEY_SOCKET:
		if (value[0] != '/')
			return reason_set(reason, reason_size, -EINVAL, "%s: socket: '%s' is not an absolute path",
					  where, q);
		if (strlen(value) > RT_SOCKET_PATH_MAX)
			return reason_set(reason, reason_size, -EINVAL,
					  "%s: socket: longer than %d bytes, too long for a unix socket", where,
					  RT_SOCKET_PATH_MAX);
		return replace(&c->socket, value);
	case KEY_MODE:
		for (int m = 0; m < RT_MODE_MAX; m++)
			if (strcmp(value, mode_names[m]) == 0) {
				c->mode = (enum rt_mode)m;
				return 0;
			}
		return reason_set(reason, reason_size, -EINVAL, "%s: mode: '%s' is not always, auto or never", where,
				  q);
	case KEY_FALLBACK:
		for (int f = 0; f < RT_FALLBACK_MAX; f++)
			if (strcmp(value, fallback_names[f]) == 0) {
				c->fallback = (enum rt_fallback)f;
				return 0;
			}
		return reason_set(reason, reason_size, -EINVAL, "%s: fallback: '%s' is not fail or native", where, q);
	case KEY_METADATA:
		return replace(&c->metadata, *value ? value : NULL);
	case KEY_MAX:
		break;
	}
	return -EINVAL;
}

/* A comment starts at '#' after a blank (the blanks parse_trim_blanks takes away). */
static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* One line, without its newline.  seen[] holds the line number each key was set on. */
static int parse_line(struct rt_conf *c, const char *name, unsigned lineno, const char *line, size_t len,
		      unsigned seen[KEY_MAX], char *reason, size_t reason_size)
{
	char where[96], q[96], *value;
	const char *k, *v, *eq;
	size_t klen, vlen;
	int r;

	snprintf(where, sizeof(where), "%.80s:%u", name, lineno);
	parse_trim_blanks(&line, &len);
	if (len == 0 || line[0] == '#')
		return 0;
	/* A comment after the value: " #" up to the end of the line. */
	for (size_t i = 1; i < len; i++)
		if (line[i] == '#' && is_blank(line[i - 1])) {
			len = i;
			break;
		}
	eq = memchr(line, '=', len);
	if (!eq) {
		char piece[64];
		snprintf(piece, sizeof(piece), "%.*s", (int)MIN(len, sizeof(piece) - 1), line);
		log_escape(q, sizeof(q), piece);
		return reason_set(reason, reason_size, -EINVAL, "%s: '%s' is not 'key = value'", where, q);
	}
	k = line;
	klen = (size_t)(eq - line);
	v = eq + 1;
	vlen = len - klen - 1;
	parse_trim_blanks(&k, &klen);
	parse_trim_blanks(&v, &vlen);

	for (int i = 0; i < KEY_MAX; i++) {
		if (strlen(key_names[i]) != klen || memcmp(key_names[i], k, klen) != 0)
			continue;
		if (seen[i])
			return reason_set(reason, reason_size, -EINVAL, "%s: %s: already set on line %u", where,
					  key_names[i], seen[i]);
		value = strndup(v, vlen);
		if (!value)
			return -ENOMEM;
		r = set_key(c, (enum key)i, value, where, reason, reason_size);
		free(value);
		if (r == 0)
			seen[i] = lineno;
		return r;
	}
	{
		char piece[64];
		snprintf(piece, sizeof(piece), "%.*s", (int)MIN(klen, sizeof(piece) - 1), k);
		log_escape(q, sizeof(q), piece);
	}
	return reason_set(reason, reason_size, -EINVAL,
			  "%s: unknown key '%s' (known: runtime, socket, mode, fallback, metadata)", where, q);
}

int rt_conf_parse(struct rt_conf *c, const char *name, const char *text, size_t len, char *reason, size_t reason_size)
{
	unsigned seen[KEY_MAX] = { 0 }, lineno = 0;

	if (len > RT_CONF_MAX) {
		(void)reason_set(reason, reason_size, -EINVAL, "%.80s: larger than %d bytes", name, RT_CONF_MAX);
		return -EMSGSIZE;
	}
	if (memchr(text, '\0', len))
		return reason_set(reason, reason_size, -EINVAL, "%.80s: has a NUL byte: not a text file", name);

	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		int r;

		r = parse_line(c, name, ++lineno, text + pos, n, seen, reason, reason_size);
		if (r < 0)
			return r;
		pos += n + (nl ? 1 : 0);
	}
	return 0;
}

int rt_conf_env(struct rt_conf *c, const char *key, const char *value, char *reason, size_t reason_size)
{
	for (int i = 0; rt_conf_env_names[i]; i++) {
		if (strcmp(key, rt_conf_env_names[i]) != 0)
			continue;
		if (!value)
			return 0;
		return set_key(c, (enum key)i, value, key, reason, reason_size);
	}
	return -ENOENT;
}
