/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "log.h"

/* A file name a sandbox might exec, to forge a line of a root daemon's log. */
static const char forged[] = "x\nubinfmtd[1] error: FORGED\r\x1b[2K\x7fy";

static void test_escape_controls(void **state)
{
	char buf[256];
	size_t n;

	(void)state;
	n = log_escape(buf, sizeof(buf), forged);
	assert_string_equal(buf, "x\\nubinfmtd[1] error: FORGED\\r\\x1b[2K\\x7fy");
	assert_int_equal(n, strlen(buf));
	/* Every byte below 0x20 and DEL becomes printable; the backslash doubles. */
	for (unsigned c = 1; c < 0x80; c++) {
		char src[2] = { (char)c, '\0' };
		log_escape(buf, sizeof(buf), src);
		for (const char *p = buf; *p; p++)
			assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
		if (c >= 0x20 && c != 0x7f && c != '\\')
			assert_string_equal(buf, src);
	}
	log_escape(buf, sizeof(buf), "a\\nb\t");
	assert_string_equal(buf, "a\\\\nb\\t");
	/* UTF-8 names stay readable. */
	log_escape(buf, sizeof(buf), "caf\xc3\xa9");
	assert_string_equal(buf, "caf\xc3\xa9");
}

static void test_escape_cut(void **state)
{
	char buf[12];
	size_t n;

	(void)state;
	/* Fits exactly: no mark. */
	n = log_escape(buf, sizeof(buf), "0123456789a");
	assert_int_equal(n, 11);
	assert_string_equal(buf, "0123456789a");
	/* One byte too many: cut, and marked. */
	n = log_escape(buf, sizeof(buf), "0123456789ab");
	assert_string_equal(buf, "01234567...");
	assert_int_equal(n, 11);
	/* Never half an escape: "\x0a" does not fit after "0123456", so it is dropped whole. */
	log_escape(buf, sizeof(buf), "0123456\x01xyz");
	assert_string_equal(buf, "0123456...");
	log_escape(buf, sizeof(buf), "\n\n\n\n\n\n");
	assert_string_equal(buf, "\\n\\n\\n\\n...");
	/* The smallest buffers still end in a NUL. */
	assert_int_equal(log_escape(buf, 1, "abc"), 0);
	assert_string_equal(buf, "");
	log_escape(buf, 3, "abc");
	assert_string_equal(buf, "..");
}

/* Runs fn with stderr going to a memory file; returns what it wrote (NUL-terminated). */
static size_t capture_stderr(void (*fn)(void), char *out, size_t size)
{
	int saved = dup(STDERR_FILENO), fd = memfd_create("log", MFD_CLOEXEC);
	ssize_t n;

	assert_true(saved >= 0 && fd >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	fn();
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	n = pread(fd, out, size - 1, 0);
	close(fd);
	assert_true(n >= 0);
	out[n] = '\0';
	return (size_t)n;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void emit_forged(void)
{
	log_warn("sandbox 'run': exec of '%.200s' fails with ENOEXEC", forged);
}

static void test_emit_one_line(void **state)
{
	char out[8192];
	size_t n;

	(void)state;
	log_set_program("ubinfmtd");
	n = capture_stderr(emit_forged, out, sizeof(out));
	assert_int_equal(count_lines(out), 1);
	assert_int_equal(out[n - 1], '\n');
	assert_non_null(strstr(out,
			       "] warning: sandbox 'run': exec of 'x\\nubinfmtd[1] error: FORGED\\r\\x1b[2K\\x7fy' "
			       "fails with ENOEXEC\n"));
	assert_int_equal(strncmp(out, "ubinfmtd[", 9), 0);
	assert_null(strstr(out, "\nubinfmtd[1]"));
}

static void emit_huge(void)
{
	static char path[3000];

	/* Longer than the message buffer, and four times longer once escaped. */
	memset(path, '\n', sizeof(path) - 1);
	log_error("exec of '%s'", path);
}

static void test_emit_huge(void **state)
{
	char out[16384];
	size_t n;

	(void)state;
	n = capture_stderr(emit_huge, out, sizeof(out));
	assert_int_equal(count_lines(out), 1);
	assert_true(n <= 4096);
	assert_int_equal(out[n - 1], '\n');
	assert_memory_equal(out + n - 4, "...\n", 4);
}

static void emit_errno(void)
{
	errno = EBUSY;
	log_error_errno(-ENOENT, "open '%s': %m", "a\tb");
	/* errno is the caller's again afterwards. */
	assert_int_equal(errno, EBUSY);
	errno = EPERM;
	log_warn("%m");
	assert_int_equal(errno, EPERM);
}

static void test_emit_errno(void **state)
{
	char out[4096];

	(void)state;
	log_set_level(LOG_WARN);
	capture_stderr(emit_errno, out, sizeof(out));
	assert_int_equal(count_lines(out), 2);
	assert_non_null(strstr(out, "error: open 'a\\tb': No such file or directory\n"));
	assert_non_null(strstr(out, "warning: Operation not permitted\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_controls), cmocka_unit_test(test_escape_cut),
		cmocka_unit_test(test_emit_one_line),	cmocka_unit_test(test_emit_huge),
		cmocka_unit_test(test_emit_errno),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
