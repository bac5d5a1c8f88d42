/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_HOSTBINFMT_H
#define UBINFMT_HOSTBINFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The host's own binfmt_misc registrations: a file they match is left to the kernel, which
 * already knows how to run it.  Only enabled magic entries count.
 */

/* The kernel's BINPRM_BUF_SIZE (256 since Linux 5.1): offset + size must fit in it. */
#define HOSTBINFMT_MAGIC_MAX 256
#define HOSTBINFMT_MAX 64

struct hostbinfmt_entry {
	bool enabled;
	bool is_magic; /* false: an extension entry, never matched here */
	uint32_t offset;
	uint32_t size;
	uint8_t magic[HOSTBINFMT_MAGIC_MAX];
	uint8_t mask[HOSTBINFMT_MAGIC_MAX];
};

struct hostbinfmt {
	size_t n;
	struct hostbinfmt_entry entries[HOSTBINFMT_MAX];
};

/*
 * Pure: parses one /proc/sys/fs/binfmt_misc/NAME file ("enabled", "interpreter …", "flags: …",
 * "offset N", "magic HEX", "mask HEX").  -EINVAL when malformed.
 */
int hostbinfmt_parse_entry(const char *text, size_t len, struct hostbinfmt_entry *ret);

/*
 * Pure: whether head (len bytes of the file's start) matches an enabled magic entry.  Like the
 * kernel, which compares against its zero-filled BINPRM_BUF_SIZE buffer, bytes past len (a
 * file shorter than offset + size) read as zero: len must be the file's size when it is
 * shorter than HOSTBINFMT_MAGIC_MAX.
 */
bool hostbinfmt_matches(const struct hostbinfmt *h, const uint8_t *head, size_t len);

/*
 * Loads the enabled entries from dir (normally /proc/sys/fs/binfmt_misc) when it is mounted
 * and its status is "enabled"; an unmounted binfmt_misc is an empty list, not an error.
 */
int hostbinfmt_load(const char *dir, struct hostbinfmt *ret);

#endif
