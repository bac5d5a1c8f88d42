/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "arch.h"
#include "sandbox_options.h"

/*
 * The one parser of per-sandbox options, as each kind of source feeds it: a tenant's KEY=VALUE
 * entries (an agent's HELLO), an operator's (ubinfmt run --option), ';'-separated lists with a
 * key prefix (listenerMetadata), and how a tenant's options fold into an operator's.
 */

#define BIT(a) (UINT64_C(1) << (a))

static const struct sandbox_options_source tenant = { .name = "option", .prefix = "", .trust = SANDBOX_OPTIONS_TENANT };
static const struct sandbox_options_source operator= { .name = "--option",
						       .prefix = "",
						       .trust = SANDBOX_OPTIONS_OPERATOR };
static const struct sandbox_options_source metadata = { .name = "listenerMetadata",
							.prefix = "io.ubinfmt.",
							.trust = SANDBOX_OPTIONS_OPERATOR };

static char reason[512];

/* One case: entries of one source, what they give or why they are refused. */
struct tcase {
	const char *name;
	const struct sandbox_options_source *src;
	const char *entries[4]; /* "KEY=VALUE", NULL-terminated */
	int error;		/* 0 or the refusal */
	const char *why;	/* what the reason must contain */
	uint64_t mask;		/* on success */
	enum sandbox_trace trace;
};

/* clang-format off */
static const struct tcase cases[] = {
	/* Valid. */
	{ "empty", &tenant, { NULL }, 0, NULL, SANDBOX_ARCH_ALL, SANDBOX_TRACE_DEFAULT },
	{ "emulators list", &tenant, { "emulators=arm64, armhf", NULL }, 0, NULL, BIT(ARCH_AARCH64) | BIT(ARCH_ARM),
	  SANDBOX_TRACE_DEFAULT },
	{ "emulators none", &tenant, { "emulators=none", NULL }, 0, NULL, 0, SANDBOX_TRACE_DEFAULT },
	{ "emulators all", &tenant, { "emulators=all", NULL }, 0, NULL, SANDBOX_ARCH_ALL, SANDBOX_TRACE_DEFAULT },
	{ "trace true", &tenant, { "trace=true", NULL }, 0, NULL, SANDBOX_ARCH_ALL, SANDBOX_TRACE_TEXT },
	{ "trace json", &tenant, { "trace=json", NULL }, 0, NULL, SANDBOX_ARCH_ALL, SANDBOX_TRACE_JSON },
	{ "trace false", &tenant, { "trace=false", "emulators=riscv64", NULL }, 0, NULL, BIT(ARCH_RISCV64),
	  SANDBOX_TRACE_OFF },
	{ "operator's emulator path", &operator, { "emulators=aarch64", "emulator.arm64=/opt/q", NULL }, 0, NULL,
	  BIT(ARCH_AARCH64), SANDBOX_TRACE_DEFAULT },
	/* Unknown keys, with the known ones listed. */
	{ "unknown key", &tenant, { "emulater=all", NULL }, -EINVAL,
	  "option: unknown key 'emulater' (known: emulators, emulator.ARCH, trace)", 0, 0 },
	{ "prefix missing", &metadata, { "trace=true", NULL }, -EINVAL,
	  "listenerMetadata: unknown key 'trace' (known: io.ubinfmt.emulators, io.ubinfmt.emulator.ARCH, "
	  "io.ubinfmt.trace)", 0, 0 },
	{ "prefix where none is used", &tenant, { "io.ubinfmt.trace=true", NULL }, -EINVAL,
	  "unknown key 'io.ubinfmt.trace'", 0, 0 },
	{ "key case", &tenant, { "Trace=true", NULL }, -EINVAL, "unknown key 'Trace'", 0, 0 },
	{ "key with blanks", &tenant, { " trace=true", NULL }, -EINVAL, "unknown key ' trace'", 0, 0 },
	/* Duplicates. */
	{ "trace twice", &tenant, { "trace=true", "trace=true", NULL }, -EINVAL, "option trace: set twice", 0, 0 },
	{ "emulators twice", &tenant, { "emulators=all", "emulators=none", NULL }, -EINVAL,
	  "option emulators: set twice", 0, 0 },
	{ "emulator twice by alias", &operator, { "emulator.arm64=/a", "emulator.aarch64=/b", NULL }, -EINVAL,
	  "--option emulator.aarch64: set twice", 0, 0 },
	/* Overlong. */
	{ "key too long", &tenant, { "t" /* made overlong below */, NULL }, -EINVAL, "bad key", 0, 0 },
	{ "value too long", &tenant, { "e" /* made overlong below */, NULL }, -EINVAL, "longer than 4096 bytes", 0, 0 },
	/* Bad values. */
	{ "trace TRUE", &tenant, { "trace=TRUE", NULL }, -EINVAL, "option trace: 'TRUE' is not true, false or json", 0, 0 },
	{ "trace with a blank", &tenant, { "trace=true ", NULL }, -EINVAL, "'true ' is not true", 0, 0 },
	{ "unknown architecture", &tenant, { "emulators=arm,vax", NULL }, -EINVAL,
	  "option emulators: unknown architecture 'vax'", 0, 0 },
	{ "all in a list", &tenant, { "emulators=all,arm", NULL }, -EINVAL, "unknown architecture 'all'", 0, 0 },
	{ "relative emulator path", &operator, { "emulator.arm=qemu-arm", NULL }, -EINVAL,
	  "--option emulator.arm: 'qemu-arm' is not an absolute path", 0, 0 },
	{ "control character in a path", &operator, { "emulator.arm=/a\nb", NULL }, -EINVAL,
	  "control character in the path '/a\\x0ab'", 0, 0 },
	{ "emulator of an unknown architecture", &operator, { "emulator.vax=/q", NULL }, -EINVAL,
	  "--option emulator.ARCH: unknown architecture 'vax'", 0, 0 },
	{ "emulator outside the list", &operator, { "emulators=arm", "emulator.aarch64=/q", NULL }, -EINVAL,
	  "--option emulator.aarch64: aarch64 is not in emulators", 0, 0 },
	/* A tenant names no host path. */
	{ "tenant's emulator path", &tenant, { "emulator.aarch64=/usr/bin/qemu-aarch64-static", NULL }, -EINVAL,
	  "option emulator.aarch64: emulator paths are only accepted in listenerMetadata", 0, 0 },
	/* Empty. */
	{ "empty entry", &tenant, { "", NULL }, -EINVAL, "option: '' is not KEY=VALUE", 0, 0 },
	{ "no '='", &tenant, { "trace", NULL }, -EINVAL, "option: 'trace' is not KEY=VALUE", 0, 0 },
	{ "empty key", &tenant, { "=true", NULL }, -EINVAL, "option: bad key in '=true'", 0, 0 },
	{ "empty value", &tenant, { "trace=", NULL }, -EINVAL, "option trace: '' is not true, false or json", 0, 0 },
	{ "empty emulators", &tenant, { "emulators=", NULL }, -EINVAL, "empty item in ''", 0, 0 },
	{ "empty item", &tenant, { "emulators=arm,,aarch64", NULL }, -EINVAL, "empty item", 0, 0 },
};
/* clang-format on */

/* Entries made at run time: a key and a value just over their limits. */
static char long_key[SANDBOX_OPTION_KEY_MAX + 8];
static char long_value[sizeof("emulators=") + SANDBOX_OPTION_VALUE_MAX + 1];

static const char *entry_of(const struct tcase *c, size_t i)
{
	if (strcmp(c->name, "key too long") == 0)
		return long_key;
	if (strcmp(c->name, "value too long") == 0)
		return long_value;
	return c->entries[i];
}

static int parse(const struct tcase *c, struct sandbox_options *o)
{
	int r = 0;

	sandbox_options_init(o);
	for (size_t i = 0; r == 0 && entry_of(c, i); i++)
		r = sandbox_options_add_entry(o, c->src, entry_of(c, i), reason, sizeof(reason));
	if (r == 0)
		r = sandbox_options_check(o, c->src, reason, sizeof(reason));
	return r;
}

static void test_table(void **state)
{
	(void)state;
	memset(long_key, 'k', SANDBOX_OPTION_KEY_MAX + 1);
	strcpy(long_key + SANDBOX_OPTION_KEY_MAX + 1, "=1");
	strcpy(long_value, "emulators=");
	memset(long_value + strlen("emulators="), 'a', SANDBOX_OPTION_VALUE_MAX + 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];
		struct sandbox_options o;
		int r;

		reason[0] = '\0';
		r = parse(c, &o);
		if (r != c->error)
			fail_msg("%s: got %d (%s), expected %d", c->name, r, reason, c->error);
		if (c->why && !strstr(reason, c->why))
			fail_msg("%s: reason '%s' lacks '%s'", c->name, reason, c->why);
		if (r == 0 && (o.arch_mask != c->mask || o.trace != c->trace))
			fail_msg("%s: mask %#llx trace %s, expected %#llx %s", c->name, (unsigned long long)o.arch_mask,
				 sandbox_trace_name(o.trace), (unsigned long long)c->mask,
				 sandbox_trace_name(c->trace));
		sandbox_options_free(&o);
	}
}

/* The count is checked before anything else: a flood is refused at its first excess entry. */
static void test_too_many(void **state)
{
	const struct sandbox_options_source src = { .name = "annotation",
						    .prefix = "io.ubinfmt.",
						    .trust = SANDBOX_OPTIONS_TENANT };
	struct sandbox_options o;
	char key[64];

	(void)state;
	sandbox_options_init(&o);
	/* The operator may name emulators for every architecture: 39 distinct keys, all accepted. */
	for (int a = ARCH_UNKNOWN + 1; a < ARCH_MAX; a++) {
		snprintf(key, sizeof(key), "emulator.%s=/q", arch_name((enum arch)a));
		assert_int_equal(sandbox_options_add_entry(&o, &operator, key, reason, sizeof(reason)), 0);
	}
	sandbox_options_free(&o);
	for (int i = 0; i < SANDBOX_OPTIONS_MAX; i++)
		(void)sandbox_options_add(&o, &src, "io.ubinfmt.x", "", reason, sizeof(reason));
	assert_int_equal(sandbox_options_add(&o, &src, "io.ubinfmt.trace", "true", reason, sizeof(reason)), -EINVAL);
	assert_string_equal(reason, "annotation: more than 64 entries");
	assert_int_equal(o.trace, SANDBOX_TRACE_DEFAULT);
	sandbox_options_free(&o);
}

/* Keys from a source that hands them over already split (annotations): bounded all the same. */
static void test_long_key(void **state)
{
	struct sandbox_options o;

	(void)state;
	memset(long_key, 'k', SANDBOX_OPTION_KEY_MAX + 1);
	long_key[SANDBOX_OPTION_KEY_MAX + 1] = '\0';
	sandbox_options_init(&o);
	assert_int_equal(sandbox_options_add(&o, &tenant, long_key, "1", reason, sizeof(reason)), -EINVAL);
	assert_non_null(strstr(reason, "option: bad key 'kkk"));
	assert_int_equal(sandbox_options_add(&o, &tenant, "", "1", reason, sizeof(reason)), -EINVAL);
	assert_string_equal(reason, "option: bad key ''");
	sandbox_options_free(&o);
}

/* listenerMetadata's form: blanks around keys and values, empty entries. */
static void test_list(void **state)
{
	struct sandbox_options o;

	(void)state;
	sandbox_options_init(&o);
	assert_int_equal(sandbox_options_add_list(&o, &metadata,
						  " ; io.ubinfmt.emulators = aarch64 ,armhf;;\tio.ubinfmt.trace=json ;"
						  " io.ubinfmt.emulator.arm64= /opt/q a ;",
						  reason, sizeof(reason)),
			 0);
	assert_int_equal(sandbox_options_check(&o, &metadata, reason, sizeof(reason)), 0);
	assert_int_equal(o.arch_mask, BIT(ARCH_AARCH64) | BIT(ARCH_ARM));
	assert_int_equal(o.trace, SANDBOX_TRACE_JSON);
	assert_string_equal(o.emulator[ARCH_AARCH64], "/opt/q a");
	sandbox_options_free(&o);
	assert_null(o.emulator[ARCH_AARCH64]);
	assert_int_equal(o.arch_mask, SANDBOX_ARCH_ALL);

	assert_int_equal(sandbox_options_add_list(&o, &metadata, "io.ubinfmt.trace=true; foo", reason, sizeof(reason)),
			 -EINVAL);
	assert_string_equal(reason, "listenerMetadata: entry 'foo' is not KEY=VALUE");
	sandbox_options_free(&o);
	assert_int_equal(sandbox_options_add_list(&o, &metadata, " = x", reason, sizeof(reason)), -EINVAL);
	assert_string_equal(reason, "listenerMetadata: bad key in entry '= x'");
	sandbox_options_free(&o);
}

/* A tenant narrows the operator's emulators, and sets trace only when the operator did not. */
static void test_narrow(void **state)
{
	struct sandbox_options op, t;

	(void)state;
	sandbox_options_init(&op);
	sandbox_options_init(&t);
	assert_int_equal(sandbox_options_add_entry(&op, &operator, "emulators=aarch64,arm", reason, sizeof(reason)), 0);
	assert_int_equal(sandbox_options_add_entry(&t, &tenant, "emulators=arm,riscv64", reason, sizeof(reason)), 0);
	assert_int_equal(sandbox_options_add_entry(&t, &tenant, "trace=json", reason, sizeof(reason)), 0);
	sandbox_options_narrow(&op, &t);
	assert_int_equal(op.arch_mask, BIT(ARCH_ARM));
	assert_int_equal(op.trace, SANDBOX_TRACE_JSON);
	sandbox_options_free(&op);
	sandbox_options_free(&t);

	/* "all" from a tenant widens nothing; the operator's trace wins. */
	assert_int_equal(sandbox_options_add_entry(&op, &operator, "emulators=none", reason, sizeof(reason)), 0);
	assert_int_equal(sandbox_options_add_entry(&op, &operator, "trace=false", reason, sizeof(reason)), 0);
	assert_int_equal(sandbox_options_add_entry(&t, &tenant, "emulators=all", reason, sizeof(reason)), 0);
	assert_int_equal(sandbox_options_add_entry(&t, &tenant, "trace=true", reason, sizeof(reason)), 0);
	sandbox_options_narrow(&op, &t);
	assert_int_equal(op.arch_mask, 0);
	assert_int_equal(op.trace, SANDBOX_TRACE_OFF);
	sandbox_options_free(&op);
	sandbox_options_free(&t);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(sandbox_trace_name(SANDBOX_TRACE_DEFAULT), "default");
	assert_string_equal(sandbox_trace_name(SANDBOX_TRACE_JSON), "json");
	assert_string_equal(sandbox_trace_name(SANDBOX_TRACE_MAX), "unknown");
	assert_false(SANDBOX_ARCH_ALL & BIT(ARCH_UNKNOWN));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),  cmocka_unit_test(test_too_many), cmocka_unit_test(test_list),
		cmocka_unit_test(test_narrow), cmocka_unit_test(test_names),	cmocka_unit_test(test_long_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
