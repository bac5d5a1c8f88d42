/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "hostbinfmt.h"
#include "io.h"
#include "macros.h"

int hostbinfmt_load(const char *dir, struct hostbinfmt *ret)
{
	_cleanup_close_ int dfd = -1;
	/* An entry with a 256-byte magic and mask is over 1 KiB of hex, plus its interpreter. */
	char buf[4096];
	DIR *d;
	struct dirent *de;
	int n;

	ret->n = 0;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return 0;
	n = read_small_at(dfd, "status", buf, sizeof(buf));
	if (n < 0 || strncmp(buf, "enabled", 7) != 0)
		return 0; /* not mounted (no status file) or switched off */

	int dup_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
	if (dup_fd < 0)
		return negative_errno();
	d = fdopendir(dup_fd);
	if (!d) {
		close(dup_fd);
		return negative_errno();
	}
	while ((de = readdir(d)) && ret->n < HOSTBINFMT_MAX) {
		struct hostbinfmt_entry e;
		if (de->d_name[0] == '.' || strcmp(de->d_name, "status") == 0 || strcmp(de->d_name, "register") == 0)
			continue;
		n = read_small_at(dfd, de->d_name, buf, sizeof(buf));
		if (n < 0 || hostbinfmt_parse_entry(buf, (size_t)n, &e) < 0)
			continue;
		if (e.enabled && e.is_magic)
			ret->entries[ret->n++] = e;
	}
	closedir(d);
	return (int)ret->n;
}
