/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "idmap.h"
#include "macros.h"
#include "parse.h"

/* Ids run up to 4294967294: (uid_t)-1 means "no id" to every syscall, and the kernel refuses it. */
#define ID_END UINT64_C(0xffffffff)

/*
 * Parses one line "owner:start:count" (LEN bytes, no newline) into its owner and range.
 * Returns 0, or -EINVAL for anything else (shadow skips such lines too).
 */
static int parse_line(const char *line, size_t len, char *owner, size_t owner_size, struct idmap_range *ret)
{
	char buf[IDMAP_LINE_MAX + 1];
	char *start, *count;
	uint64_t s, c;

	if (len == 0 || len > IDMAP_LINE_MAX)
		return -EINVAL;
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (strlen(buf) != len) /* a NUL inside the line */
		return -EINVAL;
	start = strchr(buf, ':');
	if (!start || start == buf)
		return -EINVAL;
	*start++ = '\0';
	count = strchr(start, ':');
	if (!count)
		return -EINVAL;
	*count++ = '\0';
	if (parse_u64(start, &s) < 0 || parse_u64(count, &c) < 0) /* also refuses a third ':' */
		return -EINVAL;
	if (c == 0 || s >= ID_END || c > ID_END - s)
		return -EINVAL;
	if (strlen(buf) >= owner_size)
		return -EINVAL;
	strcpy(owner, buf);
	*ret = (struct idmap_range){ .start = (uint32_t)s, .count = (uint32_t)c };
	return 0;
}

/*
 * What it trusts: nothing about TEXT (root writes /etc/subuid, but a broken file must not take
 * us past its end).  What it checks: every line's length and shape, every number's range.
 */
int idmap_parse_subid(const char *text, size_t len, const char *name, uint32_t id, struct idmap_range *ret_ranges,
		      size_t max)
{
	char id_str[16], owner[IDMAP_LINE_MAX + 1];
	size_t n = 0;

	if (!name || !*name || (!text && len > 0))
		return -EINVAL;
	if (len > IDMAP_FILE_MAX)
		return -EFBIG;
	snprintf(id_str, sizeof(id_str), "%" PRIu32, id);
	for (size_t pos = 0; pos < len && n < max;) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - line) : len - pos;
		struct idmap_range r;

		pos += line_len + 1;
		if (parse_line(line, line_len, owner, sizeof(owner), &r) < 0)
			continue;
		if (strcmp(owner, name) == 0 || strcmp(owner, id_str) == 0)
			ret_ranges[n++] = r;
	}
	return (int)n;
}

/* Outside ids [start, end) that one extent will carry. */
struct piece {
	uint64_t start;
	uint64_t end;
};

/* The end of the taken piece that holds ID, or 0 when none does. */
static uint64_t taken_end(const struct piece *taken, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (taken[i].start <= id && id < taken[i].end)
			return taken[i].end;
	return 0;
}

/* The first taken start after ID, or LIMIT. */
static uint64_t next_taken(const struct piece *taken, size_t n, uint64_t id, uint64_t limit)
{
	for (size_t i = 0; i < n; i++)
		if (taken[i].start > id && taken[i].start < limit)
			limit = taken[i].start;
	return limit;
}

/*
 * Splits RANGES into pieces that overlap neither each other nor the caller's own id, in file
 * order.  taken[0] is the caller's id; the pieces follow it.  Returns how many pieces.
 */
static size_t disjoint_pieces(uint32_t id, const struct idmap_range *ranges, size_t n, struct piece *taken)
{
	size_t n_taken = 1;

	taken[0] = (struct piece){ id, (uint64_t)id + 1 };
	for (size_t i = 0; i < n && n_taken <= IDMAP_EXTENTS_MAX; i++) {
		uint64_t c = ranges[i].start, e = (uint64_t)ranges[i].start + ranges[i].count;

		if (e > ID_END)
			e = ID_END;
		while (c < e && n_taken <= IDMAP_EXTENTS_MAX) {
			uint64_t skip = taken_end(taken, n_taken, c);
			if (skip) {
				c = skip;
				continue;
			}
			uint64_t next = next_taken(taken, n_taken, c, e);
			taken[n_taken++] = (struct piece){ c, next };
			c = next;
		}
	}
	return n_taken - 1;
}

static bool add_extent(struct idmap *map, uint64_t inside, uint64_t outside, uint64_t count)
{
	if (map->n >= IDMAP_EXTENTS_MAX)
		return false;
	map->ext[map->n++] = (struct idmap_extent){ (uint32_t)inside, (uint32_t)outside, (uint32_t)count };
	return true;
}

/* Gives the pieces consecutive inside ids from CURSOR up, stepping over the inside id SKIP. */
static void place_pieces(struct idmap *map, const struct piece *pieces, size_t n, uint64_t cursor, uint64_t skip)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t outside = pieces[i].start, len = pieces[i].end - pieces[i].start;

		while (len > 0) {
			if (cursor == skip)
				cursor++;
			if (cursor >= ID_END)
				return;
			uint64_t part = MIN(len, ID_END - cursor);
			if (cursor < skip && cursor + part > skip)
				part = skip - cursor;
			if (!add_extent(map, cursor, outside, part))
				return;
			cursor += part;
			outside += part;
			len -= part;
		}
	}
}

static void sort_extents(struct idmap *map)
{
	for (size_t i = 1; i < map->n; i++) {
		struct idmap_extent e = map->ext[i];
		size_t j = i;
		for (; j > 0 && map->ext[j - 1].inside > e.inside; j--)
			map->ext[j] = map->ext[j - 1];
		map->ext[j] = e;
	}
}

int idmap_build(enum idmap_mode mode, uint32_t id, const struct idmap_range *ranges, size_t n, struct idmap *ret)
{
	/* The caller's own id, then as many pieces as a map could hold. */
	struct piece taken[IDMAP_EXTENTS_MAX + 1];
	struct idmap map = { 0 };
	size_t n_pieces;

	if ((uint64_t)id >= ID_END || (unsigned)mode >= IDMAP_MODE_MAX)
		return -EINVAL;
	n_pieces = disjoint_pieces(id, ranges, n, taken);
	if (mode == IDMAP_ROOT) {
		add_extent(&map, 0, id, 1);
		place_pieces(&map, taken + 1, n_pieces, 1, ID_END);
	} else {
		add_extent(&map, id, id, 1);
		place_pieces(&map, taken + 1, n_pieces, 0, id);
	}
	sort_extents(&map);
	*ret = map;
	return 0;
}

uint64_t idmap_size(const struct idmap *map)
{
	uint64_t total = 0;

	for (size_t i = 0; i < map->n; i++)
		total += map->ext[i].count;
	return total;
}

int idmap_format(const struct idmap *map, char *buf, size_t size)
{
	size_t len = 0;

	if (size == 0)
		return -ENOBUFS;
	buf[0] = '\0';
	for (size_t i = 0; i < map->n; i++) {
		int w = snprintf(buf + len, size - len, "%" PRIu32 " %" PRIu32 " %" PRIu32 "\n", map->ext[i].inside,
				 map->ext[i].outside, map->ext[i].count);
		if (w < 0 || (size_t)w >= size - len) {
			buf[len] = '\0';
			return -ENOBUFS;
		}
		len += (size_t)w;
	}
	return (int)len;
}
