/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "setup_edit.h"

#define RT "/usr/bin/ubinfmt-runtime"

/* Debian 12's /etc/containerd/config.toml, as the containerd package ships it. */
static const char debian_containerd[] = "version = 2\n"
					"\n"
					"[plugins]\n"
					"  [plugins.\"io.containerd.grpc.v1.cri\"]\n"
					"    [plugins.\"io.containerd.grpc.v1.cri\".cni]\n"
					"      bin_dir = \"/usr/lib/cni\"\n"
					"      conf_dir = \"/etc/cni/net.d\"\n"
					"  [plugins.\"io.containerd.internal.v1.opt\"]\n"
					"    path = \"/var/lib/containerd/opt\"\n";

static void docker(const char *cur, bool make_default, int want, struct setup_edit *e)
{
	*e = (struct setup_edit){ 0 };
	assert_int_equal(setup_docker_apply(cur, cur ? strlen(cur) : 0, RT, make_default, e), want);
}

static void containerd(const char *cur, const char *runtime, int want, struct setup_edit *e)
{
	*e = (struct setup_edit){ 0 };
	assert_int_equal(setup_containerd_apply(cur, cur ? strlen(cur) : 0, runtime, e), want);
}

static void test_docker_absent(void **state)
{
	struct setup_edit e, again;

	(void)state;
	docker(NULL, false, 0, &e);
	assert_true(e.changed);
	assert_string_equal(e.text,
			    "{\n  \"runtimes\": {\n    \"ubinfmt\": {\n      \"path\": \"" RT "\"\n    }\n  }\n}\n");
	assert_int_equal(e.n_notes, 1);
	assert_non_null(strstr(e.notes[0], "runtimes.ubinfmt added"));
	/* Idempotent: the same bytes, nothing to say. */
	docker(e.text, false, 0, &again);
	assert_false(again.changed);
	assert_string_equal(again.text, e.text);
	assert_int_equal(again.n_notes, 0);
	setup_edit_clear(&e);
	setup_edit_clear(&again);
}

/* Every other key stays, in its order; other runtimes stay. */
static void test_docker_merge(void **state)
{
	static const char cur[] =
		"{\"log-level\": \"warn\", \"runtimes\": {\"nvidia\": {\"path\": \"nvidia-container-runtime\"}},"
		" \"data-root\": \"/srv/docker\"}";
	struct setup_edit e;
	const char *log, *rt, *nv, *ub, *root;

	(void)state;
	docker(cur, false, 0, &e);
	log = strstr(e.text, "\"log-level\": \"warn\"");
	rt = strstr(e.text, "\"runtimes\"");
	nv = strstr(e.text, "\"nvidia\"");
	ub = strstr(e.text, "\"ubinfmt\"");
	root = strstr(e.text, "\"data-root\": \"/srv/docker\"");
	assert_true(log && rt && nv && ub && root);
	assert_true(log < rt && rt < nv && nv < ub && ub < root);
	setup_edit_clear(&e);
}

static void test_docker_default(void **state)
{
	struct setup_edit e, off, crun;

	(void)state;
	docker("{\"default-runtime\": \"runc\"}\n", true, 0, &e);
	assert_non_null(strstr(e.text, "\"default-runtime\": \"ubinfmt\""));
	assert_int_equal(e.n_notes, 2);
	assert_non_null(strstr(e.notes[1], "it was \"runc\""));
	/* Without --default, a default of ours goes; someone else's stays. */
	docker(e.text, false, 0, &off);
	assert_true(off.changed);
	assert_null(strstr(off.text, "default-runtime"));
	docker("{\"default-runtime\": \"crun\"}", false, 0, &crun);
	assert_non_null(strstr(crun.text, "\"default-runtime\": \"crun\""));
	setup_edit_clear(&e);
	setup_edit_clear(&off);
	setup_edit_clear(&crun);
}

/* A runtime "ubinfmt" that is not exactly ours is replaced, and the user is told what it was. */
static void test_docker_replace(void **state)
{
	struct setup_edit e;

	(void)state;
	docker("{\"runtimes\": {\"ubinfmt\": {\"path\": \"/opt/old\", \"runtimeArgs\": [\"--debug\"]}}}", false, 0, &e);
	assert_true(e.changed);
	assert_non_null(strstr(e.notes[0], "replaced"));
	assert_non_null(strstr(e.notes[0], "/opt/old"));
	assert_null(strstr(e.text, "runtimeArgs"));
	setup_edit_clear(&e);
}

static void test_docker_refused(void **state)
{
	static const char *const bad[] = {
		"{\"a\": 1,}",		   /* not strict JSON */
		"{\"a\": 1} {}",	   /* more after the document */
		"[1, 2]",		   /* not an object */
		"{\"runtimes\": [\"x\"]}", /* runtimes not an object */
		"{\"a\": ",		   /* cut short */
		"{\"a\": \"\xff\"}",	   /* not UTF-8 */
	};
	struct setup_edit e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		docker(bad[i], false, -EINVAL, &e);
		assert_true(e.why[0] != '\0');
		assert_null(e.text);
	}
	/* A blank file is an empty object. */
	docker(" \n", false, 0, &e);
	assert_true(e.changed);
	setup_edit_clear(&e);
}

static void test_docker_revert(void **state)
{
	struct setup_edit e, back;

	(void)state;
	docker("{\"log-level\": \"warn\", \"default-runtime\": \"runc\"}", true, 0, &e);
	assert_int_equal(setup_docker_revert(e.text, e.len, &back), 0);
	assert_true(back.changed);
	assert_string_equal(back.text, "{\n  \"log-level\": \"warn\"\n}\n");
	setup_edit_clear(&back);
	/* Another runtime keeps "runtimes". */
	setup_edit_clear(&e);
	docker("{\"runtimes\": {\"nvidia\": {\"path\": \"n\"}}}", false, 0, &e);
	assert_int_equal(setup_docker_revert(e.text, e.len, &back), 0);
	assert_non_null(strstr(back.text, "nvidia"));
	assert_null(strstr(back.text, "ubinfmt"));
	setup_edit_clear(&back);
	setup_edit_clear(&e);
}

static void test_dropins(void **state)
{
	struct setup_edit e;

	(void)state;
	assert_int_equal(setup_podman_dropin(RT, false, &e), 0);
	assert_non_null(strstr(e.text, "[engine.runtimes]\nubinfmt = [\"" RT "\"]\n"));
	assert_null(strstr(e.text, "runtime = \"ubinfmt\""));
	setup_edit_clear(&e);
	assert_int_equal(setup_podman_dropin(RT, true, &e), 0);
	assert_non_null(strstr(e.text, "[engine]\nruntime = \"ubinfmt\"\n"));
	setup_edit_clear(&e);
	assert_int_equal(setup_docker_dropin("/usr/libexec/ubinfmt", &e), 0);
	assert_non_null(strstr(e.text, "[Service]\nEnvironment=\"PATH=/usr/libexec/ubinfmt:/usr/local/sbin:"));
	assert_non_null(strstr(e.text, "Environment=\"DOCKER_BUILDKIT_RUNC_COMMAND=/usr/libexec/ubinfmt/runc\"\n"));
	setup_edit_clear(&e);
}

static void test_path_ok(void **state)
{
	(void)state;
	assert_true(setup_path_ok(RT));
	assert_true(setup_path_ok("/opt/ubinfmt/bin/ubinfmt-runtime"));
	assert_false(setup_path_ok("ubinfmt-runtime"));
	assert_false(setup_path_ok("/opt/my dir/ubinfmt-runtime"));
	assert_false(setup_path_ok("/opt/\"x"));
	assert_false(setup_path_ok("/opt/a\\b"));
	assert_false(setup_path_ok("/opt/a\nb"));
	assert_false(setup_path_ok(NULL));
}

/* The handler block after the file, which stays byte for byte; again: the same bytes. */
static void test_containerd_debian(void **state)
{
	struct setup_edit e, again, back;

	(void)state;
	containerd(debian_containerd, RT, 0, &e);
	assert_true(e.changed);
	assert_memory_equal(e.text, debian_containerd, strlen(debian_containerd));
	assert_non_null(strstr(e.text, "\n\n# BEGIN ubinfmt setup"));
	/* Debian's file names no handler: runc, containerd's built-in default, must be named too. */
	assert_non_null(strstr(e.text, "\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n"
				       "  runtime_type = \"io.containerd.runc.v2\"\n"
				       "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.ubinfmt]\n"
				       "  runtime_type = \"io.containerd.runc.v2\"\n"
				       "  [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.ubinfmt.options]\n"
				       "    BinaryName = \"" RT "\"\n"
				       "# END ubinfmt setup\n"));
	assert_null(strstr(e.text, "SystemdCgroup"));
	containerd(e.text, RT, 0, &again);
	assert_false(again.changed);
	assert_int_equal(again.n_notes, 0);
	assert_int_equal(setup_containerd_revert(e.text, e.len, &back), 0);
	assert_string_equal(back.text, debian_containerd);
	setup_edit_clear(&e);
	setup_edit_clear(&again);
	setup_edit_clear(&back);
}

static void test_containerd_absent_and_new_path(void **state)
{
	struct setup_edit e, other;

	(void)state;
	containerd(NULL, RT, 0, &e);
	assert_true(strncmp(e.text, "version = 2\n\n# BEGIN ubinfmt setup (", 35) == 0);
	/* Another runtime path replaces the block, and only it. */
	containerd(e.text, "/opt/ubinfmt/bin/ubinfmt-runtime", 0, &other);
	assert_true(other.changed);
	assert_null(strstr(other.text, RT));
	assert_non_null(strstr(other.text, "BinaryName = \"/opt/ubinfmt/bin/ubinfmt-runtime\""));
	assert_int_equal(other.len, e.len + strlen("/opt/ubinfmt/bin/ubinfmt-runtime") - strlen(RT));
	setup_edit_clear(&e);
	setup_edit_clear(&other);
}

/* The CRI plugin's name follows the config version; runc's SystemdCgroup is copied. */
static void test_containerd_versions(void **state)
{
	struct setup_edit e;

	(void)state;
	containerd("[plugins.cri]\n  sandbox_image = \"pause\"\n", RT, 0, &e);
	assert_non_null(strstr(e.text, "\n[plugins.cri.containerd.runtimes.ubinfmt]\n"));
	assert_null(strstr(e.text, "version = 2"));
	setup_edit_clear(&e);
	containerd("version = 3\n", RT, 0, &e);
	assert_non_null(strstr(e.text, "[plugins.\"io.containerd.cri.v1.runtime\".containerd.runtimes.ubinfmt]"));
	setup_edit_clear(&e);
	containerd("version = 9\n", RT, -EINVAL, &e);
	assert_non_null(strstr(e.why, "version 9"));
	containerd("version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n"
		   "  SystemdCgroup = true\n",
		   RT, 0, &e);
	assert_non_null(strstr(e.text, "BinaryName = \"" RT "\"\n    SystemdCgroup = true\n# END"));
	/* The file names runc: it is not named again. */
	assert_null(strstr(strstr(e.text, "# BEGIN"), "runtimes.runc]"));
	setup_edit_clear(&e);
}

static void test_containerd_refused(void **state)
{
	struct setup_edit e;

	(void)state;
	containerd("version = 2\n\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.ubinfmt]\n"
		   "  runtime_type = \"io.containerd.runc.v2\"\n",
		   RT, -EINVAL, &e);
	assert_non_null(strstr(e.why, "line 3"));
	containerd("version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes]\n  ubinfmt = { "
		   "runtime_type = \"x\" }\n",
		   RT, -EINVAL, &e);
	assert_non_null(strstr(e.why, "line 3"));
	containerd("version = 2\n# BEGIN ubinfmt setup\n[a]\n", RT, -EINVAL, &e);
	assert_non_null(strstr(e.why, "line 2"));
	/* A commented-out handler is no handler. */
	containerd("version = 2\n# [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.ubinfmt]\n", RT, 0, &e);
	setup_edit_clear(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docker_absent),
		cmocka_unit_test(test_docker_merge),
		cmocka_unit_test(test_docker_default),
		cmocka_unit_test(test_docker_replace),
		cmocka_unit_test(test_docker_refused),
		cmocka_unit_test(test_docker_revert),
		cmocka_unit_test(test_dropins),
		cmocka_unit_test(test_path_ok),
		cmocka_unit_test(test_containerd_debian),
		cmocka_unit_test(test_containerd_absent_and_new_path),
		cmocka_unit_test(test_containerd_versions),
		cmocka_unit_test(test_containerd_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
