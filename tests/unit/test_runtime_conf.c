/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ubinfmt-runtime's configuration: runtime.conf and the environment overrides. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"

static char reason[RT_REASON_MAX];

static int parse(struct rt_conf *c, const char *text)
{
	int r;

	assert_int_equal(rt_conf_init(c), 0);
	reason[0] = '\0';
	r = rt_conf_parse(c, "runtime.conf", text, strlen(text), reason, sizeof(reason));
	return r;
}

static void refused(const char *text, const char *want)
{
	struct rt_conf c;
	int r = parse(&c, text);

	if (r != -EINVAL)
		fail_msg("'%s': got %d, want -EINVAL", text, r);
	if (!strstr(reason, want))
		fail_msg("'%s': reason '%s' lacks '%s'", text, reason, want);
	rt_conf_free(&c);
}

static void test_defaults(void **state)
{
	struct rt_conf c;

	(void)state;
	assert_int_equal(parse(&c, ""), 0);
	assert_string_equal(c.runtime, "runc");
	assert_string_equal(c.socket, "/run/ubinfmt/oci.sock");
	assert_int_equal(c.mode, RT_MODE_ALWAYS);
	assert_int_equal(c.fallback, RT_FALLBACK_FAIL);
	assert_null(c.metadata);
	rt_conf_free(&c);
	rt_conf_free(&c); /* twice is fine */
}

/* deploy/ubinfmt/runtime.conf as shipped: all comments, so the defaults. */
static void test_template(void **state)
{
	FILE *f = fopen(RUNTIME_TEMPLATE, "r");
	char text[RT_CONF_MAX];
	size_t len;
	struct rt_conf c;

	(void)state;
	assert_non_null(f);
	len = fread(text, 1, sizeof(text), f);
	fclose(f);
	assert_int_equal(rt_conf_init(&c), 0);
	assert_int_equal(rt_conf_parse(&c, "runtime.conf", text, len, reason, sizeof(reason)), 0);
	assert_string_equal(c.runtime, "runc");
	assert_int_equal(c.mode, RT_MODE_ALWAYS);
	rt_conf_free(&c);
}

static void test_values(void **state)
{
	struct rt_conf c;

	(void)state;
	assert_int_equal(parse(&c, "# the real one\n"
				   "runtime = /usr/bin/crun\n"
				   "\n"
				   "   socket=/run/x/oci.sock   \n"
				   "mode\t=\tauto # only foreign images\n"
				   "fallback = native\r\n"
				   "metadata = io.ubinfmt.trace=json; io.ubinfmt.emulators=aarch64,arm\n"
				   "  # indented comment"),
			 0);
	assert_string_equal(c.runtime, "/usr/bin/crun");
	assert_string_equal(c.socket, "/run/x/oci.sock");
	assert_int_equal(c.mode, RT_MODE_AUTO);
	assert_int_equal(c.fallback, RT_FALLBACK_NATIVE);
	assert_string_equal(c.metadata, "io.ubinfmt.trace=json; io.ubinfmt.emulators=aarch64,arm");
	rt_conf_free(&c);

	/* '#' inside a value (not after a blank) is the value's. */
	assert_int_equal(parse(&c, "runtime = /opt/run#c\nmode=never\nmetadata =\n"), 0);
	assert_string_equal(c.runtime, "/opt/run#c");
	assert_int_equal(c.mode, RT_MODE_NEVER);
	assert_null(c.metadata);
	rt_conf_free(&c);
	assert_string_equal(rt_mode_name(RT_MODE_AUTO), "auto");
	assert_string_equal(rt_fallback_name(RT_FALLBACK_NATIVE), "native");
	assert_string_equal(rt_mode_name(RT_MODE_MAX), "?");
}

static void test_refused(void **state)
{
	(void)state;
	refused("sockt = /run/x.sock\n",
		"runtime.conf:1: unknown key 'sockt' (known: runtime, socket, mode, fallback, metadata)");
	refused("\n\nmode = sometimes\n", "runtime.conf:3: mode: 'sometimes' is not always, auto or never");
	refused("mode = Always\n", "is not always, auto or never");
	refused("fallback = ignore\n", "runtime.conf:1: fallback: 'ignore' is not fail or native");
	refused("socket = run/oci.sock\n", "socket: 'run/oci.sock' is not an absolute path");
	refused("socket = "
		"/run/"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aa.sock\n",
		"too long for a unix socket");
	refused("runtime =\n", "runtime: empty");
	refused("runtime = runc\nruntime = crun\n", "runtime.conf:2: runtime: already set on line 1");
	refused("just words\n", "runtime.conf:1: 'just words' is not 'key = value'");
	refused("= value\n", "unknown key ''");
	refused("runtime = a\001b\n", "control character in 'a\\x01b'");
}

static void test_limits(void **state)
{
	struct rt_conf c;
	char *big;
	int r;

	(void)state;
	assert_int_equal(rt_conf_init(&c), 0);
	assert_int_equal(rt_conf_parse(&c, "f", "mode = auto\0x", 13, reason, sizeof(reason)), -EINVAL);
	assert_non_null(strstr(reason, "NUL"));

	big = malloc(RT_CONF_MAX + 2);
	assert_non_null(big);
	memset(big, '#', RT_CONF_MAX + 1);
	assert_int_equal(rt_conf_parse(&c, "f", big, RT_CONF_MAX + 1, reason, sizeof(reason)), -EMSGSIZE);
	assert_int_equal(rt_conf_parse(&c, "f", big, RT_CONF_MAX, reason, sizeof(reason)), 0);
	/* A value past the limit, in a file within it. */
	memcpy(big, "metadata = ", 11);
	memset(big + 11, 'm', RT_CONF_VALUE_MAX + 1);
	r = rt_conf_parse(&c, "f", big, 11 + RT_CONF_VALUE_MAX + 1, reason, sizeof(reason));
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(reason, "longer than 16384 bytes"));
	free(big);
	/* A reason buffer of one byte, and none. */
	assert_int_equal(rt_conf_parse(&c, "f", "x", 1, reason, 1), -EINVAL);
	assert_string_equal(reason, "");
	assert_int_equal(rt_conf_parse(&c, "f", "x", 1, NULL, 0), -EINVAL);
	rt_conf_free(&c);
}

static void test_env(void **state)
{
	struct rt_conf c;

	(void)state;
	assert_int_equal(parse(&c, "runtime = crun\nmode = never\n"), 0);
	assert_int_equal(rt_conf_env(&c, "UBINFMT_RUNTIME_REAL", NULL, reason, sizeof(reason)), 0);
	assert_string_equal(c.runtime, "crun");
	assert_int_equal(rt_conf_env(&c, "UBINFMT_RUNTIME_REAL", "/usr/sbin/runc", reason, sizeof(reason)), 0);
	assert_string_equal(c.runtime, "/usr/sbin/runc");
	assert_int_equal(rt_conf_env(&c, "UBINFMT_RUNTIME_MODE", "auto", reason, sizeof(reason)), 0);
	assert_int_equal(c.mode, RT_MODE_AUTO);
	assert_int_equal(rt_conf_env(&c, "UBINFMT_RUNTIME_FALLBACK", "native", reason, sizeof(reason)), 0);
	assert_int_equal(c.fallback, RT_FALLBACK_NATIVE);
	assert_int_equal(rt_conf_env(&c, "UBINFMT_OCI_SOCKET", "/t/oci.sock", reason, sizeof(reason)), 0);
	assert_string_equal(c.socket, "/t/oci.sock");

	assert_int_equal(rt_conf_env(&c, "UBINFMT_RUNTIME_MODE", "maybe", reason, sizeof(reason)), -EINVAL);
	assert_string_equal(reason, "UBINFMT_RUNTIME_MODE: mode: 'maybe' is not always, auto or never");
	assert_int_equal(rt_conf_env(&c, "UBINFMT_OCI_SOCKET", "x.sock", reason, sizeof(reason)), -EINVAL);
	assert_string_equal(reason, "UBINFMT_OCI_SOCKET: socket: 'x.sock' is not an absolute path");
	assert_int_equal(rt_conf_env(&c, "UBINFMT_RUNTIME_REAL", "", reason, sizeof(reason)), -EINVAL);
	assert_int_equal(rt_conf_env(&c, "PATH", "/bin", reason, sizeof(reason)), -ENOENT);
	rt_conf_free(&c);

	for (int i = 0; rt_conf_env_names[i]; i++)
		assert_non_null(strstr(rt_conf_env_names[i], "UBINFMT_"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults), cmocka_unit_test(test_template), cmocka_unit_test(test_values),
		cmocka_unit_test(test_refused),	 cmocka_unit_test(test_limits),	  cmocka_unit_test(test_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
