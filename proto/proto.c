/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "macros.h"
#include "proto.h"

/* The kernel's MAX_ERRNO: status and error fields carry -errno, nothing beyond. */
#define PROTO_MAX_ERRNO 4095
/* pids travel as u32 but must fit a pid_t at the other end. */
#define PROTO_MAX_PID INT32_MAX
#define PROTO_STATUS_F_KNOWN PROTO_STATUS_F_MORE
#define PROTO_TRACE_F_KNOWN PROTO_TRACE_F_JSON

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

const char *proto_type_name(enum proto_type type)
{
	static const char *const names[PROTO_MSG_MAX] = {
		[PROTO_MSG_HELLO] = "HELLO",
		[PROTO_MSG_HELLO_ACK] = "HELLO_ACK",
		[PROTO_MSG_LISTENER] = "LISTENER",
		[PROTO_MSG_ATTACH] = "ATTACH",
		[PROTO_MSG_STATUS_REQ] = "STATUS_REQ",
		[PROTO_MSG_STATUS] = "STATUS",
		[PROTO_MSG_TRACE_SUB] = "TRACE_SUB",
		[PROTO_MSG_TRACE_LINE] = "TRACE_LINE",
		[PROTO_MSG_STATS] = "STATS",
		[PROTO_MSG_ERROR] = "ERROR",
		[PROTO_MSG_BYE] = "BYE",
	};

	return type > 0 && type < PROTO_MSG_MAX ? names[type] : "?";
}

const char *proto_role_name(enum proto_role role)
{
	static const char *const names[PROTO_ROLE_MAX] = {
		[PROTO_ROLE_AGENT] = "agent",
		[PROTO_ROLE_CLI] = "cli",
		[PROTO_ROLE_OCI] = "oci",
	};

	return role > 0 && role < PROTO_ROLE_MAX ? names[role] : "?";
}

const char *proto_origin_name(enum proto_origin origin)
{
	static const char *const names[PROTO_ORIGIN_MAX] = {
		[PROTO_ORIGIN_UNKNOWN] = "?",
		[PROTO_ORIGIN_AGENT] = "agent",
		[PROTO_ORIGIN_OCI] = "oci",
		[PROTO_ORIGIN_ATTACH] = "attach",
	};

	return (unsigned)origin < PROTO_ORIGIN_MAX ? names[origin] : "?";
}

size_t proto_type_max_fds(enum proto_type type)
{
	return type == PROTO_MSG_LISTENER ? 2 : 0;
}

static bool id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '-';
}

bool proto_id_valid(const char *id)
{
	size_t n = id ? strnlen(id, PROTO_MAX_ID_LEN + 1) : 0;

	/* "." and ".." would name directories if an id ever becomes a path component. */
	if (n == 0 || n > PROTO_MAX_ID_LEN || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!id_char(id[i]))
			return false;
	return true;
}

/* An id field that may also be "" (none yet, or no filter).  NULL counts as "" when encoding. */
static bool id_or_empty(const char *id)
{
	return !id || !*id || proto_id_valid(id);
}

static bool str_fits(const char *s, size_t max)
{
	return !s || strnlen(s, max + 1) <= max;
}

static bool pid_ok(uint32_t pid)
{
	return pid >= 1 && pid <= PROTO_MAX_PID;
}

/*
 * The rules of each message beyond its wire shape, shared by the encoder (which refuses to send
 * what a decoder would refuse) and the decoder (after the payload has been read within bounds).
 * Returns NULL when m is acceptable, else why not.
 */
static const char *msg_check(const struct proto_msg *m)
{
	switch (m->type) {
	case PROTO_MSG_HELLO:
		if (m->hello.role < 1 || m->hello.role >= PROTO_ROLE_MAX)
			return "unknown role";
		if (m->hello.flags & ~PROTO_HELLO_F_KNOWN)
			return "flags unknown to this version";
		if (!pid_ok(m->hello.pid))
			return "pid out of range";
		if (!id_or_empty(m->hello.id))
			return "sandbox id is not 1 to 64 bytes of [A-Za-z0-9._-]";
		if (m->hello.n_options > PROTO_MAX_OPTIONS)
			return "more than 32 options";
		for (size_t i = 0; i < m->hello.n_options; i++)
			if (!str_fits(m->hello.options[i], PROTO_MAX_OPTION_LEN))
				return "option longer than 4096 bytes";
		return NULL;
	case PROTO_MSG_HELLO_ACK:
		if (m->hello_ack.status > 0 || m->hello_ack.status < -PROTO_MAX_ERRNO)
			return "status is not 0 or -errno";
		if (!str_fits(m->hello_ack.version, PROTO_MAX_VERSION_LEN))
			return "version longer than 64 bytes";
		if (!id_or_empty(m->hello_ack.id))
			return "sandbox id is not 1 to 64 bytes of [A-Za-z0-9._-]";
		return NULL;
	case PROTO_MSG_LISTENER:
		if (!m->listener.id || !proto_id_valid(m->listener.id))
			return "sandbox id is not 1 to 64 bytes of [A-Za-z0-9._-]";
		if (!pid_ok(m->listener.pid))
			return "pid out of range";
		return NULL;
	case PROTO_MSG_ATTACH:
		return pid_ok(m->attach.pid) ? NULL : "pid out of range";
	case PROTO_MSG_STATUS:
		if (m->status.n > PROTO_MAX_STATUS)
			return "more than 128 sandboxes";
		for (size_t i = 0; i < m->status.n; i++) {
			const struct proto_status_entry *e = &m->status.sandboxes[i];

			if (!e->id || !proto_id_valid(e->id))
				return "sandbox id is not 1 to 64 bytes of [A-Za-z0-9._-]";
			if (e->init_pid > PROTO_MAX_PID)
				return "init pid out of range";
			if ((unsigned)e->origin >= PROTO_ORIGIN_MAX)
				return "origin unknown";
		}
		return NULL;
	case PROTO_MSG_TRACE_SUB:
		return id_or_empty(m->trace_sub.id) ? NULL : "sandbox id is not 1 to 64 bytes of [A-Za-z0-9._-]";
	case PROTO_MSG_TRACE_LINE:
		if (!id_or_empty(m->trace_line.id))
			return "sandbox id is not 1 to 64 bytes of [A-Za-z0-9._-]";
		return str_fits(m->trace_line.line, PROTO_MAX_LINE_LEN) ? NULL : "line longer than 4096 bytes";
	case PROTO_MSG_ERROR:
		if (m->error.error >= 0 || m->error.error < -PROTO_MAX_ERRNO)
			return "error is not -errno";
		return str_fits(m->error.message, PROTO_MAX_ERROR_LEN) ? NULL : "message longer than 1024 bytes";
	case PROTO_MSG_STATUS_REQ:
	case PROTO_MSG_STATS:
	case PROTO_MSG_BYE:
		return NULL;
	case PROTO_MSG_MAX:
	default:
		return "unknown message type";
	}
}

/* Encoding: a bounded cursor whose first error sticks, so the caller checks once at the end. */
struct writer {
	uint8_t *buf;
	size_t size;
	size_t pos;
	int err;
};

static uint8_t *wr_take(struct writer *w, size_t n)
{
	uint8_t *p;

	if (w->err < 0)
		return NULL;
	if (n > w->size - w->pos) {
		w->err = -EMSGSIZE;
		return NULL;
	}
	p = w->buf + w->pos;
	w->pos += n;
	return p;
}

static void wr_u16(struct writer *w, uint16_t v)
{
	uint8_t *p = wr_take(w, 2);

	if (p)
		put_le16(p, v);
}

static void wr_u32(struct writer *w, uint32_t v)
{
	uint8_t *p = wr_take(w, 4);

	if (p)
		put_le32(p, v);
}

static void wr_u64(struct writer *w, uint64_t v)
{
	uint8_t *p = wr_take(w, 8);

	if (p)
		put_le64(p, v);
}

/* Lengths were checked by msg_check: every string fits a u16 here. */
static void wr_str(struct writer *w, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	uint8_t *p;

	wr_u16(w, (uint16_t)n);
	p = wr_take(w, n + 1);
	if (!p)
		return;
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
}

static void wr_status_entry(struct writer *w, const struct proto_status_entry *e)
{
	size_t start;
	uint8_t *size_field = wr_take(w, 2);

	if (!size_field)
		return;
	start = w->pos;
	wr_u32(w, e->init_pid);
	wr_u32(w, e->listeners);
	wr_u64(w, e->native);
	wr_u64(w, e->emulated);
	wr_u64(w, e->failed);
	wr_u64(w, e->kernel);
	wr_u64(w, e->p50_ns);
	wr_u64(w, e->p99_ns);
	wr_str(w, e->id);
	/* Appended in version 1's lifetime: older decoders skip them (the entry has its size). */
	wr_u64(w, e->native_cpu_ns);
	wr_u64(w, e->foreign_cpu_ns);
	wr_u64(w, e->abandoned);
	wr_u32(w, e->owner_uid);
	wr_u16(w, (uint16_t)e->origin);
	/* At most 110 + 2 + 65 bytes, far below a u16. */
	put_le16(size_field, (uint16_t)(w->pos - start));
}

static void wr_payload(struct writer *w, const struct proto_msg *m)
{
	switch (m->type) {
	case PROTO_MSG_HELLO:
		wr_u32(w, m->hello.pid);
		wr_u32(w, m->hello.flags);
		wr_u16(w, (uint16_t)m->hello.role);
		wr_str(w, m->hello.id);
		wr_u16(w, (uint16_t)m->hello.n_options);
		for (size_t i = 0; i < m->hello.n_options; i++)
			wr_str(w, m->hello.options[i]);
		break;
	case PROTO_MSG_HELLO_ACK:
		wr_u32(w, (uint32_t)m->hello_ack.status);
		wr_str(w, m->hello_ack.version);
		wr_str(w, m->hello_ack.id);
		break;
	case PROTO_MSG_LISTENER:
		wr_str(w, m->listener.id);
		wr_u32(w, m->listener.pid);
		break;
	case PROTO_MSG_ATTACH:
		wr_u32(w, m->attach.pid);
		break;
	case PROTO_MSG_STATUS:
		wr_u32(w, m->status.more ? PROTO_STATUS_F_MORE : 0);
		wr_u16(w, (uint16_t)m->status.n);
		for (size_t i = 0; i < m->status.n; i++)
			wr_status_entry(w, &m->status.sandboxes[i]);
		break;
	case PROTO_MSG_TRACE_SUB:
		wr_u32(w, m->trace_sub.json ? PROTO_TRACE_F_JSON : 0);
		wr_str(w, m->trace_sub.id);
		break;
	case PROTO_MSG_TRACE_LINE:
		wr_str(w, m->trace_line.id);
		wr_str(w, m->trace_line.line);
		break;
	case PROTO_MSG_STATS:
		wr_u16(w, PROTO_STAT_MAX);
		for (size_t i = 0; i < PROTO_STAT_MAX; i++)
			wr_u64(w, m->stats.counters[i]);
		break;
	case PROTO_MSG_ERROR:
		wr_u32(w, (uint32_t)m->error.error);
		wr_str(w, m->error.message);
		break;
	case PROTO_MSG_STATUS_REQ:
	case PROTO_MSG_BYE:
	case PROTO_MSG_MAX:
	default:
		break;
	}
}

int proto_encode(const struct proto_msg *m, uint8_t *buf, size_t size)
{
	struct writer w = { .buf = buf, .size = MIN(size, (size_t)PROTO_MAX_MSG) };
	uint8_t *hdr;

	if (msg_check(m))
		return -EINVAL;
	hdr = wr_take(&w, PROTO_HDR_SIZE);
	wr_payload(&w, m);
	if (w.err < 0)
		return w.err;
	put_le32(hdr, PROTO_MAGIC);
	put_le16(hdr + 4, PROTO_VERSION);
	put_le16(hdr + 6, (uint16_t)m->type);
	put_le32(hdr + 8, (uint32_t)(w.pos - PROTO_HDR_SIZE));
	return (int)w.pos;
}

/*
 * Decoding: a cursor over bytes from the peer, which checks every read against its end.  The
 * first failure sticks and names the field; reads after it return zeros and "", so that the
 * callers below stay linear and never use what they did not get.
 */
struct reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;	   /* invariant: pos <= len */
	const char *field; /* where the first failure happened */
	const char *why;   /* NULL while all is well */
};

static void rd_fail(struct reader *r, const char *field, const char *why)
{
	if (r->why)
		return;
	r->field = field;
	r->why = why;
}

static const uint8_t *rd_take(struct reader *r, size_t n, const char *field)
{
	const uint8_t *p;

	if (r->why)
		return NULL;
	if (n > r->len - r->pos) {
		rd_fail(r, field, "the message ends inside it");
		return NULL;
	}
	p = r->buf + r->pos;
	r->pos += n;
	return p;
}

static uint16_t rd_u16(struct reader *r, const char *field)
{
	const uint8_t *p = rd_take(r, 2, field);

	return p ? get_le16(p) : 0;
}

static uint32_t rd_u32(struct reader *r, const char *field)
{
	const uint8_t *p = rd_take(r, 4, field);

	return p ? get_le32(p) : 0;
}

static uint64_t rd_u64(struct reader *r, const char *field)
{
	const uint8_t *p = rd_take(r, 8, field);

	return p ? get_le64(p) : 0;
}

static int32_t rd_i32(struct reader *r, const char *field)
{
	uint32_t v = rd_u32(r, field);

	/* Two's complement without relying on an implementation-defined conversion. */
	return v <= INT32_MAX ? (int32_t)v : -(int32_t)(~v) - 1;
}

/*
 * A string: u16 n, n bytes, NUL.  The NUL must be exactly there and nowhere before it, so the
 * returned pointer into the buffer is a C string of length n.
 */
static const char *rd_str(struct reader *r, size_t max, const char *field)
{
	uint16_t n = rd_u16(r, field);
	const uint8_t *p;

	if (r->why)
		return "";
	if (n > max) {
		rd_fail(r, field, "longer than its limit");
		return "";
	}
	p = rd_take(r, (size_t)n + 1, field);
	if (!p)
		return "";
	if (p[n] != '\0') {
		rd_fail(r, field, "not NUL-terminated");
		return "";
	}
	if (memchr(p, '\0', n)) {
		rd_fail(r, field, "contains a NUL byte");
		return "";
	}
	return (const char *)p;
}

static void rd_hello(struct reader *r, struct proto_hello *h)
{
	uint16_t role, n;

	h->pid = rd_u32(r, "pid");
	h->flags = rd_u32(r, "flags");
	role = rd_u16(r, "role");
	/* Range-checked before it becomes an enum. */
	if (role >= 1 && role < PROTO_ROLE_MAX)
		h->role = (enum proto_role)role;
	else
		rd_fail(r, "role", "unknown role");
	h->id = rd_str(r, PROTO_MAX_ID_LEN, "sandbox id");
	n = rd_u16(r, "option count");
	if (n > PROTO_MAX_OPTIONS)
		rd_fail(r, "option count", "more than 32 options");
	for (size_t i = 0; i < n && !r->why; i++)
		h->options[i] = rd_str(r, PROTO_MAX_OPTION_LEN, "option");
	h->n_options = r->why ? 0 : n;
}

static void rd_status_entry(struct reader *r, struct proto_status_entry *e)
{
	uint16_t size = rd_u16(r, "sandbox entry size");
	/* The entry is read within its own bounds: fields appended later are skipped. */
	struct reader er = { .buf = rd_take(r, size, "sandbox entry"), .len = size };

	if (!er.buf)
		return;
	e->init_pid = rd_u32(&er, "init pid");
	e->listeners = rd_u32(&er, "listener count");
	e->native = rd_u64(&er, "native count");
	e->emulated = rd_u64(&er, "emulated count");
	e->failed = rd_u64(&er, "failed count");
	e->kernel = rd_u64(&er, "kernel count");
	e->p50_ns = rd_u64(&er, "p50 latency");
	e->p99_ns = rd_u64(&er, "p99 latency");
	e->id = rd_str(&er, PROTO_MAX_ID_LEN, "sandbox id");
	/*
	 * Fields appended later, each group present only if the ones before it are; what an older
	 * daemon did not send reads as 0, what a newer one appended after them is skipped.
	 */
	e->native_cpu_ns = e->foreign_cpu_ns = e->abandoned = 0;
	e->owner_uid = 0;
	e->origin = PROTO_ORIGIN_UNKNOWN;
	if (er.len - er.pos < 16)
		goto done;
	e->native_cpu_ns = rd_u64(&er, "native cpu time");
	e->foreign_cpu_ns = rd_u64(&er, "foreign cpu time");
	if (er.len - er.pos < 8)
		goto done;
	e->abandoned = rd_u64(&er, "abandoned decisions");
	if (er.len - er.pos < 6)
		goto done;
	e->owner_uid = rd_u32(&er, "owner uid");
	e->origin = (enum proto_origin)rd_u16(&er, "origin");
	/* An origin a newer daemon added reads as unknown, not as an error. */
	if ((unsigned)e->origin >= PROTO_ORIGIN_MAX)
		e->origin = PROTO_ORIGIN_UNKNOWN;
done:
	if (er.why)
		rd_fail(r, er.field, er.why);
}

static void rd_status(struct reader *r, struct proto_status *s)
{
	uint32_t flags = rd_u32(r, "flags");
	uint16_t n;

	if (flags & ~PROTO_STATUS_F_KNOWN)
		rd_fail(r, "flags", "flags unknown to this version");
	s->more = flags & PROTO_STATUS_F_MORE;
	n = rd_u16(r, "sandbox count");
	if (n > PROTO_MAX_STATUS)
		rd_fail(r, "sandbox count", "more than 128 sandboxes");
	for (size_t i = 0; i < n && !r->why; i++)
		rd_status_entry(r, &s->sandboxes[i]);
	s->n = r->why ? 0 : n;
}

static void rd_stats(struct reader *r, struct proto_stats *s)
{
	uint16_t n = rd_u16(r, "counter count");

	if (n > PROTO_MAX_STATS_WIRE)
		rd_fail(r, "counter count", "more than 256 counters");
	for (size_t i = 0; i < n && !r->why; i++) {
		uint64_t v = rd_u64(r, "counter");

		/* Counters from a newer peer are read (bounds) and dropped. */
		if (i < PROTO_STAT_MAX)
			s->counters[i] = v;
	}
}

static void rd_payload(struct reader *r, struct proto_msg *m)
{
	uint32_t flags;

	switch (m->type) {
	case PROTO_MSG_HELLO:
		rd_hello(r, &m->hello);
		break;
	case PROTO_MSG_HELLO_ACK:
		m->hello_ack.status = rd_i32(r, "status");
		m->hello_ack.version = rd_str(r, PROTO_MAX_VERSION_LEN, "version");
		m->hello_ack.id = rd_str(r, PROTO_MAX_ID_LEN, "sandbox id");
		break;
	case PROTO_MSG_LISTENER:
		m->listener.id = rd_str(r, PROTO_MAX_ID_LEN, "sandbox id");
		m->listener.pid = rd_u32(r, "pid");
		break;
	case PROTO_MSG_ATTACH:
		m->attach.pid = rd_u32(r, "pid");
		break;
	case PROTO_MSG_STATUS:
		rd_status(r, &m->status);
		break;
	case PROTO_MSG_TRACE_SUB:
		flags = rd_u32(r, "flags");
		if (flags & ~PROTO_TRACE_F_KNOWN)
			rd_fail(r, "flags", "flags unknown to this version");
		m->trace_sub.json = flags & PROTO_TRACE_F_JSON;
		m->trace_sub.id = rd_str(r, PROTO_MAX_ID_LEN, "sandbox id");
		break;
	case PROTO_MSG_TRACE_LINE:
		m->trace_line.id = rd_str(r, PROTO_MAX_ID_LEN, "sandbox id");
		m->trace_line.line = rd_str(r, PROTO_MAX_LINE_LEN, "line");
		break;
	case PROTO_MSG_STATS:
		rd_stats(r, &m->stats);
		break;
	case PROTO_MSG_ERROR:
		m->error.error = rd_i32(r, "error");
		m->error.message = rd_str(r, PROTO_MAX_ERROR_LEN, "message");
		break;
	case PROTO_MSG_STATUS_REQ:
	case PROTO_MSG_BYE:
		break;
	case PROTO_MSG_MAX:
	default:
		rd_fail(r, "type", "unknown message type");
		break;
	}
}

/*
 * Trusts nothing in buf: len is the datagram's size as received, and every check below is made
 * before the bytes it guards are read.  The magic comes first (is this our protocol at all?),
 * then the version (a newer peer may have larger messages, so its version is the better
 * explanation than their size), then the sizes, then the type.
 */
int proto_decode_hdr(const uint8_t *buf, size_t len, struct proto_hdr *ret)
{
	struct proto_hdr h;

	if (len < PROTO_HDR_SIZE)
		return -EPROTO;
	h.magic = get_le32(buf);
	h.version = get_le16(buf + 4);
	h.type = get_le16(buf + 6);
	h.length = get_le32(buf + 8);
	if (h.magic != PROTO_MAGIC)
		return -EPROTO;
	if (h.version != PROTO_VERSION)
		return -EPROTONOSUPPORT;
	if (len > PROTO_MAX_MSG || h.length > PROTO_MAX_MSG - PROTO_HDR_SIZE)
		return -EMSGSIZE;
	if (h.length != len - PROTO_HDR_SIZE)
		return -EPROTO;
	if (h.type < 1 || h.type >= PROTO_MSG_MAX)
		return -EPROTO;
	*ret = h;
	return 0;
}

/* proto_decode, also saying which field failed and why (for proto_strerror). */
static int decode(const uint8_t *buf, size_t len, struct proto_msg *m, struct reader *r)
{
	struct proto_hdr h;
	const char *why;
	int err;

	err = proto_decode_hdr(buf, len, &h);
	if (err < 0)
		return err;
	memset(m, 0, sizeof(*m));
	m->type = (enum proto_type)h.type;
	*r = (struct reader){ .buf = buf + PROTO_HDR_SIZE, .len = h.length };
	rd_payload(r, m);
	if (r->why)
		return -EPROTO;
	/* Bytes after the known fields belong to a newer revision of this version: ignored. */
	why = msg_check(m);
	if (why) {
		rd_fail(r, NULL, why);
		return -EPROTO;
	}
	return 0;
}

int proto_decode(const uint8_t *buf, size_t len, struct proto_msg *ret)
{
	/* Decoded aside, so that ret is untouched on failure. */
	struct proto_msg m;
	struct reader r;
	int err;

	err = decode(buf, len, &m, &r);
	if (err < 0)
		return err;
	*ret = m;
	return 0;
}

/* The header's problem in words, or NULL when the header is fine.  Mirrors proto_decode_hdr. */
static const char *explain_hdr(const uint8_t *buf, size_t len, char *out, size_t size)
{
	uint32_t magic, length;
	uint16_t version, type;

	if (len < PROTO_HDR_SIZE) {
		snprintf(out, size, "truncated message: %zu bytes, shorter than the %d-byte header", len,
			 PROTO_HDR_SIZE);
		return out;
	}
	magic = get_le32(buf);
	version = get_le16(buf + 4);
	type = get_le16(buf + 6);
	length = get_le32(buf + 8);
	if (magic != PROTO_MAGIC) {
		snprintf(out, size,
			 "not a ubinfmt message (magic 0x%08" PRIx32
			 "): is the peer a ubinfmt agent, daemon or command?",
			 magic);
	} else if (version != PROTO_VERSION) {
		snprintf(out, size, "peer speaks protocol version %u, this ubinfmt speaks %d: upgrade %s", version,
			 PROTO_VERSION, version > PROTO_VERSION ? "this ubinfmt" : "the peer");
	} else if (len > PROTO_MAX_MSG || length > PROTO_MAX_MSG - PROTO_HDR_SIZE) {
		snprintf(out, size, "message of %zu bytes announcing %" PRIu32 " is over the %d-byte limit", len,
			 length, PROTO_MAX_MSG);
	} else if (length != len - PROTO_HDR_SIZE) {
		snprintf(out, size, "header announces %" PRIu32 " payload bytes but %zu arrived", length,
			 len - PROTO_HDR_SIZE);
	} else if (type < 1 || type >= PROTO_MSG_MAX) {
		snprintf(out, size, "unknown message type %u", type);
	} else {
		return NULL;
	}
	return out;
}

const char *proto_strerror(int err, const uint8_t *buf, size_t len, char *out, size_t size)
{
	if (size == 0)
		return out;
	if (buf && (err == -EPROTO || err == -EPROTONOSUPPORT || err == -EMSGSIZE)) {
		struct proto_msg m;
		struct reader r = { 0 };

		if (explain_hdr(buf, len, out, size))
			return out;
		/* Decoding is pure: running it again finds the same fault, now with its name. */
		if (decode(buf, len, &m, &r) < 0 && r.why) {
			if (r.field)
				snprintf(out, size, "malformed %s message: %s: %s", proto_type_name(m.type), r.field,
					 r.why);
			else
				snprintf(out, size, "malformed %s message: %s", proto_type_name(m.type), r.why);
			return out;
		}
	}
	switch (err) {
	case -EPROTONOSUPPORT:
		snprintf(out, size, "peer speaks another protocol version than this ubinfmt's (%d)", PROTO_VERSION);
		break;
	case -EMSGSIZE:
		snprintf(out, size, "message over the %d-byte limit", PROTO_MAX_MSG);
		break;
	case -EPROTO:
		snprintf(out, size, "malformed message, or fds the message does not carry");
		break;
	case -EMFILE:
		snprintf(out, size, "too many open files to receive the fds the peer sent");
		break;
	default:
		snprintf(out, size, "%s", strerror(-err));
		break;
	}
	return out;
}

static bool str_equal(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool entry_equal(const struct proto_status_entry *a, const struct proto_status_entry *b)
{
	return str_equal(a->id, b->id) && a->init_pid == b->init_pid && a->listeners == b->listeners &&
	       a->native == b->native && a->emulated == b->emulated && a->failed == b->failed &&
	       a->kernel == b->kernel && a->p50_ns == b->p50_ns && a->p99_ns == b->p99_ns &&
	       a->native_cpu_ns == b->native_cpu_ns && a->foreign_cpu_ns == b->foreign_cpu_ns &&
	       a->abandoned == b->abandoned && a->owner_uid == b->owner_uid && a->origin == b->origin;
}

bool proto_msg_equal(const struct proto_msg *a, const struct proto_msg *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case PROTO_MSG_HELLO:
		if (a->hello.pid != b->hello.pid || a->hello.flags != b->hello.flags ||
		    a->hello.role != b->hello.role || !str_equal(a->hello.id, b->hello.id) ||
		    a->hello.n_options != b->hello.n_options || a->hello.n_options > PROTO_MAX_OPTIONS)
			return false;
		for (size_t i = 0; i < a->hello.n_options; i++)
			if (!str_equal(a->hello.options[i], b->hello.options[i]))
				return false;
		return true;
	case PROTO_MSG_HELLO_ACK:
		return a->hello_ack.status == b->hello_ack.status &&
		       str_equal(a->hello_ack.version, b->hello_ack.version) &&
		       str_equal(a->hello_ack.id, b->hello_ack.id);
	case PROTO_MSG_LISTENER:
		return str_equal(a->listener.id, b->listener.id) && a->listener.pid == b->listener.pid;
	case PROTO_MSG_ATTACH:
		return a->attach.pid == b->attach.pid;
	case PROTO_MSG_STATUS:
		if (a->status.more != b->status.more || a->status.n != b->status.n || a->status.n > PROTO_MAX_STATUS)
			return false;
		for (size_t i = 0; i < a->status.n; i++)
			if (!entry_equal(&a->status.sandboxes[i], &b->status.sandboxes[i]))
				return false;
		return true;
	case PROTO_MSG_TRACE_SUB:
		return a->trace_sub.json == b->trace_sub.json && str_equal(a->trace_sub.id, b->trace_sub.id);
	case PROTO_MSG_TRACE_LINE:
		return str_equal(a->trace_line.id, b->trace_line.id) &&
		       str_equal(a->trace_line.line, b->trace_line.line);
	case PROTO_MSG_STATS:
		return memcmp(a->stats.counters, b->stats.counters, sizeof(a->stats.counters)) == 0;
	case PROTO_MSG_ERROR:
		return a->error.error == b->error.error && str_equal(a->error.message, b->error.message);
	case PROTO_MSG_STATUS_REQ:
	case PROTO_MSG_BYE:
		return true;
	case PROTO_MSG_MAX:
	default:
		return false;
	}
}
