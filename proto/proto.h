/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_PROTO_H
#define UBINFMT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The wire protocol between ubinfmt-init (the agent, inside a container), ubinfmtd (the daemon)
 * and the ubinfmt command (status, trace, attach).  One message per SOCK_SEQPACKET datagram, so
 * the datagram's size is the message's size; fds travel beside it as SCM_RIGHTS (fdpass.h).
 *
 * Every message is a 12-byte header and a payload, all integers little-endian, no padding:
 *
 *	off 0  u32 magic    PROTO_MAGIC, the bytes "UBFM"
 *	off 4  u16 version  PROTO_VERSION
 *	off 6  u16 type     enum proto_type
 *	off 8  u32 length   payload bytes after the header; 12 + length == datagram size
 *
 * Payload fields follow one another in the order listed for each type below:
 *	u16/u32/u64/i32  fixed width, little-endian
 *	str              u16 n, then n bytes without NUL, then one NUL byte (n excludes the NUL);
 *	                 so a decoded string can point straight into the received buffer
 *
 * Compatibility.  A change that alters the meaning or order of existing fields bumps
 * PROTO_VERSION, and a peer speaking another version is refused with -EPROTONOSUPPORT (the header
 * and the ERROR payload never change, so the refusal can always be explained).  New fields are
 * only ever appended: at the end of a payload, or at the end of a STATUS entry (each entry carries
 * its own size).  A decoder reads the fields it knows and ignores bytes after them, so an older
 * peer still reads a newer peer's messages; a newer decoder must treat such fields as optional.
 * STATS carries a counted array, so counters can be added the same way.  New message types, and
 * flag bits this version does not know, are refused (-EPROTO), so that no request is silently
 * dropped: adding either means a new version.
 */

#define PROTO_MAGIC 0x4d464255u /* "UBFM" as bytes on the wire */
#define PROTO_VERSION 1
#define PROTO_HDR_SIZE 12
/* Largest datagram, header included: the receive buffer size. */
#define PROTO_MAX_MSG 65536

/* Field limits; string lengths exclude the NUL. */
#define PROTO_MAX_ID_LEN 64	  /* sandbox id: [A-Za-z0-9._-], not "." or ".." */
#define PROTO_MAX_OPTIONS 32	  /* HELLO options */
#define PROTO_MAX_OPTION_LEN 4096 /* one option, e.g. "emulators=aarch64,arm" */
#define PROTO_MAX_LINE_LEN 4096	  /* one trace line */
#define PROTO_MAX_VERSION_LEN 64  /* daemon software version */
#define PROTO_MAX_ERROR_LEN 1024  /* ERROR text */
#define PROTO_MAX_STATUS 128	  /* sandboxes per STATUS message; more follow in the next one */
#define PROTO_MAX_STATS_WIRE 256  /* counters a STATS message may carry (newer peers send more) */

/* Numbered from 1: an all-zero header is never a valid message. */
enum proto_type {
	PROTO_MSG_HELLO = 1,  /* any → daemon: first message on every connection */
	PROTO_MSG_HELLO_ACK,  /* daemon → any: answer to HELLO */
	PROTO_MSG_LISTENER,   /* agent → daemon: a seccomp listener fd (and more), as SCM_RIGHTS */
	PROTO_MSG_ATTACH,     /* cli → daemon: take over the sandbox whose init is pid */
	PROTO_MSG_STATUS_REQ, /* cli → daemon: empty */
	PROTO_MSG_STATUS,     /* daemon → cli: sandboxes, PROTO_MAX_STATUS per message */
	PROTO_MSG_TRACE_SUB,  /* cli → daemon: stream TRACE_LINE messages until BYE */
	PROTO_MSG_TRACE_LINE, /* daemon → cli */
	PROTO_MSG_STATS,      /* cli → daemon: ask (empty); daemon → cli: daemon-wide counters */
	PROTO_MSG_ERROR,      /* either way: a request failed */
	PROTO_MSG_BYE,	      /* either way: orderly end, empty */
	PROTO_MSG_MAX,
};

enum proto_role {
	PROTO_ROLE_AGENT = 1, /* ubinfmt-init */
	PROTO_ROLE_CLI,	      /* the ubinfmt command */
	PROTO_ROLE_OCI,	      /* reserved (wire value 3): no front end sends it, the daemon refuses it */
	PROTO_ROLE_MAX,
};

/*
 * HELLO flags.  Bit 1 is not in use: it was declared as "the agent had to set no_new_privs",
 * never sent by any ubinfmt-init and never read by any ubinfmtd, and is refused like every
 * unknown bit (no released peer sets it, so no peer is refused that was served before).
 */
#define PROTO_HELLO_F_TRACE (UINT32_C(1) << 0)	  /* trace this sandbox's execs: the option trace=true */
#define PROTO_HELLO_F_REATTACH (UINT32_C(1) << 2) /* agent reconnecting after a daemon restart */
#define PROTO_HELLO_F_KNOWN (PROTO_HELLO_F_TRACE | PROTO_HELLO_F_REATTACH)

/*
 * HELLO: u32 pid, u32 flags, u16 role, str id, u16 n_options, n_options × str.
 * The protocol version is the header's.  pid is the sender's own, as it sees it (in its pid
 * namespace): the daemon should rely on SO_PEERCRED instead.  id may be "" (a CLI, or an agent
 * that lets the daemon choose).  options are "KEY=VALUE" strings the protocol does not interpret:
 * an agent's are its sandbox's options (supervisor/sandbox_options.h, ubinfmt-init --option),
 * which ubinfmtd reads as a tenant's and refuses, answering HELLO with an ERROR, when it cannot
 * use them.  A ubinfmtd from before options were read decodes and ignores them; so an agent
 * says trace=true with PROTO_HELLO_F_TRACE too, which every ubinfmtd reads (an option, when
 * also given, wins).
 */
struct proto_hello {
	uint32_t pid;
	uint32_t flags;
	enum proto_role role;
	const char *id;
	size_t n_options;
	const char *options[PROTO_MAX_OPTIONS];
};

/* HELLO_ACK: i32 status (0 or -errno), str version (daemon software), str id (sandbox id in use). */
struct proto_hello_ack {
	int32_t status;
	const char *version;
	const char *id;
};

/*
 * LISTENER: str id, u32 pid (the sandbox's init, as the agent sees it).  Carries one or two fds:
 * the seccomp listener, then optionally the agent's in-flight journal (supervisor/journal.h).
 */
struct proto_listener {
	const char *id;
	uint32_t pid;
};

/* ATTACH: u32 pid, in the daemon's and the CLI's pid namespace. */
struct proto_attach {
	uint32_t pid;
};

/*
 * STATUS: u32 flags, u16 n, then n entries, each: u16 size, then size bytes holding
 * u32 init_pid, u32 listeners, u64 native, emulated, failed, kernel, u64 p50_ns, p99_ns, str id,
 * u64 native_cpu_ns, foreign_cpu_ns, u64 abandoned, u32 owner_uid, u16 origin (appended; absent from
 * older daemons, read as 0) (init_pid 0: not known, e.g. an OCI container whose state had none).
 */
#define PROTO_STATUS_F_MORE (UINT32_C(1) << 0) /* more STATUS messages follow */

/* Who made a sandbox: its id is unique only among sandboxes of the same origin and owner. */
enum proto_origin {
	PROTO_ORIGIN_UNKNOWN, /* an older daemon's entry */
	PROTO_ORIGIN_AGENT,   /* an agent on the agent socket (owner_uid: its uid) */
	PROTO_ORIGIN_OCI,     /* an OCI runtime: the container id */
	PROTO_ORIGIN_ATTACH,  /* ubinfmt attach */
	PROTO_ORIGIN_MAX,
};

struct proto_status_entry {
	const char *id;
	uint32_t init_pid;
	uint32_t listeners;
	uint64_t native;   /* execs left to the kernel as native */
	uint64_t emulated; /* execs rewritten to run under an emulator */
	uint64_t failed;   /* rewrites that failed or were refused */
	uint64_t kernel;   /* everything else the kernel answered (missing, not executable, …) */
	uint64_t p50_ns;   /* notification handling latency */
	uint64_t p99_ns;
	uint64_t native_cpu_ns;	 /* supervisor CPU time spent on native/kernel execs, in total */
	uint64_t foreign_cpu_ns; /* and on foreign ones (every trip of a rewrite) */
	uint64_t abandoned; /* decisions and rewrites given up after the deadline (stuck on the sandbox's files or memory) */
	uint32_t owner_uid; /* the uid that made it */
	enum proto_origin origin;
};

struct proto_status {
	bool more;
	size_t n;
	struct proto_status_entry sandboxes[PROTO_MAX_STATUS];
};

/* TRACE_SUB: u32 flags, str id ("" for every sandbox). */
#define PROTO_TRACE_F_JSON (UINT32_C(1) << 0)

struct proto_trace_sub {
	bool json;
	const char *id;
};

/*
 * TRACE_LINE: str id (the sandbox), str line (one formatted line, newline included or not).  An
 * agent's sandbox id is unique only among its owner's: the line then names the owner (a text
 * line ends with " owner=agent:UID", a JSON line has "owner":"agent:UID").
 */
struct proto_trace_line {
	const char *id;
	const char *line;
};

/* STATS: u16 n, n × u64.  Index i is enum proto_stat i; counters a peer did not send read as 0. */
enum proto_stat {
	PROTO_STAT_NOTIFICATIONS,
	PROTO_STAT_NATIVE,
	PROTO_STAT_EMULATED,
	PROTO_STAT_FAILED,
	PROTO_STAT_KERNEL,
	PROTO_STAT_SANDBOXES,
	PROTO_STAT_LISTENERS,
	PROTO_STAT_CLIENTS,
	PROTO_STAT_MAX,
};

struct proto_stats {
	uint64_t counters[PROTO_STAT_MAX];
};

/* ERROR: i32 error (-errno, never 0), str message. */
struct proto_error {
	int32_t error;
	const char *message;
};

/*
 * One decoded message.  Strings are never NULL after decoding: they point into the buffer that
 * was decoded, which must outlive the struct.  When encoding, a NULL string means "".
 */
struct proto_msg {
	enum proto_type type;
	union {
		struct proto_hello hello;
		struct proto_hello_ack hello_ack;
		struct proto_listener listener;
		struct proto_attach attach;
		struct proto_status status;
		struct proto_trace_sub trace_sub;
		struct proto_trace_line trace_line;
		struct proto_stats stats;
		struct proto_error error;
	};
};

struct proto_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t length;
};

/* "HELLO", "STATUS"…, or "?" for a value outside the enum. */
const char *proto_type_name(enum proto_type type);
const char *proto_role_name(enum proto_role role);
/* "agent", "oci", "attach", or "?". */
const char *proto_origin_name(enum proto_origin origin);

/* Most fds that travel with a message of this type: 2 for LISTENER, 0 for the rest. */
size_t proto_type_max_fds(enum proto_type type);

/* A usable sandbox id: 1 to PROTO_MAX_ID_LEN bytes of [A-Za-z0-9._-], and not "." or "..". */
bool proto_id_valid(const char *id);

/*
 * Encodes m into buf (at most size bytes).  Returns the message length, -EMSGSIZE when it does
 * not fit size or PROTO_MAX_MSG, or -EINVAL when m is something no decoder would accept (an
 * unknown type, role or flag, a bad sandbox id, a string or list over its limit, a pid of 0…).
 */
int proto_encode(const struct proto_msg *m, uint8_t *buf, size_t size);

/*
 * Decodes the header of the datagram buf[0..len).  Returns 0, or -EPROTO (too short, bad magic,
 * unknown type, length that disagrees with len), -EPROTONOSUPPORT (another version), -EMSGSIZE
 * (over PROTO_MAX_MSG).
 */
int proto_decode_hdr(const uint8_t *buf, size_t len, struct proto_hdr *ret);

/*
 * Decodes one whole datagram.  Pure: trusts nothing in buf nor len, reads nothing outside
 * buf[0..len).  Returns 0 and fills ret (whose strings then point into buf), or the errors of
 * proto_decode_hdr, or -EPROTO for a malformed payload.  ret is untouched on failure.
 */
int proto_decode(const uint8_t *buf, size_t len, struct proto_msg *ret);

/*
 * Explains an error from proto_decode or proto_recv in words fit for a user, e.g. "peer speaks
 * protocol version 7, this ubinfmt speaks 1: upgrade this ubinfmt".  buf and len are the bytes
 * that failed to decode (buf may be NULL), which name the field at fault.  Writes into out (size
 * bytes, always NUL-terminated when size > 0) and returns out.
 */
const char *proto_strerror(int err, const uint8_t *buf, size_t len, char *out, size_t size);

/* Same type and same fields, strings compared by content: for tests and the fuzzer. */
bool proto_msg_equal(const struct proto_msg *a, const struct proto_msg *b);

#endif
