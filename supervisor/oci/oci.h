/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_OCI_H
#define UBINFMT_OCI_H

#include <stddef.h>
#include <sys/types.h>

/*
 * The OCI "container process state" that runc and crun send, with the seccomp listener, to the
 * unix socket named in config.json's linux.seccomp.listenerPath: one JSON document and the fds
 * it names, in one sendmsg on a SOCK_STREAM connection, once per container start and once per
 * exec.  What the two runtimes Debian 12 ships send (captured, see tests/unit/test_oci.c):
 *
 *   runc 1.1.5: compact JSON; ociVersion "1.0.2-dev"; "metadata" left out when listenerMetadata
 *     is empty or absent; "annotations" left out when there are none; start: status "creating",
 *     pid = state.pid = the container's init; exec: status "running", pid = the exec'd process,
 *     state.pid = the container's init.  Go escapes <, >, & and U+2028/9 as \uXXXX.
 *   crun 1.8.1: pretty-printed JSON (4-space indent); ociVersion "0.2.0"; "metadata" present
 *     whenever listenerMetadata is set, even to ""; start: status "creating", pid = state.pid =
 *     the container's init; exec: status "running", pid = state.pid = 0 and bundle "." (crun
 *     1.8.1 never learns the exec'd pid, and exec has no --bundle).
 *
 * Pure: no syscalls, no globals.  Parsed with json-c.
 */

/* Whole payload; Kubernetes allows 256 KiB of pod annotations and CRI-O repeats them. */
#define OCI_STATE_MAX (1024 * 1024)
/*
 * json-c counts the levels of values: the payload's deepest, the annotation strings, are at
 * level 4 (top, state, annotations, string).  8 leaves room for members the spec may add.
 */
#define OCI_JSON_DEPTH 8
#define OCI_VERSION_MAX 64
/* runc's own limit is none; 1024 keeps ids printable in one log line. */
#define OCI_ID_MAX 1024
#define OCI_BUNDLE_MAX 4096
#define OCI_METADATA_MAX 16384
/* SCM_MAX_FD: the kernel passes at most this many fds in one message. */
#define OCI_FDS_MAX 253
#define OCI_FD_NAME_MAX 256
#define OCI_ANNOTATIONS_MAX 256
#define OCI_ANNOTATION_KEY_MAX 256
#define OCI_ANNOTATION_VALUE_MAX 4096
/* PID_MAX_LIMIT on 64-bit kernels. */
#define OCI_PID_MAX (4 * 1024 * 1024)
/* Enough for every reason this module writes, including a quoted key. */
#define OCI_REASON_MAX 256

/* The annotation namespace ubinfmt reads options from. */
#define OCI_ANNOTATION_PREFIX "io.ubinfmt."

enum oci_status {
	OCI_STATUS_CREATING, /* container start (runc and crun) */
	OCI_STATUS_CREATED,
	OCI_STATUS_RUNNING, /* exec into a running container (runc and crun) */
	OCI_STATUS_STOPPED,
	OCI_STATUS_PAUSED, /* runc's extra status */
	OCI_STATUS_MAX,
};

struct oci_annotation {
	char *key;
	char *value;
};

struct oci_state {
	char oci_version[OCI_VERSION_MAX + 1];
	/* The task that installed the filter, in the runtime's pid namespace; 0 = not told. */
	pid_t pid;
	/* Names of the fds in SCM_RIGHTS order: how many, and where "seccompFd" is. */
	size_t n_fds;
	size_t seccomp_fd_index;
	/* listenerMetadata, or NULL when the runtime sent none (runc sends none for ""). */
	char *metadata;
	/* state.* */
	char state_oci_version[OCI_VERSION_MAX + 1];
	char id[OCI_ID_MAX + 1];
	enum oci_status status;
	pid_t init_pid; /* state.pid; 0 when absent or 0 (crun exec) */
	char *bundle;	/* as sent: absolute for a start, "." for a crun exec */
	/*
	 * io.ubinfmt.* annotations first (all of them, or none and options_refused says why),
	 * then the others in payload order.  Others beyond the count or size limits, or not
	 * strings, are left out and counted, so that a pod's unrelated annotations never keep it
	 * from starting.
	 */
	struct oci_annotation *annotations;
	size_t n_annotations;
	size_t n_annotations_dropped;
	/*
	 * Why the options cannot be read ("" when they can): listenerMetadata or io.ubinfmt.*
	 * annotations over the limits above, or of the wrong type.  They are what config.json's
	 * author wrote, so they may not keep the state from parsing: the container's listener is
	 * still served, with no emulation, and oci_parse_options fails with this reason.  metadata
	 * is NULL and none of our annotations is kept then.
	 */
	char options_refused[OCI_REASON_MAX];
};

/*
 * Parses one payload of len bytes (not NUL-terminated; the socket's bytes as received).
 * On success fills *ret, which the caller releases with oci_state_free; options that cannot be
 * read do not fail the parse (see options_refused).  Fails with -ENODATA when the bytes are a
 * proper prefix of a JSON document (more may come), -EMSGSIZE when len > OCI_STATE_MAX,
 * -EPROTO for anything else malformed (no more bytes can make it parse), -ENOMEM.  On failure
 * *ret is left untouched and, when reason is not NULL, a one-line explanation is written to it
 * (quoting at most a bounded, escaped piece of any string from the payload).
 */
int oci_parse_state(const char *json, size_t len, struct oci_state *ret, char *reason, size_t reason_size);

/* Frees what st owns and leaves it empty; accepts an empty or already freed state. */
void oci_state_free(struct oci_state *st);

/* The value of annotation key, or NULL. */
const char *oci_state_annotation(const struct oci_state *st, const char *key);

/* "creating", "running"…; "unknown" for out-of-range values. */
const char *oci_status_name(enum oci_status status);

#endif
