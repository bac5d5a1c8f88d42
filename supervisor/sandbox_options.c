/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "macros.h"
#include "parse.h"
#include "reason.h"
#include "sandbox_options.h"

/* Longer than any architecture name or alias: a longer item cannot be one. */
#define ARCH_NAME_MAX 32

/* One entry being read: where it comes from, its key as written, where a refusal goes. */
struct entry {
	const struct sandbox_options_source *src;
	const char *key;
	const char *suffix; /* the key after the table's name (emulator.ARCH: ARCH) */
	char *reason;
	size_t reason_size;
};

struct key {
	const char *name;  /* after the source's prefix; ending in '.': a family (emulator.ARCH) */
	const char *shown; /* in the list of known keys */
	bool operator_only;
	int (*parse)(struct sandbox_options *o, const struct entry *e, const char *value);
	/* How a tenant's setting folds into the operator's o (NULL: operator_only, nothing to fold). */
	void (*narrow)(struct sandbox_options *o, const struct sandbox_options *tenant);
};

static const char *const trace_names[SANDBOX_TRACE_MAX] = {
	[SANDBOX_TRACE_DEFAULT] = "default",
	[SANDBOX_TRACE_OFF] = "off",
	[SANDBOX_TRACE_TEXT] = "text",
	[SANDBOX_TRACE_JSON] = "json",
};

const char *sandbox_trace_name(enum sandbox_trace trace)
{
	if ((unsigned)trace >= SANDBOX_TRACE_MAX)
		return "unknown";
	return trace_names[trace];
}

void sandbox_options_init(struct sandbox_options *o)
{
	*o = (struct sandbox_options)SANDBOX_OPTIONS_INIT;
}

void sandbox_options_free(struct sandbox_options *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < ARCH_MAX; i++)
		free(o->emulator[i]);
	sandbox_options_init(o);
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

/* ---- the keys ------------------------------------------------------------------------------ */

/* "all", "none" or a comma-separated list of architectures. */
static int parse_emulators(struct sandbox_options *o, const struct entry *e, const char *v)
{
	char q[REASON_QUOTE_MAX];
	uint64_t mask = 0;

	if (strcmp(v, "all") == 0) {
		mask = SANDBOX_ARCH_ALL;
	} else if (strcmp(v, "none") != 0) {
		for (const char *p = v;;) {
			const char *comma = strchr(p, ',');
			size_t len = comma ? (size_t)(comma - p) : strlen(p);
			const char *item = p;
			enum arch a;

			parse_trim_blanks(&item, &len);
			if (len == 0)
				return reason_set(e->reason, e->reason_size, -EINVAL,
						  "%s %s: empty item in '%s' (use 'none' for no architecture)",
						  e->src->name, e->key, reason_quote(q, v, strlen(v)));
			if (arch_of(item, len, &a) < 0)
				return reason_set(e->reason, e->reason_size, -EINVAL,
						  "%s %s: unknown architecture '%s'", e->src->name, e->key,
						  reason_quote(q, item, len));
			mask |= UINT64_C(1) << a;
			if (!comma)
				break;
			p = comma + 1;
		}
	}
	o->arch_mask = mask;
	return 0;
}

static void narrow_emulators(struct sandbox_options *o, const struct sandbox_options *tenant)
{
	o->arch_mask &= tenant->arch_mask;
}

static int parse_trace(struct sandbox_options *o, const struct entry *e, const char *v)
{
	char q[REASON_QUOTE_MAX];

	if (strcmp(v, "true") == 0)
		o->trace = SANDBOX_TRACE_TEXT;
	else if (strcmp(v, "false") == 0)
		o->trace = SANDBOX_TRACE_OFF;
	else if (strcmp(v, "json") == 0)
		o->trace = SANDBOX_TRACE_JSON;
	else
		return reason_set(e->reason, e->reason_size, -EINVAL, "%s %s: '%s' is not true, false or json",
				  e->src->name, e->key, reason_quote(q, v, strlen(v)));
	return 0;
}

static void narrow_trace(struct sandbox_options *o, const struct sandbox_options *tenant)
{
	if (o->trace == SANDBOX_TRACE_DEFAULT)
		o->trace = tenant->trace;
}

static int parse_emulator_path(struct sandbox_options *o, const struct entry *e, const char *v)
{
	const char *src = e->src->name, *family = e->key; /* up to the suffix: "io.ubinfmt.emulator." */
	int flen = (int)(e->suffix - e->key);
	char q[REASON_QUOTE_MAX];
	enum arch a;

	if (arch_of(e->suffix, strlen(e->suffix), &a) < 0)
		return reason_set(e->reason, e->reason_size, -EINVAL, "%s %.*sARCH: unknown architecture '%s'", src,
				  flen, family, reason_quote(q, e->suffix, strlen(e->suffix)));
	if (o->emulator[a])
		return reason_set(e->reason, e->reason_size, -EINVAL, "%s %.*s%s: set twice", src, flen, family,
				  arch_name(a));
	if (v[0] != '/')
		return reason_set(e->reason, e->reason_size, -EINVAL, "%s %.*s%s: '%s' is not an absolute path", src,
				  flen, family, arch_name(a), reason_quote(q, v, strlen(v)));
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return reason_set(e->reason, e->reason_size, -EINVAL,
					  "%s %.*s%s: control character in the path '%s'", src, flen, family,
					  arch_name(a), reason_quote(q, v, strlen(v)));
	o->emulator[a] = strdup(v);
	return o->emulator[a] ? 0 : -ENOMEM;
}

/* clang-format off */
static const struct key keys[] = {
	{ "emulators", "emulators", false, parse_emulators, narrow_emulators },
	{ "emulator.", "emulator.ARCH", true, parse_emulator_path, NULL },
	{ "trace", "trace", false, parse_trace, narrow_trace },
};
/* clang-format on */

_Static_assert(ARRAY_SIZE(keys) <= 32, "seen is a 32-bit mask");

/* ---- entries ------------------------------------------------------------------------------- */

/* Whether k names a family of keys (emulator.ARCH), told apart by their parser. */
static bool is_family(const struct key *k)
{
	return k->name[strlen(k->name) - 1] == '.';
}

/* The table's entry for key (prefix already taken off), or NULL; *ret_suffix: a family's rest. */
static const struct key *find_key(const char *name, const char **ret_suffix)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		size_t len = strlen(keys[i].name);

		if (is_family(&keys[i]) ? strncmp(name, keys[i].name, len) == 0 : strcmp(name, keys[i].name) == 0) {
			*ret_suffix = name + len;
			return &keys[i];
		}
	}
	return NULL;
}

static int unknown_key(const struct sandbox_options_source *src, const char *key, char *reason, size_t reason_size)
{
	char q[REASON_QUOTE_MAX], known[256];
	size_t n = 0;

	known[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(keys) && n < sizeof(known); i++)
		n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s%s", i ? ", " : "", src->prefix,
				      keys[i].shown);
	return reason_set(reason, reason_size, -EINVAL, "%s: unknown key '%s' (known: %s)", src->name,
			  reason_quote(q, key, strlen(key)), known);
}

/*
 * Trust boundary: key and value may come from a tenant.  Both are bounded before anything else
 * looks at them; the count of entries first of all, so a flood is refused at its first excess.
 */
int sandbox_options_add(struct sandbox_options *o, const struct sandbox_options_source *src, const char *key,
			const char *value, char *reason, size_t reason_size)
{
	size_t plen = strlen(src->prefix);
	struct entry e = { .src = src, .key = key, .reason = reason, .reason_size = reason_size };
	char q[REASON_QUOTE_MAX];
	const struct key *k;
	uint32_t bit;

	if (o->n_entries >= SANDBOX_OPTIONS_MAX)
		return reason_set(reason, reason_size, -EINVAL, "%s: more than %d entries", src->name,
				  SANDBOX_OPTIONS_MAX);
	o->n_entries++;
	if (key[0] == '\0' || strnlen(key, SANDBOX_OPTION_KEY_MAX + 1) > SANDBOX_OPTION_KEY_MAX)
		return reason_set(reason, reason_size, -EINVAL, "%s: bad key '%s'", src->name,
				  reason_quote(q, key, strnlen(key, SANDBOX_OPTION_KEY_MAX + 1)));
	if (strnlen(value, SANDBOX_OPTION_VALUE_MAX + 1) > SANDBOX_OPTION_VALUE_MAX)
		return reason_set(reason, reason_size, -EINVAL, "%s: the value of '%s' is longer than %d bytes",
				  src->name, reason_quote(q, key, strlen(key)), SANDBOX_OPTION_VALUE_MAX);
	k = strncmp(key, src->prefix, plen) == 0 ? find_key(key + plen, &e.suffix) : NULL;
	if (!k)
		return unknown_key(src, key, reason, reason_size);
	if (k->operator_only && src->trust != SANDBOX_OPTIONS_OPERATOR)
		return reason_set(reason, reason_size, -EINVAL,
				  "%s %s: emulator paths are only accepted in listenerMetadata, which the operator "
				  "controls, or on ubinfmt run's command line",
				  src->name, reason_quote(q, key, strlen(key)));
	bit = UINT32_C(1) << (k - keys);
	if ((o->seen & bit) && !is_family(k))
		return reason_set(reason, reason_size, -EINVAL, "%s %s: set twice", src->name, key);
	o->seen |= bit;
	return k->parse(o, &e, value);
}

int sandbox_options_add_entry(struct sandbox_options *o, const struct sandbox_options_source *src, const char *entry,
			      char *reason, size_t reason_size)
{
	const char *eq = strchr(entry, '=');
	char key[SANDBOX_OPTION_KEY_MAX + 1], q[REASON_QUOTE_MAX];
	size_t klen;

	if (!eq)
		return reason_set(reason, reason_size, -EINVAL, "%s: '%s' is not KEY=VALUE", src->name,
				  reason_quote(q, entry, strlen(entry)));
	klen = (size_t)(eq - entry);
	if (klen == 0 || klen > SANDBOX_OPTION_KEY_MAX)
		return reason_set(reason, reason_size, -EINVAL, "%s: bad key in '%s'", src->name,
				  reason_quote(q, entry, strlen(entry)));
	memcpy(key, entry, klen);
	key[klen] = '\0';
	return sandbox_options_add(o, src, key, eq + 1, reason, reason_size);
}

/* Trust boundary: list may be a tenant's; each entry is copied into bounded buffers first. */
int sandbox_options_add_list(struct sandbox_options *o, const struct sandbox_options_source *src, const char *list,
			     char *reason, size_t reason_size)
{
	char key[SANDBOX_OPTION_KEY_MAX + 1], q[REASON_QUOTE_MAX];
	_cleanup_free_ char *value = malloc(SANDBOX_OPTION_VALUE_MAX + 1);

	if (!value)
		return -ENOMEM;
	for (const char *p = list;;) {
		const char *semi = strchr(p, ';');
		size_t len = semi ? (size_t)(semi - p) : strlen(p);
		const char *entry = p, *eq, *k, *v;
		size_t klen, vlen;
		int r;

		parse_trim_blanks(&entry, &len);
		if (len > 0) {
			eq = memchr(entry, '=', len);
			if (!eq)
				return reason_set(reason, reason_size, -EINVAL, "%s: entry '%s' is not KEY=VALUE",
						  src->name, reason_quote(q, entry, len));
			k = entry;
			klen = (size_t)(eq - entry);
			v = eq + 1;
			vlen = len - klen - 1;
			parse_trim_blanks(&k, &klen);
			parse_trim_blanks(&v, &vlen);
			if (klen == 0 || klen > SANDBOX_OPTION_KEY_MAX)
				return reason_set(reason, reason_size, -EINVAL, "%s: bad key in entry '%s'", src->name,
						  reason_quote(q, entry, len));
			if (vlen > SANDBOX_OPTION_VALUE_MAX)
				return reason_set(reason, reason_size, -EINVAL,
						  "%s: the value of '%s' is longer than %d bytes", src->name,
						  reason_quote(q, k, klen), SANDBOX_OPTION_VALUE_MAX);
			memcpy(key, k, klen);
			key[klen] = '\0';
			memcpy(value, v, vlen);
			value[vlen] = '\0';
			r = sandbox_options_add(o, src, key, value, reason, reason_size);
			if (r < 0)
				return r;
		}
		if (!semi)
			return 0;
		p = semi + 1;
	}
}

int sandbox_options_check(const struct sandbox_options *o, const struct sandbox_options_source *src, char *reason,
			  size_t reason_size)
{
	for (size_t a = 0; a < ARCH_MAX; a++)
		if (o->emulator[a] && !(o->arch_mask & (UINT64_C(1) << a)))
			return reason_set(reason, reason_size, -EINVAL, "%s %semulator.%s: %s is not in %semulators",
					  src->name, src->prefix, arch_name((enum arch)a), arch_name((enum arch)a),
					  src->prefix);
	return 0;
}

void sandbox_options_narrow(struct sandbox_options *o, const struct sandbox_options *tenant)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (keys[i].narrow && (tenant->seen & (UINT32_C(1) << i)))
			keys[i].narrow(o, tenant);
}
