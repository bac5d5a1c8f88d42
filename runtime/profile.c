/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "macros.h"
#include "profile.h"
#include "reason.h"

#define N_EXEC 2
static const char *const exec_names[N_EXEC] = { "execve", "execveat" };

#define ACTION_NOTIFY "SCMP_ACT_NOTIFY"

/* What the first pass learns; the second pass changes the document only from this. */
struct analysis {
	struct json_object *lnx, *seccomp, *syscalls; /* NULL: absent, to be made */
	bool default_allows;
	bool allowed[N_EXEC];	  /* named by an unconditional rule that allows it */
	bool forbidden[N_EXEC];	  /* named by an unconditional rule with another action */
	bool conditional[N_EXEC]; /* named by a conditional rule that allows it */
	bool denied[N_EXEC];	  /* the outcome: left as the profile has it */
	bool has_metadata;
};

/* A member that is there and not null. */
static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return json_object_is_type(v, json_type_null) ? NULL : v;
}

static int exec_index(const char *name)
{
	for (int i = 0; i < N_EXEC; i++)
		if (strcmp(name, exec_names[i]) == 0)
			return i;
	return -1;
}

/* Actions under which the call goes through: the notify rule may take their place. */
static bool allows(const char *action)
{
	return strcmp(action, "SCMP_ACT_ALLOW") == 0 || strcmp(action, "SCMP_ACT_LOG") == 0 ||
	       strcmp(action, ACTION_NOTIFY) == 0;
}

const char *rt_annotation(struct json_object *config, const char *key)
{
	struct json_object *v = member(member(config, "annotations"), key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* A quoted, escaped, bounded copy of a string from the document, for a reason. */
static const char *quote(char *buf, size_t size, const char *s)
{
	log_escape(buf, size, s);
	return buf;
}

/* One rule of linux.seccomp.syscalls: what it says about execve and execveat. */
static int analyse_rule(struct analysis *a, struct json_object *rule, size_t i, char *reason, size_t reason_size)
{
	struct json_object *names = member(rule, "names"), *action = member(rule, "action"),
			   *args = member(rule, "args");
	bool conditional;
	const char *act;
	char q[80];

	if (!json_object_is_type(rule, json_type_object))
		return reason_set(reason, reason_size, -EINVAL, "linux.seccomp.syscalls[%zu] is not an object", i);
	if (!json_object_is_type(action, json_type_string))
		return reason_set(reason, reason_size, -EINVAL, "linux.seccomp.syscalls[%zu] has no action", i);
	if (args && !json_object_is_type(args, json_type_array))
		return reason_set(reason, reason_size, -EINVAL, "linux.seccomp.syscalls[%zu].args is not a list", i);
	if (!names)
		return 0;
	if (!json_object_is_type(names, json_type_array))
		return reason_set(reason, reason_size, -EINVAL, "linux.seccomp.syscalls[%zu].names is not a list", i);
	act = json_object_get_string(action);
	conditional = args && json_object_array_length(args) > 0;

	for (size_t j = 0; j < json_object_array_length(names); j++) {
		struct json_object *n = json_object_array_get_idx(names, j);
		int x;

		if (!json_object_is_type(n, json_type_string))
			return reason_set(reason, reason_size, -EINVAL,
					  "linux.seccomp.syscalls[%zu].names[%zu] is not a string", i, j);
		x = exec_index(json_object_get_string(n));
		if (x < 0) {
			if (strcmp(act, ACTION_NOTIFY) == 0)
				return reason_set(reason, reason_size, -EINVAL,
						  "linux.seccomp.syscalls[%zu] sends '%s' to a seccomp agent: ubinfmtd "
						  "serves only execve and execveat",
						  i, quote(q, sizeof(q), json_object_get_string(n)));
			continue;
		}
		if (conditional && !allows(act))
			return reason_set(reason, reason_size, -EINVAL,
					  "linux.seccomp.syscalls[%zu] (%s under conditions) names %s: it cannot be "
					  "combined with ubinfmt's notify rule; take it out of the profile, or set the "
					  "annotation " RT_ANNOTATION_ENABLE "=false for this container",
					  i, quote(q, sizeof(q), act), exec_names[x]);
		if (conditional)
			a->conditional[x] = true;
		else if (allows(act))
			a->allowed[x] = true;
		else
			a->forbidden[x] = true;
	}
	return 0;
}

/* Pass 1: reads the document, changes nothing. */
static int analyse(struct json_object *config, const struct rt_profile_params *p, struct analysis *a, char *reason,
		   size_t reason_size)
{
	struct json_object *v;
	const char *def;
	char q[160];
	int r;

	if (!json_object_is_type(config, json_type_object))
		return reason_set(reason, reason_size, -EINVAL, "config.json is not a JSON object");
	v = member(config, "annotations");
	if (v && !json_object_is_type(v, json_type_object))
		return reason_set(reason, reason_size, -EINVAL, "annotations is not an object");
	a->lnx = member(config, "linux");
	if (a->lnx && !json_object_is_type(a->lnx, json_type_object))
		return reason_set(reason, reason_size, -EINVAL, "linux is not an object");
	a->seccomp = member(a->lnx, "seccomp");
	if (!a->seccomp) {
		a->default_allows = true;
		return 0;
	}
	if (!json_object_is_type(a->seccomp, json_type_object))
		return reason_set(reason, reason_size, -EINVAL, "linux.seccomp is not an object");

	v = member(a->seccomp, "listenerPath");
	if (v && !json_object_is_type(v, json_type_string))
		return reason_set(reason, reason_size, -EINVAL, "linux.seccomp.listenerPath is not a string");
	if (v && strcmp(json_object_get_string(v), p->socket) != 0) {
		(void)reason_set(reason, reason_size, -EINVAL,
				 "the seccomp profile already sends syscalls to another agent (listenerPath '%s'); "
				 "a filter has one listener, so ubinfmtd (%s) cannot share it: drop that listenerPath, "
				 "or set the annotation " RT_ANNOTATION_ENABLE "=false for this container",
				 quote(q, sizeof(q), json_object_get_string(v)), p->socket);
		return -EBUSY;
	}
	v = member(a->seccomp, "listenerMetadata");
	if (v && !json_object_is_type(v, json_type_string))
		return reason_set(reason, reason_size, -EINVAL, "linux.seccomp.listenerMetadata is not a string");
	a->has_metadata = v != NULL;

	v = member(a->seccomp, "defaultAction");
	if (!json_object_is_type(v, json_type_string))
		return reason_set(reason, reason_size, -EINVAL, "linux.seccomp has no defaultAction");
	def = json_object_get_string(v);
	if (strcmp(def, ACTION_NOTIFY) == 0)
		return reason_set(reason, reason_size, -EINVAL,
				  "linux.seccomp.defaultAction is SCMP_ACT_NOTIFY: every syscall would go to ubinfmtd, "
				  "which serves only execve and execveat");
	a->default_allows = allows(def);

	a->syscalls = member(a->seccomp, "syscalls");
	if (a->syscalls && !json_object_is_type(a->syscalls, json_type_array))
		return reason_set(reason, reason_size, -EINVAL, "linux.seccomp.syscalls is not a list");
	for (size_t i = 0; a->syscalls && i < json_object_array_length(a->syscalls); i++) {
		r = analyse_rule(a, json_object_array_get_idx(a->syscalls, i), i, reason, reason_size);
		if (r < 0)
			return r;
	}
	return 0;
}

/* An object member, made when absent or null. */
static struct json_object *member_or_new(struct json_object *o, const char *key, struct json_object *(*make)(void))
{
	struct json_object *v = member(o, key);

	if (v)
		return v;
	v = make();
	if (!v)
		return NULL;
	if (json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return NULL;
	}
	return v;
}

static int set_string(struct json_object *o, const char *key, const char *value)
{
	struct json_object *s = json_object_new_string(value);

	if (!s || json_object_object_add(o, key, s) < 0) {
		json_object_put(s);
		return -ENOMEM;
	}
	return 0;
}

/*
 * Takes the served names out of rule i; drops the rule when that leaves it with no names.
 * Returns 1 when the rule was dropped.
 */
static int strip_rule(struct json_object *syscalls, size_t i, const struct analysis *a, struct rt_profile_report *rep)
{
	struct json_object *rule = json_object_array_get_idx(syscalls, i);
	struct json_object *names = member(rule, "names"), *args = member(rule, "args");
	struct json_object *action = member(rule, "action");
	size_t removed = 0, n;

	if (!names || !allows(json_object_get_string(action)))
		return 0;
	n = json_object_array_length(names);
	for (size_t j = n; j > 0; j--) {
		int x = exec_index(json_object_get_string(json_object_array_get_idx(names, j - 1)));

		if (x >= 0 && !a->denied[x]) {
			(void)json_object_array_del_idx(names, j - 1, 1);
			removed++;
		}
	}
	if (removed == 0)
		return 0;
	if (args && json_object_array_length(args) > 0) {
		/* Rules are walked from the end: the last one written is the first in the list. */
		rep->conditional++;
		snprintf(rep->first_conditional, sizeof(rep->first_conditional), "rule %zu (%.40s, with args)", i,
			 json_object_get_string(action));
	}
	if (removed < n)
		return 0;
	(void)json_object_array_del_idx(syscalls, i, 1);
	rep->dropped++;
	return 1;
}

/* The rule ubinfmtd serves: {"names": [the served ones], "action": "SCMP_ACT_NOTIFY"}. */
static int append_notify_rule(struct json_object *syscalls, const struct analysis *a)
{
	struct json_object *rule = json_object_new_object(), *names = json_object_new_array();

	if (!rule || !names)
		goto fail;
	for (int x = 0; x < N_EXEC; x++) {
		struct json_object *s;

		if (a->denied[x])
			continue;
		s = json_object_new_string(exec_names[x]);
		if (!s || json_object_array_add(names, s) < 0) {
			json_object_put(s);
			goto fail;
		}
	}
	if (json_object_object_add(rule, "names", names) < 0)
		goto fail;
	names = NULL;
	if (set_string(rule, "action", ACTION_NOTIFY) < 0 || json_object_array_add(syscalls, rule) < 0)
		goto fail;
	return 0;
fail:
	json_object_put(names);
	json_object_put(rule);
	return -ENOMEM;
}

static struct json_object *new_seccomp(void)
{
	struct json_object *s = json_object_new_object();

	if (s && set_string(s, "defaultAction", "SCMP_ACT_ALLOW") < 0) {
		json_object_put(s);
		return NULL;
	}
	return s;
}

/* Pass 2: changes the document as the analysis says. */
static int rewrite(struct json_object *config, const struct rt_profile_params *p, struct analysis *a,
		   struct rt_profile_report *rep)
{
	struct json_object *annotations;

	rep->created = !a->seccomp;
	a->lnx = member_or_new(config, "linux", json_object_new_object);
	if (!a->lnx)
		return -ENOMEM;
	a->seccomp = member_or_new(a->lnx, "seccomp", new_seccomp);
	if (!a->seccomp)
		return -ENOMEM;
	a->syscalls = member_or_new(a->seccomp, "syscalls", json_object_new_array);
	if (!a->syscalls)
		return -ENOMEM;

	for (size_t i = json_object_array_length(a->syscalls); i > 0; i--)
		(void)strip_rule(a->syscalls, i - 1, a, rep);
	if (append_notify_rule(a->syscalls, a) < 0)
		return -ENOMEM;

	if (set_string(a->seccomp, "listenerPath", p->socket) < 0)
		return -ENOMEM;
	if (!a->has_metadata && p->metadata && set_string(a->seccomp, "listenerMetadata", p->metadata) < 0)
		return -ENOMEM;

	annotations = member_or_new(config, "annotations", json_object_new_object);
	if (!annotations || set_string(annotations, RT_ANNOTATION_REWRITTEN, RT_ANNOTATION_REWRITTEN_VALUE) < 0)
		return -ENOMEM;
	return 0;
}

/*
 * Trust boundary: config.json is written by the engine from what the image's and the user's
 * settings say (annotations, process, even the seccomp profile).  Every member the merge reads
 * is type-checked before use; strings quoted into the reason are escaped and bounded.  The
 * document is changed only after the whole profile was read and found mergeable.
 */
int rt_profile_merge(struct json_object *config, const struct rt_profile_params *p, enum rt_profile_result *ret,
		     struct rt_profile_report *report, char *reason, size_t reason_size)
{
	struct rt_profile_report rep = { 0 };
	struct analysis a = { 0 };
	const char *done;
	int r;

	if (reason && reason_size > 0)
		reason[0] = '\0';
	done = rt_annotation(config, RT_ANNOTATION_REWRITTEN);
	if (done && strcmp(done, RT_ANNOTATION_REWRITTEN_VALUE) == 0) {
		*ret = RT_PROFILE_ALREADY;
		*report = rep;
		return 0;
	}

	r = analyse(config, p, &a, reason, reason_size);
	if (r < 0)
		return r;
	for (int x = 0; x < N_EXEC; x++) {
		a.denied[x] = a.forbidden[x] || (!a.allowed[x] && !a.conditional[x] && !a.default_allows);
		rep.denied[x] = a.denied[x];
	}
	if (a.denied[0] && a.denied[1]) {
		*ret = RT_PROFILE_DENIED;
		*report = rep;
		return 0;
	}

	r = rewrite(config, p, &a, &rep);
	if (r < 0)
		return r;
	*ret = RT_PROFILE_REWRITTEN;
	*report = rep;
	return 0;
}
