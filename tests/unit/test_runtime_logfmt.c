/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ubinfmt-runtime's lines in runc's own log format.  What runc 1.1.5 itself writes (captured:
 * `runc --log F [--log-format json] run --bundle /nonexistent x`):
 *   {"level":"error","msg":"runc run failed: chdir /nonexistent: no such file or directory","time":"2026-12-06T15:40:01Z"}
 *   time="2026-12-06T15:40:01Z" level=error msg="runc run failed: chdir /nonexistent: no such file or directory"
 */
#include <errno.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "logfmt.h"

/* 2026-12-06T15:40:01Z */
#define WHEN ((time_t)1796571601)

static void test_like_runc(void **state)
{
	char buf[512];
	int n;

	(void)state;
	n = rt_logfmt(buf, sizeof(buf), RT_LOG_JSON, "error",
		      "runc run failed: chdir /nonexistent: no such file or directory", WHEN);
	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(buf, "{\"level\":\"error\",\"msg\":\"runc run failed: chdir /nonexistent: no such file or "
				 "directory\",\"time\":\"2026-12-06T15:40:01Z\"}\n");
	rt_logfmt(buf, sizeof(buf), RT_LOG_TEXT, "error",
		  "runc run failed: chdir /nonexistent: no such file or directory", WHEN);
	assert_string_equal(buf, "time=\"2026-12-06T15:40:01Z\" level=error msg=\"runc run failed: chdir /nonexistent: "
				 "no such file or directory\"\n");
}

/* Whatever the message holds, the line is one line and reads back as that message. */
static void test_escaping(void **state)
{
	static const char msg[] = "a \"quoted\" \\path\\ /x\nforged line\r\t\x01 h\xc3\xa9llo";
	struct json_object *o, *m;
	char buf[512];
	int n;

	(void)state;
	n = rt_logfmt(buf, sizeof(buf), RT_LOG_JSON, "warning", msg, WHEN);
	assert_true(n > 0);
	assert_null(memchr(buf, '\n', (size_t)n - 1));
	o = json_tokener_parse(buf);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "msg", &m));
	assert_string_equal(json_object_get_string(m), msg);
	assert_true(json_object_object_get_ex(o, "level", &m));
	assert_string_equal(json_object_get_string(m), "warning");
	json_object_put(o);

	n = rt_logfmt(buf, sizeof(buf), RT_LOG_TEXT, "error", msg, WHEN);
	assert_true(n > 0);
	assert_string_equal(buf,
			    "time=\"2026-12-06T15:40:01Z\" level=error msg=\"a \\\"quoted\\\" \\\\path\\\\ /x\\nforged "
			    "line\\r\\t\\x01 h\xc3\xa9llo\"\n");
}

static void test_small_buffers(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(
		rt_logfmt(buf, sizeof(buf), RT_LOG_JSON, "error", "a message far too long for sixty-four bytes", WHEN),
		-ENOSPC);
	assert_int_equal(rt_logfmt(buf, 20, RT_LOG_TEXT, "error", "m", WHEN), -ENOSPC);
	assert_int_equal(rt_logfmt(buf, 48, RT_LOG_TEXT, "error", "m", WHEN), -ENOSPC);
	assert_int_equal(rt_logfmt(buf, 49, RT_LOG_TEXT, "error", "m", WHEN), 48);
	assert_string_equal(buf, "time=\"2026-12-06T15:40:01Z\" level=error msg=\"m\"\n");
	assert_int_equal(rt_logfmt(buf, 48, RT_LOG_TEXT, "error", "\n", WHEN), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_like_runc),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_small_buffers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
