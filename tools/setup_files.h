/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_SETUP_FILES_H
#define UBINFMT_SETUP_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* The file handling of `ubinfmt setup`: whole files read, written atomically, compared. */

/* A file's bytes, or that it does not exist. */
struct blob {
	char *data;
	size_t len;
	bool exists;
	struct stat st;
};

void blob_clear(struct blob *b);
bool blob_equal(const struct blob *a, const struct blob *b);

/*
 * Reads PATH whole into *ret (ret->exists false when there is no such file).  -ELOOP for a
 * symlink, -EINVAL for anything but a regular file, -EFBIG past SETUP_FILE_MAX bytes.
 */
int blob_read(const char *path, struct blob *ret);

/* Replaces PATH atomically (a temporary file beside it, fsync, rename) with b's bytes, mode, owner. */
int blob_write(const char *path, const struct blob *b);

/* a, b and c (may be NULL) one after the other into buf; -ENAMETOOLONG when it does not fit. */
int setup_join(char *buf, size_t size, const char *a, const char *b, const char *c);

/*
 * Creates the missing directories of PATH's parent below ROOT (0755), appending each one it made,
 * relative to ROOT, as a line to *created (malloc'd).
 */
int setup_make_parents(const char *root, const char *path, char **created);

#endif
