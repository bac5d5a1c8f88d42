/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Finding the real runtime without ever finding ubinfmt-runtime: in a scratch directory, "self"
 * is a file playing ubinfmt-runtime, reached as runc through a symlink, a hard link and a
 * symlink to a symlink, before the real one on PATH.  No privileges needed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "real.h"

static char dir[256];

static void path_of(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

static void make_file(const char *name, mode_t mode)
{
	char p[512];
	int fd;

	path_of(p, sizeof(p), name);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/true\n", 12), 12);
	close(fd);
	assert_int_equal(chmod(p, mode), 0);
}

static void make_dir(const char *name)
{
	char p[512];

	path_of(p, sizeof(p), name);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void make_symlink(const char *target, const char *name)
{
	char p[512];

	path_of(p, sizeof(p), name);
	assert_int_equal(symlink(target, p), 0);
}

static void make_hardlink(const char *target, const char *name)
{
	char t[512], p[512];

	path_of(t, sizeof(t), target);
	path_of(p, sizeof(p), name);
	assert_int_equal(link(t, p), 0);
}

static struct rt_identity identity(const char *name)
{
	char p[512];
	struct stat st;

	path_of(p, sizeof(p), name);
	assert_int_equal(stat(p, &st), 0);
	return (struct rt_identity){ .dev = st.st_dev, .ino = st.st_ino };
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s/ubinfmt-test-real.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	/*
	 * self/ubinfmt-runtime            the shim
	 * sym/runc -> ../self/ubinfmt-runtime
	 * hard/runc  (hard link to the shim)
	 * chain/runc -> ../sym/runc       (a symlink to a symlink)
	 * copy/runc  (another inode: a copy of the shim)
	 * noexec/runc (not executable)   dirent/runc/ (a directory)
	 * real/runc  the real runtime
	 */
	make_dir("self");
	make_file("self/ubinfmt-runtime", 0755);
	make_dir("sym");
	make_symlink("../self/ubinfmt-runtime", "sym/runc");
	make_dir("hard");
	make_hardlink("self/ubinfmt-runtime", "hard/runc");
	make_dir("chain");
	make_symlink("../sym/runc", "chain/runc");
	make_dir("copy");
	make_file("copy/runc", 0755);
	make_dir("noexec");
	make_file("noexec/runc", 0644);
	make_dir("dirent");
	make_dir("dirent/runc");
	make_dir("real");
	make_file("real/runc", 0755);
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* PATH made of dirs (names under the scratch directory, or absolute as they are). */
static void path_env(char *buf, size_t size, const char *const *dirs)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; dirs[i]; i++) {
		int n = dirs[i][0] == '/' || !dirs[i][0]
				? snprintf(buf + len, size - len, "%s%s", i ? ":" : "", dirs[i])
				: snprintf(buf + len, size - len, "%s%s/%s", i ? ":" : "", dir, dirs[i]);
		assert_true(n > 0 && (size_t)n < size - len);
		len += (size_t)n;
	}
}

#define DIRS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void expect_found(const char *const *dirs, const struct rt_identity *skip, size_t n, const char *want)
{
	char path[4096], w[512];
	char *found = NULL;

	path_env(path, sizeof(path), dirs);
	assert_int_equal(rt_real_find("runc", path, skip, n, &found), 0);
	path_of(w, sizeof(w), want);
	assert_string_equal(found, w);
	free(found);
}

static void test_skips_itself(void **state)
{
	struct rt_identity self = identity("self/ubinfmt-runtime");
	char path[4096];
	char *found = NULL;

	(void)state;
	/* Installed as runc first on PATH, reached by every kind of link: the real one is found. */
	expect_found(DIRS("sym", "hard", "chain", "real"), &self, 1, "real/runc");
	/* Not executable, not a regular file, an empty or relative PATH entry: passed over too. */
	expect_found(DIRS("noexec", "dirent", "", "real"), &self, 1, "real/runc");
	expect_found(DIRS("sym", "real"), NULL, 0, "sym/runc"); /* nothing to skip: the first */

	/* Only ourselves on PATH: -ELOOP, so that the message can say so. */
	path_env(path, sizeof(path), DIRS("sym", "hard", "chain"));
	assert_int_equal(rt_real_find("runc", path, &self, 1, &found), -ELOOP);
	path_env(path, sizeof(path), DIRS("noexec", "dirent"));
	assert_int_equal(rt_real_find("runc", path, &self, 1, &found), -ENOENT);
	assert_int_equal(rt_real_find("no-such-runtime", path, &self, 1, &found), -ENOENT);
	assert_null(found);
}

/* A copy that exec'd us passed its identity on: neither of us picks the other. */
static void test_copies(void **state)
{
	struct rt_identity skip[2] = { identity("self/ubinfmt-runtime"), identity("copy/runc") };

	(void)state;
	expect_found(DIRS("copy", "sym", "real"), skip, 2, "real/runc");
	expect_found(DIRS("copy", "real"), skip, 1, "copy/runc");
}

static void test_explicit_path(void **state)
{
	struct rt_identity self = identity("self/ubinfmt-runtime");
	char p[512];
	char *found = NULL;

	(void)state;
	path_of(p, sizeof(p), "real/runc");
	assert_int_equal(rt_real_find(p, NULL, &self, 1, &found), 0);
	assert_string_equal(found, p);
	free(found);
	found = NULL;
	path_of(p, sizeof(p), "chain/runc");
	assert_int_equal(rt_real_find(p, "/usr/bin", &self, 1, &found), -ELOOP);
	path_of(p, sizeof(p), "noexec/runc");
	assert_int_equal(rt_real_find(p, NULL, &self, 1, &found), -ENOENT);
	path_of(p, sizeof(p), "missing/runc");
	assert_int_equal(rt_real_find(p, NULL, &self, 1, &found), -ENOENT);
	assert_null(found);
}

static void test_self_identity(void **state)
{
	struct rt_identity id;
	struct stat st;

	(void)state;
	assert_int_equal(rt_self_identity(&id), 0);
	assert_int_equal(stat("/proc/self/exe", &st), 0);
	assert_true(id.dev == st.st_dev && id.ino == st.st_ino);
}

static void test_visited_list(void **state)
{
	struct rt_identity ids[RT_VISITED_MAX + 4];
	char buf[RT_VISITED_LEN];
	size_t n;

	(void)state;
	assert_int_equal(rt_identity_parse(NULL, ids, 4), 0);
	assert_int_equal(rt_identity_parse("", ids, 4), 0);
	n = rt_identity_parse("2049:131,x:1,5:,:6,2049:7,18446744073709551615:1", ids, 4);
	assert_int_equal(n, 3);
	assert_true(ids[0].dev == 2049 && ids[0].ino == 131);
	assert_true(ids[1].dev == 2049 && ids[1].ino == 7);
	assert_true(ids[2].ino == 1);

	rt_identity_format(buf, sizeof(buf), ids, 2, (struct rt_identity){ .dev = 3, .ino = 4 });
	assert_string_equal(buf, "2049:131,2049:7,3:4");
	rt_identity_format(buf, sizeof(buf), ids, 2, (struct rt_identity){ .dev = 2049, .ino = 7 });
	assert_string_equal(buf, "2049:131,2049:7");
	rt_identity_format(buf, sizeof(buf), NULL, 0, (struct rt_identity){ .dev = 1, .ino = 2 });
	assert_string_equal(buf, "1:2");

	/* At most RT_VISITED_MAX: the oldest go. */
	for (size_t i = 0; i < RT_VISITED_MAX; i++)
		ids[i] = (struct rt_identity){ .dev = 1, .ino = 100 + i };
	rt_identity_format(buf, sizeof(buf), ids, RT_VISITED_MAX, (struct rt_identity){ .dev = 9, .ino = 9 });
	n = rt_identity_parse(buf, ids, RT_VISITED_MAX + 4);
	assert_int_equal(n, RT_VISITED_MAX);
	assert_true(ids[0].ino == 101 && ids[n - 1].dev == 9);
	/* A buffer too small keeps whole entries only. */
	rt_identity_format(buf, 8, ids, 2, (struct rt_identity){ .dev = 9, .ino = 9 });
	assert_string_equal(buf, "1:101");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_skips_itself),  cmocka_unit_test(test_copies),
		cmocka_unit_test(test_explicit_path), cmocka_unit_test(test_self_identity),
		cmocka_unit_test(test_visited_list),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
