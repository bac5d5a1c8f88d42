/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Mode auto's look at an image, on a scratch bundle whose files hold real ELF headers
 * (elf_headers.h, from Debian's busybox-static): the entrypoint found as runc finds it, /bin/sh,
 * #! chains, and symlinks that try to lead out of the root.  No privileges needed.
 */
#define _GNU_SOURCE
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

#include "detect.h"
#include "elf_headers.h"

static char dir[256];
static int bundle_fd = -1;

static const uint8_t *elf_of(enum arch a)
{
	for (size_t i = 0; i < sizeof(elf_samples) / sizeof(elf_samples[0]); i++)
		if (elf_samples[i].arch == a && strncmp(elf_samples[i].source, "busybox", 7) == 0)
			return elf_samples[i].bytes;
	for (size_t i = 0; i < sizeof(elf_samples) / sizeof(elf_samples[0]); i++)
		if (elf_samples[i].arch == a)
			return elf_samples[i].bytes;
	fail_msg("no ELF sample for %s", arch_name(a));
	return NULL;
}

/* Creates dir/rel (and its parents) with len bytes of data, mode 0755. */
static void put(const char *rel, const void *data, size_t len)
{
	char p[1024];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	for (char *s = strchr(p + strlen(dir) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		(void)mkdir(p, 0755);
		*s = '/';
	}
	(void)unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void put_elf(const char *rel, enum arch a)
{
	put(rel, elf_of(a), 64);
}

static void put_text(const char *rel, const char *text)
{
	put(rel, text, strlen(text));
}

static void put_link(const char *target, const char *rel)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	(void)unlink(p);
	assert_int_equal(symlink(target, p), 0);
}

static void rm(const char *rel)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	(void)unlink(p);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s/ubinfmt-test-detect.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	bundle_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return bundle_fd >= 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[600];

	(void)state;
	close(bundle_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Runs the detection for a config.json given as text; returns its result. */
static int detect(const char *config, struct rt_detect *d)
{
	struct json_object *o = json_tokener_parse(config);
	int r;

	assert_non_null(o);
	memset(d, 0x5a, sizeof(*d));
	r = rt_detect_foreign(bundle_fd, o, ARCH_X86_64, d);
	json_object_put(o);
	return r;
}

static void expect(const char *config, bool foreign, enum arch arch, const char *what)
{
	struct rt_detect d;
	int r = detect(config, &d);

	if (r != 0)
		fail_msg("%s: %d", config, r);
	if (d.foreign != foreign || d.arch != arch || strcmp(d.what, what) != 0)
		fail_msg("%s: foreign %d arch %s what '%s', want %d %s '%s'", config, d.foreign, arch_name(d.arch),
			 d.what, foreign, arch_name(arch), what);
}

#define CONFIG(args, env, cwd) \
	"{\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":" args ",\"env\":" env ",\"cwd\":\"" cwd "\"}}"

static void test_entrypoint_and_sh(void **state)
{
	(void)state;
	put_elf("rootfs/bin/busybox", ARCH_AARCH64);
	put_link("busybox", "rootfs/bin/sh");
	expect(CONFIG("[\"/bin/sh\",\"-c\",\"true\"]", "[]", "/"), true, ARCH_AARCH64, "/bin/sh: aarch64");

	/* A native image: native entrypoint and shell. */
	put_elf("rootfs/bin/busybox", ARCH_X86_64);
	put_elf("rootfs/usr/bin/app", ARCH_X86_64);
	expect(CONFIG("[\"app\"]", "[\"PATH=/usr/bin:/bin\"]", "/"), false, ARCH_UNKNOWN,
	       "/usr/bin/app: x86_64, /bin/sh: x86_64");

	/* A foreign entrypoint in a native image, found on process.env's PATH, not the default. */
	put_elf("rootfs/opt/arm/app", ARCH_AARCH64);
	expect(CONFIG("[\"app\"]", "[\"HOME=/\",\"PATH=/opt/arm:/usr/bin\"]", "/"), true, ARCH_AARCH64,
	       "/opt/arm/app: aarch64");
	/* Without a PATH in env: the default, which has /usr/bin. */
	expect(CONFIG("[\"app\"]", "[]", "/"), false, ARCH_UNKNOWN, "/usr/bin/app: x86_64, /bin/sh: x86_64");
	/* A PATH entry whose file is not executable is passed over, as runc does. */
	put_elf("rootfs/first/app", ARCH_AARCH64);
	{
		char p[1024];
		snprintf(p, sizeof(p), "%s/rootfs/first/app", dir);
		assert_int_equal(chmod(p, 0644), 0);
	}
	expect(CONFIG("[\"app\"]", "[\"PATH=/first:/usr/bin\"]", "/"), false, ARCH_UNKNOWN,
	       "/usr/bin/app: x86_64, /bin/sh: x86_64");
	/* A relative path is relative to process.cwd. */
	expect(CONFIG("[\"./app\"]", "[]", "/opt/arm"), true, ARCH_AARCH64, "/opt/arm/./app: aarch64");
	expect(CONFIG("[\"arm/app\"]", "[]", "/opt"), true, ARCH_AARCH64, "/opt/arm/app: aarch64");

	/* A native entrypoint, a foreign /bin/sh: the image is foreign. */
	put_elf("rootfs/bin/busybox", ARCH_AARCH64);
	expect(CONFIG("[\"/usr/bin/app\"]", "[]", "/"), true, ARCH_AARCH64, "/usr/bin/app: x86_64, /bin/sh: aarch64");
	/* No entrypoint to be found: /bin/sh decides. */
	expect(CONFIG("[\"missing\"]", "[]", "/"), true, ARCH_AARCH64, "/bin/sh: aarch64");
	expect("{\"root\":{\"path\":\"rootfs\"}}", true, ARCH_AARCH64, "/bin/sh: aarch64");
	put_elf("rootfs/bin/busybox", ARCH_X86_64);
}

static void test_architectures(void **state)
{
	(void)state;
	put_elf("rootfs/bin/busybox", ARCH_X86_64);
	/* i386 may or may not run natively: ubinfmtd measures it, so it is handed over. */
	put_elf("rootfs/x/i386", ARCH_I386);
	expect(CONFIG("[\"/x/i386\"]", "[]", "/"), true, ARCH_I386, "/x/i386: i386");
	/* x32: no qemu serves it, ubinfmtd cannot help. */
	put_elf("rootfs/x/x32", ARCH_X32);
	expect(CONFIG("[\"/x/x32\"]", "[]", "/"), false, ARCH_UNKNOWN, "/x/x32: x32, /bin/sh: x86_64");
	/* Neither ELF nor #!: nothing to say about it. */
	put_text("rootfs/x/data", "plain text\n");
	expect(CONFIG("[\"/x/data\"]", "[]", "/"), false, ARCH_UNKNOWN, "/bin/sh: x86_64");
}

static void test_scripts(void **state)
{
	(void)state;
	put_elf("rootfs/bin/busybox", ARCH_X86_64);
	put_elf("rootfs/opt/arm/python", ARCH_AARCH64);
	put_text("rootfs/app/run", "#!/opt/arm/python -u\nprint()\n");
	expect(CONFIG("[\"/app/run\"]", "[]", "/"), true, ARCH_AARCH64, "/app/run: aarch64");
	/* Through another script, interpreter relative to the cwd as the kernel opens it. */
	put_text("rootfs/app/wrap", "#!/app/run\n");
	put_text("rootfs/app/rel", "#!arm/python\n");
	expect(CONFIG("[\"/app/wrap\"]", "[]", "/"), true, ARCH_AARCH64, "/app/wrap: aarch64");
	expect(CONFIG("[\"/app/rel\"]", "[]", "/opt"), true, ARCH_AARCH64, "/app/rel: aarch64");
	/* A native interpreter. */
	put_text("rootfs/app/native", "#!/bin/busybox sh\n");
	expect(CONFIG("[\"/app/native\"]", "[]", "/"), false, ARCH_UNKNOWN, "/app/native: x86_64, /bin/sh: x86_64");
	/* A loop, and a chain past the kernel's depth: nothing found there. */
	put_text("rootfs/app/loop", "#!/app/loop\n");
	expect(CONFIG("[\"/app/loop\"]", "[]", "/"), false, ARCH_UNKNOWN, "/bin/sh: x86_64");
	put_text("rootfs/app/d1", "#!/app/d2\n");
	put_text("rootfs/app/d2", "#!/app/d3\n");
	put_text("rootfs/app/d3", "#!/app/d4\n");
	put_text("rootfs/app/d4", "#!/app/d5\n");
	put_text("rootfs/app/d5", "#!/app/run\n");
	expect(CONFIG("[\"/app/d2\"]", "[]", "/"), true, ARCH_AARCH64, "/app/d2: aarch64");
	expect(CONFIG("[\"/app/d1\"]", "[]", "/"), false, ARCH_UNKNOWN, "/bin/sh: x86_64");
}

/* The image's symlinks stay inside its root; what is not a regular file is never read. */
static void test_hostile_image(void **state)
{
	struct rt_detect d;

	(void)state;
	put_elf("rootfs/bin/busybox", ARCH_X86_64);
	put_elf("rootfs/usr/bin/env", ARCH_AARCH64);
	/* Absolute: /usr/bin/env of the image, not of the host (which is x86-64 or absent). */
	put_link("/usr/bin/env", "rootfs/x/abs");
	expect(CONFIG("[\"/x/abs\"]", "[]", "/"), true, ARCH_AARCH64, "/x/abs: aarch64");
	/* ".." past the root stays at the root. */
	put_link("../../../../../../../../../../usr/bin/env", "rootfs/x/up");
	expect(CONFIG("[\"/x/up\"]", "[]", "/"), true, ARCH_AARCH64, "/x/up: aarch64");
	expect(CONFIG("[\"../../../../usr/bin/env\"]", "[]", "/"), true, ARCH_AARCH64,
	       "/../../../../usr/bin/env: aarch64");
	/* /proc/self/exe of the image (it has none), never the shim's own. */
	put_link("/proc/self/exe", "rootfs/x/magic");
	expect(CONFIG("[\"/x/magic\"]", "[]", "/"), false, ARCH_UNKNOWN, "/bin/sh: x86_64");
	/* A FIFO as the shell: not opened for reading (it would wait for a writer). */
	rm("rootfs/bin/sh");
	{
		char p[1024];
		snprintf(p, sizeof(p), "%s/rootfs/bin/sh", dir);
		assert_int_equal(mkfifo(p, 0755), 0);
	}
	expect(CONFIG("[\"/bin/sh\"]", "[]", "/"), false, ARCH_UNKNOWN, "");
	rm("rootfs/bin/sh");
	/* Odd documents: no root, no process, wrong types. */
	assert_int_equal(detect("{}", &d), -ENOENT);
	assert_int_equal(detect("{\"root\":{\"path\":\"missing\"}}", &d), -ENOENT);
	assert_int_equal(detect("{\"root\":{\"path\":7}}", &d), -ENOENT);
	expect("{\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[7],\"env\":\"x\",\"cwd\":5}}", false,
	       ARCH_UNKNOWN, "");
	expect(CONFIG("[\"\"]", "[\"PATH=\"]", "relative"), false, ARCH_UNKNOWN, "");
	/* An absolute root.path. */
	{
		char config[1200];
		snprintf(config, sizeof(config),
			 "{\"root\":{\"path\":\"%s/rootfs\"},\"process\":{\"args\":[\"/usr/bin/env\"]}}", dir);
		expect(config, true, ARCH_AARCH64, "/usr/bin/env: aarch64");
	}
}

static void test_host(void **state)
{
	enum arch built_for = ARCH_UNKNOWN;

	(void)state;
	/* uname's machine is the one this test was built for (UBINFMT_HOST_ARCH: x86_64, aarch64). */
	assert_int_equal(arch_from_name(UBINFMT_HOST_ARCH, &built_for), 0);
	assert_int_equal(rt_host_arch(), built_for);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entrypoint_and_sh),
		cmocka_unit_test(test_architectures),
		cmocka_unit_test(test_scripts),
		cmocka_unit_test(test_hostile_image),
		cmocka_unit_test(test_host),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
