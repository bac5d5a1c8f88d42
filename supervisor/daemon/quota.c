/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macros.h"
#include "quota.h"

struct quota_entry {
	enum quota_scope scope;
	uint32_t uid;
	uint64_t pidns; /* QUOTA_SCOPE_PIDNS only */
	unsigned count[QUOTA_WHAT_MAX];
};

struct quota {
	struct quota_limits limits;
	struct quota_entry *entries; /* only entries with a nonzero count: bounded by what is held */
	size_t n, cap;
};

int quota_new(const struct quota_limits *limits, struct quota **ret)
{
	struct quota *q = calloc(1, sizeof(*q));

	if (!q)
		return -ENOMEM;
	q->limits = *limits;
	*ret = q;
	return 0;
}

struct quota *quota_free(struct quota *q)
{
	if (q) {
		free(q->entries);
		free(q);
	}
	return NULL;
}

const char *quota_what_name(enum quota_what what)
{
	switch (what) {
	case QUOTA_CONNECTIONS:
		return "connections";
	case QUOTA_SANDBOXES:
		return "sandboxes";
	case QUOTA_WHAT_MAX:
	default:
		return "?";
	}
}

static bool entry_is(const struct quota_entry *e, enum quota_scope scope, const struct quota_owner *o)
{
	return e->scope == scope && e->uid == o->uid && (scope != QUOTA_SCOPE_PIDNS || e->pidns == o->pidns);
}

static struct quota_entry *find(const struct quota *q, enum quota_scope scope, const struct quota_owner *o)
{
	for (size_t i = 0; i < q->n; i++)
		if (entry_is(&q->entries[i], scope, o))
			return &q->entries[i];
	return NULL;
}

static struct quota_entry *find_or_add(struct quota *q, enum quota_scope scope, const struct quota_owner *o)
{
	struct quota_entry *e = find(q, scope, o);

	if (e)
		return e;
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 16;
		e = realloc(q->entries, cap * sizeof(*e));
		if (!e)
			return NULL;
		q->entries = e;
		q->cap = cap;
	}
	e = &q->entries[q->n++];
	*e = (struct quota_entry){ .scope = scope, .uid = o->uid, .pidns = scope == QUOTA_SCOPE_PIDNS ? o->pidns : 0 };
	return e;
}

static void drop_if_empty(struct quota *q, struct quota_entry *e)
{
	for (int w = 0; w < QUOTA_WHAT_MAX; w++)
		if (e->count[w])
			return;
	*e = q->entries[--q->n];
}

static unsigned limit_of(const struct quota *q, enum quota_scope scope, const struct quota_owner *o,
			 enum quota_what what)
{
	if (scope == QUOTA_SCOPE_UID)
		return o->uid == 0 ? 0 : q->limits.per_uid[what];
	return q->limits.per_pidns[what];
}

int quota_take(struct quota *q, const struct quota_owner *owner, enum quota_what what, enum quota_scope *ret_scope,
	       unsigned *ret_limit)
{
	if (owner->exempt || (unsigned)what >= QUOTA_WHAT_MAX)
		return 0;
	/* Check every scope first, so that a refusal counts nothing anywhere. */
	for (int s = 0; s < QUOTA_SCOPE_MAX; s++) {
		const struct quota_entry *have = find(q, (enum quota_scope)s, owner);
		unsigned limit = limit_of(q, (enum quota_scope)s, owner, what);
		if (limit && have && have->count[what] >= limit) {
			*ret_scope = (enum quota_scope)s;
			*ret_limit = limit;
			return -EDQUOT;
		}
	}
	for (int s = 0; s < QUOTA_SCOPE_MAX; s++) {
		if (!find_or_add(q, (enum quota_scope)s, owner)) {
			/* Entries added for the scopes before are still empty: drop them again. */
			for (int t = 0; t < s; t++)
				drop_if_empty(q, find(q, (enum quota_scope)t, owner));
			return -ENOMEM;
		}
	}
	/* find_or_add may have moved the table: look the entries up again before counting. */
	for (int s = 0; s < QUOTA_SCOPE_MAX; s++)
		find(q, (enum quota_scope)s, owner)->count[what]++;
	return 0;
}

void quota_give(struct quota *q, const struct quota_owner *owner, enum quota_what what)
{
	if (owner->exempt || (unsigned)what >= QUOTA_WHAT_MAX)
		return;
	for (int s = 0; s < QUOTA_SCOPE_MAX; s++) {
		struct quota_entry *e = find(q, (enum quota_scope)s, owner);
		if (!e || e->count[what] == 0)
			continue; /* a bug of the caller: never wrap below zero */
		e->count[what]--;
		drop_if_empty(q, e);
	}
}

unsigned quota_count(const struct quota *q, const struct quota_owner *owner, enum quota_scope scope,
		     enum quota_what what)
{
	const struct quota_entry *e;

	if ((unsigned)scope >= QUOTA_SCOPE_MAX || (unsigned)what >= QUOTA_WHAT_MAX)
		return 0;
	e = find(q, scope, owner);
	return e ? e->count[what] : 0;
}

size_t quota_entries(const struct quota *q)
{
	return q->n;
}
