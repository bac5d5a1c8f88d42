/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macros.h"
#include "setup_edit.h"
#include "setup_files.h"

void blob_clear(struct blob *b)
{
	free(b->data);
	*b = (struct blob){ 0 };
}

bool blob_equal(const struct blob *a, const struct blob *b)
{
	return a->exists == b->exists && a->len == b->len && (!a->len || memcmp(a->data, b->data, a->len) == 0);
}

int setup_join(char *buf, size_t size, const char *a, const char *b, const char *c)
{
	int n = snprintf(buf, size, "%s%s%s", a, b, c ? c : "");

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/*
 * Reads PATH whole.  Trusts nothing of it: a symlink is refused (setup would replace the link
 * with a file), so is anything but a regular file or one over SETUP_FILE_MAX bytes.
 */
int blob_read(const char *path, struct blob *ret)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	struct blob b = { 0 };
	size_t got = 0;

	if (fd < 0 && errno == ENOENT) {
		*ret = b;
		return 0;
	}
	if (fd < 0)
		return negative_errno();
	if (fstat(fd, &b.st) < 0)
		return negative_errno();
	if (!S_ISREG(b.st.st_mode))
		return -EINVAL;
	if ((uint64_t)b.st.st_size > SETUP_FILE_MAX)
		return -EFBIG;
	b.data = malloc((size_t)b.st.st_size + 1);
	if (!b.data)
		return -ENOMEM;
	while (got < (size_t)b.st.st_size) {
		ssize_t n = read(fd, b.data + got, (size_t)b.st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int r = n < 0 ? negative_errno() : -EIO;
			free(b.data);
			return r;
		}
		got += (size_t)n;
	}
	b.data[got] = '\0';
	b.len = got;
	b.exists = true;
	*ret = b;
	return 0;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Replaces PATH atomically (temporary file beside it, fsync, rename) with DATA, MODE, owner. */
static int write_atomic(const char *path, const char *data, size_t len, mode_t mode, uid_t uid, gid_t gid)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	_cleanup_close_ int fd = -1, dfd = -1;
	int r;

	if (setup_join(dir, sizeof(dir), path, "", NULL) < 0 ||
	    setup_join(tmp, sizeof(tmp), path, ".ubinfmt-XXXXXX", NULL) < 0)
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	r = write_all(fd, data, len);
	if (r >= 0 && (fchmod(fd, mode & 07777) < 0 || fchown(fd, uid, gid) < 0 || fsync(fd) < 0))
		r = negative_errno();
	if (r >= 0 && rename(tmp, path) < 0)
		r = negative_errno();
	if (r < 0) {
		(void)unlink(tmp);
		return r;
	}
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		(void)fsync(dfd);
	return 0;
}

int blob_write(const char *path, const struct blob *b)
{
	return write_atomic(path, b->data ? b->data : "", b->len, b->st.st_mode, b->st.st_uid, b->st.st_gid);
}

/*
 * Creates the missing directories of PATH's parent below the root (0755), and appends each one
 * it made, relative to the root, to *created (a list of lines), for the undo to remove.
 */
int setup_make_parents(const char *root, const char *path, char **created)
{
	char buf[PATH_MAX];
	size_t skip = strlen(root);

	if (setup_join(buf, sizeof(buf), path, "", NULL) < 0)
		return -ENAMETOOLONG;
	for (char *p = buf + skip + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(buf, 0755) == 0) {
			char *grown = NULL;
			if (asprintf(&grown, "%s%s\n", *created ? *created : "", buf + skip) < 0)
				return -ENOMEM;
			free(*created);
			*created = grown;
		} else if (errno != EEXIST) {
			return negative_errno();
		}
		*p = '/';
	}
	return 0;
}
