/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bundle I/O: reading config.json and replacing it atomically.  The bundle is the engine's,
 * written for this very command: no other writer is expected while we work, and a crash
 * between the write and the rename leaves config.json as the engine wrote it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "io.h"
#include "macros.h"

static int read_all(int fd, size_t size, char **ret)
{
	_cleanup_free_ char *buf = malloc(size + 1);
	ssize_t len;

	if (!buf)
		return -ENOMEM;
	len = read_full(fd, buf, size + 1);
	if (len < 0)
		return (int)len;
	/* More than expected: someone else is writing the file. */
	if ((size_t)len > size)
		return -EBUSY;
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	return (int)len;
}

static struct json_object *parse(const char *text, size_t len, char *reason, size_t reason_size)
{
	struct json_tokener *tok = json_tokener_new_ex(RT_BUNDLE_JSON_DEPTH);
	struct json_object *o;
	enum json_tokener_error err;

	if (!tok) {
		snprintf(reason, reason_size, "out of memory");
		return NULL;
	}
	/* What runc's Go decoder refuses, we refuse too: no comments, no trailing commas. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, text, (int)len);
	err = json_tokener_get_error(tok);
	if (o && err == json_tokener_success && json_tokener_get_parse_end(tok) < len) {
		/* Only blanks may follow the document. */
		for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
			if (!strchr(" \t\r\n", text[i])) {
				json_object_put(o);
				o = NULL;
				snprintf(reason, reason_size, "more after the JSON document (byte %zu)", i);
				break;
			}
	} else if (!o || err != json_tokener_success) {
		json_object_put(o);
		o = NULL;
		snprintf(reason, reason_size, "%s at byte %zu",
			 err == json_tokener_continue ? "the JSON ends early" : json_tokener_error_desc(err),
			 json_tokener_get_parse_end(tok));
	}
	json_tokener_free(tok);
	return o;
}

/* Splits "dir/name" into an fd for dir (relative to base) and name. */
static int open_parent(int base, const char *path, int *ret_fd, char **ret_name)
{
	const char *slash = strrchr(path, '/');
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int fd = -1;

	if (!slash) {
		fd = fcntl(base, F_DUPFD_CLOEXEC, 3);
	} else {
		if (!slash[1])
			return -EISDIR;
		dir = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
		if (!dir)
			return -ENOMEM;
		fd = openat(base, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return negative_errno();
	*ret_name = strdup(slash ? slash + 1 : path);
	if (!*ret_name)
		return -ENOMEM;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int rt_bundle_open(const char *bundle, const char *config, struct rt_bundle *ret, char *reason, size_t reason_size)
{
	struct rt_bundle b = { .dir_fd = -1, .config_dir_fd = -1 };
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *text = NULL;
	struct stat st;
	int r, len;

	reason[0] = '\0';
	b.dir_fd = open(bundle ? bundle : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (b.dir_fd < 0) {
		r = negative_errno();
		snprintf(reason, reason_size, "cannot open the bundle directory");
		return r;
	}
	r = open_parent(b.dir_fd, config ? config : "config.json", &b.config_dir_fd, &b.config_name);
	if (r < 0) {
		snprintf(reason, reason_size, "cannot open the directory of %s", config ? config : "config.json");
		goto fail;
	}
	fd = openat(b.config_dir_fd, b.config_name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = negative_errno();
		snprintf(reason, reason_size, "cannot read %s", b.config_name);
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > RT_BUNDLE_CONFIG_MAX) {
		r = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
		snprintf(reason, reason_size, "%s is %s", b.config_name,
			 S_ISREG(st.st_mode) ? "larger than 16 MiB" : "not a regular file");
		goto fail;
	}
	/* The size it has now, and a page more: read_all sees it if the file grows meanwhile. */
	len = read_all(fd, MIN((size_t)st.st_size + 4096, (size_t)RT_BUNDLE_CONFIG_MAX), &text);
	if (len < 0) {
		r = len;
		snprintf(reason, reason_size, "cannot read %s", b.config_name);
		goto fail;
	}
	b.config = parse(text, (size_t)len, reason, reason_size);
	if (!b.config) {
		r = -EPROTO;
		goto fail;
	}
	b.mode = st.st_mode & 07777;
	b.uid = st.st_uid;
	b.gid = st.st_gid;
	*ret = b;
	return 0;
fail:
	rt_bundle_close(&b);
	return r;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A new file next to config.json that nobody else can have made: O_EXCL on a random name. */
static int create_temp(int dir_fd, const char *name, char *tmp, size_t size)
{
	for (int tries = 0; tries < 16; tries++) {
		uint64_t r = 0;
		int fd;

		if (getrandom(&r, sizeof(r), GRND_INSECURE) != (ssize_t)sizeof(r))
			r = ((uint64_t)getpid() << 20) ^ (uint64_t)tries;
		snprintf(tmp, size, ".%.200s.ubinfmt-%016llx", name, (unsigned long long)r);
		fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : negative_errno();
	}
	return -EEXIST;
}

int rt_bundle_write(struct rt_bundle *b)
{
	char tmp[256];
	const char *text;
	size_t len;
	_cleanup_close_ int fd = -1;
	int r;

	text = json_object_to_json_string_length(b->config, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
						 &len);
	if (!text)
		return -ENOMEM;
	fd = create_temp(b->config_dir_fd, b->config_name, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	r = write_all(fd, text, len);
	if (r == 0 && fchmod(fd, b->mode) < 0)
		r = negative_errno();
	/* A rootless engine's files are its user's: keep them so when we may (we usually are that user). */
	if (r == 0 && (b->uid != geteuid() || b->gid != getegid()) && fchown(fd, b->uid, b->gid) < 0 && errno != EPERM)
		r = negative_errno();
	if (r == 0 && fsync(fd) < 0)
		r = negative_errno();
	if (r == 0 && renameat(b->config_dir_fd, tmp, b->config_dir_fd, b->config_name) < 0)
		r = negative_errno();
	if (r < 0)
		(void)unlinkat(b->config_dir_fd, tmp, 0);
	return r;
}

void rt_bundle_close(struct rt_bundle *b)
{
	if (b->dir_fd >= 0)
		close(b->dir_fd);
	if (b->config_dir_fd >= 0)
		close(b->config_dir_fd);
	free(b->config_name);
	json_object_put(b->config);
	*b = (struct rt_bundle){ .dir_fd = -1, .config_dir_fd = -1 };
}
