/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_IDMAP_H
#define UBINFMT_IDMAP_H

#include <stddef.h>
#include <stdint.h>

/*
 * The identities of an unprivileged `ubinfmt run`, as pure functions: which subordinate ids
 * /etc/subuid and /etc/subgid give a user, and the uid_map/gid_map that a user namespace gets
 * from them.  No file system, no globals (cmocka drives them: test_idmap).  run.c reads the
 * files, sandbox.c hands the maps to newuidmap/newgidmap or writes them itself.
 */

/* The kernel takes at most this many lines per map (since Linux 4.15). */
#define IDMAP_EXTENTS_MAX 340
/* More subordinate ranges than a map could ever hold are not worth keeping. */
#define IDMAP_RANGES_MAX IDMAP_EXTENTS_MAX
/* /etc/subuid is root's and small (one short line per user); anything larger is refused. */
#define IDMAP_FILE_MAX (8u << 20)
/* A line of "owner:start:count" is far shorter; longer ones are not valid lines. */
#define IDMAP_LINE_MAX 512
/* uid_map text: at most "4294967294 4294967294 4294967295\n" per extent. */
#define IDMAP_TEXT_MAX (IDMAP_EXTENTS_MAX * 33 + 1)

/* ids [start, start + count) on the host that a user may map. */
struct idmap_range {
	uint32_t start;
	uint32_t count;
};

/* One line of uid_map: ids [inside, inside + count) are [outside, outside + count) outside. */
struct idmap_extent {
	uint32_t inside;
	uint32_t outside;
	uint32_t count;
};

struct idmap {
	size_t n;
	struct idmap_extent ext[IDMAP_EXTENTS_MAX];
};

enum idmap_mode {
	/* The caller is root inside, its subordinate ids follow from 1 (podman's rootless default). */
	IDMAP_ROOT,
	/* The caller keeps its own id inside; its subordinate ids fill the others from 0 up
	 * (podman's --userns=keep-id). */
	IDMAP_KEEP_ID,
	IDMAP_MODE_MAX,
};

/*
 * Collects the ranges that the subordinate-id file TEXT (LEN bytes, the content of /etc/subuid
 * or /etc/subgid) gives the user NAME whose id is ID, in file order, as shadow's newuidmap
 * matches them: a line's owner is the name or the id in decimal.  Lines that are not
 * "owner:start:count" with decimal numbers, with a count of 0, or whose range would reach id
 * 4294967295 (never a valid id) are skipped.  Keeps at most MAX ranges.  Returns how many were
 * stored in RET_RANGES, or -EINVAL (no name, or TEXT NULL with LEN > 0), -EFBIG (LEN over
 * IDMAP_FILE_MAX).
 */
int idmap_parse_subid(const char *text, size_t len, const char *name, uint32_t id, struct idmap_range *ret_ranges,
		      size_t max);

/*
 * Builds the map of a user namespace for the caller's id ID: the caller's own id (to 0, or to
 * itself with IDMAP_KEEP_ID) plus RANGES in their order, packed into consecutive inside ids.
 * The kernel refuses maps whose ranges overlap inside or outside, so parts of a range that
 * overlap an earlier one or the caller's own id are left out; what does not fit below id
 * 4294967295 or in IDMAP_EXTENTS_MAX lines is left out too.  With no ranges the map is just
 * the caller's own id.  The extents come sorted by inside id.  Returns 0, or -EINVAL (an
 * unknown mode, an id of 4294967295).
 */
int idmap_build(enum idmap_mode mode, uint32_t id, const struct idmap_range *ranges, size_t n, struct idmap *ret);

/* How many ids the map holds in all (its size inside). */
uint64_t idmap_size(const struct idmap *map);

/*
 * Writes MAP as the kernel's uid_map text ("inside outside count\n" per extent) into BUF (SIZE
 * bytes, NUL-terminated).  Returns the length, or -ENOBUFS when it does not fit.
 */
int idmap_format(const struct idmap *map, char *buf, size_t size);

#endif
