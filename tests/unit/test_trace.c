/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "trace.h"

static struct trace_record sample(void)
{
	struct trace_record r = {
		.time_ns = 1795782600123456789ull,
		.pid = 42,
		.syscall = "execve",
		.arch = ARCH_AARCH64,
		.decision = DECISION_EMULATE,
		.emulator = "/usr/bin/qemu-aarch64-static",
		.usec = 17,
		.cpu_usec = 5,
	};
	trace_copy(r.path, sizeof(r.path), "/bin/sh");
	trace_copy(r.resolved, sizeof(r.resolved), "/bin/busybox");
	return r;
}

static void test_text(void **state)
{
	struct trace_record r = sample();
	char buf[1024];
	size_t n;

	(void)state;
	n = trace_format(&r, false, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_int_equal(buf[n - 1], '\n');
	assert_non_null(strstr(buf, "pid=42 execve path='/bin/sh' resolved='/bin/busybox' arch=aarch64 "
				    "decision=emulate emulator=/usr/bin/qemu-aarch64-static usec=17 cpu_usec=5\n"));
	assert_non_null(strstr(buf, "2026-11-27T"));
}

static void test_json(void **state)
{
	struct trace_record r = sample();
	char buf[1024];

	(void)state;
	trace_format(&r, true, buf, sizeof(buf));
	assert_non_null(strstr(
		buf, "\"pid\":42,\"syscall\":\"execve\",\"path\":\"/bin/sh\",\"resolved\":\"/bin/busybox\","
		     "\"arch\":\"aarch64\",\"decision\":\"emulate\",\"emulator\":\"/usr/bin/qemu-aarch64-static\","
		     "\"error\":0,\"usec\":17,\"cpu_usec\":5}\n"));
	r.emulator = NULL;
	trace_format(&r, true, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"emulator\":null"));
}

/* Sandbox-controlled strings are quoted, escaped and can never break the line. */
static void test_hostile_path(void **state)
{
	struct trace_record r = sample();
	char buf[512];
	size_t n;

	(void)state;
	trace_copy(r.path, sizeof(r.path), "a\"b\\c\nd'e\x01\xff");
	n = trace_format(&r, true, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"path\":\"a\\\"b\\\\c\\u000ad'e\\u0001\\u00ff\""));
	assert_null(memchr(buf, '\n', n - 1));
	n = trace_format(&r, false, buf, sizeof(buf));
	assert_non_null(strstr(buf, "path='a\\\"b\\\\c\\x0ad\\'e\\x01\xff'"));
	assert_null(memchr(buf, '\n', n - 1));

	/* A line that does not fit is cut, but stays one line. */
	memset(r.path, 'x', sizeof(r.path) - 1);
	r.path[sizeof(r.path) - 1] = '\0';
	char small[80];
	n = trace_format(&r, false, small, sizeof(small));
	assert_true(n < sizeof(small));
	assert_int_equal(small[n - 1], '\n');
	assert_null(memchr(small, '\n', n - 1));
}

/*
 * The worst a sandbox can put in a record: 255 control bytes as the path and as the resolved
 * name, 1.5 KiB each once escaped.  In the engine's 2048-byte line the JSON used to be cut
 * mid-string, without its closing brace (found by fuzz_trace); now the strings are shortened
 * and the line is still one complete object.  A control byte in the emulator's host path
 * cannot split a text line either.
 */
static void test_worst_case_line(void **state)
{
	struct trace_record r = sample();
	char buf[2048], *p;
	size_t n;

	(void)state;
	memset(r.path, '\x01', sizeof(r.path) - 1);
	r.path[sizeof(r.path) - 1] = '\0';
	memset(r.resolved, '\x7f', sizeof(r.resolved) - 1);
	r.resolved[sizeof(r.resolved) - 1] = '\0';
	n = trace_format(&r, true, buf, sizeof(buf));
	assert_true(n < sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_null(memchr(buf, '\n', n - 1));
	/* Every field is there, the emulator whole, and the object is closed. */
	assert_non_null(strstr(buf, "\",\"resolved\":\"\\u007f"));
	assert_non_null(strstr(buf, "\",\"arch\":\"aarch64\",\"decision\":\"emulate\",\"emulator\":"
				    "\"/usr/bin/qemu-aarch64-static\",\"error\":0,\"usec\":17,\"cpu_usec\":5}\n"));
	/* Strings are cut after a whole escape. */
	p = strstr(buf, "\",\"resolved\"");
	assert_non_null(p);
	assert_int_equal((p - strstr(buf, "\"path\":\"") - 8) % 6, 0);

	n = trace_format(&r, false, buf, sizeof(buf));
	assert_int_equal(buf[n - 1], '\n');
	assert_non_null(strstr(buf, " emulator=/usr/bin/qemu-aarch64-static usec=17 cpu_usec=5\n"));

	r.emulator = "/opt/q\nemu";
	n = trace_format(&r, false, buf, sizeof(buf));
	assert_null(memchr(buf, '\n', n - 1));
	assert_non_null(strstr(buf, " emulator=/opt/q\\x0aemu usec=17 cpu_usec=5\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_hostile_path),
		cmocka_unit_test(test_worst_case_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
