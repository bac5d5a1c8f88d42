/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "comm.h"

static int comm_from_component(const char *name, size_t len, char ret[COMM_NAME_MAX + 1])
{
	if (len == 0 || (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return -EINVAL;
	if (len > COMM_NAME_MAX)
		len = COMM_NAME_MAX;
	memcpy(ret, name, len);
	ret[len] = '\0';
	return 0;
}

int comm_from_path(const char *path, char ret[COMM_NAME_MAX + 1])
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;

	return comm_from_component(name, strlen(name), ret);
}

int comm_from_fd_link(const char *link, bool unlinked, char ret[COMM_NAME_MAX + 1])
{
	static const char deleted[] = " (deleted)";
	const char *slash = strrchr(link, '/');
	const char *name = slash ? slash + 1 : link;
	size_t len = strlen(name);

	if (unlinked && len >= sizeof(deleted) - 1 && strcmp(name + len - (sizeof(deleted) - 1), deleted) == 0)
		len -= sizeof(deleted) - 1;
	return comm_from_component(name, len, ret);
}
