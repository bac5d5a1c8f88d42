/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_RT_CONF_H
#define UBINFMT_RT_CONF_H

#include <stddef.h>

/*
 * ubinfmt-runtime's settings: /etc/ubinfmt/runtime.conf (another file with
 * UBINFMT_RUNTIME_CONFIG), then the environment.  The file has "key = value" lines; blank lines
 * and lines starting with '#' are ignored, and so is " #" and what follows it on a line.
 * Blanks around keys and values do not count.  Every key may appear once; an unknown key, a
 * bad value or a line without '=' is an error that names the line.
 *
 *   runtime  = runc                     the real runtime: a path, or a name looked up on PATH
 *   socket   = /run/ubinfmt/oci.sock    ubinfmtd's OCI socket, the listenerPath
 *   mode     = always | auto | never
 *   fallback = fail | native            when the socket is not there
 *   metadata = KEY=VALUE;…              listenerMetadata for profiles that have none
 *
 * Environment: UBINFMT_RUNTIME_REAL, UBINFMT_OCI_SOCKET, UBINFMT_RUNTIME_MODE,
 * UBINFMT_RUNTIME_FALLBACK override the first four (checked the same way).
 *
 * Pure: no syscalls, no globals; the caller reads the file and the environment.
 */

#define RT_CONF_PATH "/etc/ubinfmt/runtime.conf"
#define RT_CONF_MAX (64 * 1024) /* the file */
#define RT_CONF_VALUE_MAX 16384 /* a value: listenerMetadata's own limit in ubinfmtd */
#define RT_SOCKET_PATH_MAX 107	/* sizeof(sun_path) - 1 */
#define RT_REASON_MAX 512

enum rt_mode {
	RT_MODE_ALWAYS,
	RT_MODE_AUTO,
	RT_MODE_NEVER,
	RT_MODE_MAX,
};

enum rt_fallback {
	RT_FALLBACK_FAIL,
	RT_FALLBACK_NATIVE,
	RT_FALLBACK_MAX,
};

struct rt_conf {
	char *runtime;	/* never NULL once initialised */
	char *socket;	/* never NULL once initialised, absolute */
	char *metadata; /* NULL: none */
	enum rt_mode mode;
	enum rt_fallback fallback;
};

/* The defaults: runc, /run/ubinfmt/oci.sock, always, fail, no metadata.  -ENOMEM. */
int rt_conf_init(struct rt_conf *c);
void rt_conf_free(struct rt_conf *c);

/*
 * Applies the file's text (len bytes, NUL bytes refused) over c.  name is the file's name for
 * messages.  The file is the administrator's; it is still bounded (RT_CONF_MAX, and
 * RT_CONF_VALUE_MAX per value), and what it says is quoted escaped in reasons.  -EINVAL with "NAME:LINE: what is wrong" in reason; -EMSGSIZE past RT_CONF_MAX;
 * -ENOMEM.  c may be half updated on failure (the caller stops then).
 */
int rt_conf_parse(struct rt_conf *c, const char *name, const char *text, size_t len, char *reason, size_t reason_size);

/*
 * Applies one environment override: key is the variable's name (UBINFMT_RUNTIME_REAL…), value
 * its value or NULL when unset (then nothing changes).  -EINVAL with the reason for a bad
 * value, -ENOENT for a name that is not one of ours.
 */
int rt_conf_env(struct rt_conf *c, const char *key, const char *value, char *reason, size_t reason_size);

/* The names rt_conf_env takes, NULL-terminated. */
extern const char *const rt_conf_env_names[];

const char *rt_mode_name(enum rt_mode m);
const char *rt_fallback_name(enum rt_fallback f);

#endif
