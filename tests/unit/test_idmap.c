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

#include "idmap.h"

static int parse(const char *text, const char *name, uint32_t id, struct idmap_range *ranges, size_t max)
{
	return idmap_parse_subid(text, strlen(text), name, id, ranges, max);
}

static void assert_range(const struct idmap_range *r, uint32_t start, uint32_t count)
{
	assert_int_equal(r->start, start);
	assert_int_equal(r->count, count);
}

static void test_parse_name_and_id(void **state)
{
	static const char file[] = "alice:100000:65536\n"
				   "nobody:165536:65536\n"
				   "1000:300000:10\n"
				   "bob:231072:65536\n"
				   "nobody:500000:5";
	struct idmap_range r[8];

	(void)state;
	/* By name, in file order, the last line without its newline too. */
	assert_int_equal(parse(file, "nobody", 65534, r, 8), 2);
	assert_range(&r[0], 165536, 65536);
	assert_range(&r[1], 500000, 5);
	/* By id in decimal, beside the name's own lines (shadow collects both). */
	assert_int_equal(parse(file, "alice", 1000, r, 8), 2);
	assert_range(&r[0], 100000, 65536);
	assert_range(&r[1], 300000, 10);
	/* Nobody else's lines, and none at all. */
	assert_int_equal(parse(file, "carol", 1001, r, 8), 0);
	assert_int_equal(parse("", "alice", 1000, r, 8), 0);
	assert_int_equal(idmap_parse_subid(NULL, 0, "alice", 1000, r, 8), 0);
	/* A prefix of a name is not the name. */
	assert_int_equal(parse("nobodyelse:1:2\n", "nobody", 65534, r, 8), 0);
	/* MAX bounds what is kept. */
	assert_int_equal(parse(file, "nobody", 65534, r, 1), 1);
	assert_range(&r[0], 165536, 65536);
}

static void test_parse_skips_bad_lines(void **state)
{
	static const char file[] = "u\n"
				   "u:1\n"
				   "u:1:2:3\n"
				   "u:x:2\n"
				   "u:1:2x\n"
				   "u: 1:2\n"
				   "u:1:2\r\n"
				   "u:-1:2\n"
				   "u:+1:2\n"
				   "u:1:\n"
				   "u::2\n"
				   ":1:2\n"
				   "u:7:0\n"
				   "u:4294967295:1\n"
				   "u:4294967000:296\n"
				   "u:18446744073709551616:1\n"
				   "# u:1:2\n"
				   "\n"
				   " u:1:2\n"
				   "u:10:20\n"
				   "u:4294967000:295\n";
	struct idmap_range r[8];

	(void)state;
	assert_int_equal(parse(file, "u", 4242, r, 8), 2);
	assert_range(&r[0], 10, 20);
	/* The highest range there is ends at 4294967294: (uid_t)-1 is no id. */
	assert_range(&r[1], 4294967000u, 295);
}

static void test_parse_nul_and_long_lines(void **state)
{
	char text[IDMAP_LINE_MAX + 64];
	struct idmap_range r[4];
	size_t len;

	(void)state;
	/* A NUL inside a line makes it invalid, and the next line still counts. */
	static const char with_nul[] = "u:1\0:2\nu:5:6\n";
	assert_int_equal(idmap_parse_subid(with_nul, sizeof(with_nul) - 1, "u", 1, r, 4), 1);
	assert_range(&r[0], 5, 6);
	/* A line longer than IDMAP_LINE_MAX is skipped whole. */
	memset(text, '0', sizeof(text));
	memcpy(text, "u:", 2);
	len = IDMAP_LINE_MAX + 8;
	memcpy(text + len - 4, ":1\nu", 4);
	memcpy(text + len, ":9:9", 4);
	len += 4;
	assert_int_equal(idmap_parse_subid(text, len, "u", 1, r, 4), 1);
	assert_range(&r[0], 9, 9);
}

static void test_parse_errors(void **state)
{
	struct idmap_range r[1];

	(void)state;
	assert_int_equal(idmap_parse_subid("u:1:2\n", 6, NULL, 1, r, 1), -EINVAL);
	assert_int_equal(idmap_parse_subid("u:1:2\n", 6, "", 1, r, 1), -EINVAL);
	assert_int_equal(idmap_parse_subid(NULL, 6, "u", 1, r, 1), -EINVAL);
	assert_int_equal(idmap_parse_subid("u:1:2\n", (size_t)IDMAP_FILE_MAX + 1, "u", 1, r, 1), -EFBIG);
}

static void assert_ext(const struct idmap *m, size_t i, uint32_t inside, uint32_t outside, uint32_t count)
{
	assert_true(i < m->n);
	assert_int_equal(m->ext[i].inside, inside);
	assert_int_equal(m->ext[i].outside, outside);
	assert_int_equal(m->ext[i].count, count);
}

/* What the kernel demands of a map: no two extents overlap, inside or outside. */
static void assert_kernel_accepts(const struct idmap *m)
{
	assert_true(m->n >= 1 && m->n <= IDMAP_EXTENTS_MAX);
	for (size_t i = 0; i < m->n; i++) {
		const struct idmap_extent *a = &m->ext[i];
		assert_true(a->count > 0);
		assert_true((uint64_t)a->inside + a->count <= UINT32_MAX);
		assert_true((uint64_t)a->outside + a->count <= UINT32_MAX);
		if (i > 0)
			assert_true(m->ext[i - 1].inside < a->inside); /* sorted */
		for (size_t j = 0; j < i; j++) {
			const struct idmap_extent *b = &m->ext[j];
			assert_false(a->inside < (uint64_t)b->inside + b->count &&
				     b->inside < (uint64_t)a->inside + a->count);
			assert_false(a->outside < (uint64_t)b->outside + b->count &&
				     b->outside < (uint64_t)a->outside + a->count);
		}
	}
}

static void test_build_root(void **state)
{
	const struct idmap_range one = { 100000, 65536 };
	struct idmap m;

	(void)state;
	/* No ranges: only the caller, as root (the fallback of a --rootfs run). */
	assert_int_equal(idmap_build(IDMAP_ROOT, 1000, NULL, 0, &m), 0);
	assert_int_equal(m.n, 1);
	assert_ext(&m, 0, 0, 1000, 1);
	/* podman's rootless default: 0 is the caller, 1… its subordinate ids. */
	assert_int_equal(idmap_build(IDMAP_ROOT, 1000, &one, 1, &m), 0);
	assert_int_equal(m.n, 2);
	assert_ext(&m, 0, 0, 1000, 1);
	assert_ext(&m, 1, 1, 100000, 65536);
	assert_int_equal(idmap_size(&m), 65537);
	assert_kernel_accepts(&m);
}

static void test_build_keep_id(void **state)
{
	const struct idmap_range one = { 100000, 65536 };
	const struct idmap_range few = { 100000, 10 };
	struct idmap m;

	(void)state;
	/* podman's keep-id: the caller's id is itself, the others fill 0… around it. */
	assert_int_equal(idmap_build(IDMAP_KEEP_ID, 1000, &one, 1, &m), 0);
	assert_int_equal(m.n, 3);
	assert_ext(&m, 0, 0, 100000, 1000);
	assert_ext(&m, 1, 1000, 1000, 1);
	assert_ext(&m, 2, 1001, 101000, 64536);
	assert_int_equal(idmap_size(&m), 65537);
	assert_kernel_accepts(&m);
	/* nobody (65534) with a range of 65536: two ids are left above it. */
	assert_int_equal(idmap_build(IDMAP_KEEP_ID, 65534, &one, 1, &m), 0);
	assert_int_equal(m.n, 3);
	assert_ext(&m, 0, 0, 100000, 65534);
	assert_ext(&m, 1, 65534, 65534, 1);
	assert_ext(&m, 2, 65535, 165534, 2);
	/* Fewer subordinate ids than the caller's id: a gap below it. */
	assert_int_equal(idmap_build(IDMAP_KEEP_ID, 1000, &few, 1, &m), 0);
	assert_int_equal(m.n, 2);
	assert_ext(&m, 0, 0, 100000, 10);
	assert_ext(&m, 1, 1000, 1000, 1);
	/* No ranges: only the caller, as itself. */
	assert_int_equal(idmap_build(IDMAP_KEEP_ID, 1000, NULL, 0, &m), 0);
	assert_int_equal(m.n, 1);
	assert_ext(&m, 0, 1000, 1000, 1);
	/* keep-id for root is the root mapping. */
	assert_int_equal(idmap_build(IDMAP_KEEP_ID, 0, &one, 1, &m), 0);
	assert_int_equal(m.n, 2);
	assert_ext(&m, 0, 0, 0, 1);
	assert_ext(&m, 1, 1, 100000, 65536);
}

static void test_build_several_ranges(void **state)
{
	const struct idmap_range ranges[] = { { 200000, 100 }, { 100000, 50 } };
	struct idmap m;

	(void)state;
	/* File order, packed inside. */
	assert_int_equal(idmap_build(IDMAP_ROOT, 1000, ranges, 2, &m), 0);
	assert_int_equal(m.n, 3);
	assert_ext(&m, 0, 0, 1000, 1);
	assert_ext(&m, 1, 1, 200000, 100);
	assert_ext(&m, 2, 101, 100000, 50);
	/* keep-id with id 120: the second range is split around it. */
	assert_int_equal(idmap_build(IDMAP_KEEP_ID, 120, ranges, 2, &m), 0);
	assert_int_equal(m.n, 4);
	assert_ext(&m, 0, 0, 200000, 100);
	assert_ext(&m, 1, 100, 100000, 20);
	assert_ext(&m, 2, 120, 120, 1);
	assert_ext(&m, 3, 121, 100020, 30);
	assert_kernel_accepts(&m);
}

static void test_build_overlaps(void **state)
{
	/* A range holding the caller's own id, one inside the first, one overlapping its end. */
	const struct idmap_range ranges[] = { { 500, 1000 }, { 900, 200 }, { 1400, 200 } };
	struct idmap m;

	(void)state;
	assert_int_equal(idmap_build(IDMAP_ROOT, 1000, ranges, 3, &m), 0);
	assert_int_equal(m.n, 4);
	assert_ext(&m, 0, 0, 1000, 1);
	assert_ext(&m, 1, 1, 500, 500);
	assert_ext(&m, 2, 501, 1001, 499);
	assert_ext(&m, 3, 1000, 1500, 100);
	assert_kernel_accepts(&m);
	assert_int_equal(idmap_build(IDMAP_KEEP_ID, 1000, ranges, 3, &m), 0);
	assert_kernel_accepts(&m);
	assert_int_equal(idmap_size(&m), 1100);
	/* The same range twice counts once. */
	const struct idmap_range twice[] = { { 100000, 10 }, { 100000, 10 } };
	assert_int_equal(idmap_build(IDMAP_ROOT, 1000, twice, 2, &m), 0);
	assert_int_equal(m.n, 2);
	assert_int_equal(idmap_size(&m), 11);
}

static void test_build_limits(void **state)
{
	static struct idmap_range many[400];
	const struct idmap_range top = { 0, 4294967295u };
	struct idmap m;

	(void)state;
	/* 400 one-id ranges: the map stops at the kernel's 340 lines. */
	for (size_t i = 0; i < 400; i++)
		many[i] = (struct idmap_range){ (uint32_t)(100000 + 2 * i), 1 };
	assert_int_equal(idmap_build(IDMAP_ROOT, 1000, many, 400, &m), 0);
	assert_int_equal(m.n, IDMAP_EXTENTS_MAX);
	assert_kernel_accepts(&m);
	assert_int_equal(idmap_build(IDMAP_KEEP_ID, 1000, many, 400, &m), 0);
	assert_int_equal(m.n, IDMAP_EXTENTS_MAX);
	assert_kernel_accepts(&m);
	/* Every id there is, around the caller's. */
	assert_int_equal(idmap_build(IDMAP_KEEP_ID, 7, &top, 1, &m), 0);
	assert_int_equal(idmap_size(&m), UINT32_MAX);
	assert_kernel_accepts(&m);
	assert_int_equal(idmap_build(IDMAP_ROOT, 7, &top, 1, &m), 0);
	assert_int_equal(idmap_size(&m), UINT32_MAX);
	assert_kernel_accepts(&m);
	/* (uid_t)-1 is no id; an unknown mode. */
	assert_int_equal(idmap_build(IDMAP_ROOT, UINT32_MAX, NULL, 0, &m), -EINVAL);
	assert_int_equal(idmap_build(IDMAP_MODE_MAX, 1000, NULL, 0, &m), -EINVAL);
}

static void test_format(void **state)
{
	const struct idmap_range one = { 100000, 65536 };
	static struct idmap_range many[IDMAP_EXTENTS_MAX];
	char text[IDMAP_TEXT_MAX], small[20];
	struct idmap m;

	(void)state;
	assert_int_equal(idmap_build(IDMAP_KEEP_ID, 1000, &one, 1, &m), 0);
	assert_int_equal(idmap_format(&m, text, sizeof(text)), 44);
	assert_string_equal(text, "0 100000 1000\n1000 1000 1\n1001 101000 64536\n");
	/* Cut at a line's end, never mid-number. */
	assert_int_equal(idmap_format(&m, small, sizeof(small)), -ENOBUFS);
	assert_string_equal(small, "0 100000 1000\n");
	assert_int_equal(idmap_format(&m, small, 0), -ENOBUFS);
	/* The largest map there is fits IDMAP_TEXT_MAX. */
	for (size_t i = 0; i < IDMAP_EXTENTS_MAX; i++)
		many[i] = (struct idmap_range){ (uint32_t)(3000000000u + 1000000 * i), 999999 };
	assert_int_equal(idmap_build(IDMAP_KEEP_ID, 4294967294u, many, IDMAP_EXTENTS_MAX, &m), 0);
	assert_int_equal(m.n, IDMAP_EXTENTS_MAX);
	assert_true(idmap_format(&m, text, sizeof(text)) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_name_and_id),
		cmocka_unit_test(test_parse_skips_bad_lines),
		cmocka_unit_test(test_parse_nul_and_long_lines),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_build_root),
		cmocka_unit_test(test_build_keep_id),
		cmocka_unit_test(test_build_several_ranges),
		cmocka_unit_test(test_build_overlaps),
		cmocka_unit_test(test_build_limits),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
