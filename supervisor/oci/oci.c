/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "macros.h"
#include "oci.h"
#include "reason.h"

static const char *const status_names[OCI_STATUS_MAX] = {
	[OCI_STATUS_CREATING] = "creating", [OCI_STATUS_CREATED] = "created", [OCI_STATUS_RUNNING] = "running",
	[OCI_STATUS_STOPPED] = "stopped",   [OCI_STATUS_PAUSED] = "paused",
};

const char *oci_status_name(enum oci_status status)
{
	if ((unsigned)status >= OCI_STATUS_MAX)
		return "unknown";
	return status_names[status];
}

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629, Unicode table 3-7), 0 when it is
 * ill-formed, or SIZE_MAX when the n bytes end inside a sequence that is well-formed so far
 * (the rest may still come).
 */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 1;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 2;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 3;
	else
		return 0; /* continuation byte, overlong lead (c0, c1) or beyond U+10FFFF */

	/* The second byte's range rules out overlong forms, surrogates and code points > U+10FFFF. */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;

	if (n < 2)
		return SIZE_MAX;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i <= need; i++) {
		if (i == n)
			return SIZE_MAX;
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return need + 1;
}

/*
 * Byte-level checks that json-c 0.16 does not make, done before it parses (each one seen in a
 * test against the library):
 *  - the escape \u0000: json-c keeps it inside values, but silently cuts object keys at it, so
 *    "io.ubinfmt.trace\u0000x" would reach us as "io.ubinfmt.trace";
 *  - raw NUL bytes, which valid JSON never contains;
 *  - UTF-8: JSON_TOKENER_VALIDATE_UTF8 lets overlong forms and encoded surrogates through;
 *  - single-quoted strings, which json-c accepts even with JSON_TOKENER_STRICT.
 * This is no parser: it only tracks whether a byte is inside a double-quoted string, which is
 * exact for valid JSON (a backslash or a quote outside a string is an error json-c reports).
 */
static int prescan(const char *json, size_t len, char *reason, size_t reason_size)
{
	const unsigned char *p = (const unsigned char *)json;
	bool in_string = false;
	size_t i = 0;

	while (i < len) {
		if (p[i] == '\0')
			return reason_set(reason, reason_size, -EPROTO, "NUL byte at offset %zu", i);
		if (p[i] >= 0x80) {
			size_t n = utf8_sequence(p + i, len - i);
			if (n == SIZE_MAX)
				return reason_set(reason, reason_size, -ENODATA,
						  "JSON ends early, inside a UTF-8 sequence at offset %zu", i);
			if (n == 0)
				return reason_set(reason, reason_size, -EPROTO, "invalid UTF-8 at offset %zu", i);
			i += n;
			continue;
		}
		if (!in_string) {
			if (p[i] == '\'')
				return reason_set(reason, reason_size, -EPROTO, "single-quoted string at offset %zu",
						  i);
			in_string = p[i] == '"';
			i++;
			continue;
		}
		if (p[i] == '"') {
			in_string = false;
		} else if (p[i] == '\\' && i + 1 < len) {
			if (p[i + 1] == 'u' && len - i >= 6 && memcmp(p + i + 2, "0000", 4) == 0)
				return reason_set(reason, reason_size, -EPROTO, "\\u0000 in a string at offset %zu", i);
			i += 2;
			continue;
		}
		i++;
	}
	return 0;
}

/*
 * Finds key in obj.  Returns 1 with *ret_val when present with the expected type, 0 when absent
 * (JSON null counts as absent: runtimes that do not use Go's omitempty write null), -EPROTO when
 * present with another type.  where names the object in reasons ("" or "state.").
 */
static int member(struct json_object *obj, const char *where, const char *key, enum json_type type,
		  struct json_object **ret_val, char *reason, size_t reason_size)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, type))
		return reason_set(reason, reason_size, -EPROTO, "'%s%s' has type %s, expected %s", where, key,
				  json_type_to_name(json_object_get_type(v)), json_type_to_name(type));
	*ret_val = v;
	return 1;
}

static int required(struct json_object *obj, const char *where, const char *key, enum json_type type,
		    struct json_object **ret_val, char *reason, size_t reason_size)
{
	int r = member(obj, where, key, type, ret_val, reason, reason_size);

	if (r == 0)
		return reason_set(reason, reason_size, -EPROTO, "'%s%s' is missing", where, key);
	return r < 0 ? r : 0;
}

/* A string value without NUL (json-c keeps \u0000 in values) and at most max bytes long. */
static int string_of(struct json_object *v, const char *where, const char *key, size_t max, const char **ret_s,
		     size_t *ret_len, char *reason, size_t reason_size)
{
	const char *s = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v);

	if (strlen(s) != len)
		return reason_set(reason, reason_size, -EPROTO, "'%s%s' contains a NUL byte", where, key);
	if (len > max)
		return reason_set(reason, reason_size, -EPROTO, "'%s%s' is longer than %zu bytes", where, key, max);
	*ret_s = s;
	*ret_len = len;
	return 0;
}

/* A pid as runtimes send it: an integer, 0 meaning "not told" (crun 1.8.1's exec). */
static int pid_of(struct json_object *v, const char *where, const char *key, pid_t *ret_pid, char *reason,
		  size_t reason_size)
{
	/* json-c clamps integers beyond int64 to INT64_MIN/MAX: the range check covers them. */
	int64_t pid = json_object_get_int64(v);

	if (pid < 0 || pid > OCI_PID_MAX)
		return reason_set(reason, reason_size, -EPROTO, "'%s%s' = %lld is not a pid", where, key,
				  (long long)pid);
	*ret_pid = (pid_t)pid;
	return 0;
}

static int copy_version(struct json_object *obj, const char *where, char ret[static OCI_VERSION_MAX + 1], char *reason,
			size_t reason_size)
{
	struct json_object *v;
	const char *s;
	size_t len;
	int r;

	r = required(obj, where, "ociVersion", json_type_string, &v, reason, reason_size);
	if (r < 0)
		return r;
	r = string_of(v, where, "ociVersion", OCI_VERSION_MAX, &s, &len, reason, reason_size);
	if (r < 0)
		return r;
	memcpy(ret, s, len + 1);
	return 0;
}

/*
 * Container ids become keys, log fields and maybe file names: runc's own rule
 * (^[\w+-.]+$, not "." or "..") with a length limit.  crun 1.8.1 checks nothing, so a crun
 * container with another id is refused here, with this reason.
 */
static int copy_id(struct json_object *state, char ret[static OCI_ID_MAX + 1], char *reason, size_t reason_size)
{
	char q[REASON_QUOTE_MAX];
	struct json_object *v;
	const char *s;
	size_t len;
	int r;

	r = required(state, "state.", "id", json_type_string, &v, reason, reason_size);
	if (r < 0)
		return r;
	r = string_of(v, "state.", "id", OCI_ID_MAX, &s, &len, reason, reason_size);
	if (r < 0)
		return r;
	if (len == 0 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return reason_set(reason, reason_size, -EPROTO, "container id '%s' is not valid",
				  reason_quote(q, s, len));
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '.' || c == '+' || c == '-'))
			return reason_set(reason, reason_size, -EPROTO,
					  "container id '%s' has a character outside [A-Za-z0-9_.+-]",
					  reason_quote(q, s, len));
	}
	memcpy(ret, s, len + 1);
	return 0;
}

static int parse_status(struct json_object *state, enum oci_status *ret_status, char *reason, size_t reason_size)
{
	char q[REASON_QUOTE_MAX];
	struct json_object *v;
	const char *s;
	size_t len;
	int r;

	r = required(state, "state.", "status", json_type_string, &v, reason, reason_size);
	if (r < 0)
		return r;
	r = string_of(v, "state.", "status", 64, &s, &len, reason, reason_size);
	if (r < 0)
		return r;
	for (size_t i = 0; i < OCI_STATUS_MAX; i++) {
		if (strcmp(s, status_names[i]) == 0) {
			*ret_status = (enum oci_status)i;
			return 0;
		}
	}
	return reason_set(reason, reason_size, -EPROTO, "unknown 'state.status' '%s'", reason_quote(q, s, len));
}

/* fds names the SCM_RIGHTS fds in order; we need the index of the seccomp listener. */
static int parse_fds(struct json_object *top, size_t *ret_n, size_t *ret_index, char *reason, size_t reason_size)
{
	struct json_object *fds;
	size_t n, index = SIZE_MAX;
	int r;

	r = required(top, "", "fds", json_type_array, &fds, reason, reason_size);
	if (r < 0)
		return r;
	n = json_object_array_length(fds);
	if (n > OCI_FDS_MAX)
		return reason_set(reason, reason_size, -EPROTO, "'fds' names %zu fds, more than %d", n, OCI_FDS_MAX);
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(fds, i);
		const char *s;
		size_t len;

		if (!json_object_is_type(v, json_type_string))
			return reason_set(reason, reason_size, -EPROTO, "'fds[%zu]' has type %s, expected string", i,
					  json_type_to_name(json_object_get_type(v)));
		r = string_of(v, "", "fds[]", OCI_FD_NAME_MAX, &s, &len, reason, reason_size);
		if (r < 0)
			return r;
		if (strcmp(s, "seccompFd") != 0)
			continue;
		if (index != SIZE_MAX)
			return reason_set(reason, reason_size, -EPROTO, "'fds' names seccompFd twice");
		index = i;
	}
	if (index == SIZE_MAX)
		return reason_set(reason, reason_size, -EPROTO, "'fds' does not name a seccompFd");
	*ret_n = n;
	*ret_index = index;
	return 0;
}

static bool is_ours(const char *key)
{
	return strncmp(key, OCI_ANNOTATION_PREFIX, strlen(OCI_ANNOTATION_PREFIX)) == 0;
}

/* Notes the first reason why the options cannot be read (a copy of why). */
static void refuse_options(struct oci_state *st, const char *why)
{
	if (st->options_refused[0] == '\0')
		snprintf(st->options_refused, sizeof(st->options_refused), "%s", why);
}

static void drop_annotations(struct oci_state *st)
{
	for (size_t i = 0; i < st->n_annotations; i++) {
		free(st->annotations[i].key);
		free(st->annotations[i].value);
		st->annotations[i] = (struct oci_annotation){ 0 };
	}
	st->n_annotations = 0;
}

/*
 * One pass over state.annotations, keeping either ours (any that breaks a limit or is not a
 * string fails the pass: these are what options are made of) or the others (kept while they
 * fit; dropped and counted otherwise).
 */
static int annotations_pass(struct json_object *obj, bool ours, struct oci_state *st, char *reason, size_t reason_size)
{
	struct json_object_iterator it = json_object_iter_begin(obj);
	struct json_object_iterator end = json_object_iter_end(obj);
	char q[REASON_QUOTE_MAX];

	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);
		struct json_object *v = json_object_iter_peek_value(&it);
		size_t key_len = strlen(key), len;
		const char *s;

		if (is_ours(key) != ours)
			continue;
		if (!json_object_is_type(v, json_type_string)) {
			if (!ours) {
				st->n_annotations_dropped++;
				continue;
			}
			return reason_set(reason, reason_size, -EPROTO, "annotation '%s' has type %s, expected string",
					  reason_quote(q, key, key_len), json_type_to_name(json_object_get_type(v)));
		}
		s = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		/* prescan refuses \u0000, which is how a NUL could get into a value. */
		if (strlen(s) != len) {
			if (!ours) {
				st->n_annotations_dropped++;
				continue;
			}
			return reason_set(reason, reason_size, -EPROTO, "annotation '%s' contains a NUL byte",
					  reason_quote(q, key, key_len));
		}

		if (key_len > OCI_ANNOTATION_KEY_MAX || len > OCI_ANNOTATION_VALUE_MAX ||
		    st->n_annotations == OCI_ANNOTATIONS_MAX) {
			if (!ours) {
				st->n_annotations_dropped++;
				continue;
			}
			if (st->n_annotations == OCI_ANNOTATIONS_MAX)
				return reason_set(reason, reason_size, -EPROTO, "more than %d %s* annotations",
						  OCI_ANNOTATIONS_MAX, OCI_ANNOTATION_PREFIX);
			if (key_len > OCI_ANNOTATION_KEY_MAX)
				return reason_set(reason, reason_size, -EPROTO,
						  "annotation key '%s' is longer than %d bytes",
						  reason_quote(q, key, key_len), OCI_ANNOTATION_KEY_MAX);
			return reason_set(reason, reason_size, -EPROTO,
					  "annotation '%s' has a value longer than %d bytes",
					  reason_quote(q, key, key_len), OCI_ANNOTATION_VALUE_MAX);
		}

		struct oci_annotation *a = &st->annotations[st->n_annotations];
		a->key = strndup(key, key_len);
		a->value = strndup(s, len);
		if (!a->key || !a->value) {
			free(a->key);
			free(a->value);
			a->key = a->value = NULL;
			return -ENOMEM;
		}
		st->n_annotations++;
	}
	return 0;
}

/*
 * state.annotations: what is wrong with ours refuses the options (none of ours is kept), not
 * the payload; the others cannot fail.
 */
static int parse_annotations(struct json_object *state, struct oci_state *st)
{
	char why[OCI_REASON_MAX];
	struct json_object *obj;
	size_t n;
	int r;

	r = member(state, "state.", "annotations", json_type_object, &obj, why, sizeof(why));
	if (r < 0)
		refuse_options(st, why);
	if (r <= 0)
		return 0;
	n = (size_t)json_object_object_length(obj);
	if (n == 0)
		return 0;
	st->annotations = calloc(MIN(n, (size_t)OCI_ANNOTATIONS_MAX), sizeof(*st->annotations));
	if (!st->annotations)
		return -ENOMEM;
	/* Ours are options: not worth keeping once the metadata refused them. */
	r = st->options_refused[0] ? 0 : annotations_pass(obj, true, st, why, sizeof(why));
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		drop_annotations(st);
		refuse_options(st, why);
	}
	return annotations_pass(obj, false, st, why, sizeof(why));
}

/* Copies obj.key when it is a string; absent is fine unless must. */
static int dup_member(struct json_object *obj, const char *where, const char *key, bool must, size_t max, char **ret,
		      char *reason, size_t reason_size)
{
	struct json_object *v;
	const char *s;
	size_t len;
	int r;

	r = must ? required(obj, where, key, json_type_string, &v, reason, reason_size)
		 : member(obj, where, key, json_type_string, &v, reason, reason_size);
	if (r < 0 || (r == 0 && !must))
		return r;
	r = string_of(v, where, key, max, &s, &len, reason, reason_size);
	if (r < 0)
		return r;
	*ret = strndup(s, len);
	return *ret ? 0 : -ENOMEM;
}

static int parse_state_object(struct json_object *top, struct oci_state *st, char *reason, size_t reason_size)
{
	struct json_object *state, *v;
	int r;

	r = required(top, "", "state", json_type_object, &state, reason, reason_size);
	if (r < 0)
		return r;
	r = copy_version(state, "state.", st->state_oci_version, reason, reason_size);
	if (r < 0)
		return r;
	r = copy_id(state, st->id, reason, reason_size);
	if (r < 0)
		return r;
	r = parse_status(state, &st->status, reason, reason_size);
	if (r < 0)
		return r;
	/* Required by the spec only while created or running, and runc leaves out a zero one. */
	r = member(state, "state.", "pid", json_type_int, &v, reason, reason_size);
	if (r > 0)
		r = pid_of(v, "state.", "pid", &st->init_pid, reason, reason_size);
	if (r < 0)
		return r;
	r = dup_member(state, "state.", "bundle", true, OCI_BUNDLE_MAX, &st->bundle, reason, reason_size);
	if (r < 0)
		return r;
	return parse_annotations(state, st);
}

static int parse_top(struct json_object *top, struct oci_state *st, char *reason, size_t reason_size)
{
	char why[OCI_REASON_MAX];
	struct json_object *v;
	int r;

	if (!json_object_is_type(top, json_type_object))
		return reason_set(reason, reason_size, -EPROTO, "the payload has type %s, expected object",
				  json_type_to_name(json_object_get_type(top)));
	r = copy_version(top, "", st->oci_version, reason, reason_size);
	if (r < 0)
		return r;
	r = parse_fds(top, &st->n_fds, &st->seccomp_fd_index, reason, reason_size);
	if (r < 0)
		return r;
	r = required(top, "", "pid", json_type_int, &v, reason, reason_size);
	if (r < 0)
		return r;
	r = pid_of(v, "", "pid", &st->pid, reason, reason_size);
	if (r < 0)
		return r;
	/* listenerMetadata is config.json's: what is wrong with it refuses the options only. */
	r = dup_member(top, "", "metadata", false, OCI_METADATA_MAX, &st->metadata, why, sizeof(why));
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		refuse_options(st, why);
	r = parse_state_object(top, st, reason, reason_size);
	if (r == 0 && st->options_refused[0]) {
		free(st->metadata);
		st->metadata = NULL;
	}
	return r;
}

/*
 * Trust boundary.  The payload comes from the container runtime, which runs as the same user
 * as we do or as root, so it is trusted not to lie about the pid or the fds it sends.  But a
 * good part of it is copied from config.json, whose author may be the image's or the pod's
 * author: listenerMetadata, the annotations and the id.  So every size is bounded (the payload,
 * each string, the number of fds and annotations, the nesting depth), every type checked, the
 * id restricted to runc's character set, and the bytes checked for what json-c lets through
 * (prescan).  Unknown members are ignored: the spec may add some.  What is wrong with the
 * metadata or our annotations only refuses the options (options_refused): whoever wrote
 * config.json must not be able to keep the container's listener from being served.
 */
int oci_parse_state(const char *json, size_t len, struct oci_state *ret, char *reason, size_t reason_size)
{
	struct oci_state st = { 0 };
	struct json_tokener *tok = NULL;
	struct json_object *top = NULL;
	enum json_tokener_error jerr;
	int r;

	if (reason && reason_size > 0)
		reason[0] = '\0';
	if (len > OCI_STATE_MAX)
		return reason_set(reason, reason_size, -EMSGSIZE, "payload of %zu bytes, more than %d", len,
				  OCI_STATE_MAX);
	r = prescan(json, len, reason, reason_size);
	if (r < 0)
		return r;

	tok = json_tokener_new_ex(OCI_JSON_DEPTH);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	top = json_tokener_parse_ex(tok, json, (int)len);
	jerr = json_tokener_get_error(tok);
	if (!top && jerr == json_tokener_continue)
		r = reason_set(reason, reason_size, -ENODATA, "JSON ends early, after %zu bytes", len);
	else if (!top || jerr != json_tokener_success)
		r = reason_set(reason, reason_size, -EPROTO, "JSON: %s at offset %zu", json_tokener_error_desc(jerr),
			       json_tokener_get_parse_end(tok));
	else if (json_tokener_get_parse_end(tok) != len)
		r = reason_set(reason, reason_size, -EPROTO, "bytes after the JSON document at offset %zu",
			       json_tokener_get_parse_end(tok));
	else
		r = parse_top(top, &st, reason, reason_size);
	json_object_put(top);
	json_tokener_free(tok);
	if (r < 0) {
		oci_state_free(&st);
		return r;
	}
	*ret = st;
	return 0;
}

void oci_state_free(struct oci_state *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n_annotations; i++) {
		free(st->annotations[i].key);
		free(st->annotations[i].value);
	}
	free(st->annotations);
	free(st->metadata);
	free(st->bundle);
	*st = (struct oci_state){ 0 };
}

const char *oci_state_annotation(const struct oci_state *st, const char *key)
{
	for (size_t i = 0; i < st->n_annotations; i++)
		if (strcmp(st->annotations[i].key, key) == 0)
			return st->annotations[i].value;
	return NULL;
}
