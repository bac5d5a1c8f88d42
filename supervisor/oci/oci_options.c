/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "macros.h"
#include "oci.h"
#include "oci_options.h"
#include "oci_reason.h"

#define KEY_EMULATORS OCI_ANNOTATION_PREFIX "emulators"
#define KEY_EMULATOR OCI_ANNOTATION_PREFIX "emulator."
#define KEY_TRACE OCI_ANNOTATION_PREFIX "trace"
/* ubinfmt-runtime's annotations (runtime/profile.h): its business, not the daemon's. */
#define KEY_RUNTIME_REWRITTEN OCI_ANNOTATION_PREFIX "runtime"
#define KEY_RUNTIME_ENABLE OCI_ANNOTATION_PREFIX "enable"

/* Longer than any architecture name or alias: a longer item cannot be one. */
#define ARCH_NAME_MAX 32

/* What one place (metadata or annotations) says, before the two are merged. */
struct source {
	const char *name; /* "listenerMetadata" or "annotation", for reasons */
	bool paths_allowed;
	bool has_list;
	uint64_t mask;
	bool has_trace;
	enum oci_trace trace;
	char *emulator[ARCH_MAX];
};

static const char *const trace_names[OCI_TRACE_MAX] = {
	[OCI_TRACE_DEFAULT] = "default",
	[OCI_TRACE_OFF] = "off",
	[OCI_TRACE_TEXT] = "text",
	[OCI_TRACE_JSON] = "json",
};

const char *oci_trace_name(enum oci_trace trace)
{
	if ((unsigned)trace >= OCI_TRACE_MAX)
		return "unknown";
	return trace_names[trace];
}

static void source_free(struct source *src)
{
	for (size_t i = 0; i < ARCH_MAX; i++) {
		free(src->emulator[i]);
		src->emulator[i] = NULL;
	}
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Trims blanks at both ends of [*s, *s + *len). */
static void trim(const char **s, size_t *len)
{
	while (*len > 0 && is_blank(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_blank((*s)[*len - 1]))
		(*len)--;
}

/* arch_from_name on a counted string. */
static int arch_of(const char *s, size_t len, enum arch *ret_arch)
{
	char name[ARCH_NAME_MAX + 1];

	if (len == 0 || len > ARCH_NAME_MAX)
		return -EINVAL;
	memcpy(name, s, len);
	name[len] = '\0';
	return arch_from_name(name, ret_arch);
}

/* "all", "none" or a comma-separated list of architectures. */
static int parse_emulators(struct source *src, const char *v, char *reason, size_t reason_size)
{
	char q[OCI_QUOTE_MAX];
	uint64_t mask = 0;

	if (strcmp(v, "all") == 0) {
		mask = OCI_ARCH_ALL;
	} else if (strcmp(v, "none") != 0) {
		for (const char *p = v;;) {
			const char *comma = strchr(p, ',');
			size_t len = comma ? (size_t)(comma - p) : strlen(p);
			const char *item = p;
			enum arch a;

			trim(&item, &len);
			if (len == 0)
				return oci_reason(reason, reason_size, -EINVAL,
						  "%s %s: empty item in '%s' (use 'none' for no architecture)",
						  src->name, KEY_EMULATORS, oci_quote(q, v, strlen(v)));
			if (arch_of(item, len, &a) < 0)
				return oci_reason(reason, reason_size, -EINVAL, "%s %s: unknown architecture '%s'",
						  src->name, KEY_EMULATORS, oci_quote(q, item, len));
			mask |= UINT64_C(1) << a;
			if (!comma)
				break;
			p = comma + 1;
		}
	}
	src->has_list = true;
	src->mask = mask;
	return 0;
}

static int parse_trace(struct source *src, const char *v, char *reason, size_t reason_size)
{
	char q[OCI_QUOTE_MAX];

	if (strcmp(v, "true") == 0)
		src->trace = OCI_TRACE_TEXT;
	else if (strcmp(v, "false") == 0)
		src->trace = OCI_TRACE_OFF;
	else if (strcmp(v, "json") == 0)
		src->trace = OCI_TRACE_JSON;
	else
		return oci_reason(reason, reason_size, -EINVAL, "%s %s: '%s' is not true, false or json",
				  src->name, KEY_TRACE, oci_quote(q, v, strlen(v)));
	src->has_trace = true;
	return 0;
}

static int parse_emulator_path(struct source *src, const char *key, const char *v, char *reason,
			       size_t reason_size)
{
	const char *arch_part = key + strlen(KEY_EMULATOR);
	char q[OCI_QUOTE_MAX];
	enum arch a;

	if (!src->paths_allowed)
		return oci_reason(reason, reason_size, -EINVAL,
				  "%s %s: emulator paths are only accepted in listenerMetadata, which the "
				  "operator controls", src->name, oci_quote(q, key, strlen(key)));
	if (arch_of(arch_part, strlen(arch_part), &a) < 0)
		return oci_reason(reason, reason_size, -EINVAL, "%s %s: unknown architecture '%s'", src->name,
				  KEY_EMULATOR "ARCH", oci_quote(q, arch_part, strlen(arch_part)));
	if (src->emulator[a])
		return oci_reason(reason, reason_size, -EINVAL, "%s %s%s: set twice", src->name, KEY_EMULATOR,
				  arch_name(a));
	if (v[0] != '/')
		return oci_reason(reason, reason_size, -EINVAL, "%s %s%s: '%s' is not an absolute path",
				  src->name, KEY_EMULATOR, arch_name(a), oci_quote(q, v, strlen(v)));
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return oci_reason(reason, reason_size, -EINVAL,
					  "%s %s%s: control character in the path '%s'", src->name, KEY_EMULATOR,
					  arch_name(a), oci_quote(q, v, strlen(v)));
	src->emulator[a] = strdup(v);
	return src->emulator[a] ? 0 : -ENOMEM;
}

/* One KEY=VALUE, from either place; key and value are NUL-terminated. */
static int parse_entry(struct source *src, const char *key, const char *v, char *reason, size_t reason_size)
{
	char q[OCI_QUOTE_MAX];

	if (strcmp(key, KEY_EMULATORS) == 0) {
		if (src->has_list)
			return oci_reason(reason, reason_size, -EINVAL, "%s %s: set twice", src->name, key);
		return parse_emulators(src, v, reason, reason_size);
	}
	if (strcmp(key, KEY_TRACE) == 0) {
		if (src->has_trace)
			return oci_reason(reason, reason_size, -EINVAL, "%s %s: set twice", src->name, key);
		return parse_trace(src, v, reason, reason_size);
	}
	if (strncmp(key, KEY_EMULATOR, strlen(KEY_EMULATOR)) == 0)
		return parse_emulator_path(src, key, v, reason, reason_size);
	return oci_reason(reason, reason_size, -EINVAL, "%s: unknown key '%s' (known: %s, %sARCH, %s)",
			  src->name, oci_quote(q, key, strlen(key)), KEY_EMULATORS, KEY_EMULATOR, KEY_TRACE);
}

/*
 * Trust boundary: listenerMetadata is a string from config.json, already bounded to
 * OCI_METADATA_MAX bytes without NUL by oci_parse_state.  Each entry is copied into bounded
 * buffers before it is looked at; every key must be ours.
 */
static int parse_metadata(struct source *src, const char *metadata, char *reason, size_t reason_size)
{
	char key[OCI_ANNOTATION_KEY_MAX + 1], q[OCI_QUOTE_MAX];
	_cleanup_free_ char *value = NULL;

	value = malloc(OCI_ANNOTATION_VALUE_MAX + 1);
	if (!value)
		return -ENOMEM;

	for (const char *p = metadata;;) {
		const char *semi = strchr(p, ';');
		size_t len = semi ? (size_t)(semi - p) : strlen(p);
		const char *entry = p, *eq, *k, *v;
		size_t klen, vlen;
		int r;

		trim(&entry, &len);
		if (len > 0) {
			eq = memchr(entry, '=', len);
			if (!eq)
				return oci_reason(reason, reason_size, -EINVAL, "%s: entry '%s' is not KEY=VALUE",
						  src->name, oci_quote(q, entry, len));
			k = entry;
			klen = (size_t)(eq - entry);
			v = eq + 1;
			vlen = len - klen - 1;
			trim(&k, &klen);
			trim(&v, &vlen);
			if (klen == 0 || klen > OCI_ANNOTATION_KEY_MAX)
				return oci_reason(reason, reason_size, -EINVAL, "%s: bad key in entry '%s'",
						  src->name, oci_quote(q, entry, len));
			if (vlen > OCI_ANNOTATION_VALUE_MAX)
				return oci_reason(reason, reason_size, -EINVAL,
						  "%s: the value of '%s' is longer than %d bytes", src->name,
						  oci_quote(q, k, klen), OCI_ANNOTATION_VALUE_MAX);
			memcpy(key, k, klen);
			key[klen] = '\0';
			memcpy(value, v, vlen);
			value[vlen] = '\0';
			r = parse_entry(src, key, value, reason, reason_size);
			if (r < 0)
				return r;
		}
		if (!semi)
			return 0;
		p = semi + 1;
	}
}

/* Trust boundary: annotations are bounded and NUL-free (oci_parse_state); only ours are read. */
static int parse_annotations(struct source *src, const struct oci_state *st, char *reason,
			     size_t reason_size)
{
	for (size_t i = 0; i < st->n_annotations; i++) {
		const struct oci_annotation *a = &st->annotations[i];
		int r;

		if (strncmp(a->key, OCI_ANNOTATION_PREFIX, strlen(OCI_ANNOTATION_PREFIX)) != 0 ||
		    strcmp(a->key, KEY_RUNTIME_REWRITTEN) == 0 || strcmp(a->key, KEY_RUNTIME_ENABLE) == 0)
			continue;
		r = parse_entry(src, a->key, a->value, reason, reason_size);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Trust boundary: both places are written by whoever wrote config.json.  listenerMetadata is
 * taken as the operator's, annotations as possibly the image's or pod's author's: they may only
 * narrow the operator's choices (see oci_options.h), and never name a host path.
 */
int oci_parse_options(const struct oci_state *st, struct oci_options *ret, char *reason, size_t reason_size)
{
	struct source meta = { .name = "listenerMetadata", .paths_allowed = true };
	struct source ann = { .name = "annotation" };
	struct oci_options o = { .arch_mask = OCI_ARCH_ALL, .trace = OCI_TRACE_DEFAULT };
	int r;

	if (reason && reason_size > 0)
		reason[0] = '\0';
	if (st->options_refused[0] != '\0')
		return oci_reason(reason, reason_size, -EINVAL, "%s", st->options_refused);
	if (st->metadata) {
		r = parse_metadata(&meta, st->metadata, reason, reason_size);
		if (r < 0)
			goto out;
	}
	r = parse_annotations(&ann, st, reason, reason_size);
	if (r < 0)
		goto out;

	if (meta.has_list) {
		for (size_t a = 0; a < ARCH_MAX; a++) {
			if (meta.emulator[a] && !(meta.mask & (UINT64_C(1) << a))) {
				r = oci_reason(reason, reason_size, -EINVAL,
					       "listenerMetadata %s%s: %s is not in %s", KEY_EMULATOR,
					       arch_name((enum arch)a), arch_name((enum arch)a), KEY_EMULATORS);
				goto out;
			}
		}
		o.arch_mask &= meta.mask;
	}
	if (ann.has_list)
		o.arch_mask &= ann.mask;
	if (meta.has_trace)
		o.trace = meta.trace;
	else if (ann.has_trace)
		o.trace = ann.trace;
	for (size_t a = 0; a < ARCH_MAX; a++)
		o.emulator[a] = TAKE_PTR(meta.emulator[a]);
	*ret = o;
	r = 0;
out:
	source_free(&meta);
	source_free(&ann);
	return r;
}

void oci_options_free(struct oci_options *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < ARCH_MAX; i++)
		free(o->emulator[i]);
	*o = (struct oci_options){ 0 };
}
