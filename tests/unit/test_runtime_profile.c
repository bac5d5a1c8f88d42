/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ubinfmt-runtime's seccomp merge, over the config.json that real engines write on this kind of
 * machine (tests/unit/data/runtime: Docker 20.10 with its default profile and --privileged,
 * BuildKit, podman 4.3 with its default profile and --privileged, runc spec), then over the
 * profiles engines do not write but users may.
 */
#include <errno.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "profile.h"

#define SOCK "/run/ubinfmt/oci.sock"

static const struct rt_profile_params params = { .socket = SOCK };
static char reason[512];

static const char *str(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

static struct json_object *get(struct json_object *o, const char *path)
{
	char key[64];

	while (o && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		snprintf(key, sizeof(key), "%.*s", (int)n, path);
		if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		path += n + (dot ? 1 : 0);
	}
	return o;
}

static bool is_exec(const char *name)
{
	return strcmp(name, "execve") == 0 || strcmp(name, "execveat") == 0;
}

static bool allows(struct json_object *rule)
{
	const char *a = json_object_get_string(get(rule, "action"));
	return strcmp(a, "SCMP_ACT_ALLOW") == 0 || strcmp(a, "SCMP_ACT_LOG") == 0 || strcmp(a, "SCMP_ACT_NOTIFY") == 0;
}

/* How many rules name name, and the action of the last one. */
static int occurrences(struct json_object *config, const char *name, const char **ret_action)
{
	struct json_object *rules = get(config, "linux.seccomp.syscalls");
	int n = 0;

	for (size_t i = 0; rules && i < json_object_array_length(rules); i++) {
		struct json_object *rule = json_object_array_get_idx(rules, i), *names = get(rule, "names");
		for (size_t j = 0; names && j < json_object_array_length(names); j++)
			if (strcmp(json_object_get_string(json_object_array_get_idx(names, j)), name) == 0) {
				n++;
				*ret_action = json_object_get_string(get(rule, "action"));
			}
	}
	return n;
}

/*
 * The rules as they must be after the merge, the notify rule aside: the same, with execve and
 * execveat taken out of the rules that allow them and the rules so emptied left out.
 */
static struct json_object *expected_rules(struct json_object *before)
{
	struct json_object *rules = get(before, "linux.seccomp.syscalls"), *out = json_object_new_array();

	for (size_t i = 0; rules && i < json_object_array_length(rules); i++) {
		struct json_object *rule = NULL, *names, *kept;
		size_t n;

		assert_int_equal(json_object_deep_copy(json_object_array_get_idx(rules, i), &rule, NULL), 0);
		names = get(rule, "names");
		n = json_object_array_length(names);
		if (allows(rule)) {
			kept = json_object_new_array();
			for (size_t j = 0; j < n; j++) {
				struct json_object *s = json_object_array_get_idx(names, j);
				if (!is_exec(json_object_get_string(s)))
					json_object_array_add(kept, json_object_get(s));
			}
			if (json_object_array_length(kept) == 0 && n > 0) {
				json_object_put(kept);
				json_object_put(rule);
				continue;
			}
			json_object_object_add(rule, "names", kept);
		}
		json_object_array_add(out, rule);
	}
	return out;
}

/* The members of linux.seccomp other than those the merge writes, as one string. */
static char *untouched_seccomp(struct json_object *config)
{
	struct json_object *s = get(config, "linux.seccomp"), *copy = json_object_new_object();
	char *text;

	if (s) {
		json_object_object_foreach (s, key, val) {
			if (strcmp(key, "syscalls") && strcmp(key, "listenerPath") && strcmp(key, "listenerMetadata"))
				json_object_object_add(copy, key, json_object_get(val));
		}
	}
	text = strdup(str(copy));
	json_object_put(copy);
	return text;
}

struct engine_case {
	const char *file;
	bool had_seccomp;
	bool has_architectures;
};

/* clang-format off */
static const struct engine_case engines[] = {
	{ "docker-20.10-default.json", true, true },
	{ "docker-20.10-privileged.json", false, false },
	{ "buildkit-docker-20.10.json", true, true },
	{ "podman-4.3-default.json", true, true },
	{ "podman-4.3-privileged.json", false, false },
	{ "runc-1.1.5-spec.json", false, false },
};
/* clang-format on */

static struct json_object *load(const char *file)
{
	char path[512];
	struct json_object *o;

	snprintf(path, sizeof(path), "%s/%s", RUNTIME_TEST_DATA, file);
	o = json_object_from_file(path);
	if (!o)
		fail_msg("cannot read %s", path);
	return o;
}

static void check_engine(const struct engine_case *e)
{
	struct json_object *before = load(e->file), *after = load(e->file), *want, *rules, *last;
	struct rt_profile_report rep;
	enum rt_profile_result res;
	char *seccomp_before, *text;
	const char *action = NULL;

	seccomp_before = untouched_seccomp(before);
	assert_int_equal(rt_profile_merge(after, &params, &res, &rep, reason, sizeof(reason)), 0);
	assert_int_equal(res, RT_PROFILE_REWRITTEN);
	assert_int_equal(rep.created, !e->had_seccomp);
	assert_int_equal(rep.conditional, 0);
	assert_false(rep.denied[0] || rep.denied[1]);

	/* execve and execveat: exactly once each, in the notify rule, the last one. */
	assert_int_equal(occurrences(after, "execve", &action), 1);
	assert_string_equal(action, "SCMP_ACT_NOTIFY");
	assert_int_equal(occurrences(after, "execveat", &action), 1);
	assert_string_equal(action, "SCMP_ACT_NOTIFY");
	rules = get(after, "linux.seccomp.syscalls");
	last = json_object_array_get_idx(rules, json_object_array_length(rules) - 1);
	assert_string_equal(str(last), "{\"names\":[\"execve\",\"execveat\"],\"action\":\"SCMP_ACT_NOTIFY\"}");

	/* Every other rule as it was, in order, less the exec names. */
	want = expected_rules(before);
	json_object_array_del_idx(rules, json_object_array_length(rules) - 1, 1);
	assert_string_equal(str(rules), str(want));
	json_object_put(want);
	json_object_put(after);
	after = load(e->file);
	assert_int_equal(rt_profile_merge(after, &params, &res, &rep, reason, sizeof(reason)), 0);

	/* defaultAction, defaultErrnoRet, architectures, flags: untouched (none made up). */
	text = untouched_seccomp(after);
	if (e->had_seccomp)
		assert_string_equal(text, seccomp_before);
	else
		assert_string_equal(text, "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}");
	assert_int_equal(get(after, "linux.seccomp.architectures") != NULL, e->has_architectures);
	free(text);
	free(seccomp_before);
	assert_string_equal(json_object_get_string(get(after, "linux.seccomp.listenerPath")), SOCK);
	assert_null(get(after, "linux.seccomp.listenerMetadata"));

	/* Everything else of the document: untouched, but for our annotation. */
	assert_string_equal(str(get(after, "process")), str(get(before, "process")));
	assert_string_equal(str(get(after, "root")), str(get(before, "root")));
	assert_string_equal(str(get(after, "linux.namespaces")), str(get(before, "linux.namespaces")));
	assert_string_equal(rt_annotation(after, RT_ANNOTATION_REWRITTEN), RT_ANNOTATION_REWRITTEN_VALUE);
	{
		struct json_object *ann = get(after, "annotations"), *orig = get(before, "annotations");
		size_t n_orig = orig ? (size_t)json_object_object_length(orig) : 0;
		assert_int_equal(json_object_object_length(ann), n_orig + 1);
		if (orig) {
			json_object_object_foreach (orig, key, val) {
				struct json_object *now = NULL;
				assert_true(json_object_object_get_ex(ann, key, &now));
				assert_string_equal(json_object_get_string(now), json_object_get_string(val));
			}
		}
	}

	/* A second pass changes nothing. */
	text = strdup(str(after));
	assert_int_equal(rt_profile_merge(after, &params, &res, &rep, reason, sizeof(reason)), 0);
	assert_int_equal(res, RT_PROFILE_ALREADY);
	assert_string_equal(str(after), text);
	free(text);

	json_object_put(before);
	json_object_put(after);
}

static void test_engines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++) {
		print_message("  %s\n", engines[i].file);
		check_engine(&engines[i]);
	}
}

/* The real profiles have what the merge is about: checked, so that the table keeps meaning it. */
static void test_engines_are_what_they_say(void **state)
{
	struct json_object *d = load("docker-20.10-default.json"), *p = load("podman-4.3-default.json");
	struct json_object *priv = load("docker-20.10-privileged.json"), *big;
	const char *action = NULL;
	bool conditional = false;

	(void)state;
	assert_string_equal(json_object_get_string(get(d, "linux.seccomp.defaultAction")), "SCMP_ACT_ERRNO");
	big = json_object_array_get_idx(get(d, "linux.seccomp.syscalls"), 0);
	assert_true(json_object_array_length(get(big, "names")) > 300);
	assert_non_null(get(d, "linux.seccomp.architectures"));
	assert_int_equal(occurrences(d, "execve", &action), 1);
	assert_string_equal(action, "SCMP_ACT_ALLOW");
	assert_int_equal(occurrences(p, "execveat", &action), 1);
	assert_string_equal(action, "SCMP_ACT_ALLOW");
	assert_int_equal(json_object_get_int(get(p, "linux.seccomp.defaultErrnoRet")), 38);
	for (size_t i = 0; i < json_object_array_length(get(p, "linux.seccomp.syscalls")); i++)
		conditional = conditional ||
			      get(json_object_array_get_idx(get(p, "linux.seccomp.syscalls"), i), "args");
	assert_true(conditional);
	assert_null(get(priv, "linux.seccomp"));
	json_object_put(d);
	json_object_put(p);
	json_object_put(priv);
}

/* ---- profiles users write ------------------------------------------------------------------ */

static struct json_object *doc(const char *json)
{
	struct json_object *o = json_tokener_parse(json);
	if (!o)
		fail_msg("bad test JSON: %s", json);
	return o;
}

/* Merges json with p; returns the result and leaves the document in *ret (caller puts it). */
static int merge_json(const char *json, const struct rt_profile_params *p, enum rt_profile_result *res,
		      struct rt_profile_report *rep, struct json_object **ret)
{
	struct json_object *o = doc(json);
	int r;

	reason[0] = '\0';
	r = rt_profile_merge(o, p, res, rep, reason, sizeof(reason));
	*ret = o;
	return r;
}

/* The merged seccomp section of json, as a string. */
static const char *merged(const char *json, const struct rt_profile_params *p, struct json_object **keep)
{
	struct rt_profile_report rep;
	enum rt_profile_result res;

	if (merge_json(json, p, &res, &rep, keep) != 0)
		fail_msg("%s: refused: %s", json, reason);
	assert_int_equal(res, RT_PROFILE_REWRITTEN);
	return str(get(*keep, "linux.seccomp"));
}

static void refused(const char *json, int want, const char *want_reason)
{
	struct rt_profile_report rep;
	enum rt_profile_result res;
	struct json_object *o;
	char *before;
	int r;

	o = doc(json);
	before = strdup(str(o));
	json_object_put(o);
	r = merge_json(json, &params, &res, &rep, &o);
	if (r != want)
		fail_msg("%s: got %d, want %d (%s)", json, r, want, reason);
	if (!strstr(reason, want_reason))
		fail_msg("%s: reason '%s' lacks '%s'", json, reason, want_reason);
	/* Refused: not a byte changed. */
	assert_string_equal(str(o), before);
	free(before);
	json_object_put(o);
}

static void test_minimal_documents(void **state)
{
	struct json_object *o;

	(void)state;
	assert_string_equal(merged("{}", &params, &o),
			    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"execve\",\"execveat\"],"
			    "\"action\":\"SCMP_ACT_NOTIFY\"}],\"listenerPath\":\"" SOCK "\"}");
	assert_string_equal(str(get(o, "annotations")), "{\"io.ubinfmt.runtime\":\"rewritten\"}");
	json_object_put(o);
	/* null is absent. */
	assert_string_equal(merged("{\"linux\":{\"seccomp\":null},\"annotations\":null}", &params, &o),
			    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"execve\",\"execveat\"],"
			    "\"action\":\"SCMP_ACT_NOTIFY\"}],\"listenerPath\":\"" SOCK "\"}");
	json_object_put(o);
	assert_string_equal(merged("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":null}}}",
				   &params, &o),
			    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"execve\",\"execveat\"],"
			    "\"action\":\"SCMP_ACT_NOTIFY\"}],\"listenerPath\":\"" SOCK "\"}");
	json_object_put(o);
}

static void test_listener(void **state)
{
	const struct rt_profile_params with_meta = { .socket = SOCK, .metadata = "io.ubinfmt.trace=json" };
	struct json_object *o;

	(void)state;
	/* Our own socket already (a profile written after docs/oci.md): fine, metadata kept. */
	assert_string_equal(
		merged("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"" SOCK
		       "\",\"listenerMetadata\":\"io.ubinfmt.emulators=arm\",\"syscalls\":[{\"names\":"
		       "[\"execve\",\"execveat\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}}}",
		       &with_meta, &o),
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"" SOCK "\",\"listenerMetadata\":"
		"\"io.ubinfmt.emulators=arm\",\"syscalls\":[{\"names\":[\"execve\",\"execveat\"],\"action\":"
		"\"SCMP_ACT_NOTIFY\"}]}");
	json_object_put(o);
	/* No metadata in the profile: the configured one. */
	assert_string_equal(merged("{}", &with_meta, &o),
			    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"execve\",\"execveat\"],"
			    "\"action\":\"SCMP_ACT_NOTIFY\"}],\"listenerPath\":\"" SOCK "\",\"listenerMetadata\":"
			    "\"io.ubinfmt.trace=json\"}");
	json_object_put(o);
	/* Another agent's: two agents cannot share one filter. */
	refused("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/run/other.sock\"}}}",
		-EBUSY, "already sends syscalls to another agent (listenerPath '/run/other.sock')");
	refused("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/run/\\nx\"}}}",
		-EBUSY, "listenerPath '/run/\\nx'");
}

static void test_rules(void **state)
{
	struct rt_profile_report rep;
	enum rt_profile_result res;
	struct json_object *o;

	(void)state;
	/* A rule left with no names goes; others keep theirs and their order. */
	assert_string_equal(
		merged("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":["
		       "{\"names\":[\"execve\"],\"action\":\"SCMP_ACT_ALLOW\"},"
		       "{\"names\":[\"read\",\"execveat\",\"write\",\"execveat\"],\"action\":\"SCMP_ACT_LOG\"},"
		       "{\"names\":[],\"action\":\"SCMP_ACT_ALLOW\"}]}}}",
		       &params, &o),
		"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\",\"write\"],\"action\":"
		"\"SCMP_ACT_LOG\"},{\"names\":[],\"action\":\"SCMP_ACT_ALLOW\"},{\"names\":[\"execve\","
		"\"execveat\"],\"action\":\"SCMP_ACT_NOTIFY\"}],\"listenerPath\":\"" SOCK "\"}");
	json_object_put(o);

	/* A conditional rule that allows: taken apart, reported. */
	assert_int_equal(merge_json("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":["
				    "{\"names\":[\"execve\"],\"action\":\"SCMP_ACT_ALLOW\"},"
				    "{\"names\":[\"execveat\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":4,"
				    "\"value\":4096,\"op\":\"SCMP_CMP_NE\"}]}]}}}",
				    &params, &res, &rep, &o),
			 0);
	assert_int_equal(res, RT_PROFILE_REWRITTEN);
	assert_int_equal(rep.conditional, 1);
	assert_int_equal(rep.dropped, 2);
	assert_string_equal(rep.first_conditional, "rule 1 (SCMP_ACT_ALLOW, with args)");
	assert_string_equal(str(get(o, "linux.seccomp.syscalls")),
			    "[{\"names\":[\"execve\",\"execveat\"],\"action\":\"SCMP_ACT_NOTIFY\"}]");
	json_object_put(o);

	/* Empty args are no condition. */
	assert_int_equal(
		merge_json("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":["
			   "{\"names\":[\"execve\",\"execveat\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[]}]}}}",
			   &params, &res, &rep, &o),
		0);
	assert_int_equal(rep.conditional, 0);
	json_object_put(o);
}

/* What the profile forbids stays forbidden: ubinfmtd would let it through. */
static void test_forbidden(void **state)
{
	struct rt_profile_report rep;
	enum rt_profile_result res;
	struct json_object *o;
	const char *action = NULL;

	(void)state;
	/* execveat denied outright: only execve is notified. */
	assert_int_equal(merge_json("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":["
				    "{\"names\":[\"read\",\"execve\",\"execveat\"],\"action\":\"SCMP_ACT_ALLOW\"},"
				    "{\"names\":[\"execveat\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"}]}}}",
				    &params, &res, &rep, &o),
			 0);
	assert_int_equal(res, RT_PROFILE_REWRITTEN);
	assert_false(rep.denied[0]);
	assert_true(rep.denied[1]);
	assert_string_equal(
		str(get(o, "linux.seccomp.syscalls")),
		"[{\"names\":[\"read\",\"execveat\"],\"action\":\"SCMP_ACT_ALLOW\"},{\"names\":[\"execveat\"],"
		"\"action\":\"SCMP_ACT_KILL_PROCESS\"},{\"names\":[\"execve\"],\"action\":\"SCMP_ACT_NOTIFY\"}]");
	assert_int_equal(occurrences(o, "execve", &action), 1);
	assert_string_equal(action, "SCMP_ACT_NOTIFY");
	json_object_put(o);

	/* Named by no rule under a denying default: execveat stays denied. */
	assert_int_equal(
		merge_json("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,"
			   "\"syscalls\":[{\"names\":[\"execve\"],\"action\":\"SCMP_ACT_ALLOW\"}]}}}",
			   &params, &res, &rep, &o),
		0);
	assert_true(rep.denied[1]);
	assert_string_equal(str(get(o, "linux.seccomp.syscalls")),
			    "[{\"names\":[\"execve\"],\"action\":\"SCMP_ACT_NOTIFY\"}]");
	json_object_put(o);

	/* Both forbidden: nothing to serve, nothing changed, no annotation. */
	assert_int_equal(merge_json("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":["
				    "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"}]}}}",
				    &params, &res, &rep, &o),
			 0);
	assert_int_equal(res, RT_PROFILE_DENIED);
	assert_null(get(o, "annotations"));
	assert_null(get(o, "linux.seccomp.listenerPath"));
	json_object_put(o);

	/* A conditional denial cannot be combined with an unconditional notify rule. */
	refused("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"execveat\"],"
		"\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":4,\"value\":4096,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}"
		"}}",
		-EINVAL, "linux.seccomp.syscalls[0] (SCMP_ACT_ERRNO under conditions) names execveat");
}

static void test_refused(void **state)
{
	(void)state;
	refused("[]", -EINVAL, "config.json is not a JSON object");
	refused("{\"linux\":[]}", -EINVAL, "linux is not an object");
	refused("{\"annotations\":[]}", -EINVAL, "annotations is not an object");
	refused("{\"linux\":{\"seccomp\":true}}", -EINVAL, "linux.seccomp is not an object");
	refused("{\"linux\":{\"seccomp\":{}}}", -EINVAL, "linux.seccomp has no defaultAction");
	refused("{\"linux\":{\"seccomp\":{\"defaultAction\":7}}}", -EINVAL, "has no defaultAction");
	refused("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}}}", -EINVAL,
		"defaultAction is SCMP_ACT_NOTIFY");
	refused("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":1}}}", -EINVAL,
		"listenerPath is not a string");
	refused("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerMetadata\":{}}}}", -EINVAL,
		"listenerMetadata is not a string");
	refused("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":{}}}}", -EINVAL,
		"syscalls is not a list");
	refused("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[1]}}}", -EINVAL,
		"syscalls[0] is not an object");
	refused("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"]}]}}"
		"}",
		-EINVAL, "syscalls[0] has no action");
	refused("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":\"read\","
		"\"action\":\"SCMP_ACT_ALLOW\"}]}}}",
		-EINVAL, "syscalls[0].names is not a list");
	refused("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\",2],"
		"\"action\":\"SCMP_ACT_ALLOW\"}]}}}",
		-EINVAL, "syscalls[0].names[1] is not a string");
	refused("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
		"\"action\":\"SCMP_ACT_ALLOW\",\"args\":{}}]}}}",
		-EINVAL, "syscalls[0].args is not a list");
	/* Notify rules for other syscalls would reach ubinfmtd, which serves only exec. */
	refused("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"execve\","
		"\"openat\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}}}",
		-EINVAL, "sends 'openat' to a seccomp agent");
}

static void test_annotations(void **state)
{
	struct json_object *o = doc("{\"annotations\":{\"io.ubinfmt.enable\":\"false\",\"n\":1}}");
	struct rt_profile_report rep;
	enum rt_profile_result res;

	(void)state;
	assert_string_equal(rt_annotation(o, RT_ANNOTATION_ENABLE), "false");
	assert_null(rt_annotation(o, "n"));
	assert_null(rt_annotation(o, "missing"));
	json_object_put(o);
	assert_null(rt_annotation(NULL, "x"));
	o = doc("{\"annotations\":[]}");
	assert_null(rt_annotation(o, "x"));
	json_object_put(o);

	/* Only "rewritten" means done: another value is rewritten over. */
	assert_int_equal(merge_json("{\"annotations\":{\"io.ubinfmt.runtime\":\"no\"}}", &params, &res, &rep, &o), 0);
	assert_int_equal(res, RT_PROFILE_REWRITTEN);
	assert_string_equal(rt_annotation(o, RT_ANNOTATION_REWRITTEN), "rewritten");
	json_object_put(o);
	/* Done: not even a malformed profile is looked at. */
	assert_int_equal(merge_json("{\"annotations\":{\"io.ubinfmt.runtime\":\"rewritten\"},\"linux\":7}", &params,
				    &res, &rep, &o),
			 0);
	assert_int_equal(res, RT_PROFILE_ALREADY);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engines),
		cmocka_unit_test(test_engines_are_what_they_say),
		cmocka_unit_test(test_minimal_documents),
		cmocka_unit_test(test_listener),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_forbidden),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_annotations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
