/* SPDX-License-Identifier: GPL-2.0-or-later */
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

#include "arch.h"
#include "oci.h"
#include "oci_options.h"

/*
 * Payloads captured on Debian 12 from runc 1.1.5+ds1-1+deb12u1 and crun 1.8.1 (a python
 * listener on listenerPath; the same bundle, whose config.json had the annotations
 *   io.ubinfmt.emulators=aarch64,arm  io.ubinfmt.trace=json  org.example.unicode="héllo <&> U+2028 \"q\" \\b"  empty=""
 * and listenerMetadata "io.ubinfmt.trace=true;io.ubinfmt.emulator.aarch64=/usr/bin/qemu-aarch64-static").
 * "plain" is the same bundle without annotations or listenerMetadata, "emptymeta" with
 * listenerMetadata "".  Also in fuzz/corpus/oci/.
 */
static const char runc_start[] =
	"{\"ociVersion\":\"1.0.2-dev\",\"fds\":[\"seccompFd\"],\"pid\":18775,\"metadata\":\"io.ubinfmt.trace=true;io."
	"ubinfmt.emulator.aarch64=/usr/bin/"
	"qemu-aarch64-static\",\"state\":{\"ociVersion\":\"1.0.2-dev\",\"id\":\"ubinfmt-cap-runc\",\"status\":"
	"\"creating\",\"pid\":18775,\"bundle\":\"/tmp/ocicap/"
	"bundle\",\"annotations\":{\"empty\":\"\",\"io.ubinfmt.emulators\":\"aarch64,arm\",\"io.ubinfmt.trace\":"
	"\"json\",\"org.example.unicode\":\"h\xc3\xa9llo \\u003c\\u0026\\u003e \\u2028 \\\"q\\\" \\\\b\"}}}";

/* runc exec: pid is the exec'd process, state.pid the container's init. */
static const char runc_exec[] =
	"{\"ociVersion\":\"1.0.2-dev\",\"fds\":[\"seccompFd\"],\"pid\":18795,\"metadata\":\"io.ubinfmt.trace=true;io."
	"ubinfmt.emulator.aarch64=/usr/bin/"
	"qemu-aarch64-static\",\"state\":{\"ociVersion\":\"1.0.2-dev\",\"id\":\"ubinfmt-cap-runc\",\"status\":"
	"\"running\",\"pid\":18775,\"bundle\":\"/tmp/ocicap/"
	"bundle\",\"annotations\":{\"empty\":\"\",\"io.ubinfmt.emulators\":\"aarch64,arm\",\"io.ubinfmt.trace\":"
	"\"json\",\"org.example.unicode\":\"h\xc3\xa9llo \\u003c\\u0026\\u003e \\u2028 \\\"q\\\" \\\\b\"}}}";

/* runc leaves out an empty listenerMetadata and empty annotations (Go's omitempty). */
static const char runc_plain[] =
	"{\"ociVersion\":\"1.0.2-dev\",\"fds\":[\"seccompFd\"],\"pid\":22461,\"state\":{\"ociVersion\":\"1.0.2-dev\","
	"\"id\":\"ubinfmt-cap-runc2\",\"status\":\"creating\",\"pid\":22461,\"bundle\":\"/tmp/ocicap/bundle\"}}";

static const char crun_start[] =
	"{\n"
	"    \"ociVersion\": \"0.2.0\",\n"
	"    \"fds\": [\n"
	"        \"seccompFd\"\n"
	"    ],\n"
	"    \"pid\": 19956,\n"
	"    \"metadata\": \"io.ubinfmt.trace=true;io.ubinfmt.emulator.aarch64=/usr/bin/qemu-aarch64-static\",\n"
	"    \"state\": {\n"
	"        \"ociVersion\": \"0.2.0\",\n"
	"        \"id\": \"ubinfmt-cap-crun\",\n"
	"        \"status\": \"creating\",\n"
	"        \"pid\": 19956,\n"
	"        \"bundle\": \"/tmp/ocicap/bundle\",\n"
	"        \"annotations\": {\n"
	"            \"io.ubinfmt.emulators\": \"aarch64,arm\",\n"
	"            \"io.ubinfmt.trace\": \"json\",\n"
	"            \"org.example.unicode\": \"h\xc3\xa9llo <&> \xe2\x80\xa8 \\\"q\\\" \\\\b\",\n"
	"            \"empty\": \"\"\n"
	"        }\n"
	"    }\n"
	"}\n";

/* crun 1.8.1 exec: pid 0 everywhere (it never learns the pid) and bundle ".". */
static const char crun_exec[] =
	"{\n"
	"    \"ociVersion\": \"0.2.0\",\n"
	"    \"fds\": [\n"
	"        \"seccompFd\"\n"
	"    ],\n"
	"    \"pid\": 0,\n"
	"    \"metadata\": \"io.ubinfmt.trace=true;io.ubinfmt.emulator.aarch64=/usr/bin/qemu-aarch64-static\",\n"
	"    \"state\": {\n"
	"        \"ociVersion\": \"0.2.0\",\n"
	"        \"id\": \"ubinfmt-cap-crun\",\n"
	"        \"status\": \"running\",\n"
	"        \"pid\": 0,\n"
	"        \"bundle\": \".\",\n"
	"        \"annotations\": {\n"
	"            \"io.ubinfmt.emulators\": \"aarch64,arm\",\n"
	"            \"io.ubinfmt.trace\": \"json\",\n"
	"            \"org.example.unicode\": \"h\xc3\xa9llo <&> \xe2\x80\xa8 \\\"q\\\" \\\\b\",\n"
	"            \"empty\": \"\"\n"
	"        }\n"
	"    }\n"
	"}\n";

static const char crun_plain[] = "{\n"
				 "    \"ociVersion\": \"0.2.0\",\n"
				 "    \"fds\": [\n"
				 "        \"seccompFd\"\n"
				 "    ],\n"
				 "    \"pid\": 22475,\n"
				 "    \"state\": {\n"
				 "        \"ociVersion\": \"0.2.0\",\n"
				 "        \"id\": \"ubinfmt-cap-crun2\",\n"
				 "        \"status\": \"creating\",\n"
				 "        \"pid\": 22475,\n"
				 "        \"bundle\": \"/tmp/ocicap/bundle\"\n"
				 "    }\n"
				 "}\n";

/* crun sends listenerMetadata "" as is. */
static const char crun_emptymeta[] = "{\n"
				     "    \"ociVersion\": \"0.2.0\",\n"
				     "    \"fds\": [\n"
				     "        \"seccompFd\"\n"
				     "    ],\n"
				     "    \"pid\": 22936,\n"
				     "    \"metadata\": \"\",\n"
				     "    \"state\": {\n"
				     "        \"ociVersion\": \"0.2.0\",\n"
				     "        \"id\": \"ubinfmt-cap-crun2\",\n"
				     "        \"status\": \"creating\",\n"
				     "        \"pid\": 22936,\n"
				     "        \"bundle\": \"/tmp/ocicap/bundle\"\n"
				     "    }\n"
				     "}\n";

/* The decoded value of org.example.unicode in both runtimes' payloads. */
static const char unicode_value[] = "h\xc3\xa9llo <&> \xe2\x80\xa8 \"q\" \\b";

static char reason[OCI_REASON_MAX];

static int parse_len(const char *json, size_t len, struct oci_state *st)
{
	return oci_parse_state(json, len, st, reason, sizeof(reason));
}

static int parse(const char *json, struct oci_state *st)
{
	return parse_len(json, strlen(json), st);
}

/* Fails the test with the reason when json does not parse. */
static void parse_ok(const char *json, struct oci_state *st)
{
	int r = parse(json, st);

	if (r != 0)
		fail_msg("parse failed (%d): %s", r, reason);
}

/* json must fail with error, and the reason must contain want. */
static void parse_fails(const char *json, size_t len, int error, const char *want)
{
	struct oci_state st;
	int r;

	memset(&st, 0xa5, sizeof(st));
	r = parse_len(json, len, &st);
	if (r != error)
		fail_msg("got %d (%s), expected %d for: %.200s", r, reason, error, json);
	if (!strstr(reason, want))
		fail_msg("reason '%s' lacks '%s'", reason, want);
	/* ret_* is untouched on failure. */
	for (size_t i = 0; i < sizeof(st); i++)
		assert_int_equal(((unsigned char *)&st)[i], 0xa5);
}

static void fails(const char *json, int error, const char *want)
{
	parse_fails(json, strlen(json), error, want);
}

/*
 * json parses, but its options are refused with a reason containing want: no metadata and none
 * of our annotations are kept, and oci_parse_options fails with that reason, so that the
 * daemon serves the listener with no emulation.  The others kept are counted in *ret_others.
 */
static void options_refused_len(const char *json, size_t len, const char *want, size_t *ret_others)
{
	char options_reason[OCI_REASON_MAX];
	struct sandbox_options o;
	struct oci_state st;
	int r;

	r = parse_len(json, len, &st);
	if (r != 0)
		fail_msg("parse failed (%d): %s", r, reason);
	if (!strstr(st.options_refused, want))
		fail_msg("options_refused '%s' lacks '%s'", st.options_refused, want);
	assert_null(st.metadata);
	for (size_t i = 0; i < st.n_annotations; i++)
		assert_false(strncmp(st.annotations[i].key, "io.ubinfmt.", 11) == 0);
	if (ret_others)
		*ret_others = st.n_annotations;
	memset(&o, 0x5a, sizeof(o));
	assert_int_equal(oci_parse_options(&st, &o, options_reason, sizeof(options_reason)), -EINVAL);
	assert_string_equal(options_reason, st.options_refused);
	for (size_t i = 0; i < sizeof(o); i++)
		assert_int_equal(((unsigned char *)&o)[i], 0x5a);
	oci_state_free(&st);
}

static void options_refused(const char *json, const char *want)
{
	options_refused_len(json, strlen(json), want, NULL);
}

/* A payload with the given top-level members (before "state") and annotation members. */
#define PAYLOAD(top, annotations)                                                                   \
	"{\"ociVersion\":\"1.0.2-dev\",\"fds\":[\"seccompFd\"],\"pid\":42," top                     \
	"\"state\":{\"ociVersion\":\"1.0.2-dev\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":42," \
	"\"bundle\":\"/b\",\"annotations\":{" annotations "}}}"

static void assert_ours_first(const struct oci_state *st)
{
	assert_string_equal(st->annotations[0].key, "io.ubinfmt.emulators");
	assert_string_equal(st->annotations[0].value, "aarch64,arm");
	assert_string_equal(st->annotations[1].key, "io.ubinfmt.trace");
	assert_string_equal(st->annotations[1].value, "json");
}

static void test_runc_start(void **state)
{
	struct oci_state st;

	(void)state;
	parse_ok(runc_start, &st);
	assert_string_equal(st.oci_version, "1.0.2-dev");
	assert_int_equal(st.pid, 18775);
	assert_int_equal(st.n_fds, 1);
	assert_int_equal(st.seccomp_fd_index, 0);
	assert_string_equal(st.metadata,
			    "io.ubinfmt.trace=true;io.ubinfmt.emulator.aarch64=/usr/bin/qemu-aarch64-static");
	assert_string_equal(st.state_oci_version, "1.0.2-dev");
	assert_string_equal(st.id, "ubinfmt-cap-runc");
	assert_int_equal(st.status, OCI_STATUS_CREATING);
	assert_string_equal(oci_status_name(st.status), "creating");
	assert_int_equal(st.init_pid, 18775);
	assert_string_equal(st.bundle, "/tmp/ocicap/bundle");
	assert_int_equal(st.n_annotations, 4);
	assert_int_equal(st.n_annotations_dropped, 0);
	assert_ours_first(&st);
	/* The others keep the payload's order (runc sorts map keys). */
	assert_string_equal(st.annotations[2].key, "empty");
	assert_string_equal(st.annotations[2].value, "");
	assert_string_equal(st.annotations[3].key, "org.example.unicode");
	assert_string_equal(st.annotations[3].value, unicode_value);
	assert_string_equal(oci_state_annotation(&st, "empty"), "");
	assert_null(oci_state_annotation(&st, "missing"));
	oci_state_free(&st);
	assert_null(st.annotations);
	oci_state_free(&st); /* twice is fine */
}

static void test_runc_exec(void **state)
{
	struct oci_state st;

	(void)state;
	parse_ok(runc_exec, &st);
	assert_int_equal(st.status, OCI_STATUS_RUNNING);
	assert_int_equal(st.pid, 18795);
	assert_int_equal(st.init_pid, 18775);
	assert_string_equal(st.id, "ubinfmt-cap-runc");
	assert_string_equal(st.bundle, "/tmp/ocicap/bundle");
	assert_int_equal(st.n_annotations, 4);
	oci_state_free(&st);
}

static void test_runc_plain(void **state)
{
	struct oci_state st;

	(void)state;
	parse_ok(runc_plain, &st);
	assert_null(st.metadata);
	assert_int_equal(st.n_annotations, 0);
	assert_null(st.annotations);
	assert_string_equal(st.id, "ubinfmt-cap-runc2");
	oci_state_free(&st);
}

static void test_crun_start(void **state)
{
	struct oci_state st;

	(void)state;
	parse_ok(crun_start, &st);
	assert_string_equal(st.oci_version, "0.2.0");
	assert_string_equal(st.state_oci_version, "0.2.0");
	assert_int_equal(st.pid, 19956);
	assert_int_equal(st.init_pid, 19956);
	assert_int_equal(st.status, OCI_STATUS_CREATING);
	assert_string_equal(st.id, "ubinfmt-cap-crun");
	assert_int_equal(st.n_annotations, 4);
	assert_ours_first(&st);
	/* crun keeps config.json's order. */
	assert_string_equal(st.annotations[2].key, "org.example.unicode");
	assert_string_equal(st.annotations[2].value, unicode_value);
	assert_string_equal(st.annotations[3].key, "empty");
	oci_state_free(&st);
}

static void test_crun_exec(void **state)
{
	struct oci_state st;

	(void)state;
	parse_ok(crun_exec, &st);
	assert_int_equal(st.status, OCI_STATUS_RUNNING);
	assert_int_equal(st.pid, 0);
	assert_int_equal(st.init_pid, 0);
	assert_string_equal(st.bundle, ".");
	assert_string_equal(st.id, "ubinfmt-cap-crun");
	oci_state_free(&st);
}

static void test_crun_plain_and_empty_metadata(void **state)
{
	struct sandbox_options o;
	struct oci_state st;

	(void)state;
	parse_ok(crun_plain, &st);
	assert_null(st.metadata);
	assert_int_equal(st.n_annotations, 0);
	oci_state_free(&st);

	parse_ok(crun_emptymeta, &st);
	assert_non_null(st.metadata);
	assert_string_equal(st.metadata, "");
	assert_int_equal(oci_parse_options(&st, &o, reason, sizeof(reason)), 0);
	assert_int_equal(o.arch_mask, SANDBOX_ARCH_ALL);
	assert_int_equal(o.trace, SANDBOX_TRACE_DEFAULT);
	sandbox_options_free(&o);
	oci_state_free(&st);
}

/* What the captured payloads ask for: metadata's trace wins, annotations narrow the archs. */
static void test_options_from_runtimes(void **state)
{
	const char *payloads[] = { runc_start, runc_exec, crun_start, crun_exec };

	(void)state;
	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		struct sandbox_options o;
		struct oci_state st;

		parse_ok(payloads[i], &st);
		if (oci_parse_options(&st, &o, reason, sizeof(reason)) != 0)
			fail_msg("options: %s", reason);
		assert_int_equal(o.arch_mask, (UINT64_C(1) << ARCH_AARCH64) | (UINT64_C(1) << ARCH_ARM));
		assert_int_equal(o.trace, SANDBOX_TRACE_TEXT);
		assert_string_equal(o.emulator[ARCH_AARCH64], "/usr/bin/qemu-aarch64-static");
		for (int a = 0; a < ARCH_MAX; a++)
			if (a != ARCH_AARCH64)
				assert_null(o.emulator[a]);
		sandbox_options_free(&o);
		sandbox_options_free(&o);
		oci_state_free(&st);
	}
}

static void test_missing_fields(void **state)
{
	(void)state;
	fails("{\"fds\":[\"seccompFd\"],\"pid\":1,\"state\":{}}", -EPROTO, "'ociVersion' is missing");
	fails("{\"ociVersion\":\"1\",\"pid\":1,\"state\":{}}", -EPROTO, "'fds' is missing");
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"state\":{}}", -EPROTO, "'pid' is missing");
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":1}", -EPROTO, "'state' is missing");
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":1,\"state\":null}", -EPROTO, "'state' is missing");
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":1,\"state\":{\"id\":\"a\",\"status\":"
	      "\"creating\",\"bundle\":\"/\"}}",
	      -EPROTO, "'state.ociVersion' is missing");
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":1,\"state\":{\"ociVersion\":\"1\","
	      "\"status\":\"creating\",\"bundle\":\"/\"}}",
	      -EPROTO, "'state.id' is missing");
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":1,\"state\":{\"ociVersion\":\"1\","
	      "\"id\":\"a\",\"bundle\":\"/\"}}",
	      -EPROTO, "'state.status' is missing");
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":1,\"state\":{\"ociVersion\":\"1\","
	      "\"id\":\"a\",\"status\":\"creating\"}}",
	      -EPROTO, "'state.bundle' is missing");
}

/* The optional members: metadata, state.pid, state.annotations; null counts as absent. */
static void test_optional_fields(void **state)
{
	struct oci_state st;

	(void)state;
	parse_ok("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":7,\"metadata\":null,\"state\":{"
		 "\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"stopped\",\"bundle\":\"/\",\"annotations\":null,"
		 "\"pid\":null}, \"future\":{\"x\":[1,2,{}]}}",
		 &st);
	assert_null(st.metadata);
	assert_int_equal(st.init_pid, 0);
	assert_int_equal(st.status, OCI_STATUS_STOPPED);
	assert_int_equal(st.n_annotations, 0);
	oci_state_free(&st);

	parse_ok(PAYLOAD("", ""), &st);
	assert_int_equal(st.n_annotations, 0);
	assert_null(st.annotations);
	oci_state_free(&st);
}

static void test_wrong_types(void **state)
{
	(void)state;
	fails("[]", -EPROTO, "payload has type array, expected object");
	fails("\"x\"", -EPROTO, "payload has type string");
	fails("{\"ociVersion\":1,\"fds\":[\"seccompFd\"],\"pid\":1,\"state\":{}}", -EPROTO,
	      "'ociVersion' has type int, expected string");
	fails("{\"ociVersion\":\"1\",\"fds\":\"seccompFd\",\"pid\":1,\"state\":{}}", -EPROTO,
	      "'fds' has type string, expected array");
	fails("{\"ociVersion\":\"1\",\"fds\":[3],\"pid\":1,\"state\":{}}", -EPROTO,
	      "'fds[0]' has type int, expected string");
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":\"1234\",\"state\":{}}", -EPROTO,
	      "'pid' has type string, expected int");
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":1234.0,\"state\":{}}", -EPROTO,
	      "'pid' has type double");
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":1e3,\"state\":{}}", -EPROTO,
	      "'pid' has type double");
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":true,\"state\":{}}", -EPROTO,
	      "'pid' has type boolean");
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":1,\"state\":[]}", -EPROTO,
	      "'state' has type array, expected object");
	/* Options only: the state stays usable. */
	options_refused(PAYLOAD("\"metadata\":5,", "\"io.ubinfmt.trace\":\"true\""), "'metadata' has type int");
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":1,\"state\":{\"ociVersion\":\"1\","
	      "\"id\":7,\"status\":\"creating\",\"bundle\":\"/\"}}",
	      -EPROTO, "'state.id' has type int");
	options_refused("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":1,\"state\":{\"ociVersion\":\"1\","
			"\"id\":\"a\",\"status\":\"creating\",\"bundle\":\"/\",\"annotations\":[]}}",
			"'state.annotations' has type array, expected object");
	options_refused(PAYLOAD("", "\"io.ubinfmt.trace\":true"), "annotation 'io.ubinfmt.trace' has type boolean");
	options_refused(PAYLOAD("", "\"io.ubinfmt.emulators\":\"arm\",\"io.ubinfmt.trace\":null"),
			"annotation 'io.ubinfmt.trace' has type null");

	/* Others that are not strings are left out, like those over the limits. */
	struct oci_state st;
	parse_ok(PAYLOAD("", "\"org.x\":1,\"org.y\":null,\"org.z\":{},\"ok\":\"1\",\"io.ubinfmt.trace\":\"true\""),
		 &st);
	assert_string_equal(st.options_refused, "");
	assert_int_equal(st.n_annotations, 2);
	assert_int_equal(st.n_annotations_dropped, 3);
	assert_string_equal(oci_state_annotation(&st, "io.ubinfmt.trace"), "true");
	assert_string_equal(oci_state_annotation(&st, "ok"), "1");
	oci_state_free(&st);
}

static void test_numbers(void **state)
{
	struct oci_state st;

	(void)state;
	/* json-c clamps what does not fit in 64 bits; the range check catches the clamp. */
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":99999999999999999999999,\"state\":{}}", -EPROTO,
	      "'pid' = 9223372036854775807 is not a pid");
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":-99999999999999999999999,\"state\":{}}", -EPROTO,
	      "is not a pid");
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":-1,\"state\":{}}", -EPROTO,
	      "'pid' = -1 is not a pid");
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":4194305,\"state\":{}}", -EPROTO,
	      "'pid' = 4194305 is not a pid");
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":4294967338,\"state\":{}}", -EPROTO, "not a pid");
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":1,\"state\":{\"ociVersion\":\"1\","
	      "\"id\":\"a\",\"status\":\"creating\",\"pid\":-5,\"bundle\":\"/\"}}",
	      -EPROTO, "'state.pid' = -5 is not a pid");
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":01,\"state\":{}}", -EPROTO, "JSON:");
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":NaN,\"state\":{}}", -EPROTO,
	      "'pid' has type double");
	parse_ok("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":4194304,\"state\":{\"ociVersion\":"
		 "\"1\",\"id\":\"a\",\"status\":\"created\",\"pid\":-0,\"bundle\":\"/\"}}",
		 &st);
	assert_int_equal(st.pid, 4194304);
	assert_int_equal(st.init_pid, 0);
	oci_state_free(&st);
}

static void test_ids(void **state)
{
	static const char *const bad[] = { "a/b", "a b", "..", ".", "", "a:b", "a\\u00e9", "a\\nb", "-\\t" };
	char json[2048 + 512], id[OCI_ID_MAX + 2];
	struct oci_state st;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json),
			 "{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":1,\"state\":{\"ociVersion\":\"1\","
			 "\"id\":\"%s\",\"status\":\"creating\",\"bundle\":\"/\"}}",
			 bad[i]);
		fails(json, -EPROTO, "container id '");
	}
	/* Reasons escape what they quote. */
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":1,\"state\":{\"ociVersion\":\"1\","
	      "\"id\":\"x\\u001b[2J\",\"status\":\"creating\",\"bundle\":\"/\"}}",
	      -EPROTO, "container id 'x\\x1b[2J' has a character outside");

	memset(id, 'a', OCI_ID_MAX);
	id[OCI_ID_MAX] = '\0';
	snprintf(json, sizeof(json),
		 "{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":1,\"state\":{\"ociVersion\":\"1\","
		 "\"id\":\"%s\",\"status\":\"creating\",\"bundle\":\"/\"}}",
		 id);
	parse_ok(json, &st);
	assert_int_equal(strlen(st.id), OCI_ID_MAX);
	oci_state_free(&st);

	strcat(id, "a");
	snprintf(json, sizeof(json),
		 "{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":1,\"state\":{\"ociVersion\":\"1\","
		 "\"id\":\"%s\",\"status\":\"creating\",\"bundle\":\"/\"}}",
		 id);
	fails(json, -EPROTO, "'state.id' is longer than 1024 bytes");

	parse_ok("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":1,\"state\":{\"ociVersion\":\"1\","
		 "\"id\":\"Az09_.+-\",\"status\":\"paused\",\"bundle\":\"/\"}}",
		 &st);
	assert_string_equal(st.id, "Az09_.+-");
	assert_int_equal(st.status, OCI_STATUS_PAUSED);
	oci_state_free(&st);
}

static void test_status(void **state)
{
	(void)state;
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":1,\"state\":{\"ociVersion\":\"1\","
	      "\"id\":\"a\",\"status\":\"Running\",\"bundle\":\"/\"}}",
	      -EPROTO, "unknown 'state.status' 'Running'");
	assert_string_equal(oci_status_name(OCI_STATUS_MAX), "unknown");
}

static void test_fds(void **state)
{
	char json[8192];
	struct oci_state st;
	size_t pos;

	(void)state;
	fails("{\"ociVersion\":\"1\",\"fds\":[],\"pid\":1,\"state\":{}}", -EPROTO, "does not name a seccompFd");
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompfd\"],\"pid\":1,\"state\":{}}", -EPROTO,
	      "does not name a seccompFd");
	fails("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\",\"seccompFd\"],\"pid\":1,\"state\":{}}", -EPROTO,
	      "names seccompFd twice");

	parse_ok("{\"ociVersion\":\"1\",\"fds\":[\"pidFd\",\"seccompFd\",\"x\"],\"pid\":1,\"state\":{"
		 "\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"creating\",\"bundle\":\"/\"}}",
		 &st);
	assert_int_equal(st.n_fds, 3);
	assert_int_equal(st.seccomp_fd_index, 1);
	oci_state_free(&st);

	/* SCM_MAX_FD names at most. */
	pos = (size_t)snprintf(json, sizeof(json), "{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"");
	for (int i = 1; i < OCI_FDS_MAX + 1; i++)
		pos += (size_t)snprintf(json + pos, sizeof(json) - pos, ",\"f\"");
	snprintf(json + pos, sizeof(json) - pos, "],\"pid\":1,\"state\":{}}");
	fails(json, -EPROTO, "'fds' names 254 fds, more than 253");
}

static void test_nesting(void **state)
{
	char json[65536];
	struct oci_state st;
	size_t pos;

	(void)state;
	/*
	 * Unknown members are ignored, up to the depth limit: json-c counts the levels of values,
	 * so the top object, 6 arrays and a number in the innermost one is the deepest.
	 */
	for (int depth = 6; depth <= 8; depth++) {
		pos = (size_t)snprintf(json, sizeof(json), "{\"deep\":");
		for (int i = 0; i < depth; i++)
			json[pos++] = '[';
		json[pos++] = '1';
		for (int i = 0; i < depth; i++)
			json[pos++] = ']';
		snprintf(json + pos, sizeof(json) - pos, ",%s", runc_plain + 1);
		if (depth == 6) {
			parse_ok(json, &st);
			oci_state_free(&st);
		} else {
			fails(json, -EPROTO, "JSON: nesting too deep");
		}
	}
	/* Very deep input stops at the limit, without recursion. */
	memset(json, '[', sizeof(json) - 1);
	json[sizeof(json) - 1] = '\0';
	fails(json, -EPROTO, "nesting too deep");
}

static void test_sizes(void **state)
{
	const size_t big = 10 * 1024 * 1024;
	size_t plain = strlen(runc_plain);
	struct oci_state st;
	char *json;

	(void)state;
	json = malloc(big + 1);
	assert_non_null(json);
	/* Exactly OCI_STATE_MAX bytes: the payload then blanks, which JSON allows. */
	memcpy(json, runc_plain, plain);
	memset(json + plain, ' ', big - plain);
	assert_int_equal(parse_len(json, OCI_STATE_MAX, &st), 0);
	oci_state_free(&st);
	parse_fails(json, OCI_STATE_MAX + 1, -EMSGSIZE, "more than 1048576");
	parse_fails(json, big, -EMSGSIZE, "payload of 10485760 bytes");
	free(json);
}

static void test_string_limits(void **state)
{
	char *json, *s;
	struct oci_state st;

	(void)state;
	json = malloc(64 * 1024);
	s = malloc(32 * 1024);
	assert_non_null(json);
	assert_non_null(s);

	memset(s, 'm', OCI_METADATA_MAX + 1);
	s[OCI_METADATA_MAX + 1] = '\0';
	snprintf(json, 64 * 1024, PAYLOAD("\"metadata\":\"%s\",", ""), s);
	options_refused(json, "'metadata' is longer than 16384 bytes");
	s[OCI_METADATA_MAX] = '\0';
	snprintf(json, 64 * 1024, PAYLOAD("\"metadata\":\"%s\",", ""), s);
	parse_ok(json, &st);
	assert_string_equal(st.options_refused, "");
	assert_int_equal(strlen(st.metadata), OCI_METADATA_MAX);
	oci_state_free(&st);

	s[0] = '/';
	memset(s + 1, 'b', OCI_BUNDLE_MAX);
	s[OCI_BUNDLE_MAX + 1] = '\0';
	snprintf(json, 64 * 1024,
		 "{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":1,\"state\":{\"ociVersion\":\"1\","
		 "\"id\":\"a\",\"status\":\"creating\",\"bundle\":\"%s\"}}",
		 s);
	fails(json, -EPROTO, "'state.bundle' is longer than 4096 bytes");
	s[OCI_BUNDLE_MAX] = '\0';
	snprintf(json, 64 * 1024,
		 "{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":1,\"state\":{\"ociVersion\":\"1\","
		 "\"id\":\"a\",\"status\":\"creating\",\"bundle\":\"%s\"}}",
		 s);
	parse_ok(json, &st);
	assert_int_equal(strlen(st.bundle), OCI_BUNDLE_MAX);
	oci_state_free(&st);

	fails("{\"ociVersion\":\"1111111111111111111111111111111111111111111111111111111111111111x\","
	      "\"fds\":[\"seccompFd\"],\"pid\":1,\"state\":{}}",
	      -EPROTO, "'ociVersion' is longer than 64 bytes");
	free(s);
	free(json);
}

/* Every proper prefix of a real payload is one that more bytes may complete. */
static void test_truncated(void **state)
{
	const char *payloads[] = { runc_start, crun_start };

	(void)state;
	for (size_t p = 0; p < sizeof(payloads) / sizeof(payloads[0]); p++) {
		size_t len = strlen(payloads[p]);

		/* crun ends with "}\n": the document is complete one byte early. */
		while (payloads[p][len - 1] != '}')
			len--;
		for (size_t n = 0; n < len; n++) {
			struct oci_state st;

			int r = parse_len(payloads[p], n, &st);
			if (r != -ENODATA)
				fail_msg("prefix of %zu bytes: %d (%s), not -ENODATA", n, r, reason);
		}
	}
	fails("", -ENODATA, "JSON ends early");
	fails("  \n", -ENODATA, "JSON ends early");
	fails("{\"ociVersion\":\"1", -ENODATA, "JSON ends early");
	/* Cut inside a UTF-8 sequence: the rest may still come. */
	fails("{\"x\":\"\xe2\x82", -ENODATA, "inside a UTF-8 sequence at offset 6");
	fails("{\"x\":\"\xf0", -ENODATA, "inside a UTF-8 sequence");
	/* What no more bytes can make valid is refused at once. */
	fails("{\"x\":\"\xe2\x28", -EPROTO, "invalid UTF-8");
	fails("{\"x\" 1", -EPROTO, "JSON:");
	fails("{\"x\":\"\\u0000", -EPROTO, "\\u0000 in a string");
}

static void test_trailing(void **state)
{
	char json[1024];
	struct oci_state st;

	(void)state;
	snprintf(json, sizeof(json), "%s x", runc_plain);
	fails(json, -EPROTO, "JSON: unexpected character");
	snprintf(json, sizeof(json), "%s{}", runc_plain);
	fails(json, -EPROTO, "JSON:");
	snprintf(json, sizeof(json), "%s \r\n\t", runc_plain);
	parse_ok(json, &st);
	oci_state_free(&st);
}

/* JSON leaves duplicates open; json-c keeps the last, like Go's encoding/json (and so runc). */
static void test_duplicate_keys(void **state)
{
	struct oci_state st;

	(void)state;
	parse_ok("{\"ociVersion\":\"1\",\"fds\":[\"seccompFd\"],\"pid\":1,\"pid\":2,\"state\":{\"ociVersion\":"
		 "\"1\",\"id\":\"a\",\"id\":\"b\",\"status\":\"creating\",\"bundle\":\"/\",\"annotations\":{"
		 "\"io.ubinfmt.trace\":\"true\",\"io.ubinfmt.trace\":\"false\"}}}",
		 &st);
	assert_int_equal(st.pid, 2);
	assert_string_equal(st.id, "b");
	assert_int_equal(st.n_annotations, 1);
	assert_string_equal(oci_state_annotation(&st, "io.ubinfmt.trace"), "false");
	oci_state_free(&st);
}

static void test_bytes(void **state)
{
	static const char nul[] = "{\"ociVersion\":\"1\0\",\"fds\":[\"seccompFd\"],\"pid\":1,\"state\":{}}";
	struct oci_state st;

	(void)state;
	parse_fails(nul, sizeof(nul) - 1, -EPROTO, "NUL byte at offset 16");
	/* json-c would cut the key at \u0000 and hand us "io.ubinfmt.trace". */
	fails(PAYLOAD("", "\"io.ubinfmt.trace\\u0000x\":\"true\""), -EPROTO, "\\u0000 in a string");
	fails(PAYLOAD("\"metadata\":\"a\\u0000b\",", ""), -EPROTO, "\\u0000 in a string");
	/* An escaped backslash followed by "u0000" is six ordinary characters. */
	parse_ok(PAYLOAD("", "\"x\":\"\\\\u0000\""), &st);
	assert_string_equal(oci_state_annotation(&st, "x"), "\\u0000");
	oci_state_free(&st);

	fails(PAYLOAD("", "\"x\":\"\xff\""), -EPROTO, "invalid UTF-8 at offset");
	fails(PAYLOAD("", "\"x\":\"\xc0\xaf\""), -EPROTO, "invalid UTF-8");	    /* overlong '/' */
	fails(PAYLOAD("", "\"x\":\"\xe0\x80\xaf\""), -EPROTO, "invalid UTF-8");	    /* overlong '/' */
	fails(PAYLOAD("", "\"x\":\"\xed\xa0\x80\""), -EPROTO, "invalid UTF-8");	    /* surrogate */
	fails(PAYLOAD("", "\"x\":\"\xf4\x90\x80\x80\""), -EPROTO, "invalid UTF-8"); /* > U+10FFFF */
	fails(PAYLOAD("", "\"x\":\"\x80\""), -EPROTO, "invalid UTF-8");
	parse_ok(PAYLOAD("", "\"x\":\"\xf0\x9f\x98\x80 \xe2\x82\xac \xc3\xa9\""), &st);
	assert_string_equal(oci_state_annotation(&st, "x"), "\xf0\x9f\x98\x80 \xe2\x82\xac \xc3\xa9");
	oci_state_free(&st);
	/* A lone surrogate escape is well-formed JSON; json-c makes it U+FFFD. */
	parse_ok(PAYLOAD("", "\"x\":\"\\ud800\""), &st);
	assert_string_equal(oci_state_annotation(&st, "x"), "\xef\xbf\xbd");
	oci_state_free(&st);

	fails("{'ociVersion':'1'}", -EPROTO, "single-quoted string at offset 1");
	parse_ok(PAYLOAD("", "\"x\":\"it's\""), &st);
	oci_state_free(&st);
	fails("{\"ociVersion\":\"1\",} ", -EPROTO, "JSON:");
	fails("{\"ociVersion\":\"1\" /* c */}", -EPROTO, "JSON:");
}

static void test_annotation_limits(void **state)
{
	size_t size = OCI_STATE_MAX, pos;
	char *json = malloc(size), *long_value = malloc(OCI_ANNOTATION_VALUE_MAX + 2);
	char long_key[OCI_ANNOTATION_KEY_MAX + 2];
	struct oci_state st;

	(void)state;
	assert_non_null(json);
	assert_non_null(long_value);
	memset(long_value, 'v', OCI_ANNOTATION_VALUE_MAX + 1);
	long_value[OCI_ANNOTATION_VALUE_MAX + 1] = '\0';
	memset(long_key, 'k', OCI_ANNOTATION_KEY_MAX + 1);
	long_key[OCI_ANNOTATION_KEY_MAX + 1] = '\0';

	/* 300 foreign annotations, then ours: ours are kept, 256 in all, the rest counted. */
	pos = (size_t)snprintf(json, size, PAYLOAD("", ""));
	pos -= 3; /* back to inside "annotations":{ */
	for (int i = 0; i < 300; i++)
		pos += (size_t)snprintf(json + pos, size - pos, "%s\"org.example.a%d\":\"%d\"", i ? "," : "", i, i);
	pos += (size_t)snprintf(json + pos, size - pos, ",\"io.ubinfmt.trace\":\"json\"}}}");
	parse_ok(json, &st);
	assert_int_equal(st.n_annotations, OCI_ANNOTATIONS_MAX);
	assert_int_equal(st.n_annotations_dropped, 300 - (OCI_ANNOTATIONS_MAX - 1));
	assert_string_equal(st.annotations[0].key, "io.ubinfmt.trace");
	assert_string_equal(st.annotations[1].key, "org.example.a0");
	assert_string_equal(oci_state_annotation(&st, "org.example.a254"), "254");
	assert_null(oci_state_annotation(&st, "org.example.a255"));
	oci_state_free(&st);

	/* Foreign annotations over the size limits are dropped, ours refused. */
	snprintf(json, size, PAYLOAD("", "\"%s\":\"x\",\"org.v\":\"%s\",\"ok\":\"%.4096s\""), long_key, long_value,
		 long_value);
	parse_ok(json, &st);
	assert_int_equal(st.n_annotations, 1);
	assert_int_equal(st.n_annotations_dropped, 2);
	assert_int_equal(strlen(oci_state_annotation(&st, "ok")), OCI_ANNOTATION_VALUE_MAX);
	oci_state_free(&st);

	/* Ours over the limits refuse the options (all of ours), not the payload; others stay. */
	size_t others;
	snprintf(json, size, PAYLOAD("", "\"io.ubinfmt.emulators\":\"arm\",\"io.ubinfmt.x\":\"%s\",\"ok\":\"1\""),
		 long_value);
	options_refused_len(json, strlen(json), "annotation 'io.ubinfmt.x' has a value longer than 4096 bytes",
			    &others);
	assert_int_equal(others, 1);
	snprintf(json, size, PAYLOAD("", "\"io.ubinfmt.%s\":\"x\""), long_key);
	options_refused(json, "annotation key 'io.ubinfmt.kkkk");
	/* The finding of issue 9: a 5000-byte io.ubinfmt.trace. */
	snprintf(json, size,
		 PAYLOAD("\"metadata\":\"io.ubinfmt.emulators=all\",", "\"io.ubinfmt.trace\":\"%.5000s%s\""),
		 long_value, long_value);
	options_refused(json, "annotation 'io.ubinfmt.trace' has a value longer than 4096 bytes");

	/* More than 256 of ours. */
	pos = (size_t)snprintf(json, size, PAYLOAD("", "\"ok\":\"1\"")) - 3;
	for (int i = 0; i < OCI_ANNOTATIONS_MAX + 1; i++)
		pos += (size_t)snprintf(json + pos, size - pos, ",\"io.ubinfmt.a%d\":\"\"", i);
	snprintf(json + pos, size - pos, "}}}");
	options_refused_len(json, strlen(json), "more than 256 io.ubinfmt.* annotations", &others);
	assert_int_equal(others, 1);
	free(long_value);
	free(json);
}

static void test_reason_buffer(void **state)
{
	char small[12];
	struct oci_state st;

	(void)state;
	assert_int_equal(oci_parse_state("[]", 2, &st, NULL, 0), -EPROTO);
	assert_int_equal(oci_parse_state("[]", 2, &st, small, sizeof(small)), -EPROTO);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(oci_parse_state(runc_plain, strlen(runc_plain), &st, NULL, 0), 0);
	oci_state_free(&st);
}

/* Options: metadata fragment (a JSON member or "") and annotation members. */
static int options_of(const char *json, struct sandbox_options *o)
{
	struct oci_state st;
	int r;

	parse_ok(json, &st);
	memset(o, 0x5a, sizeof(*o));
	r = oci_parse_options(&st, o, reason, sizeof(reason));
	oci_state_free(&st);
	return r;
}

static void options_fail(const char *json, const char *want)
{
	struct sandbox_options o;
	int r = options_of(json, &o);

	if (r != -EINVAL)
		fail_msg("got %d (%s), expected -EINVAL for %s", r, reason, json);
	if (!strstr(reason, want))
		fail_msg("reason '%s' lacks '%s'", reason, want);
	for (size_t i = 0; i < sizeof(o); i++)
		assert_int_equal(((unsigned char *)&o)[i], 0x5a);
}

#define BIT(a) (UINT64_C(1) << (a))

static void test_options_defaults(void **state)
{
	struct sandbox_options o;

	(void)state;
	assert_int_equal(options_of(runc_plain, &o), 0);
	assert_int_equal(o.arch_mask, SANDBOX_ARCH_ALL);
	assert_false(o.arch_mask & BIT(ARCH_UNKNOWN));
	assert_true(o.arch_mask & BIT(ARCH_XTENSAEB));
	assert_int_equal(o.trace, SANDBOX_TRACE_DEFAULT);
	for (int a = 0; a < ARCH_MAX; a++)
		assert_null(o.emulator[a]);
	sandbox_options_free(&o);
	/* Other annotations, even close to our prefix, are not ours. */
	assert_int_equal(options_of(PAYLOAD("", "\"io.ubinfmtx\":\"1\",\"io.ubinfmt\":\"2\",\"org.a\":\"b\""), &o), 0);
	assert_int_equal(o.arch_mask, SANDBOX_ARCH_ALL);
	sandbox_options_free(&o);
	/* ubinfmt-runtime's own annotations are its business; in listenerMetadata they are typos. */
	assert_int_equal(
		options_of(PAYLOAD("", "\"io.ubinfmt.runtime\":\"rewritten\",\"io.ubinfmt.enable\":\"true\""), &o), 0);
	assert_int_equal(o.arch_mask, SANDBOX_ARCH_ALL);
	sandbox_options_free(&o);
	options_fail(PAYLOAD("\"metadata\":\"io.ubinfmt.enable=true\",", ""), "unknown key 'io.ubinfmt.enable'");
	assert_string_equal(sandbox_trace_name(SANDBOX_TRACE_JSON), "json");
	assert_string_equal(sandbox_trace_name(SANDBOX_TRACE_MAX), "unknown");
}

static void test_options_metadata(void **state)
{
	struct sandbox_options o;

	(void)state;
	assert_int_equal(options_of(PAYLOAD("\"metadata\":\" ; io.ubinfmt.emulators = aarch64 ,armhf,arm64;;"
					    "\\tio.ubinfmt.trace=json ; io.ubinfmt.emulator.arm64= /opt/q a ;\",",
					    ""),
				    &o),
			 0);
	assert_int_equal(o.arch_mask, BIT(ARCH_AARCH64) | BIT(ARCH_ARM));
	assert_int_equal(o.trace, SANDBOX_TRACE_JSON);
	assert_string_equal(o.emulator[ARCH_AARCH64], "/opt/q a");
	sandbox_options_free(&o);

	assert_int_equal(
		options_of(PAYLOAD("\"metadata\":\"io.ubinfmt.emulators=none;io.ubinfmt.trace=false\",", ""), &o), 0);
	assert_int_equal(o.arch_mask, 0);
	assert_int_equal(o.trace, SANDBOX_TRACE_OFF);
	sandbox_options_free(&o);

	assert_int_equal(options_of(PAYLOAD("\"metadata\":\"io.ubinfmt.emulators=all\",", ""), &o), 0);
	assert_int_equal(o.arch_mask, SANDBOX_ARCH_ALL);
	sandbox_options_free(&o);

	options_fail(PAYLOAD("\"metadata\":\"foo\",", ""), "listenerMetadata: entry 'foo' is not KEY=VALUE");
	options_fail(PAYLOAD("\"metadata\":\"=x\",", ""), "listenerMetadata: bad key in entry '=x'");
	options_fail(PAYLOAD("\"metadata\":\"foo=bar\",", ""), "listenerMetadata: unknown key 'foo'");
	options_fail(PAYLOAD("\"metadata\":\"io.ubinfmt.tracing=true\",", ""), "unknown key 'io.ubinfmt.tracing'");
	options_fail(PAYLOAD("\"metadata\":\"io.ubinfmt.trace=true;io.ubinfmt.trace=true\",", ""),
		     "io.ubinfmt.trace: set twice");
	options_fail(PAYLOAD("\"metadata\":\"io.ubinfmt.emulators=arm;io.ubinfmt.emulators=arm\",", ""),
		     "io.ubinfmt.emulators: set twice");
	options_fail(PAYLOAD("\"metadata\":\"io.ubinfmt.emulator.arm64=/a;io.ubinfmt.emulator.aarch64=/b\",", ""),
		     "io.ubinfmt.emulator.aarch64: set twice");
	options_fail(PAYLOAD("\"metadata\":\"io.ubinfmt.emulators=arm;io.ubinfmt.emulator.aarch64=/b\",", ""),
		     "io.ubinfmt.emulator.aarch64: aarch64 is not in io.ubinfmt.emulators");
}

static void test_options_values(void **state)
{
	static const char *const bad_trace[] = { "True", "TRUE", "1", "yes", "", "on", "true ", "jsonl" };
	char json[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_trace) / sizeof(bad_trace[0]); i++) {
		snprintf(json, sizeof(json), PAYLOAD("", "\"io.ubinfmt.trace\":\"%s\""), bad_trace[i]);
		options_fail(json, "annotation io.ubinfmt.trace: '");
	}
	options_fail(PAYLOAD("", "\"io.ubinfmt.emulators\":\"\""), "empty item in ''");
	options_fail(PAYLOAD("", "\"io.ubinfmt.emulators\":\"aarch64,,arm\""), "empty item");
	options_fail(PAYLOAD("", "\"io.ubinfmt.emulators\":\"aarch64,\""), "empty item");
	options_fail(PAYLOAD("", "\"io.ubinfmt.emulators\":\"aarch64,vax\""), "unknown architecture 'vax'");
	options_fail(PAYLOAD("", "\"io.ubinfmt.emulators\":\"AARCH64\""), "unknown architecture 'AARCH64'");
	options_fail(PAYLOAD("", "\"io.ubinfmt.emulators\":\"unknown\""), "unknown architecture 'unknown'");
	options_fail(PAYLOAD("", "\"io.ubinfmt.emulators\":\"aarch64aarch64aarch64aarch64aarch64\""),
		     "unknown architecture");
	options_fail(PAYLOAD("", "\"io.ubinfmt.emulators\":\"all,arm\""), "unknown architecture 'all'");
	options_fail(PAYLOAD("", "\"io.ubinfmt.foo\":\"1\""), "annotation: unknown key 'io.ubinfmt.foo'");
	options_fail(PAYLOAD("", "\"io.ubinfmt.\":\"1\""), "unknown key 'io.ubinfmt.'");
	options_fail(PAYLOAD("\"metadata\":\"io.ubinfmt.emulator.arm=bin/qemu\",", ""), "is not an absolute path");
	options_fail(PAYLOAD("\"metadata\":\"io.ubinfmt.emulator.arm=\",", ""), "is not an absolute path");
	options_fail(PAYLOAD("\"metadata\":\"io.ubinfmt.emulator.arm=/a\\nb\",", ""),
		     "control character in the path '/a\\x0ab'");
	options_fail(PAYLOAD("\"metadata\":\"io.ubinfmt.emulator.vax=/q\",", ""), "unknown architecture 'vax'");
	options_fail(PAYLOAD("\"metadata\":\"io.ubinfmt.emulator.=/q\",", ""), "unknown architecture ''");
}

/* An image's or pod's author may narrow what the operator allowed, never widen it. */
static void test_options_precedence(void **state)
{
	struct sandbox_options o;

	(void)state;
	options_fail(PAYLOAD("", "\"io.ubinfmt.emulator.aarch64\":\"/usr/bin/sudo\""),
		     "annotation io.ubinfmt.emulator.aarch64: emulator paths are only accepted in listenerMetadata");

	assert_int_equal(options_of(PAYLOAD("\"metadata\":\"io.ubinfmt.emulators=aarch64,arm,riscv64\",",
					    "\"io.ubinfmt.emulators\":\"arm, s390x\""),
				    &o),
			 0);
	assert_int_equal(o.arch_mask, BIT(ARCH_ARM));
	sandbox_options_free(&o);

	assert_int_equal(
		options_of(PAYLOAD("\"metadata\":\"io.ubinfmt.emulators=none\",", "\"io.ubinfmt.emulators\":\"all\""),
			   &o),
		0);
	assert_int_equal(o.arch_mask, 0);
	sandbox_options_free(&o);

	assert_int_equal(options_of(PAYLOAD("", "\"io.ubinfmt.emulators\":\"riscv64\""), &o), 0);
	assert_int_equal(o.arch_mask, BIT(ARCH_RISCV64));
	sandbox_options_free(&o);

	/* trace: metadata wins; an annotation counts when metadata is silent. */
	assert_int_equal(
		options_of(PAYLOAD("\"metadata\":\"io.ubinfmt.trace=false\",", "\"io.ubinfmt.trace\":\"json\""), &o),
		0);
	assert_int_equal(o.trace, SANDBOX_TRACE_OFF);
	sandbox_options_free(&o);
	assert_int_equal(
		options_of(PAYLOAD("\"metadata\":\"io.ubinfmt.emulators=all\",", "\"io.ubinfmt.trace\":\"json\""), &o),
		0);
	assert_int_equal(o.trace, SANDBOX_TRACE_JSON);
	sandbox_options_free(&o);

	/* A bad annotation fails even when the metadata is fine, and says where it came from. */
	options_fail(PAYLOAD("\"metadata\":\"io.ubinfmt.trace=true\",", "\"io.ubinfmt.trace\":\"maybe\""),
		     "annotation io.ubinfmt.trace: 'maybe'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runc_start),
		cmocka_unit_test(test_runc_exec),
		cmocka_unit_test(test_runc_plain),
		cmocka_unit_test(test_crun_start),
		cmocka_unit_test(test_crun_exec),
		cmocka_unit_test(test_crun_plain_and_empty_metadata),
		cmocka_unit_test(test_options_from_runtimes),
		cmocka_unit_test(test_missing_fields),
		cmocka_unit_test(test_optional_fields),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_fds),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_string_limits),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_trailing),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_annotation_limits),
		cmocka_unit_test(test_reason_buffer),
		cmocka_unit_test(test_options_defaults),
		cmocka_unit_test(test_options_metadata),
		cmocka_unit_test(test_options_values),
		cmocka_unit_test(test_options_precedence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
