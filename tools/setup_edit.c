/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "macros.h"
#include "setup_edit.h"

#define RUNTIME_NAME "ubinfmt"
#define BLOCK_BEGIN "# BEGIN ubinfmt setup"
#define BLOCK_END "# END ubinfmt setup"

void setup_edit_clear(struct setup_edit *e)
{
	free(e->text);
	*e = (struct setup_edit){ 0 };
}

bool setup_path_ok(const char *path)
{
	if (!path || path[0] != '/')
		return false;
	for (const char *p = path; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= ' ' || c == 0x7f || c == '"' || c == '\'' || c == '\\')
			return false;
	}
	return strlen(path) < 1024;
}

static void note(struct setup_edit *e, const char *fmt, ...) _printf_(2, 3);
static void note(struct setup_edit *e, const char *fmt, ...)
{
	va_list ap;

	if (e->n_notes >= SETUP_NOTES_MAX)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(e->notes[e->n_notes++], SETUP_NOTE_LEN, fmt, ap);
	va_end(ap);
}

static int refuse(struct setup_edit *e, const char *fmt, ...) _printf_(2, 3);
static int refuse(struct setup_edit *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(e->why, sizeof(e->why), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Sets the edit's text to a copy of s (len bytes) and whether it differs from cur. */
static int set_text(struct setup_edit *e, const char *s, size_t len, const char *cur, size_t cur_len)
{
	char *t = malloc(len + 1);

	if (!t)
		return -ENOMEM;
	memcpy(t, s, len);
	t[len] = '\0';
	free(e->text);
	e->text = t;
	e->len = len;
	e->changed = !cur || cur_len != len || memcmp(cur, s, len) != 0;
	return 0;
}

/* ---- Docker: daemon.json --------------------------------------------------------------------- */

/*
 * Parses daemon.json.  Trusts nothing in it: it is checked to be one JSON object (strict
 * syntax, valid UTF-8, nothing but blanks after it); an absent or blank file is an empty object.
 */
static int docker_parse(const char *cur, size_t len, struct json_object **ret, struct setup_edit *e)
{
	struct json_tokener *tok;
	struct json_object *top;
	enum json_tokener_error jerr;
	size_t end, blank = 0;

	while (cur && blank < len && strchr(" \t\r\n", cur[blank]))
		blank++;
	if (!cur || blank == len) {
		*ret = json_object_new_object();
		return *ret ? 0 : -ENOMEM;
	}
	tok = json_tokener_new_ex(64);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	top = json_tokener_parse_ex(tok, cur, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!top && jerr == json_tokener_continue)
		return refuse(e, "not JSON: it ends in the middle of the document");
	if (!top || jerr != json_tokener_success) {
		json_object_put(top);
		return refuse(e, "not JSON: %s at byte %zu", json_tokener_error_desc(jerr), end);
	}
	while (end < len && strchr(" \t\r\n", cur[end]))
		end++;
	if (end != len || !json_object_is_type(top, json_type_object)) {
		json_object_put(top);
		return refuse(e,
			      end != len ? "not JSON: more after the document, at byte %zu"
					 : "not a JSON object (byte %zu)",
			      end);
	}
	*ret = top;
	return 0;
}

static int docker_emit(struct json_object *top, const char *cur, size_t len, struct setup_edit *e)
{
	const char *s = json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
								    JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t n = strlen(s);
	_cleanup_free_ char *t = malloc(n + 2);

	if (!t)
		return -ENOMEM;
	memcpy(t, s, n);
	t[n++] = '\n';
	return set_text(e, t, n, cur, len);
}

/* Whether v is exactly {"path": RUNTIME}. */
static bool is_our_runtime(struct json_object *v, const char *runtime)
{
	struct json_object *path;

	return json_object_is_type(v, json_type_object) && json_object_object_length(v) == 1 &&
	       json_object_object_get_ex(v, "path", &path) && json_object_is_type(path, json_type_string) &&
	       strcmp(json_object_get_string(path), runtime) == 0;
}

static bool is_string(struct json_object *v, const char *s)
{
	return json_object_is_type(v, json_type_string) && strcmp(json_object_get_string(v), s) == 0;
}

static int docker_apply_to(struct json_object *top, const char *runtime, bool make_default, struct setup_edit *e)
{
	struct json_object *runtimes, *ours, *old, *def;

	if (!json_object_object_get_ex(top, "runtimes", &runtimes)) {
		runtimes = json_object_new_object();
		if (!runtimes || json_object_object_add(top, "runtimes", runtimes) < 0)
			return -ENOMEM;
	} else if (!json_object_is_type(runtimes, json_type_object)) {
		return refuse(e, "\"runtimes\" is not a JSON object");
	}
	if (!json_object_object_get_ex(runtimes, RUNTIME_NAME, &old) || !is_our_runtime(old, runtime)) {
		note(e, old ? "runtimes.%s replaced (it was %s): path %s" : "runtimes.%s added: path %s%s",
		     RUNTIME_NAME, old ? json_object_to_json_string_ext(old, JSON_C_TO_STRING_NOSLASHESCAPE) : runtime,
		     old ? runtime : "");
		ours = json_object_new_object();
		if (!ours || json_object_object_add(ours, "path", json_object_new_string(runtime)) < 0 ||
		    json_object_object_add(runtimes, RUNTIME_NAME, ours) < 0)
			return -ENOMEM;
	}
	def = NULL;
	(void)json_object_object_get_ex(top, "default-runtime", &def);
	if (make_default && !is_string(def, RUNTIME_NAME)) {
		note(e, def ? "default-runtime set to \"%s\" (it was %s)" : "default-runtime set to \"%s\"%s",
		     RUNTIME_NAME, def ? json_object_to_json_string(def) : "");
		if (json_object_object_add(top, "default-runtime", json_object_new_string(RUNTIME_NAME)) < 0)
			return -ENOMEM;
	} else if (!make_default && is_string(def, RUNTIME_NAME)) {
		note(e, "default-runtime \"%s\" taken out (docker's default runtime is runc again)", RUNTIME_NAME);
		json_object_object_del(top, "default-runtime");
	}
	return 0;
}

int setup_docker_apply(const char *cur, size_t len, const char *runtime, bool make_default, struct setup_edit *ret)
{
	struct setup_edit e = { 0 };
	struct json_object *top = NULL;
	int r;

	if (len > SETUP_FILE_MAX)
		return refuse(ret, "larger than %u bytes", SETUP_FILE_MAX);
	r = docker_parse(cur, len, &top, &e);
	if (r >= 0)
		r = docker_apply_to(top, runtime, make_default, &e);
	if (r >= 0)
		r = e.n_notes ? docker_emit(top, cur, len, &e) : set_text(&e, cur ? cur : "", cur ? len : 0, cur, len);
	json_object_put(top);
	if (r < 0) {
		memcpy(ret->why, e.why, sizeof(e.why));
		setup_edit_clear(&e);
		return r;
	}
	*ret = e;
	return 0;
}

int setup_docker_revert(const char *cur, size_t len, struct setup_edit *ret)
{
	struct setup_edit e = { 0 };
	struct json_object *top = NULL, *runtimes, *def;
	int r;

	if (len > SETUP_FILE_MAX)
		return refuse(ret, "larger than %u bytes", SETUP_FILE_MAX);
	r = docker_parse(cur, len, &top, &e);
	if (r < 0) {
		memcpy(ret->why, e.why, sizeof(e.why));
		return r;
	}
	if (json_object_object_get_ex(top, "runtimes", &runtimes) && json_object_is_type(runtimes, json_type_object) &&
	    json_object_object_get_ex(runtimes, RUNTIME_NAME, NULL)) {
		json_object_object_del(runtimes, RUNTIME_NAME);
		note(&e, "runtimes.%s taken out", RUNTIME_NAME);
		if (json_object_object_length(runtimes) == 0)
			json_object_object_del(top, "runtimes");
	}
	if (json_object_object_get_ex(top, "default-runtime", &def) && is_string(def, RUNTIME_NAME)) {
		json_object_object_del(top, "default-runtime");
		note(&e, "default-runtime \"%s\" taken out", RUNTIME_NAME);
	}
	r = e.n_notes ? docker_emit(top, cur, len, &e) : set_text(&e, cur ? cur : "", cur ? len : 0, cur, len);
	json_object_put(top);
	if (r < 0) {
		setup_edit_clear(&e);
		return r;
	}
	if (!cur) {
		free(e.text);
		e.text = NULL;
	}
	*ret = e;
	return 0;
}

/* ---- whole-file drop-ins ------------------------------------------------------------------- */

static int set_formatted(struct setup_edit *e, const char *fmt, ...) _printf_(2, 3);
static int set_formatted(struct setup_edit *e, const char *fmt, ...)
{
	va_list ap;
	char *t = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&t, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	e->text = t;
	e->len = (size_t)n;
	e->changed = true;
	return 0;
}

int setup_docker_dropin(const char *runc_dir, struct setup_edit *ret)
{
	*ret = (struct setup_edit){ 0 };
	note(ret, "BuildKit's runc is %s/runc (ubinfmt-runtime), first on dockerd's PATH", runc_dir);
	return set_formatted(
		ret,
		"# Written by `ubinfmt setup docker --default`; `ubinfmt setup docker --undo` removes it.\n"
		"# BuildKit inside dockerd runs the first runc on dockerd's PATH (Docker 20.10) or\n"
		"# DOCKER_BUILDKIT_RUNC_COMMAND (later releases): both name ubinfmt-runtime here, so that\n"
		"# the RUN steps of `docker build` reach ubinfmtd too.  ubinfmt-runtime finds the real\n"
		"# runc further down the PATH, never itself.\n"
		"[Service]\n"
		"Environment=\"PATH=%s:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"\n"
		"Environment=\"DOCKER_BUILDKIT_RUNC_COMMAND=%s/runc\"\n",
		runc_dir, runc_dir);
}

int setup_podman_dropin(const char *runtime, bool make_default, struct setup_edit *ret)
{
	*ret = (struct setup_edit){ 0 };
	note(ret, "runtime \"%s\": %s", RUNTIME_NAME, runtime);
	if (make_default)
		note(ret, "the default runtime is \"%s\"", RUNTIME_NAME);
	return set_formatted(ret,
			     "# Written by `ubinfmt setup podman%s`; `ubinfmt setup podman --undo` removes it.\n"
			     "# `podman run --runtime %s …` (or every podman run, when it is the default) runs the\n"
			     "# container through ubinfmt-runtime, which hands its execs to ubinfmtd.\n"
			     "[engine]\n"
			     "%s"
			     "# ubinfmt-runtime passes runc's JSON error reports through: podman may ask for them.\n"
			     "# (This list replaces podman's own, which it repeats.)\n"
			     "runtime_supports_json = [\"crun\", \"runc\", \"kata\", \"runsc\", \"krun\", \"%s\"]\n"
			     "\n"
			     "[engine.runtimes]\n"
			     "%s = [\"%s\"]\n",
			     make_default ? " --default" : "", RUNTIME_NAME,
			     make_default ? "runtime = \"" RUNTIME_NAME "\"\n" : "", RUNTIME_NAME, RUNTIME_NAME,
			     runtime);
}

/* ---- containerd: config.toml --------------------------------------------------------------- */

/* One line of the file: its bytes without the newline, its offsets, its 1-based number. */
struct line {
	const char *s;
	size_t len, start, next, no;
};

static bool next_line(const char *text, size_t len, struct line *l)
{
	const char *nl;

	if (l->next >= len)
		return false;
	l->start = l->next;
	l->s = text + l->start;
	nl = memchr(l->s, '\n', len - l->start);
	l->len = nl ? (size_t)(nl - l->s) : len - l->start;
	l->next = l->start + l->len + (nl ? 1 : 0);
	l->no++;
	return true;
}

/* The line without leading and trailing blanks (and a trailing CR). */
static struct line trimmed(struct line l)
{
	while (l.len && (l.s[0] == ' ' || l.s[0] == '\t'))
		l.s++, l.len--;
	while (l.len && strchr(" \t\r", l.s[l.len - 1]))
		l.len--;
	return l;
}

static bool line_is(struct line l, const char *s)
{
	l = trimmed(l);
	return l.len == strlen(s) && memcmp(l.s, s, l.len) == 0;
}

static bool line_starts(struct line l, const char *s)
{
	l = trimmed(l);
	return l.len >= strlen(s) && memcmp(l.s, s, strlen(s)) == 0;
}

static bool line_has(struct line l, const char *s)
{
	return memmem(l.s, l.len, s, strlen(s)) != NULL;
}

/* Where setup's block is: [*ret_start, *ret_end).  -ENOENT when there is none. */
static int find_block(const char *text, size_t len, size_t *ret_start, size_t *ret_end, struct setup_edit *e)
{
	struct line l = { 0 };
	size_t begin = 0, begin_no = 0;
	bool in = false;

	while (next_line(text, len, &l)) {
		if (!in && line_starts(l, BLOCK_BEGIN)) {
			in = true;
			begin = l.start;
			begin_no = l.no;
		} else if (in && line_is(l, BLOCK_END)) {
			*ret_start = begin;
			*ret_end = l.next;
			return 0;
		}
	}
	if (in)
		return refuse(e, "line %zu opens ubinfmt setup's block (\"%s\") and no \"%s\" line closes it", begin_no,
			      BLOCK_BEGIN, BLOCK_END);
	return -ENOENT;
}

struct toml_facts {
	int version;	  /* the top-level version key, 0 when there is none */
	bool tables;	  /* any [table] header at all */
	bool systemd;	  /* SystemdCgroup = true in the runc handler's options */
	bool runc;	  /* the file defines the runc handler */
	size_t ours_line; /* a handler named ubinfmt defined here (its line), 0 if none */
};

/* The value of a "key = value" line whose key is KEY, or NULL. */
static const char *key_value(struct line l, const char *key, size_t *ret_len)
{
	size_t k = strlen(key);

	l = trimmed(l);
	if (l.len <= k || memcmp(l.s, key, k) != 0 || !strchr(" \t=", l.s[k]))
		return NULL;
	l.s += k, l.len -= k;
	while (l.len && (l.s[0] == ' ' || l.s[0] == '\t'))
		l.s++, l.len--;
	if (!l.len || l.s[0] != '=')
		return NULL;
	l.s++, l.len--;
	while (l.len && (l.s[0] == ' ' || l.s[0] == '\t'))
		l.s++, l.len--;
	*ret_len = l.len;
	return l.s;
}

/*
 * What the edit needs to know of a config.toml, line by line: enough TOML for the files
 * containerd's own `config default` writes and people edit, not a parser.  Whatever this
 * misreads, containerd itself refuses to load (t_setup loads every file it writes).
 */
static void scan_toml(const char *text, size_t len, struct toml_facts *f)
{
	struct line l = { 0 }, table = { 0 };
	const char *v;
	size_t vlen;

	*f = (struct toml_facts){ 0 };
	while (next_line(text, len, &l)) {
		struct line t = trimmed(l);

		if (t.len && t.s[0] == '#')
			continue;
		if (t.len && t.s[0] == '[') {
			f->tables = true;
			table = t;
			if (line_has(t, ".containerd.runtimes.runc]") || line_has(t, ".containerd.runtimes.runc."))
				f->runc = true;
			if (line_has(t, ".runtimes.ubinfmt]") || line_has(t, ".runtimes.ubinfmt.") ||
			    line_has(t, ".runtimes.\"ubinfmt\"") || line_has(t, ".runtimes.'ubinfmt'"))
				f->ours_line = f->ours_line ? f->ours_line : l.no;
			continue;
		}
		if (!f->tables && (v = key_value(l, "version", &vlen)) && vlen == 1 && v[0] >= '0' && v[0] <= '9')
			f->version = v[0] - '0';
		if (table.len && line_has(table, ".runtimes]") &&
		    (key_value(l, "ubinfmt", &vlen) || key_value(l, "\"ubinfmt\"", &vlen)))
			f->ours_line = f->ours_line ? f->ours_line : l.no;
		if (table.len && line_has(table, ".runtimes.runc.options]") &&
		    (v = key_value(l, "SystemdCgroup", &vlen)) && vlen >= 4 && memcmp(v, "true", 4) == 0)
			f->systemd = true;
	}
}

static const char *cri_plugin(int version)
{
	switch (version) {
	case 1:
		return "plugins.cri";
	case 2:
		return "plugins.\"io.containerd.grpc.v1.cri\"";
	case 3:
		return "plugins.\"io.containerd.cri.v1.runtime\"";
	default:
		return NULL;
	}
}

/*
 * The file with setup's block after it: *ret_out, its length returned (-ENOMEM).  A blank line
 * between the file and the block, unless there is one already.
 */
static int containerd_text(char **ret_out, const char *base, size_t base_len, const char *plugin, const char *runtime,
			   const struct toml_facts *f, bool add_version, bool *ret_named_runc)
{
	_cleanup_free_ char *runc = NULL;
	const char *sep = base_len == 0				       ? ""
			  : base[base_len - 1] != '\n'		       ? "\n\n"
			  : base_len > 1 && base[base_len - 2] != '\n' ? "\n"
								       : "";

	/*
	 * containerd 1.6 takes the handlers a file names instead of its built-in ones: a file that
	 * names none (Debian's) would lose runc, the default handler of every other pod, and the
	 * CRI plugin would not load at all.  So runc is named too, as containerd has it built in.
	 */
	if (!f->runc &&
	    asprintf(&runc, "[%s.containerd.runtimes.runc]\n  runtime_type = \"io.containerd.runc.v2\"\n", plugin) < 0)
		return -ENOMEM;
	*ret_named_runc = runc != NULL;
	return asprintf(
		ret_out,
		"%s%s%s" BLOCK_BEGIN " (`ubinfmt setup containerd --undo` takes this block out)\n"
		"# The CRI runtime handler \"%s\", for a Kubernetes RuntimeClass with handler: %s: runc's\n"
		"# shim running ubinfmt-runtime as its runc, which hands the container's execs to ubinfmtd.\n"
		"%s%s"
		"[%s.containerd.runtimes.%s]\n"
		"  runtime_type = \"io.containerd.runc.v2\"\n"
		"  [%s.containerd.runtimes.%s.options]\n"
		"    BinaryName = \"%s\"\n"
		"%s" BLOCK_END "\n",
		base, sep, add_version ? "version = 2\n\n" : "", RUNTIME_NAME, RUNTIME_NAME,
		runc ? "# Handlers named here replace containerd's built-in ones: runc, the default, as built in.\n"
		     : "",
		runc ? runc : "", plugin, RUNTIME_NAME, plugin, RUNTIME_NAME, runtime,
		f->systemd ? "    SystemdCgroup = true\n" : "");
}

int setup_containerd_apply(const char *cur, size_t len, const char *runtime, struct setup_edit *ret)
{
	struct setup_edit e = { 0 };
	struct toml_facts f;
	size_t b_start = 0, b_end = 0, base_len;
	_cleanup_free_ char *base = NULL, *out = NULL;
	const char *plugin;
	bool add_version, named_runc = false;
	int r, n, version;

	if (len > SETUP_FILE_MAX)
		return refuse(ret, "larger than %u bytes", SETUP_FILE_MAX);
	/* The file without setup's block, which is written anew (the same bytes when nothing changed). */
	r = cur ? find_block(cur, len, &b_start, &b_end, ret) : -ENOENT;
	if (r < 0 && r != -ENOENT)
		return r;
	base_len = cur ? len - (b_end - b_start) : 0;
	base = malloc(base_len + 1);
	if (!base)
		return -ENOMEM;
	if (cur) {
		memcpy(base, cur, b_start);
		memcpy(base + b_start, cur + b_end, len - b_end);
	}
	base[base_len] = '\0';

	scan_toml(base, base_len, &f);
	if (f.ours_line)
		return refuse(ret,
			      "line %zu already defines a runtime handler \"%s\", outside ubinfmt setup's block: "
			      "take it out, or leave this file as it is",
			      f.ours_line, RUNTIME_NAME);
	add_version = f.version == 0 && !f.tables;
	version = add_version ? 2 : f.version ? f.version : 1;
	plugin = cri_plugin(version);
	if (!plugin)
		return refuse(ret, "config version %d: this setup knows versions 1, 2 and 3", version);

	n = containerd_text(&out, base, base_len, plugin, runtime, &f, add_version, &named_runc);
	if (n < 0)
		return -ENOMEM;
	r = set_text(&e, out, (size_t)n, cur, len);
	if (r < 0)
		return r;
	if (e.changed)
		note(&e, "CRI runtime handler \"%s\": BinaryName %s (config version %d%s%s%s)", RUNTIME_NAME, runtime,
		     version, add_version ? ", written" : "", f.systemd ? ", SystemdCgroup like runc's" : "",
		     named_runc ? "; runc named as built in" : "");
	*ret = e;
	return 0;
}

int setup_containerd_revert(const char *cur, size_t len, struct setup_edit *ret)
{
	struct setup_edit e = { 0 };
	size_t b_start, b_end, cut;
	_cleanup_free_ char *out = NULL;
	int r;

	if (len > SETUP_FILE_MAX)
		return refuse(ret, "larger than %u bytes", SETUP_FILE_MAX);
	r = cur ? find_block(cur, len, &b_start, &b_end, ret) : -ENOENT;
	if (r == -ENOENT) {
		*ret = e;
		if (cur)
			return set_text(ret, cur, len, cur, len);
		return 0;
	}
	if (r < 0)
		return r;
	/* The blank line that setup put before the block goes too. */
	cut = b_start >= 2 && cur[b_start - 1] == '\n' && cur[b_start - 2] == '\n' ? b_start - 1 : b_start;
	out = malloc(len + 1);
	if (!out)
		return -ENOMEM;
	memcpy(out, cur, cut);
	memcpy(out + cut, cur + b_end, len - b_end);
	r = set_text(&e, out, cut + len - b_end, cur, len);
	if (r < 0)
		return r;
	note(&e, "CRI runtime handler \"%s\" taken out", RUNTIME_NAME);
	*ret = e;
	return 0;
}
