/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "classify.h"
#include "detect.h"
#include "io.h"
#include "macros.h"

/* runc's and Go's default when process.env has no PATH. */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define NAME_MAX_LEN 4096

enum arch rt_host_arch(void)
{
	struct utsname u;
	enum arch a;

	if (uname(&u) < 0 || arch_from_name(u.machine, &a) < 0)
		return ARCH_UNKNOWN;
	return a;
}

static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static const char *string_member(struct json_object *o, const char *key)
{
	struct json_object *v = member(o, key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* path as the container's process sees it: relative ones are relative to cwd. */
static int absolute(char *buf, size_t size, const char *cwd, const char *path)
{
	size_t c = strlen(cwd);
	int n = path[0] == '/'		     ? snprintf(buf, size, "%s", path)
		: c > 0 && cwd[c - 1] == '/' ? snprintf(buf, size, "%s%s", cwd, path)
					     : snprintf(buf, size, "%s/%s", cwd, path);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/*
 * An O_PATH fd for path inside the root, resolved as the container will see it: symlinks,
 * ".." and absolute links stay inside root; magic links are refused.
 */
static int open_in_root(int root_fd, const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));

	return fd < 0 ? negative_errno() : fd;
}

/*
 * The first bytes of a regular file found by open_in_root.  Never opens anything else: a FIFO
 * would block us, a device could do anything on open.
 */
static int read_head(int path_fd, uint8_t *buf, size_t size)
{
	char proc[64];
	struct stat st;
	_cleanup_close_ int fd = -1;

	if (fstat(path_fd, &st) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode))
		return -EACCES;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", path_fd);
	fd = open(proc, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return negative_errno();
	return (int)read_full(fd, buf, size);
}

/* Whether an executable regular file is at path in root (execvp's test). */
static bool executable_at(int root_fd, const char *path)
{
	_cleanup_close_ int fd = open_in_root(root_fd, path);
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

/* process.args[0] found as runc finds it: on the PATH of process.env when it has no '/'. */
static int find_entrypoint(int root_fd, struct json_object *process, const char *cwd, char *buf, size_t size)
{
	struct json_object *args = member(process, "args"), *env = member(process, "env"), *a0;
	const char *name, *path = DEFAULT_PATH;

	a0 = json_object_is_type(args, json_type_array) ? json_object_array_get_idx(args, 0) : NULL;
	if (!json_object_is_type(a0, json_type_string))
		return -ENOENT;
	name = json_object_get_string(a0);
	if (!*name || strlen(name) > NAME_MAX_LEN)
		return -ENOENT;
	if (strchr(name, '/'))
		return absolute(buf, size, cwd, name);

	for (size_t i = 0; json_object_is_type(env, json_type_array) && i < json_object_array_length(env); i++) {
		struct json_object *e = json_object_array_get_idx(env, i);
		if (json_object_is_type(e, json_type_string) && strncmp(json_object_get_string(e), "PATH=", 5) == 0)
			path = json_object_get_string(e) + 5;
	}
	for (const char *p = path;;) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);
		char dir[NAME_MAX_LEN + 1];

		if (len > 0 && len <= NAME_MAX_LEN) {
			memcpy(dir, p, len);
			dir[len] = '\0';
			if (absolute(buf, size, cwd, dir) == 0 && strlen(buf) + 1 + strlen(name) < size) {
				strcat(buf, "/");
				strcat(buf, name);
				if (executable_at(root_fd, buf))
					return 0;
			}
		}
		if (!colon)
			return -ENOENT;
		p = colon + 1;
	}
}

/*
 * The architecture that runs path: its own for an ELF, its interpreter's for a #! script
 * (followed up to the kernel's depth).  -ENOEXEC for anything else, -errno when a file of the
 * chain cannot be opened.
 */
static int arch_of(int root_fd, const char *path, const char *cwd, unsigned depth, enum arch *ret)
{
	uint8_t head[CLASSIFY_HEAD_SIZE];
	struct classification c;
	char interp[NAME_MAX_LEN + 1];
	_cleanup_close_ int fd = -1;
	int len, r;

	fd = open_in_root(root_fd, path);
	if (fd < 0)
		return fd;
	len = read_head(fd, head, sizeof(head));
	if (len < 0)
		return len;
	r = classify(head, (size_t)len, &c);
	if (r < 0)
		return r;
	switch (c.kind) {
	case FILE_KIND_ELF:
		*ret = c.elf.arch;
		return 0;
	case FILE_KIND_SCRIPT:
		if (depth + 1 > SHEBANG_MAX_DEPTH)
			return -ELOOP;
		/* The kernel opens the interpreter relative to the caller's cwd, as we do. */
		if (!c.script.interp[0] || absolute(interp, sizeof(interp), cwd, c.script.interp) < 0)
			return -ENOEXEC;
		return arch_of(root_fd, interp, cwd, depth + 1, ret);
	case FILE_KIND_OTHER:
	case FILE_KIND_MAX:
		break;
	}
	return -ENOEXEC;
}

/* Served by an emulator ubinfmtd may pick: not this machine's, not x32 (no qemu runs it). */
static bool is_foreign(enum arch a, enum arch host)
{
	return a != ARCH_UNKNOWN && a != host && a != ARCH_X32;
}

/*
 * Trust boundary: root.path and process come from config.json, the files from the image.
 * Paths are bounded; every file is resolved inside the root (openat2 RESOLVE_IN_ROOT, no magic
 * links), read only when it is a regular file, and at most CLASSIFY_HEAD_SIZE bytes of it.
 */
int rt_detect_foreign(int bundle_fd, struct json_object *config, enum arch host, struct rt_detect *ret)
{
	struct json_object *process = member(config, "process");
	const char *root = string_member(member(config, "root"), "path");
	const char *cwd = string_member(process, "cwd");
	char entry[NAME_MAX_LEN + 1];
	struct rt_detect d = { .arch = ARCH_UNKNOWN };
	_cleanup_close_ int root_fd = -1;
	enum arch a;

	if (!root || !*root)
		return -ENOENT;
	if (!cwd || cwd[0] != '/' || strlen(cwd) > NAME_MAX_LEN)
		cwd = "/";
	root_fd = openat(bundle_fd, root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return negative_errno();

	if (find_entrypoint(root_fd, process, cwd, entry, sizeof(entry)) == 0 &&
	    arch_of(root_fd, entry, cwd, 0, &a) == 0) {
		snprintf(d.what, sizeof(d.what), "%.200s: %s", entry, arch_name(a));
		if (is_foreign(a, host)) {
			d.foreign = true;
			d.arch = a;
			*ret = d;
			return 0;
		}
	}
	if (arch_of(root_fd, "/bin/sh", "/", 0, &a) == 0) {
		size_t n = strlen(d.what);
		snprintf(d.what + n, sizeof(d.what) - n, "%s/bin/sh: %s", n ? ", " : "", arch_name(a));
		if (is_foreign(a, host)) {
			d.foreign = true;
			d.arch = a;
		}
	}
	*ret = d;
	return 0;
}
