/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "macros.h"
#include "procaccess.h"
#include "procfs.h"
#include "resolve.h"

#define RESOLVE_MAX_SYMLINKS 40 /* the kernel's MAXSYMLINKS */
#define PROC_ROOT_INO 1		/* the root directory of every procfs instance */
/* From a magic link's directory up to its procfs's root: /proc/PID/task/TID/fd is 4 levels down. */
#define PROCFS_MAX_CLIMB 4
/* /proc/PID/status: its Groups: line may hold 65536 numbers (see perm_read.c). */
#define STATUS_MAX (1u << 20)
#define NS_LINK_MAX 64 /* "user:[4026531837]" */

/* Our own user namespace, as the text of /proc/self/ns/user (resolve_init); "" if unknown. */
static char self_userns[NS_LINK_MAX];
/* The device of our /proc, of our own pid namespace (resolve_init); 0 if unknown. */
static dev_t self_proc_dev;

static bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

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

/* ---- procfs, as the task sees it ---------------------------------------------------------- */

/*
 * The kernel's walk of procfs differs from a walk of other file systems in three ways, and the
 * supervisor, walking with its own identity and privileges, must redo each for the task:
 *   - self and thread-self read as the reader's ids in the pid namespace of that procfs
 *     instance: the task's, never the supervisor's own /proc/TID (whose ".." would then lead
 *     to the supervisor's procfs, and whose task/N would be numbered in its pid namespace);
 *   - magic links (root, cwd, exe, fd/N, ns/X, map_files/X of a process) jump to that process's
 *     objects, but only for a caller that may ptrace-read it;
 *   - any other link (mounts, net: "self/…") is text, to be resolved like any symlink.
 * So every object the walk reaches is one the task reaches: objects of the task's procfs
 * instance (numbered in its namespace), or those its magic links lead to, and ".." from any of
 * them stays in the task's mount tree.
 */

/*
 * What a walk learns of the task, each at most once: its status and user namespace (from our
 * own procfs, by its tid), and its ids in the pid namespace of the procfs instance met last.
 */
struct walk_task {
	pid_t tid;
	int status_state; /* 0: not read yet, 1: read, < 0: -errno */
	struct proc_status status;
	char userns[NS_LINK_MAX]; /* the text of its ns/user link; "" until read */
	bool ids_known;		  /* tgid and tid (or ids_err) are for the procfs on ids_dev */
	dev_t ids_dev;
	int ids_err;
	pid_t tgid, tid_there;
	bool own_link; /* the magic link may_follow_magic let it follow last is its own process's */
};

static int task_status(struct walk_task *t)
{
	_cleanup_free_ char *text = NULL;
	int n;

	if (t->status_state != 0)
		return t->status_state < 0 ? t->status_state : 0;
	n = procfs_read_all(t->tid, "status", STATUS_MAX, &text);
	if (n < 0)
		t->status_state = n;
	else
		t->status_state = procaccess_parse_status(text, (size_t)n, &t->status) < 0 ? -EIO : 1;
	return t->status_state < 0 ? t->status_state : 0;
}

static int task_userns(struct walk_task *t)
{
	char path[64];
	ssize_t n;

	if (t->userns[0])
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)t->tid);
	n = readlink(path, t->userns, sizeof(t->userns) - 1);
	if (n < 0)
		return errno == ENOENT ? -ESRCH : negative_errno();
	t->userns[n] = '\0';
	return 0;
}

/*
 * An O_PATH fd of path under dirfd, the link itself if it is one, reached without crossing a
 * mount or following a link: what a sandbox mounted over a file of its procfs is refused
 * (-EXDEV), so what this opens is the kernel's own entry.
 */
static int open_beneath(int dirfd, const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

	return fd < 0 ? negative_errno() : fd;
}

/* The text of the symlink open as fd (O_PATH|O_NOFOLLOW), NUL-terminated: its length or -errno. */
static int link_text(int fd, char *buf, size_t size)
{
	ssize_t n = readlinkat(fd, "", buf, size);

	if (n < 0)
		return negative_errno();
	if ((size_t)n >= size)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return (int)n;
}

/* The text of the link path under dirfd (open_beneath's rules): its length or -errno. */
static int link_text_beneath(int dirfd, const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = open_beneath(dirfd, path);

	return fd < 0 ? fd : link_text(fd, buf, size);
}

/*
 * The root of the procfs instance that dir is in, climbing "..".  -EPERM when it is out of
 * reach: dir is in a bind mount of a part of a procfs, whose ".." leaves that procfs.  (A bind
 * mount within the instance itself leads to the same root: one instance, one pid namespace.)
 */
static int procfs_root(int dir)
{
	_cleanup_close_ int cur = fcntl(dir, F_DUPFD_CLOEXEC, 3);
	struct stat st, up_st;

	if (cur < 0 || fstat(cur, &st) < 0)
		return negative_errno();
	for (int climbed = 0; st.st_ino != PROC_ROOT_INO; climbed++) {
		if (climbed == PROCFS_MAX_CLIMB)
			return -EPERM;
		int up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (up < 0)
			return negative_errno();
		step_to(&cur, up);
		if (fstat(cur, &up_st) < 0)
			return negative_errno();
		if (up_st.st_dev != st.st_dev)
			return -EPERM;
		st = up_st;
	}
	return TAKE_FD(cur);
}

/*
 * How many levels above the task's own pid namespace the one with inode number ino is: 0 for
 * its own, climbing with NS_GET_PARENT up to ours at most.  -ENOENT if it is none of those.
 */
static int pidns_depth(pid_t tid, uint64_t ino)
{
	char path[64];
	struct stat st;
	_cleanup_close_ int ns = -1;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)tid);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return errno == ENOENT ? -ESRCH : negative_errno();
	for (int depth = 0; depth < PROC_PIDNS_LEVELS; depth++) {
		if (fstat(ns, &st) < 0)
			return negative_errno();
		if ((uint64_t)st.st_ino == ino)
			return depth;
		int parent = ioctl(ns, NS_GET_PARENT);
		if (parent < 0)
			return errno == EPERM ? -ENOENT : negative_errno(); /* above ours */
		step_to(&ns, parent);
	}
	return -ENOENT;
}

/*
 * The task's ids as the procfs instance of dir numbers them (what its self and thread-self
 * read for the task), from its NStgid: and NSpid: lines, which run from our pid namespace
 * down to its own: the first ids for our own procfs; for another instance, those of its pid
 * namespace's depth among the task's.  That namespace is the one of the instance's pid 1 (pid 1
 * of a namespace lives in it), named by that process's ns/pid link.  -ENOENT when the task is
 * not in that namespace as far as the supervisor sees (the kernel's own ENOENT for self, or a
 * namespace above ours: the kernel's to answer either way); -EPERM when it cannot be told.
 */
static int find_task_ids(struct walk_task *t, int dir)
{
	_cleanup_close_ int root = procfs_root(dir);
	char link[NS_LINK_MAX];
	struct stat st;
	uint64_t ino;
	int depth, r;

	if (root < 0)
		return root;
	r = task_status(t);
	if (r < 0)
		return r;
	if (t->status.n_levels == 0 || fstat(root, &st) < 0)
		return -EPERM; /* no NStgid: line (before Linux 4.1) */
	if (self_proc_dev && st.st_dev == self_proc_dev)
		depth = (int)t->status.n_levels - 1;
	else {
		r = link_text_beneath(root, "1/ns/pid", link, sizeof(link));
		if (r < 0)
			return r == -ENOENT ? -ENOENT : -EPERM;
		if (procaccess_parse_ns_link(link, "pid", &ino) < 0)
			return -EPERM;
		depth = pidns_depth(t->tid, ino);
	}
	if (depth < 0)
		return depth;
	return procaccess_ids_at_depth(&t->status, (size_t)depth, &t->tgid, &t->tid_there);
}

/* find_task_ids, remembered for the procfs instance last asked about. */
static int task_ids_in(struct walk_task *t, int dir)
{
	struct stat st;

	if (fstat(dir, &st) < 0)
		return negative_errno();
	if (!t->ids_known || t->ids_dev != st.st_dev) {
		t->ids_err = find_task_ids(t, dir);
		t->ids_known = true;
		t->ids_dev = st.st_dev;
	}
	return t->ids_err;
}

/*
 * Whether the task may follow the magic link name in dir: the kernel lets a caller follow the
 * links of a process only if it may ptrace-read that process (proc_fd_access_allowed,
 * proc_ns_get_link…), and answers EACCES otherwise.  0: it may; -EACCES: it may not; -EPERM:
 * /proc does not tell (procaccess.h), so the supervisor does not decide.
 * Trusts of the sandbox's procfs only what the kernel writes there: the owner's status, the
 * owner of its environ and its ns/user link are opened without crossing a mount or a link
 * (a file mounted over them answers -EXDEV, hence -EPERM).  The task's own side comes from our
 * procfs.
 */
static int may_follow_magic(struct walk_task *t, int dir, const char *name)
{
	/*
	 * cwd, root and exe sit in a process's (or thread's) directory; fd/N, ns/X… one below,
	 * whose ".." must not cross a mount: over its own fd/, a sandbox could have mounted another
	 * process's, whose ".." would be its own directory again.
	 */
	bool top = streq(name, "cwd") || streq(name, "root") || streq(name, "exe");
	_cleanup_close_ int owner = top ? fcntl(dir, F_DUPFD_CLOEXEC, 3)
					: openat2_path(dir, "..", RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS);
	_cleanup_close_ int environ_fd = -1;
	_cleanup_free_ char *text = NULL;
	char userns[NS_LINK_MAX];
	struct proc_status target;
	struct stat env;
	int n, r;

	t->own_link = false;
	if (owner < 0)
		return top ? negative_errno() : -EPERM;
	n = procfs_read_all_at(owner, "status", STATUS_MAX, &text);
	if (n < 0 || procaccess_parse_status(text, (size_t)n, &target) < 0)
		return -EPERM;
	r = task_ids_in(t, owner);
	if (r == 0 && target.tgid == t->tgid) {
		t->own_link = true;
		return 0; /* its own thread group's: always */
	}
	if (r == -ESRCH)
		return r;
	r = task_status(t);
	if (r == 0)
		r = task_userns(t);
	if (r < 0)
		return r == -ESRCH ? r : -EPERM;
	environ_fd = open_beneath(owner, "environ");
	if (environ_fd < 0 || fstat(environ_fd, &env) < 0 ||
	    link_text_beneath(owner, "ns/user", userns, sizeof(userns)) < 0)
		return -EPERM;

	bool ours = self_userns[0] && streq(userns, self_userns);
	const struct proc_access_query q = {
		.caller = &t->status,
		.target = &target,
		.same_userns = streq(userns, t->userns),
		.target_in_our_userns = ours,
		.dumpable = procaccess_dumpable(&target, env.st_uid, env.st_gid, ours),
	};
	switch (procaccess_may_read(&q)) {
	case PROC_ACCESS_ALLOW:
		return 0;
	case PROC_ACCESS_DENY:
		return -EACCES;
	case PROC_ACCESS_UNSURE:
	default:
		return -EPERM;
	}
}

/*
 * Whether the procfs link name in dir is a magic one (nd_jump_link), which openat2 refuses
 * with ELOOP under RESOLVE_NO_MAGICLINKS: 1, 0, or -errno when the probe fails otherwise.  A
 * plain link (net: "self/net") is followed, here with our identity, only to see that it is one.
 */
static int is_magic_link(int dir, const char *name)
{
	int fd = openat2_path(dir, name, RESOLVE_NO_MAGICLINKS);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (fd == -ELOOP)
		return 1;
	return fd == -ENOENT || fd == -ENOTDIR ? 0 : fd; /* a plain link to nothing, for us */
}

/*
 * A symlink met in procfs (link_fd, O_PATH|O_NOFOLLOW, named name in dir), followed as the
 * kernel would for the task: self and thread-self (which only an instance's root has) read as
 * the task's ids there; a magic link jumps to its object, if the task may follow it; any other
 * link is text.  Returns the length of the text put in text; 0 with *ret_fd the object jumped
 * to; or -errno.
 */
static int procfs_link(struct walk_task *t, int dir, const char *name, int link_fd, char *text, size_t size,
		       int *ret_fd)
{
	bool self = streq(name, "self"), thread = streq(name, "thread-self");
	struct stat st;
	int r, fd;

	if (self || thread) {
		if (fstat(dir, &st) < 0)
			return negative_errno();
		if (st.st_ino == PROC_ROOT_INO) {
			r = task_ids_in(t, dir);
			if (r < 0)
				return r;
			if (thread)
				r = snprintf(text, size, "%d/task/%d", (int)t->tgid, (int)t->tid_there);
			else
				r = snprintf(text, size, "%d", (int)t->tgid);
			return r > 0 && (size_t)r < size ? r : -ENAMETOOLONG;
		}
	}
	r = is_magic_link(dir, name);
	if (r < 0)
		return -EPERM;
	if (r == 0)
		return link_text(link_fd, text, size);
	r = may_follow_magic(t, dir, name);
	if (r < 0)
		return r;
	fd = openat(dir, name, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	*ret_fd = fd;
	return 0;
}

/*
 * Whether the magic link name, of the task's own process, goes away with the task's exec: an
 * fd/N link (the only magic links named by a number) of an fd the exec closes.  Close-on-exec
 * is read in our procfs, from the fd table of the thread that execs, which is the one the exec
 * closes fds of.  (map_files/X links go away too, but following them takes CAP_SYS_ADMIN,
 * which the supervisor does not keep: such an exec is the kernel's.)
 */
static bool closed_by_exec(const struct walk_task *t, const char *name)
{
	char fdinfo[32], buf[512];
	const char *flags;

	if (name[0] < '0' || name[0] > '9' || strspn(name, "0123456789") != strlen(name) || strlen(name) > 10)
		return false;
	snprintf(fdinfo, sizeof(fdinfo), "fdinfo/%s", name);
	if (procfs_read(t->tid, fdinfo, buf, sizeof(buf)) <= 0)
		return false;
	flags = strstr(buf, "flags:");
	return flags && (strtoul(flags + 6, NULL, 8) & O_CLOEXEC);
}

/*
 * With a check, every directory the walk looks a component up in (".", ".." and the
 * directories inside symlink targets or reached by a magic link included) must pass it first,
 * as may_lookup does in the kernel's own walk.  The file the path ends at is no such
 * directory: its exec permission is checked by the caller of resolve_check_search.
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

int resolve_splice(char *buf, size_t size, size_t next, const char *target, size_t n)
{
	size_t rest = strlen(buf + next);

	if (n + 1 + rest + 1 > size)
		return -ENAMETOOLONG;
	memmove(buf + n + 1, buf + next, rest + 1);
	memcpy(buf, target, n);
	buf[n] = '/';
	return 0;
}

/* One walk: the unresolved rest of the path is buf from pos on, looked up from cur. */
struct walk {
	struct target_view *v;
	const struct resolve_search_check *check;
	bool follow_last;
	struct walk_task task;
	int cur;
	struct stat cur_st;
	bool cur_st_valid;
	unsigned links;
	size_t pos;
	char buf[2 * PATH_MAX + 2];
	char link[PATH_MAX + 1];
};

/* Moves the walk to fd (owned from now on), a directory whose stat is not known yet. */
static void walk_enter(struct walk *w, int fd)
{
	step_to(&w->cur, fd);
	w->cur_st_valid = false;
}

/* "..": one level up, clamped at the task's root. */
static int walk_up(struct walk *w)
{
	int fd;

	if (is_root(w->v, w->cur))
		return 0;
	fd = openat(w->cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	walk_enter(w, fd);
	return 0;
}

/*
 * Follows the symlink fd (O_PATH|O_NOFOLLOW, closed here) named name in cur, whose component
 * ends at next in buf: a magic link jumps to its object; the text of any other is spliced in
 * front of the rest, which then starts from the root if it is absolute.
 */
static int walk_link(struct walk *w, const char *name, int fd, size_t next)
{
	int jump = -1, n, r;

	if (++w->links > RESOLVE_MAX_SYMLINKS) {
		close(fd);
		return -ELOOP;
	}
	if (is_procfs(w->cur))
		n = procfs_link(&w->task, w->cur, name, fd, w->link, sizeof(w->link), &jump);
	else
		n = link_text(fd, w->link, sizeof(w->link));
	close(fd);
	if (n < 0)
		return n;
	if (jump >= 0) {
		if (w->task.own_link && closed_by_exec(&w->task, name))
			w->v->exec_closes_name = true;
		w->pos = next;
		walk_enter(w, jump);
		return 0;
	}
	r = resolve_splice(w->buf, sizeof(w->buf), next, w->link, (size_t)n);
	if (r < 0)
		return r;
	w->pos = 0;
	if (w->link[0] == '/') {
		fd = fcntl(w->v->root_fd, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return negative_errno();
		walk_enter(w, fd);
	}
	return 0;
}

/* Takes the next component of the rest: 1 when none is left (cur is the result), 0, or -errno. */
static int walk_step(struct walk *w)
{
	char name[NAME_MAX + 1];
	struct stat st;
	int fd, r;

	while (w->buf[w->pos] == '/')
		w->pos++;
	if (w->buf[w->pos] == '\0')
		return 1;

	const char *comp = w->buf + w->pos;
	size_t len = strcspn(comp, "/");
	bool last = comp[len] == '\0' || comp[len + strspn(comp + len, "/")] == '\0';
	size_t next = w->pos + len;

	if (len > NAME_MAX)
		return -ENAMETOOLONG;
	r = check_dir(w->check, w->cur, &w->cur_st, &w->cur_st_valid);
	if (r < 0)
		return r;
	memcpy(name, comp, len);
	name[len] = '\0';
	if (streq(name, ".") || streq(name, "..")) {
		w->pos = next;
		return name[1] == '.' ? walk_up(w) : 0;
	}
	fd = openat(w->cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	if (fstat(fd, &st) < 0) {
		r = negative_errno();
		close(fd);
		return r;
	}
	if (S_ISLNK(st.st_mode) && (!last || w->follow_last))
		return walk_link(w, name, fd, next);
	w->pos = next;
	if (!last && !S_ISDIR(st.st_mode)) {
		close(fd);
		return -ENOTDIR;
	}
	step_to(&w->cur, fd);
	w->cur_st = st;
	w->cur_st_valid = true;
	return 0;
}

/*
 * The slow walk, one component at a time: for what the fast openat2 of resolve_path gives up
 * on (a path that crosses a mount such as procfs or /dev, or a magic link), for
 * AT_SYMLINK_NOFOLLOW (the fast path always follows), and for resolve_check_search, which asks
 * check about every directory on the way.  Symlink targets are spliced in front of the
 * unresolved rest.  Links in procfs are read for the task (procfs_link), so the walk never
 * holds an object of the supervisor's own procfs: ".." is the plain kernel's, clamped at the
 * task's root.
 */
static int walk(struct target_view *v, int start_fd, const char *path, bool follow_last,
		const struct resolve_search_check *check)
{
	struct walk w = {
		.v = v,
		.check = check,
		.follow_last = follow_last,
		.task = { .tid = v->tid },
		.cur = -1,
	};
	int r;

	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	strcpy(w.buf, path);
	w.cur = fcntl(w.buf[0] == '/' ? v->root_fd : start_fd, F_DUPFD_CLOEXEC, 3);
	if (w.cur < 0)
		return negative_errno();
	while ((r = walk_step(&w)) == 0)
		;
	if (r < 0) {
		close(w.cur);
		return r;
	}
	return w.cur;
}

int resolve_path(struct target_view *v, int start_fd, const char *path, bool follow_last)
{
	uint64_t how;
	int dirfd, fd;

	v->exec_closes_name = false;
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
	 * resolve_stat_regular refuses files without an x bit unread.  The fast path always
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
		/*
		 * From a start inside procfs (an execveat dirfd or a cwd there), self is reached
		 * without crossing a mount, and names us: ENOENT where we are not in its pid
		 * namespace.  The walk reads it for the task.  (Absolute paths, the common misses of
		 * a PATH search, never start in procfs.)
		 */
		if (fd == -ENOENT && path[0] != '/' && is_procfs(dirfd))
			fd = -EXDEV;
		if (fd >= 0 || (fd != -EXDEV && fd != -ELOOP && fd != -EAGAIN && fd != -ENOSYS))
			return fd;
	}
	return walk(v, path[0] == '/' ? v->root_fd : start_fd, path, follow_last, NULL);
}

int resolve_check_search(struct target_view *v, int start_fd, const char *path,
			 const struct resolve_search_check *check)
{
	int fd;

	v->exec_closes_name = false;
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

/* Linux 6.8; Debian 12's headers predate it. */
#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U
#endif

/* Our /proc/self/fd, opened once (resolve_init) before any thread could race for it. */
static int self_fd_dir = -1;

void resolve_init(void)
{
	if (self_fd_dir < 0)
		self_fd_dir = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (!self_userns[0]) {
		ssize_t n = readlink("/proc/self/ns/user", self_userns, sizeof(self_userns) - 1);
		self_userns[n > 0 ? n : 0] = '\0';
	}
	struct stat st;
	if (!self_proc_dev && stat("/proc", &st) == 0)
		self_proc_dev = st.st_dev;
}

int resolve_stat_regular(int path_fd, struct statx *ret_sx)
{
	struct statx sx;

	/*
	 * One call for what fstat gives and the mount id (the classification cache's key): the
	 * unique one where the kernel has it (Linux >= 6.8: never reused), else the other.
	 */
	if (statx(path_fd, "", AT_EMPTY_PATH | AT_STATX_SYNC_AS_STAT,
		  STATX_BASIC_STATS | STATX_MNT_ID | STATX_MNT_ID_UNIQUE, &sx) < 0)
		return negative_errno();
	if (!S_ISREG(sx.stx_mode))
		return -EACCES;
	/*
	 * Without any x bit no one may exec it, root included: the kernel's EACCES, and no read
	 * (reading /proc/kmsg, say, would consume the kernel's log).
	 */
	if (!(sx.stx_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
		return -EACCES;
	*ret_sx = sx;
	return 0;
}

int resolve_reopen(int path_fd)
{
	char path[64];
	int fd;

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
	return fd;
}
