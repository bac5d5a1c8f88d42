/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ubinfmt-runtime's command-line scan: over every command line that dockerd 20.10 (through
 * containerd-shim-runc-v2), BuildKit inside dockerd, the classic builder and podman 4.3 called
 * the runtime with on this kind of machine (tests/unit/data/runtime/argv.log, see its README),
 * and over the other forms runc and crun accept.
 */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "argv.h"

#define MAX_ARGS 64

struct want {
	enum rt_command command;
	int command_index;
	const char *bundle, *config, *log;
	enum rt_log_format log_format;
};

static void check(const char *const *words, struct want w)
{
	char *argv[MAX_ARGS];
	struct rt_argv a;
	int argc = 0;

	argv[argc++] = (char *)"ubinfmt-runtime";
	for (; words[argc - 1]; argc++)
		argv[argc] = (char *)words[argc - 1];
	rt_argv_scan(argc, argv, &a);
	if (a.command != w.command || a.command_index != w.command_index)
		fail_msg("%s%s: command %s at %d, want %s at %d", words[0] ? words[0] : "(none)", words[0] ? "…" : "",
			 rt_command_name(a.command), a.command_index, rt_command_name(w.command), w.command_index);
#define SAME(field)                                                                                  \
	do {                                                                                         \
		if ((a.field == NULL) != (w.field == NULL) || (a.field && strcmp(a.field, w.field))) \
			fail_msg("%s: got '%s', want '%s'", #field, a.field ? a.field : "(null)",    \
				 w.field ? w.field : "(null)");                                      \
	} while (0)
	SAME(bundle);
	SAME(config);
	SAME(log);
#undef SAME
	assert_int_equal(a.log_format, w.log_format);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Lines from argv.log, as they were. */
static void test_captured_by_hand(void **state)
{
	(void)state;
	/* containerd-shim-runc-v2 (dockerd, ctr, Kubernetes). */
	check(ARGS("--root", "/run/x/runtime-runc/moby", "--log", "/run/b/log.json", "--log-format", "json", "create",
		   "--bundle", "/run/b", "--pid-file", "/run/b/init.pid", "d47d99f744aca366"),
	      (struct want){ RT_CMD_CREATE, 7, "/run/b", NULL, "/run/b/log.json", RT_LOG_JSON });
	check(ARGS("--root", "/run/x/runtime-runc/moby", "--log", "/run/b/log.json", "--log-format", "json", "start",
		   "d47d99f744aca366"),
	      (struct want){ RT_CMD_OTHER, 7, NULL, NULL, "/run/b/log.json", RT_LOG_JSON });
	check(ARGS("--root", "/r", "--log", "/l", "--log-format", "json", "exec", "--process", "/tmp/runc-process1",
		   "--detach", "--pid-file", "/p.pid", "d47d99f744aca366"),
	      (struct want){ RT_CMD_OTHER, 7, NULL, NULL, "/l", RT_LOG_JSON });
	check(ARGS("--root", "/r", "--log", "/l", "--log-format", "json", "kill", "d47d99f744aca366", "9"),
	      (struct want){ RT_CMD_OTHER, 7, NULL, NULL, "/l", RT_LOG_JSON });
	check(ARGS("--root", "/r", "--log", "/l", "--log-format", "json", "delete", "--force", "d47d99f744aca366"),
	      (struct want){ RT_CMD_OTHER, 7, NULL, NULL, "/l", RT_LOG_JSON });
	/* BuildKit inside dockerd: no --root. */
	check(ARGS("--log", "/var/lib/docker/buildkit/executor/runc-log.json", "--log-format", "json", "run",
		   "--bundle", "/var/lib/docker/buildkit/executor/8pk4dnq4", "8pk4dnq4"),
	      (struct want){ RT_CMD_RUN, 5, "/var/lib/docker/buildkit/executor/8pk4dnq4", NULL,
			     "/var/lib/docker/buildkit/executor/runc-log.json", RT_LOG_JSON });
	/* podman, a runtime it does not know as runc or crun: no log options. */
	check(ARGS("create", "--bundle", "/c/userdata", "--pid-file", "/r/userdata/pidfile", "b9cdd47977a3"),
	      (struct want){ RT_CMD_CREATE, 1, "/c/userdata", NULL, NULL, RT_LOG_TEXT });
	check(ARGS("exec", "--pid-file", "/e/exec_pid", "--process", "/e/exec-process-3267034134", "--detach", "ad5d"),
	      (struct want){ RT_CMD_OTHER, 1, NULL, NULL, NULL, RT_LOG_TEXT });
	/* podman, the runtime named runc: --log-format=json. */
	check(ARGS("--log-format=json", "--log", "/r/userdata/oci-log", "create", "--bundle", "/c/userdata",
		   "--pid-file", "/r/userdata/pidfile", "9adc4460"),
	      (struct want){ RT_CMD_CREATE, 4, "/c/userdata", NULL, "/r/userdata/oci-log", RT_LOG_JSON });
	/* dockerd at start-up. */
	check(ARGS("--version"), (struct want){ RT_CMD_NONE, 0, NULL, NULL, NULL, RT_LOG_TEXT });
}

/*
 * Every line of argv.log: the scan agrees with a plain search of the same words (the words
 * engines use: "--bundle DIR" after the command, "--log FILE", "--log-format json" or
 * "--log-format=json" before it).
 */
static void test_captured_file(void **state)
{
	FILE *f = fopen(RUNTIME_TEST_DATA "/argv.log", "r");
	char line[16384];
	unsigned n = 0, acted = 0;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		struct json_object *o = json_tokener_parse(line), *args;
		char *argv[MAX_ARGS];
		int argc, cmd = 0;
		struct rt_argv a;
		const char *bundle = NULL, *log = NULL;
		bool json = false;

		assert_non_null(o);
		assert_true(json_object_object_get_ex(o, "argv", &args));
		argc = (int)json_object_array_length(args);
		assert_true(argc < MAX_ARGS);
		for (int i = 0; i < argc; i++)
			argv[i] = (char *)json_object_get_string(json_object_array_get_idx(args, i));
		for (int i = 1; i < argc; i++) {
			if (!cmd && argv[i][0] != '-' && strcmp(argv[i - 1], "--root") &&
			    strcmp(argv[i - 1], "--log") && strcmp(argv[i - 1], "--log-format"))
				cmd = i;
			if (!cmd && strcmp(argv[i], "--log") == 0)
				log = argv[i + 1];
			if (!cmd && (strcmp(argv[i], "--log-format=json") == 0 ||
				     (strcmp(argv[i], "--log-format") == 0 && strcmp(argv[i + 1], "json") == 0)))
				json = true;
			if (cmd && strcmp(argv[i], "--bundle") == 0)
				bundle = argv[i + 1];
		}
		rt_argv_scan(argc, argv, &a);
		assert_int_equal(a.command_index, cmd);
		if (cmd && (strcmp(argv[cmd], "create") == 0 || strcmp(argv[cmd], "run") == 0)) {
			assert_int_equal(a.command, strcmp(argv[cmd], "run") == 0 ? RT_CMD_RUN : RT_CMD_CREATE);
			assert_non_null(bundle);
			assert_string_equal(a.bundle, bundle);
			acted++;
		} else {
			assert_int_equal(a.command, cmd ? RT_CMD_OTHER : RT_CMD_NONE);
			assert_null(a.bundle);
		}
		if (log)
			assert_string_equal(a.log, log);
		else
			assert_null(a.log);
		assert_int_equal(a.log_format, json ? RT_LOG_JSON : RT_LOG_TEXT);
		json_object_put(o);
		n++;
	}
	fclose(f);
	/* Every engine's create/run is there: dockerd (3), BuildKit, classic build, podman (4). */
	assert_true(n >= 30);
	assert_true(acted >= 9);
}

/* The forms runc (Go flags) and crun (argp) accept that engines do not use. */
static void test_forms(void **state)
{
	(void)state;
	check(ARGS("run", "-b", "/b", "id"), (struct want){ RT_CMD_RUN, 1, "/b", NULL, NULL, RT_LOG_TEXT });
	check(ARGS("run", "-b/b", "id"), (struct want){ RT_CMD_RUN, 1, "/b", NULL, NULL, RT_LOG_TEXT });
	check(ARGS("run", "--bundle=/b", "id"), (struct want){ RT_CMD_RUN, 1, "/b", NULL, NULL, RT_LOG_TEXT });
	check(ARGS("run", "-bundle", "/b", "id"), (struct want){ RT_CMD_RUN, 1, "/b", NULL, NULL, RT_LOG_TEXT });
	check(ARGS("run", "-bundle=/b", "id"), (struct want){ RT_CMD_RUN, 1, "/b", NULL, NULL, RT_LOG_TEXT });
	check(ARGS("create", "-db", "/b", "id"), (struct want){ RT_CMD_CREATE, 1, "/b", NULL, NULL, RT_LOG_TEXT });
	check(ARGS("create", "-d", "-b", "/b", "id"), (struct want){ RT_CMD_CREATE, 1, "/b", NULL, NULL, RT_LOG_TEXT });
	/* argp takes options after the id, and the last --bundle counts. */
	check(ARGS("run", "id", "--bundle", "/b"), (struct want){ RT_CMD_RUN, 1, "/b", NULL, NULL, RT_LOG_TEXT });
	check(ARGS("run", "-b", "/a", "--bundle", "/b", "id"),
	      (struct want){ RT_CMD_RUN, 1, "/b", NULL, NULL, RT_LOG_TEXT });
	/* crun's --config, relative to the bundle. */
	check(ARGS("run", "-b", "/b", "--config", "c.json", "id"),
	      (struct want){ RT_CMD_RUN, 1, "/b", "c.json", NULL, RT_LOG_TEXT });
	check(ARGS("run", "-fc.json", "id"), (struct want){ RT_CMD_RUN, 1, NULL, "c.json", NULL, RT_LOG_TEXT });
	check(ARGS("run", "--config=c.json", "id"), (struct want){ RT_CMD_RUN, 1, NULL, "c.json", NULL, RT_LOG_TEXT });
	/* No bundle: the cwd. */
	check(ARGS("run", "id"), (struct want){ RT_CMD_RUN, 1, NULL, NULL, NULL, RT_LOG_TEXT });
	check(ARGS("create", "--pid-file", "/p", "--console-socket", "/s", "id"),
	      (struct want){ RT_CMD_CREATE, 1, NULL, NULL, NULL, RT_LOG_TEXT });
	/* Values are never options: a pid file named "-b" is a pid file. */
	check(ARGS("create", "--pid-file", "-b", "--preserve-fds", "2", "id"),
	      (struct want){ RT_CMD_CREATE, 1, NULL, NULL, NULL, RT_LOG_TEXT });
	check(ARGS("create", "--console-socket", "--bundle", "id"),
	      (struct want){ RT_CMD_CREATE, 1, NULL, NULL, NULL, RT_LOG_TEXT });
	/* "--" ends the options. */
	check(ARGS("run", "--", "-b", "/b"), (struct want){ RT_CMD_RUN, 1, NULL, NULL, NULL, RT_LOG_TEXT });
	check(ARGS("--", "run", "-b", "/b"), (struct want){ RT_CMD_RUN, 2, "/b", NULL, NULL, RT_LOG_TEXT });
	/* A missing value. */
	check(ARGS("run", "--bundle"), (struct want){ RT_CMD_RUN, 1, NULL, NULL, NULL, RT_LOG_TEXT });
	check(ARGS("run", "-b"), (struct want){ RT_CMD_RUN, 1, NULL, NULL, NULL, RT_LOG_TEXT });
	check(ARGS("run", "--bundle="), (struct want){ RT_CMD_RUN, 1, NULL, NULL, NULL, RT_LOG_TEXT });
}

static void test_globals(void **state)
{
	(void)state;
	check(ARGS("--root=/r", "--log=/l", "--log-format=text", "run", "-b", "/b", "id"),
	      (struct want){ RT_CMD_RUN, 4, "/b", NULL, "/l", RT_LOG_TEXT });
	check(ARGS("-root", "/r", "-log", "/l", "-log-format", "json", "create", "id"),
	      (struct want){ RT_CMD_CREATE, 7, NULL, NULL, "/l", RT_LOG_JSON });
	check(ARGS("--debug", "--systemd-cgroup", "--criu", "/c", "--rootless", "auto", "--cgroup-manager", "cgroupfs",
		   "run", "id"),
	      (struct want){ RT_CMD_RUN, 9, NULL, NULL, NULL, RT_LOG_TEXT });
	/* crun's log destinations are kept as given. */
	check(ARGS("--log=journald:x", "run", "id"),
	      (struct want){ RT_CMD_RUN, 2, NULL, NULL, "journald:x", RT_LOG_TEXT });
	check(ARGS("--log", "file:/l", "--log-format", "json", "delete", "id"),
	      (struct want){ RT_CMD_OTHER, 5, NULL, NULL, "file:/l", RT_LOG_JSON });
	/* An option we do not know is taken for a flag; with '=' its value comes along. */
	check(ARGS("--new-flag", "run", "id"), (struct want){ RT_CMD_RUN, 2, NULL, NULL, NULL, RT_LOG_TEXT });
	check(ARGS("--new-option=value", "create", "id"),
	      (struct want){ RT_CMD_CREATE, 2, NULL, NULL, NULL, RT_LOG_TEXT });
	/* The global --bundle does not exist: it stays a global flag, and "/b" is the command. */
	check(ARGS("--bundle", "/b", "run"), (struct want){ RT_CMD_OTHER, 2, NULL, NULL, NULL, RT_LOG_TEXT });
	/* Commands that pass straight through. */
	check(ARGS("state", "id"), (struct want){ RT_CMD_OTHER, 1, NULL, NULL, NULL, RT_LOG_TEXT });
	check(ARGS("features"), (struct want){ RT_CMD_OTHER, 1, NULL, NULL, NULL, RT_LOG_TEXT });
	check(ARGS("spec", "--bundle", "/b"), (struct want){ RT_CMD_OTHER, 1, NULL, NULL, NULL, RT_LOG_TEXT });
	check(ARGS("exec", "-b", "/b", "id"), (struct want){ RT_CMD_OTHER, 1, NULL, NULL, NULL, RT_LOG_TEXT });
	check(ARGS("runx", "-b", "/b"), (struct want){ RT_CMD_OTHER, 1, NULL, NULL, NULL, RT_LOG_TEXT });
	check(ARGS("-v"), (struct want){ RT_CMD_NONE, 0, NULL, NULL, NULL, RT_LOG_TEXT });
	check(ARGS("--help"), (struct want){ RT_CMD_NONE, 0, NULL, NULL, NULL, RT_LOG_TEXT });
	check(ARGS("--log"), (struct want){ RT_CMD_NONE, 0, NULL, NULL, NULL, RT_LOG_TEXT });
}

static void test_odd_argv(void **state)
{
	char *none[] = { (char *)"runc", NULL };
	char *empty[] = { (char *)"runc", (char *)"", (char *)"-b", (char *)"/b", NULL };
	char *dash[] = { (char *)"runc", (char *)"-", NULL };
	struct rt_argv a;

	(void)state;
	rt_argv_scan(1, none, &a);
	assert_int_equal(a.command, RT_CMD_NONE);
	rt_argv_scan(0, none, &a);
	assert_int_equal(a.command, RT_CMD_NONE);
	rt_argv_scan(4, empty, &a);
	assert_int_equal(a.command, RT_CMD_OTHER);
	assert_null(a.bundle);
	rt_argv_scan(2, dash, &a);
	assert_int_equal(a.command, RT_CMD_OTHER);
	assert_string_equal(rt_command_name(RT_CMD_RUN), "run");
	assert_string_equal(rt_command_name(RT_CMD_MAX), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captured_by_hand),
		cmocka_unit_test(test_captured_file),
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_globals),
		cmocka_unit_test(test_odd_argv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
