/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "comm.h"

/* The kernel's answers, as /proc/PID/comm shows them (t_comm checks the same against it). */
static void test_from_path(void **state)
{
	static const struct {
		const char *path, *comm;
		/* clang-format off */
	} cases[] = {
		{ "/bin/busybox", "busybox" },
		{ "busybox", "busybox" },
		{ "./sub/dir/ls", "ls" },
		{ "/proc/self/fd/3", "3" },                     /* fexecve through /proc: the fd number */
		{ "/usr/bin/a-rather-long-program-name", "a-rather-long-p" }, /* 15 bytes */
		{ "/x/exactly-15-bytes", "exactly-15-byte" },
		{ "/x/.hidden", ".hidden" },
		{ "/x/...", "..." },
		{ "//double//slash", "slash" },
	};
	/* clang-format on */
	char comm[COMM_NAME_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(comm_from_path(cases[i].path, comm), 0);
		assert_string_equal(comm, cases[i].comm);
	}
	/* No name to give an entry: the caller keeps the emulator's own. */
	assert_int_equal(comm_from_path("", comm), -EINVAL);
	assert_int_equal(comm_from_path("/bin/", comm), -EINVAL);
	assert_int_equal(comm_from_path("/bin/.", comm), -EINVAL);
	assert_int_equal(comm_from_path("..", comm), -EINVAL);
}

static void test_from_fd_link(void **state)
{
	char comm[COMM_NAME_MAX + 1];

	(void)state;
	assert_int_equal(comm_from_fd_link("/bin/busybox", false, comm), 0);
	assert_string_equal(comm, "busybox");
	/* A memfd, and a file deleted after open: the entry's name without the kernel's suffix. */
	assert_int_equal(comm_from_fd_link("/memfd:prog (deleted)", true, comm), 0);
	assert_string_equal(comm, "memfd:prog");
	assert_int_equal(comm_from_fd_link("/tmp/prog (deleted)", true, comm), 0);
	assert_string_equal(comm, "prog");
	/* A file still linked whose name ends so keeps it, and the suffix goes once only. */
	assert_int_equal(comm_from_fd_link("/tmp/x (deleted)", false, comm), 0);
	assert_string_equal(comm, "x (deleted)");
	assert_int_equal(comm_from_fd_link("/tmp/x (deleted) (deleted)", true, comm), 0);
	assert_string_equal(comm, "x (deleted)");
	assert_int_equal(comm_from_fd_link("/ (deleted)", true, comm), -EINVAL);
	assert_int_equal(comm_from_fd_link("/", false, comm), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_path),
		cmocka_unit_test(test_from_fd_link),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
