/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bundle I/O in a scratch directory: config.json read, refused when it is not one, and replaced
 * atomically with its mode kept and nothing left behind.  No privileges needed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bundle.h"

static char dir[256];
static char reason[256];

static void put(const char *name, const char *text, mode_t mode)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(p, mode), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s/ubinfmt-test-bundle.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static unsigned entries(const char *sub)
{
	char p[512];
	DIR *d;
	struct dirent *e;
	unsigned n = 0;

	snprintf(p, sizeof(p), "%s/%s", dir, sub);
	d = opendir(p);
	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.' || strncmp(e->d_name, ".config", 7) == 0;
	closedir(d);
	return n;
}

static void test_read_write(void **state)
{
	struct rt_bundle b;
	struct json_object *o;
	char p[512];
	struct stat st;

	(void)state;
	put("config.json",
	    "{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"args\":[\"/bin/sh\"]},\"n\":18446744073709551615,"
	    "\"s\":\"/a/b \\u00e9 <&>\"}\n",
	    0640);
	assert_int_equal(rt_bundle_open(dir, NULL, &b, reason, sizeof(reason)), 0);
	assert_int_equal(b.mode, 0640);
	json_object_object_add(b.config, "added", json_object_new_string("yes"));
	assert_int_equal(rt_bundle_write(&b), 0);
	rt_bundle_close(&b);
	rt_bundle_close(&b); /* twice is fine */

	snprintf(p, sizeof(p), "%s/config.json", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	o = json_object_from_file(p);
	assert_non_null(o);
	/* Written plain, slashes unescaped, numbers as they were. */
	assert_string_equal(
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
		"{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"args\":[\"/bin/sh\"]},\"n\":18446744073709551615,"
		"\"s\":\"/a/b \xc3\xa9 <&>\",\"added\":\"yes\"}");
	json_object_put(o);
	/* config.json and nothing else: no temporary file left. */
	assert_int_equal(entries(""), 1);
}

/* crun's --config names another file, maybe in a subdirectory of the bundle. */
static void test_other_config(void **state)
{
	struct rt_bundle b;
	char sub[512];

	(void)state;
	snprintf(sub, sizeof(sub), "%s/conf", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	put("conf/c.json", "{\"a\":1}", 0600);
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(rt_bundle_open(NULL, "conf/c.json", &b, reason, sizeof(reason)), 0);
	assert_string_equal(b.config_name, "c.json");
	assert_int_equal(rt_bundle_write(&b), 0);
	rt_bundle_close(&b);
	assert_int_equal(entries("conf"), 1);
	assert_int_equal(rt_bundle_open(dir, "conf/", &b, reason, sizeof(reason)), -EISDIR);
}

static void test_refused(void **state)
{
	struct rt_bundle b;
	char p[512];

	(void)state;
	put("bad.json", "{\"a\":1,}", 0644);
	assert_int_equal(rt_bundle_open(dir, "bad.json", &b, reason, sizeof(reason)), -EPROTO);
	assert_non_null(strstr(reason, "at byte"));
	put("bad.json", "{\"a\":1} {\"b\":2}", 0644);
	assert_int_equal(rt_bundle_open(dir, "bad.json", &b, reason, sizeof(reason)), -EPROTO);
	put("bad.json", "{\"a\":", 0644);
	assert_int_equal(rt_bundle_open(dir, "bad.json", &b, reason, sizeof(reason)), -EPROTO);
	assert_non_null(strstr(reason, "ends early"));
	put("bad.json", "", 0644);
	assert_int_equal(rt_bundle_open(dir, "bad.json", &b, reason, sizeof(reason)), -EPROTO);
	put("bad.json", "/* comment */ {}", 0644);
	assert_int_equal(rt_bundle_open(dir, "bad.json", &b, reason, sizeof(reason)), -EPROTO);
	/* Blanks after the document are fine. */
	put("ok.json", "  {\"a\":[1,2]}\n\n\t ", 0644);
	assert_int_equal(rt_bundle_open(dir, "ok.json", &b, reason, sizeof(reason)), 0);
	rt_bundle_close(&b);

	assert_int_equal(rt_bundle_open(dir, "missing.json", &b, reason, sizeof(reason)), -ENOENT);
	assert_int_equal(rt_bundle_open("/nonexistent-bundle", NULL, &b, reason, sizeof(reason)), -ENOENT);
	snprintf(p, sizeof(p), "%s/fifo.json", dir);
	assert_int_equal(mkfifo(p, 0644), 0);
	/* A FIFO is not opened for a read that would wait: refused at once. */
	assert_int_equal(rt_bundle_open(dir, "fifo.json", &b, reason, sizeof(reason)), -EINVAL);
	assert_non_null(strstr(reason, "not a regular file"));
	snprintf(p, sizeof(p), "%s/big.json", dir);
	put("big.json", "", 0644);
	assert_int_equal(truncate(p, RT_BUNDLE_CONFIG_MAX + 1), 0);
	assert_int_equal(rt_bundle_open(dir, "big.json", &b, reason, sizeof(reason)), -EFBIG);
}

/* A write that cannot happen leaves no temporary file behind. */
static void test_write_fails(void **state)
{
	struct rt_bundle b;
	char sub[512], p[600];

	(void)state;
	snprintf(sub, sizeof(sub), "%s/gone", dir);
	snprintf(p, sizeof(p), "%s/config.json", sub);
	assert_int_equal(mkdir(sub, 0755), 0);
	put("gone/config.json", "{\"v\":1}", 0644);
	/* The bundle directory removed under us: no temporary file can be made. */
	assert_int_equal(rt_bundle_open(sub, NULL, &b, reason, sizeof(reason)), 0);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(rt_bundle_write(&b), -ENOENT);
	rt_bundle_close(&b);

	/* config.json turned into a directory: the rename fails, the temporary file goes. */
	assert_int_equal(mkdir(sub, 0755), 0);
	put("gone/config.json", "{\"v\":1}", 0644);
	assert_int_equal(rt_bundle_open(sub, NULL, &b, reason, sizeof(reason)), 0);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(rt_bundle_write(&b), -EISDIR);
	rt_bundle_close(&b);
	assert_int_equal(entries("gone"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_write),
		cmocka_unit_test(test_other_config),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_write_fails),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
