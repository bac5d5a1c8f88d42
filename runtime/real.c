/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macros.h"
#include "parse.h"
#include "real.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define CANDIDATE_MAX 4096

size_t rt_identity_parse(const char *s, struct rt_identity *out, size_t max)
{
	size_t n = 0;

	while (s && *s && n < max) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		char item[64], *colon;
		uint64_t dev, ino;

		if (len < sizeof(item)) {
			memcpy(item, s, len);
			item[len] = '\0';
			colon = strchr(item, ':');
			if (colon) {
				*colon = '\0';
				if (parse_u64(item, &dev) == 0 && parse_u64(colon + 1, &ino) == 0)
					out[n++] = (struct rt_identity){ .dev = (dev_t)dev, .ino = (ino_t)ino };
			}
		}
		if (!comma)
			break;
		s = comma + 1;
	}
	return n;
}

static bool same(struct rt_identity a, struct rt_identity b)
{
	return a.dev == b.dev && a.ino == b.ino;
}

void rt_identity_format(char *buf, size_t size, const struct rt_identity *ids, size_t n, struct rt_identity self)
{
	size_t len = 0, first = 0;
	bool have = false;

	for (size_t i = 0; i < n; i++)
		have = have || same(ids[i], self);
	/* Keep the newest RT_VISITED_MAX, self included. */
	if (n + !have > RT_VISITED_MAX)
		first = n + !have - RT_VISITED_MAX;
	if (size > 0)
		buf[0] = '\0';
	for (size_t i = first; i <= n && size > 0; i++) {
		struct rt_identity id;
		int w;

		if (i == n && have)
			break;
		id = i < n ? ids[i] : self;
		w = snprintf(buf + len, size - len, "%s%" PRIu64 ":%" PRIu64, len ? "," : "", (uint64_t)id.dev,
			     (uint64_t)id.ino);
		if (w < 0 || (size_t)w >= size - len) {
			buf[len] = '\0';
			break;
		}
		len += (size_t)w;
	}
}

int rt_self_identity(struct rt_identity *ret)
{
	struct stat st;

	if (stat("/proc/self/exe", &st) < 0)
		return negative_errno();
	*ret = (struct rt_identity){ .dev = st.st_dev, .ino = st.st_ino };
	return 0;
}

/* 1: an executable regular file that is not one of skip[]; 0: not usable; -ELOOP: one of skip[]. */
static int usable(const char *path, const struct rt_identity *skip, size_t n_skip)
{
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		return 0;
	for (size_t i = 0; i < n_skip; i++)
		if (same(skip[i], (struct rt_identity){ .dev = st.st_dev, .ino = st.st_ino }))
			return -ELOOP;
	return access(path, X_OK) == 0 ? 1 : 0;
}

int rt_real_find(const char *runtime, const char *path_env, const struct rt_identity *skip, size_t n_skip,
		 char **ret_path)
{
	bool skipped = false;
	char *copy;

	if (strchr(runtime, '/')) {
		int r = usable(runtime, skip, n_skip);
		if (r <= 0)
			return r < 0 ? r : -ENOENT;
		copy = strdup(runtime);
		if (!copy)
			return -ENOMEM;
		*ret_path = copy;
		return 0;
	}

	if (!path_env || !*path_env)
		path_env = DEFAULT_PATH;
	for (const char *p = path_env;;) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);
		char candidate[CANDIDATE_MAX];

		/* Empty or relative entries mean the cwd, which is the bundle: never look there. */
		if (len > 0 && p[0] == '/' && len + 1 + strlen(runtime) < sizeof(candidate)) {
			int r;

			/* The length was checked above. */
			memcpy(candidate, p, len);
			candidate[len] = '/';
			strcpy(candidate + len + 1, runtime);
			r = usable(candidate, skip, n_skip);
			if (r > 0) {
				copy = strdup(candidate);
				if (!copy)
					return -ENOMEM;
				*ret_path = copy;
				return 0;
			}
			skipped = skipped || r == -ELOOP;
		}
		if (!colon)
			break;
		p = colon + 1;
	}
	return skipped ? -ELOOP : -ENOENT;
}
