/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ubinfmt-runtime's parsers of engine-written bytes: config.json through the seccomp merge, the
 * runtime's command line, and runtime.conf.  The same input is read three ways:
 *  - as config.json (json-c, strict, as the shim parses it): merged, then checked: when
 *    rewritten, execve and execveat each appear in exactly one rule, the notify one (or, when
 *    the profile forbade one, in no notify rule), listenerPath is ours and a second merge of the
 *    written text is a no-op; when refused or left alone, not a byte changed;
 *  - as an argv (words split at NUL bytes): every pointer the scan returns is one of the words
 *    or inside one;
 *  - as runtime.conf text.
 */
#include <assert.h>
#include <errno.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "conf.h"
#include "profile.h"

#define SOCK "/run/ubinfmt/oci.sock"
#define MAX_WORDS 64

static const char *text_of(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

/* How many rules name name, and how many of those are notify rules. */
static void count(struct json_object *config, const char *name, int *ret_all, int *ret_notify)
{
	struct json_object *rules = member(member(member(config, "linux"), "seccomp"), "syscalls");

	*ret_all = *ret_notify = 0;
	for (size_t i = 0; json_object_is_type(rules, json_type_array) && i < json_object_array_length(rules); i++) {
		struct json_object *rule = json_object_array_get_idx(rules, i), *names = member(rule, "names");
		bool notify = strcmp(json_object_get_string(member(rule, "action")), "SCMP_ACT_NOTIFY") == 0;
		bool named = false;

		for (size_t j = 0; json_object_is_type(names, json_type_array) && j < json_object_array_length(names);
		     j++)
			named = named || strcmp(json_object_get_string(json_object_array_get_idx(names, j)), name) == 0;
		*ret_all += named;
		*ret_notify += named && notify;
	}
}

static struct json_object *parse(const uint8_t *data, size_t size)
{
	struct json_tokener *tok = json_tokener_new_ex(64);
	struct json_object *o;

	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static void fuzz_merge(const uint8_t *data, size_t size)
{
	const struct rt_profile_params p = { .socket = SOCK, .metadata = "io.ubinfmt.trace=json" };
	struct json_object *config = parse(data, size), *again;
	struct rt_profile_report rep;
	enum rt_profile_result res;
	char reason[512], *before;
	int r;

	if (!config)
		return;
	before = strdup(text_of(config));
	assert(before);
	reason[0] = '\0';
	r = rt_profile_merge(config, &p, &res, &rep, reason, sizeof(reason));
	if (r < 0) {
		assert(r == -EINVAL || r == -EBUSY);
		assert(reason[0] && !strchr(reason, '\n'));
		assert(strcmp(text_of(config), before) == 0);
	} else if (res != RT_PROFILE_REWRITTEN) {
		assert(res == RT_PROFILE_ALREADY || res == RT_PROFILE_DENIED);
		assert(strcmp(text_of(config), before) == 0);
	} else {
		static const char *const names[2] = { "execve", "execveat" };
		for (int x = 0; x < 2; x++) {
			int all, notify;
			count(config, names[x], &all, &notify);
			if (rep.denied[x])
				assert(notify == 0);
			else
				assert(all == 1 && notify == 1);
		}
		assert(!(rep.denied[0] && rep.denied[1]));
		assert(strcmp(json_object_get_string(
				      member(member(member(config, "linux"), "seccomp"), "listenerPath")),
			      SOCK) == 0);
		/* What is written reads back as done. */
		again = json_tokener_parse(text_of(config));
		assert(again);
		assert(rt_profile_merge(again, &p, &res, &rep, reason, sizeof(reason)) == 0 &&
		       res == RT_PROFILE_ALREADY);
		json_object_put(again);
	}
	free(before);
	json_object_put(config);
}

static bool inside(const char *p, char *const *words, int n)
{
	for (int i = 0; i < n; i++)
		if (p >= words[i] && p <= words[i] + strlen(words[i]))
			return true;
	return false;
}

static void fuzz_argv(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *words[MAX_WORDS];
	struct rt_argv a;
	int n = 0;

	if (!buf)
		return;
	memcpy(buf, data, size);
	buf[size] = '\0';
	words[n++] = (char *)"runc";
	for (size_t i = 0; i <= size && n < MAX_WORDS - 1;) {
		words[n++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	words[n] = NULL;
	rt_argv_scan(n, words, &a);
	assert(a.command < RT_CMD_MAX && a.log_format < RT_LOG_FORMAT_MAX);
	assert(a.command_index >= 0 && a.command_index < n);
	assert((a.command == RT_CMD_NONE) == (a.command_index == 0));
	assert(!a.bundle || inside(a.bundle, words, n));
	assert(!a.config || inside(a.config, words, n));
	assert(!a.log || inside(a.log, words, n));
	assert(!a.bundle || a.command == RT_CMD_CREATE || a.command == RT_CMD_RUN);
	free(buf);
}

static void fuzz_conf(const uint8_t *data, size_t size)
{
	char reason[RT_REASON_MAX];
	struct rt_conf c;

	if (rt_conf_init(&c) < 0)
		return;
	reason[0] = '\0';
	if (rt_conf_parse(&c, "runtime.conf", (const char *)data, size, reason, sizeof(reason)) < 0)
		assert(reason[0] && !strchr(reason, '\n'));
	else
		assert(c.runtime && c.runtime[0] && c.socket && c.socket[0] == '/' && c.mode < RT_MODE_MAX &&
		       c.fallback < RT_FALLBACK_MAX);
	rt_conf_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_merge(data, size);
	fuzz_argv(data, size);
	fuzz_conf(data, size);
	return 0;
}
