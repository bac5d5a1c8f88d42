/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shebang_parse() against what Linux's fs/binfmt_script.c does.  Every input this test gives
 * the parser (the table, the limit cases and the 50,000 random lines) was also run through
 * Linux 6.18, outside this test, which makes no syscalls: the bytes were written to a script
 * file, with /bin/sh and /usr/bin/env swapped for same-length paths to a native program that
 * prints its argv, the script was run with execve(), and the argv the kernel built, or its
 * errno, was compared with the parse.  No difference.  Where the parser accepts a line whose
 * interpreter cannot be opened (an empty name), the kernel fails at open time, not with ENOEXEC.
 *
 * Every call gets a heap copy of exactly len bytes, so ASan reports any read past len.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "classify.h"

static int parse_exact(const void *buf, size_t len, struct shebang *ret)
{
	uint8_t *copy = NULL;
	int r;

	if (len > 0) {
		copy = malloc(len);
		assert_non_null(copy);
		memcpy(copy, buf, len);
	}
	r = shebang_parse(copy, len, ret);
	free(copy);
	return r;
}

struct sb_case {
	const char *what;
	const char *bytes;
	size_t len;
	int ret;
	const char *interp;
	bool has_arg;
	const char *arg;
};

/* Literal with its length, embedded NULs included. */
#define BYTES(s) s, sizeof(s) - 1
#define OK(name) 0, name, false, ""
#define OK_ARG(name, arg) 0, name, true, arg
#define NOEXEC -ENOEXEC, NULL, false, NULL

/* clang-format off */
static const struct sb_case cases[] = {
	{ "plain", BYTES("#!/bin/sh\n"), OK("/bin/sh") },
	{ "with argument", BYTES("#!/bin/sh -e\n"), OK_ARG("/bin/sh", "-e") },
	{ "relative name", BYTES("#!sh\n"), OK("sh") },
	{ "only the first line counts", BYTES("#!/bin/sh -x\nsecond -y\n"), OK_ARG("/bin/sh", "-x") },
	{ "blanks around everything", BYTES("#! \t/bin/sh \t  -a  b c \t \n"),
	  OK_ARG("/bin/sh", "-a  b c") },
	{ "tabs", BYTES("#!\t/bin/sh\t-x\t\n"), OK_ARG("/bin/sh", "-x") },
	{ "trailing blanks, no argument", BYTES("#!/bin/sh \t \n"), OK("/bin/sh") },
	{ "argument with inner blanks", BYTES("#!/usr/bin/env -S a  b\tc\n"),
	  OK_ARG("/usr/bin/env", "-S a  b\tc") },
	/* CRLF: \r is no blank, so it stays in the name or the argument. */
	{ "CRLF", BYTES("#!/bin/sh\r\n"), OK("/bin/sh\r") },
	{ "CRLF after argument", BYTES("#!/bin/sh -x\r\n"), OK_ARG("/bin/sh", "-x\r") },
	/* A short file without newline: the zero padding ends the name. */
	{ "short file, no newline", BYTES("#!/bin/sh"), OK("/bin/sh") },
	{ "short file, argument", BYTES("#!/bin/sh -x"), OK_ARG("/bin/sh", "-x") },
	/*
	 * Without a newline the end of the line is byte 255, which is padding here, so trailing
	 * blanks are not trimmed: the kernel passes "-x " and even an empty argument.
	 */
	{ "short file, argument, trailing blank", BYTES("#!/bin/sh -x "), OK_ARG("/bin/sh", "-x ") },
	{ "short file, trailing blank", BYTES("#!/bin/sh "), OK_ARG("/bin/sh", "") },
	/* NULs end strings; one right after the name means no argument. */
	{ "NUL after name", BYTES("#!/bin/sh\0 -x\n"), OK("/bin/sh") },
	{ "NUL inside argument", BYTES("#!/bin/sh a\0b\n"), OK_ARG("/bin/sh", "a") },
	{ "blank then NUL", BYTES("#!/bin/sh \0x\n"), OK_ARG("/bin/sh", "") },
	{ "blanks then NUL", BYTES("#!/bin/sh \t\0\n"), OK_ARG("/bin/sh", "") },
	{ "NUL hides the newline", BYTES("#!/bin/sh\0xx\nyy"), OK("/bin/sh") },
	/*
	 * An empty name that the parser accepts: the kernel then opens "" (the cwd) and fails
	 * with EACCES, not ENOEXEC.
	 */
	{ "only #!", BYTES("#!"), OK("") },
	{ "#! and a blank, short file", BYTES("#! "), OK("") },
	{ "#! and NUL", BYTES("#!\0\n"), OK("") },
	{ "blank then NUL name", BYTES("#! \0"), OK("") },
	/* No interpreter name at all. */
	{ "empty line", BYTES("#!\n"), NOEXEC },
	{ "blank line", BYTES("#!   \n"), NOEXEC },
	{ "tab line", BYTES("#!\t \t\n"), NOEXEC },
	{ "CRLF line is a name", BYTES("#!\r\n"), OK("\r") },
	/* Not a script at all. */
	{ "empty file", BYTES(""), NOEXEC },
	{ "one byte", BYTES("#"), NOEXEC },
	{ "leading blank", BYTES(" #!/bin/sh\n"), NOEXEC },
	{ "swapped", BYTES("!#/bin/sh\n"), NOEXEC },
};
/* clang-format on */

static void check(const char *what, const void *buf, size_t len, int want_ret, const char *want_interp,
		  bool want_has_arg, const char *want_arg)
{
	struct shebang sb, untouched;
	int r;

	memset(&sb, 0xa5, sizeof(sb));
	untouched = sb;
	r = parse_exact(buf, len, &sb);
	if (r != want_ret)
		fail_msg("%s: shebang_parse() = %d, want %d", what, r, want_ret);
	if (r < 0) {
		assert_memory_equal(&sb, &untouched, sizeof(sb));
		return;
	}
	assert_non_null(memchr(sb.interp, '\0', sizeof(sb.interp)));
	assert_non_null(memchr(sb.arg, '\0', sizeof(sb.arg)));
	if (strcmp(sb.interp, want_interp) != 0 || sb.has_arg != want_has_arg || strcmp(sb.arg, want_arg) != 0)
		fail_msg("%s: got interp '%s' has_arg %d arg '%s', want '%s' %d '%s'", what, sb.interp, sb.has_arg,
			 sb.arg, want_interp, want_has_arg, want_arg);
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(cases[i].what, cases[i].bytes, cases[i].len, cases[i].ret, cases[i].interp, cases[i].has_arg,
		      cases[i].arg);
}

/* "#!" then an interpreter path of exactly n bytes ("/tmp/sb////.../i"), then tail. */
static size_t build(char *buf, size_t n, const char *tail, size_t tail_len)
{
	buf[0] = '#';
	buf[1] = '!';
	memcpy(buf + 2, "/tmp/sb", 7);
	memset(buf + 9, '/', n - 8);
	buf[2 + n - 1] = 'i';
	memcpy(buf + 2 + n, tail, tail_len);
	return 2 + n + tail_len;
}

static char *name_of(size_t n)
{
	static char name[CLASSIFY_HEAD_SIZE + 64];
	char buf[CLASSIFY_HEAD_SIZE + 64];

	build(buf, n, "", 0);
	memcpy(name, buf + 2, n);
	name[n] = '\0';
	return name;
}

/* The 256-byte window: the name may end at byte 254, and needs a terminator by byte 255. */
static void test_limits(void **state)
{
	char buf[1024];
	char want[CLASSIFY_HEAD_SIZE];
	size_t len;

	(void)state;
	strcpy(want, name_of(253));
	len = build(buf, 253, " ", 1); /* name 2..254, blank at 255: accepted */
	check("terminator at byte 255", buf, len, 0, want, false, "");
	len = build(buf, 253, "\0", 1);
	check("NUL at byte 255", buf, len, 0, want, false, "");
	len = build(buf, 253, "\n", 1);
	check("newline at byte 255", buf, len, 0, want, false, "");
	len = build(buf, 253, "", 0); /* a 255-byte file: byte 255 is padding */
	check("255-byte file", buf, len, 0, want, false, "");

	len = build(buf, 253, "x", 1); /* the name runs to the end of the window */
	check("no terminator", buf, len, -ENOEXEC, NULL, false, NULL);
	len = build(buf, 254, "", 0);
	check("name fills the window", buf, len, -ENOEXEC, NULL, false, NULL);
	len = build(buf, 254, "\n", 1); /* newline at byte 256: outside the window */
	check("newline just outside", buf, len, -ENOEXEC, NULL, false, NULL);
	len = build(buf, 254, " a\n", 3);
	check("name fills the window, more after", buf, len, -ENOEXEC, NULL, false, NULL);

	/* A blank at 254 ends the name; byte 255 is the cut, so "y" is lost with it. */
	strcpy(want, name_of(252));
	len = build(buf, 252, " y", 2);
	check("blank at 254, y at 255", buf, len, 0, want, false, "");
	len = build(buf, 252, " yzzz", 5);
	check("blank at 254, more after", buf, len, 0, want, false, "");

	memset(buf, ' ', 256);
	memcpy(buf, "#!", 2);
	check("256 blanks", buf, 256, -ENOEXEC, NULL, false, NULL);
	buf[255] = 'x';
	check("blanks, name at byte 255", buf, 256, -ENOEXEC, NULL, false, NULL);
}

/* Arguments may be cut at the window; the interpreter re-reads the script if it cares. */
static void test_long_argument(void **state)
{
	char buf[1024], want[CLASSIFY_HEAD_SIZE];
	struct shebang sb;
	size_t len;

	(void)state;
	/* "#!/bin/sh " is 10 bytes; the argument gets bytes 10..254. */
	len = (size_t)sprintf(buf, "#!/bin/sh ");
	memset(buf + len, 'a', 300);
	buf[len + 300] = '\n';
	len += 301;
	memset(want, 'a', 245);
	want[245] = '\0';
	check("over-long line", buf, len, 0, "/bin/sh", true, want);
	assert_int_equal(parse_exact(buf, len, &sb), 0);
	assert_int_equal(strlen(sb.arg), CLASSIFY_HEAD_SIZE - 11);

	/* Trailing blanks are trimmed back from byte 255 when there is no newline. */
	len = (size_t)sprintf(buf, "#!/bin/sh ");
	memset(buf + len, 'a', 244);
	memcpy(buf + len + 244, " b", 2);
	len += 246;
	want[244] = '\0';
	check("argument, blank at 254", buf, len, 0, "/bin/sh", true, want);

	len = (size_t)sprintf(buf, "#!/bin/sh ");
	memset(buf + len, 'a', 243);
	memcpy(buf + len + 243, "\tbb", 3);
	len += 246;
	memset(want, 'a', 243);
	want[243] = '\t';
	want[244] = 'b';
	want[245] = '\0';
	check("argument, tab at 253", buf, len, 0, "/bin/sh", true, want);
}

/* Bytes after the first 256 are never read, whatever len says. */
static void test_len_beyond_window(void **state)
{
	char buf[4096];

	(void)state;
	memset(buf, 'z', sizeof(buf));
	memcpy(buf, "#!/bin/sh\n", 10);
	check("4 KiB file", buf, sizeof(buf), 0, "/bin/sh", false, "");
}

/* Tiny deterministic generator: the test must not depend on libc's rand() sequence. */
static uint32_t next_random(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

/*
 * Random lines from an alphabet of the characters that matter: whatever comes out, the
 * strings are terminated, fit the window, the name has no blank and neither has a newline.
 */
static void test_random_invariants(void **state)
{
	static const char alphabet[] = { ' ', '\t', '\0', '\n', '\r', 'a', '/', '-' };
	uint32_t seed = 1;

	(void)state;
	for (int i = 0; i < 50000; i++) {
		char buf[300];
		struct shebang sb;
		size_t len = 2 + next_random(&seed) % (sizeof(buf) - 2);

		buf[0] = '#';
		buf[1] = '!';
		for (size_t j = 2; j < len; j++)
			buf[j] = alphabet[next_random(&seed) % sizeof(alphabet)];
		if (parse_exact(buf, len, &sb) < 0)
			continue;
		assert_true(strnlen(sb.interp, sizeof(sb.interp)) <= CLASSIFY_HEAD_SIZE - 3);
		assert_true(strnlen(sb.arg, sizeof(sb.arg)) <= CLASSIFY_HEAD_SIZE - 3);
		assert_null(strpbrk(sb.interp, " \t\n"));
		assert_null(strchr(sb.arg, '\n'));
		assert_true(sb.arg[0] != ' ' && sb.arg[0] != '\t');
		assert_true(sb.has_arg || sb.arg[0] == '\0');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_long_argument),
		cmocka_unit_test(test_len_beyond_window),
		cmocka_unit_test(test_random_invariants),
	};

	return cmocka_run_group_tests_name("shebang", tests, NULL, NULL);
}
