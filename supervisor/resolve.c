/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "macros.h"
#include "resolve.h"

#define RESOLVE_MAX_SYMLINKS 40 /* the kernel's MAXSYMLINKS */

int resolve_view_open(pid_t tid, struct target_view *ret)
{
	char path[64];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/root", (int)tid);
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : negative_errno();
	if (fstat(fd, &st) < 0) {
		int r = negative_errno();
		close(fd);
		return r;
	}
	*ret = (struct target_view){
		.tid = tid,
		.root_fd = fd,
		.cwd_fd = -1,
		.root_dev = st.st_dev,
		.root_ino = st.st_ino,
	};
	return 0;
}

void resolve_view_borrow(pid_t tid, int root_fd, dev_t root_dev, ino_t root_ino, struct target_view *ret)
{
	*ret = (struct target_view){
		.tid = tid,
		.root_fd = root_fd,
		.root_borrowed = true,
		.cwd_fd = -1,
		.root_dev = root_dev,
		.root_ino = root_ino,
	};
}

void resolve_view_close(struct target_view *v)
{
	if (v->root_fd >= 0 && !v->root_borrowed)
		close(v->root_fd);
	if (v->cwd_fd >= 0)
		close(v->cwd_fd);
	v->root_fd = v->cwd_fd = -1;
}

static int view_cwd(struct target_view *v)
{
	char path[64];

	if (v->cwd_fd >= 0)
		return v->cwd_fd;
	snprintf(path, sizeof(path), "/proc/%d/cwd", (int)v->tid);
	v->cwd_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (v->cwd_fd < 0)
		return errno == ENOENT ? -ESRCH : negative_errno();
	return v->cwd_fd;
}

static int openat2_path(int dirfd, const char *path, uint64_t resolve)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = resolve,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

	return fd < 0 ? negative_errno() : fd;
}

static bool is_root(const struct target_view *v, int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && st.st_dev == v->root_dev && st.st_ino == v->root_ino;
}

static bool is_procfs(int fd)
{
	struct statfs sfs;

	return fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
}

/* Replaces *cur with next (owned), closing the old one. */
static void step_to(int *cur, int next)
{
	if (*cur >= 0)
		close(*cur);
	*cur = next;
}

/*
 * /proc/self and /proc/thread-self name the reader: read by the supervisor they would name the
 * supervisor.  Give the target's own directory instead, from the supervisor's procfs.
 */
static int open_proc_self(const struct target_view *v, bool thread)
{
	char path[64];
	int fd;

	if (thread)
		snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)v->tid, (int)v->tid);
	else
		snprintf(path, sizeof(path), "/proc/%d", (int)v->tid);
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? negative_errno() : fd;
}

/*
 * The slow walk, one component at a time: needed when the fast openat2 gave up because the
 * path crosses a mount (procfs, /dev) or a magic link.  buf holds the unresolved rest of the
 * path; symlink targets are spliced in front of it.
 */
/*
 * With a check, every directory the walk looks a component up in (".", ".." and the
 * directories inside symlink targets included) must pass it first, as may_lookup does in the
 * kernel's own walk.
 */
static int check_dir(const struct resolve_search_check *check, int fd, struct stat *st, bool *st_valid)
{
	if (!check)
		return 0;
	if (!*st_valid) {
		if (fstat(fd, st) < 0)
			return negative_errno();
		*st_valid = true;
	}
	if (!S_ISDIR(st->st_mode))
		return 0; /* the lookup itself fails with ENOTDIR */
	int r = check->may_search(check->ctx, st);
	return r < 0 ? r : r ? 0 : -EACCES;
}

static int walk(struct target_view *v, int start_fd, const char *path, bool follow_last,
		const struct resolve_search_check *check)
{
	char buf[2 * PATH_MAX + 2];
	char link[PATH_MAX + 1];
	_cleanup_close_ int cur = -1;
	unsigned links = 0;
	size_t pos = 0;
	struct stat cur_st;
	bool cur_st_valid = false;
	int r;

	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	strcpy(buf, path);
	cur = fcntl(buf[0] == '/' ? v->root_fd : start_fd, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return negative_errno();

	for (;;) {
		while (buf[pos] == '/')
			pos++;
		if (buf[pos] == '\0')
			return TAKE_FD(cur);

		char *comp = buf + pos;
		size_t len = strcspn(comp, "/");
		bool last = comp[len] == '\0' || comp[len + strspn(comp + len, "/")] == '\0';
		char saved = comp[len];
		size_t next = pos + len;
		int fd;

		if (len > NAME_MAX)
			return -ENAMETOOLONG;
		r = check_dir(check, cur, &cur_st, &cur_st_valid);
		if (r < 0)
			return r;
		comp[len] = '\0';

		if (strcmp(comp, ".") == 0) {
			comp[len] = saved;
			pos = next;
			continue;
		}
		if (strcmp(comp, "..") == 0) {
			comp[len] = saved;
			pos = next;
			if (is_root(v, cur))
				continue;
			fd = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0)
				return negative_errno();
			step_to(&cur, fd);
			cur_st_valid = false;
			continue;
		}

		fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return negative_errno();

		struct stat st;
		if (fstat(fd, &st) < 0) {
			r = negative_errno();
			close(fd);
			return r;
		}

		if (S_ISLNK(st.st_mode) && (!last || follow_last)) {
			if (++links > RESOLVE_MAX_SYMLINKS) {
				close(fd);
				return -ELOOP;
			}
			if (is_procfs(cur)) {
				/* self/thread-self, or a magic link the kernel resolves for us. */
				close(fd);
				if (strcmp(comp, "self") == 0 || strcmp(comp, "thread-self") == 0) {
					fd = open_proc_self(v, comp[0] == 't');
				} else {
					fd = openat(cur, comp, O_PATH | O_CLOEXEC);
					if (fd < 0)
						fd = negative_errno();
				}
				if (fd < 0)
					return fd;
				comp[len] = saved;
				pos = next;
				step_to(&cur, fd);
				cur_st_valid = false;
				continue;
			}
			ssize_t n = readlinkat(fd, "", link, sizeof(link));
			close(fd);
			if (n < 0)
				return negative_errno();
			if ((size_t)n >= sizeof(link))
				return -ENAMETOOLONG;
			link[n] = '\0';
			comp[len] = saved;
			/* New unresolved rest: link target, '/', what followed the component. */
			size_t rest = strlen(buf + next);
			if ((size_t)n + 1 + rest + 1 > sizeof(buf))
				return -ENAMETOOLONG;
			memmove(buf + n + 1, buf + next, rest + 1);
			memcpy(buf, link, (size_t)n);
			buf[n] = '/';
			pos = 0;
			if (link[0] == '/') {
				fd = fcntl(v->root_fd, F_DUPFD_CLOEXEC, 3);
				if (fd < 0)
					return negative_errno();
				step_to(&cur, fd);
				cur_st_valid = false;
			}
			continue;
		}

		comp[len] = saved;
		pos = next;
		if (!last && !S_ISDIR(st.st_mode)) {
			close(fd);
			return -ENOTDIR;
		}
		step_to(&cur, fd);
		cur_st = st;
		cur_st_valid = true;
	}
}

int resolve_path(struct target_view *v, int start_fd, const char *path, bool follow_last)
{
	uint64_t how;
	int dirfd, fd;

	if (path[0] == '\0')
		return -ENOENT;
	if (start_fd < 0 && path[0] != '/') {
		start_fd = view_cwd(v);
		if (start_fd < 0)
			return start_fd;
	}

	/*
	 * Fast path: one openat2 that refuses what it cannot do the way the target would see it —
	 * a magic link, a ".." above a relative start, and where the path names procfs's self or
	 * thread-self (which name the reader) crossing any mount.  Those fall back to the walk.
	 * Other mount crossings are the target's own mounts, seen through its root: nothing in
	 * procfs that the fast path can reach without a magic link or "self" is executable, and
	 * resolve_open_regular refuses files without an x bit unread.  The fast path always
	 * follows the last symlink.
	 */
	if (follow_last) {
		how = RESOLVE_NO_MAGICLINKS;
		if (strstr(path, "self"))
			how |= RESOLVE_NO_XDEV;
		if (path[0] == '/') {
			dirfd = v->root_fd;
			how |= RESOLVE_IN_ROOT;
		} else {
			dirfd = start_fd;
			how |= RESOLVE_BENEATH;
		}
		fd = openat2_path(dirfd, path, how);
		/*
		 * A symlink into procfs (/dev/fd, /dev/stdin) names self too, which a supervisor
		 * outside the target's pid namespace cannot see: ENOENT.  Asked again without
		 * crossing mounts, such a path gives EXDEV and takes the walk; a real miss stays one.
		 */
		if (fd == -ENOENT && !(how & RESOLVE_NO_XDEV))
			fd = openat2_path(dirfd, path, how | RESOLVE_NO_XDEV);
		if (fd >= 0 || (fd != -EXDEV && fd != -ELOOP && fd != -EAGAIN && fd != -ENOSYS))
			return fd;
	}
	return walk(v, path[0] == '/' ? v->root_fd : start_fd, path, follow_last, NULL);
}

int resolve_check_search(struct target_view *v, int start_fd, const char *path,
			 const struct resolve_search_check *check)
{
	int fd;

	if (path[0] == '\0')
		return 0;
	if (start_fd < 0 && path[0] != '/') {
		start_fd = view_cwd(v);
		if (start_fd < 0)
			return 0; /* the kernel answers for a task without a cwd */
	}
	fd = walk(v, path[0] == '/' ? v->root_fd : start_fd, path, true, check);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	/* Refused by the check, or its own error; any other failure is the kernel's to report. */
	return fd == -EACCES || fd == -ESRCH ? fd : 0;
}

/* Our /proc/self/fd, opened once (resolve_init) before any thread could race for it. */
static int self_fd_dir = -1;

void resolve_init(void)
{
	if (self_fd_dir < 0)
		self_fd_dir = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
}

int resolve_open_regular(int path_fd, struct stat *ret_st)
{
	char path[64];
	struct stat st;
	int fd;

	if (fstat(path_fd, &st) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode))
		return -EACCES;
	/*
	 * Without any x bit no one may exec it, root included: the kernel's EACCES, and no read
	 * (reading /proc/kmsg, say, would consume the kernel's log).
	 */
	if (!(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
		return -EACCES;
	/*
	 * Reopening through our own fd table cannot be redirected by the sandbox, and opens the
	 * very inode just checked (a path could have been swapped for a device meanwhile).  The
	 * directory /proc/self/fd is kept open: one lookup per exec instead of four.
	 */
	snprintf(path, sizeof(path), "%d", path_fd);
	if (self_fd_dir >= 0)
		fd = openat(self_fd_dir, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	else {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", path_fd);
		fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	}
	if (fd < 0)
		return negative_errno();
	*ret_st = st;
	return fd;
}
