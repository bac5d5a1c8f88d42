/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "exec.h"
#include "exec_cache.h"
#include "log.h"
#include "macros.h"
#include "perm.h"
#include "procfs.h"
#include "tmem.h"

void exec_release_files(struct exec_ctx *c)
{
	for (size_t i = 1; i < c->files.n; i++)
		close(c->files.fd[i]);
	c->files.n = MIN(c->files.n, (size_t)1);
}

void exec_ctx_close(struct exec_ctx *c)
{
	exec_release_files(c);
	resolve_view_close(&c->view);
	if (c->start_fd >= 0)
		close(c->start_fd);
	if (c->file_fd >= 0)
		close(c->file_fd);
	c->start_fd = c->file_fd = -1;
}

/* Our O_PATH copy of the target's fd number fd (execveat's dirfd); -EBADF if it has none. */
static int open_target_fd(pid_t tid, int fd)
{
	char path[64];
	int r;

	if (fd < 0)
		return -EBADF;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)tid, fd);
	r = open(path, O_PATH | O_CLOEXEC);
	if (r < 0)
		return errno == ENOENT ? -EBADF : negative_errno();
	return r;
}

/* Whether the target's fd is close-on-exec (from /proc/TID/fdinfo); true when unknown. */
static bool target_fd_cloexec(pid_t tid, int fd)
{
	char name[32], buf[512];

	snprintf(name, sizeof(name), "fdinfo/%d", fd);
	if (procfs_read(tid, name, buf, sizeof(buf)) <= 0)
		return true;
	const char *flags = strstr(buf, "flags:");
	if (!flags)
		return true;
	return strtoul(flags + 6, NULL, 8) & O_CLOEXEC;
}

#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U /* Linux 6.8 (resolve.c asks for it) */
#endif

/* What perm.c checks (mode, owner, group), and the rest fstat would give, from a statx. */
static void stat_from_statx(const struct statx *sx, struct stat *ret)
{
	*ret = (struct stat){
		.st_dev = makedev(sx->stx_dev_major, sx->stx_dev_minor),
		.st_ino = sx->stx_ino,
		.st_mode = sx->stx_mode,
		.st_nlink = sx->stx_nlink,
		.st_uid = sx->stx_uid,
		.st_gid = sx->stx_gid,
		.st_size = (off_t)sx->stx_size,
		.st_mtim = { .tv_sec = sx->stx_mtime.tv_sec, .tv_nsec = sx->stx_mtime.tv_nsec },
		.st_ctim = { .tv_sec = sx->stx_ctime.tv_sec, .tv_nsec = sx->stx_ctime.tv_nsec },
	};
}

static void cache_key_from_statx(const struct statx *sx, struct exec_cache_key *ret)
{
	*ret = (struct exec_cache_key){
		.dev = makedev(sx->stx_dev_major, sx->stx_dev_minor),
		.ino = sx->stx_ino,
		.mnt_id = sx->stx_mask & (STATX_MNT_ID | STATX_MNT_ID_UNIQUE) ? sx->stx_mnt_id : 0,
		.size = (int64_t)sx->stx_size,
		.mtime_sec = sx->stx_mtime.tv_sec,
		.mtime_nsec = sx->stx_mtime.tv_nsec,
		.ctime_sec = sx->stx_ctime.tv_sec,
		.ctime_nsec = sx->stx_ctime.tv_nsec,
	};
}

/*
 * Classifies a file of the chain from its head (every byte of it the sandbox's: classify and
 * hostbinfmt_matches read at most CLASSIFY_HEAD_SIZE of them), as the last one so far.
 */
static void classify_file(const struct exec_env *env, struct exec_ctx *c, struct exec_facts *f, const uint8_t *head,
			  size_t len)
{
	int r = classify(head, len, &c->cls);

	if (r == 0 && c->cls.kind == FILE_KIND_ELF)
		c->rec.arch = c->cls.elf.arch;
	f->last = (struct exec_file_facts){
		.classify_err = r < 0 ? r : 0,
		.host_binfmt = hostbinfmt_matches(env->host, head, len),
		.kind = c->cls.kind,
		.arch = c->cls.elf.arch,
		.elf_type = c->cls.elf.type,
	};
	f->n_files++;
}

/* The same from the classification cache: only what exec_cache_keeps keeps (never a #! line). */
static void classify_cached(struct exec_ctx *c, struct exec_facts *f, const struct exec_file_facts *facts)
{
	c->cls = (struct classification){ .kind = facts->kind,
					  .elf = { .arch = facts->arch, .type = facts->elf_type } };
	if (facts->classify_err == 0 && facts->kind == FILE_KIND_ELF)
		c->rec.arch = facts->arch;
	f->last = *facts;
	f->n_files++;
}

/*
 * Opens path (NULL: start_fd itself) in the target's view, only if it is a regular file, and
 * classifies it: from the classification cache when its identity is there (the fd is then the
 * O_PATH one, never read), else from its first CLASSIFY_HEAD_SIZE bytes.  0, or the errno the
 * kernel's exec would give.
 */
static int open_and_classify(const struct exec_env *env, struct exec_ctx *c, struct exec_facts *f, int start_fd,
			     const char *path, bool follow, struct stat *ret_st, int *ret_fd)
{
	_cleanup_close_ int pfd = -1;
	uint8_t head[CLASSIFY_HEAD_SIZE];
	struct exec_cache_key key;
	struct statx sx;
	int fd, r;
	ssize_t n;

	if (path) {
		pfd = resolve_path(&c->view, start_fd, path, follow);
		if (pfd < 0)
			return pfd;
		/* Only the exec's own path: the emulator opens that one; interpreters the kernel does. */
		if (path == c->path)
			c->name_closed = c->view.exec_closes_name;
	} else {
		pfd = fcntl(start_fd, F_DUPFD_CLOEXEC, 3);
		if (pfd < 0)
			return negative_errno();
	}
	r = resolve_stat_regular(pfd, &sx);
	if (r < 0)
		return r;
	stat_from_statx(&sx, ret_st);
	cache_key_from_statx(&sx, &key);
	const struct exec_file_facts *cached = exec_cache_find(&c->cache, &key);
	if (cached) {
		log_trace("pid %d: '%.200s' classified from the cache", (int)c->tid, path ? path : "(its fd)");
		classify_cached(c, f, cached);
		*ret_fd = TAKE_FD(pfd);
		return 0;
	}
	fd = resolve_reopen(pfd);
	if (fd < 0)
		return fd;
	/* A regular file, opened O_NONBLOCK: this read does not wait on a FIFO or device. */
	n = pread(fd, head, CLASSIFY_HEAD_SIZE, 0);
	if (n < 0) {
		r = negative_errno();
		close(fd);
		return r;
	}
	classify_file(env, c, f, head, (size_t)n);
	if (exec_cache_keeps(&f->last, env->native_mask) && c->n_learned < ARRAY_SIZE(c->learned))
		c->learned[c->n_learned++] = (struct exec_cache_entry){ .key = key, .facts = f->last };
	*ret_fd = fd;
	return 0;
}

static bool file_noexec(int fd)
{
	struct statvfs sv;

	return fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_NOEXEC);
}

/*
 * The caller's credentials, read from /proc/TID/status (the costliest step of a foreign
 * decision) only when a mode leaves the answer to them: a file or directory with all three x
 * bits may be executed or searched by anyone (perm_x_for_all).
 */
struct lazy_creds {
	pid_t tid;
	int state; /* 0: not read yet, 1: read, < 0: -errno of the read */
	struct creds c;
};

static const struct creds *need_creds(struct lazy_creds *l)
{
	if (l->state == 0) {
		int r = perm_read_creds(l->tid, &l->c);
		l->state = r < 0 ? r : 1;
	}
	return l->state > 0 ? &l->c : NULL;
}

/* 1: the caller may exec the file; 0: EACCES; < 0: its credentials cannot be read. */
static int may_exec_file(struct lazy_creds *cr, const struct stat *st, int fd)
{
	bool noexec = file_noexec(fd);
	const struct creds *c;

	if (perm_x_for_all(st->st_mode))
		return !noexec;
	c = need_creds(cr);
	if (!c)
		return cr->state;
	return perm_may_exec(c, st, noexec);
}

/* resolve_check_search's question, with the caller's credentials read only if a mode asks. */
static int dir_searchable(void *ctx, const struct stat *st)
{
	struct lazy_creds *cr = ctx;
	const struct creds *c;

	if (perm_x_for_all(st->st_mode))
		return 1;
	c = need_creds(cr);
	if (!c)
		return cr->state;
	return perm_may_search(c, st);
}

/*
 * The kernel's walk needs search (x) permission on every directory it looks a name up in, for
 * the caller's credentials; our resolution ran with ours.  Walks path again in the task's view
 * (symlink targets included) and checks each.  1: searchable; 0: EACCES; < 0: the caller's
 * credentials cannot be read, or it is gone.
 */
static int may_search_path(struct exec_ctx *c, struct lazy_creds *cr, int start_fd, const char *path)
{
	const struct resolve_search_check check = { .may_search = dir_searchable, .ctx = cr };
	int r = resolve_check_search(&c->view, start_fd, path, &check);

	if (r == -EACCES)
		return cr->state < 0 ? cr->state : 0;
	return r < 0 ? r : 1;
}

/*
 * How far the caller gets along the files of its exec, in the kernel's order: the directories
 * to the file it named, that file's exec permission, then for each #! interpreter its
 * directories and its exec permission.  c->files.n_paths names are checked (the exec's own path, then
 * c->interp[0…]), of which the first c->files.n were opened (an interpreter that did not resolve is
 * searched for, not executed).  Every answer here is derived from the caller's credentials
 * (read from its /proc/TID/status) and files already open: nothing in the sandbox is trusted
 * beyond what the kernel's own walk would trust.
 */
static enum exec_reach check_reach(struct exec_ctx *c)
{
	struct lazy_creds creds = { .tid = c->tid };

	for (size_t i = 0; i < c->files.n_paths; i++) {
		const char *path = i == 0 ? c->path : c->interp[i - 1];
		int ok = 1;

		if (path[0] != '\0') /* "" is an fd's own file (AT_EMPTY_PATH): no walk */
			ok = may_search_path(c, &creds, i == 0 ? c->start_fd : -1, path);
		if (ok == 0)
			return i == 0 ? EXEC_REACH_NONE : EXEC_REACH_NAMED;
		if (ok > 0 && i < c->files.n)
			ok = may_exec_file(&creds, &c->files.st[i], c->files.fd[i]);
		if (ok < 0)
			return EXEC_REACH_UNKNOWN;
		if (ok == 0)
			return EXEC_REACH_NAMED;
	}
	return EXEC_REACH_ALL;
}

/*
 * The argv pointers are read where the decision is made, which may be any of the loop's
 * threads (see guard.h), so each thread has its own buffer, freed when it ends.
 */
static pthread_key_t argv_key;
static pthread_once_t argv_key_once = PTHREAD_ONCE_INIT;

static void argv_key_init(void)
{
	(void)pthread_key_create(&argv_key, free);
}

static uint64_t *argv_scratch(void)
{
	uint64_t *buf;

	(void)pthread_once(&argv_key_once, argv_key_init);
	buf = pthread_getspecific(argv_key);
	if (buf)
		return buf;
	buf = malloc(REWRITE_MAX_ARGS * sizeof(*buf));
	if (buf && pthread_setspecific(argv_key, buf) != 0) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

/*
 * Reads the caller's argv pointers into c->argv (a buffer of the calling thread's, reused by
 * its next call): -EFAULT or -E2BIG are the kernel's answers for an argv it could not read.
 */
static int read_argv(struct exec_ctx *c)
{
	uint64_t *buf = argv_scratch();
	int n;

	c->argv = NULL;
	c->argc = 0;
	if (!buf)
		return -ENOMEM;
	c->argv = buf;
	if (!c->call.argv)
		return 0;
	n = tmem_read_ptr_array(c->tid, c->call.argv, c->call.ptr_size, buf, REWRITE_MAX_ARGS - 16);
	if (n < 0)
		return n;
	c->argc = (size_t)n;
	return 0;
}

/*
 * For an exec whose path did not resolve (ENOENT, ENOTDIR…): whether the caller may search the
 * directories on its way, so that a missing name in a directory it cannot search looks like an
 * existing one (EACCES either way).
 */
static enum exec_reach check_unresolved(struct exec_ctx *c)
{
	struct lazy_creds creds = { .tid = c->tid };
	int ok = c->path[0] ? may_search_path(c, &creds, c->start_fd, c->path) : 1;

	return ok < 0 ? EXEC_REACH_UNKNOWN : ok ? EXEC_REACH_ALL : EXEC_REACH_NONE;
}

/* Whether the caller named its file through an fd (fexecve, execveat with a dirfd). */
static bool exec_fd_based(const struct exec_call *call, const char *path)
{
	return call->dirfd != AT_FDCWD && path[0] != '/';
}

/*
 * EXEC_FACT_PATH: the path, read once from the caller's memory (bounded by PATH_MAX and
 * NUL-checked by tmem), and our own copy of the fd it is relative to, if any.
 */
static void gather_path(struct exec_ctx *c, struct exec_facts *f)
{
	const struct exec_call *call = &c->call;
	int r = tmem_read_string(c->tid, call->path, c->path, sizeof(c->path));

	if (r < 0) {
		log_debug_errno(r, "pid %d: cannot read the exec path: %m", (int)c->tid);
		f->path_err = r;
		return;
	}
	trace_copy(c->rec.path, sizeof(c->rec.path), c->path);
	f->empty_path = c->path[0] == '\0';
	f->fd_based = exec_fd_based(call, c->path);
	if (!f->fd_based)
		return;
	c->start_fd = open_target_fd(c->tid, call->dirfd);
	if (c->start_fd < 0) {
		log_debug_errno(c->start_fd, "pid %d: no fd %d: %m", (int)c->tid, call->dirfd);
		f->dirfd_err = c->start_fd;
	}
}

/* EXEC_FACT_TARGET: the file the exec names, resolved and opened in the caller's view. */
static void gather_target(const struct exec_env *env, struct exec_ctx *c, struct exec_facts *f)
{
	int r;

	r = open_and_classify(env, c, f, c->start_fd, f->empty_path ? NULL : c->path,
			      !(c->call.flags & AT_SYMLINK_NOFOLLOW), &c->st, &c->file_fd);
	if (r < 0) {
		log_debug_errno(r, "pid %d: '%.200s' does not resolve to a regular file: %m", (int)c->tid, c->path);
		f->open_err = r;
		return;
	}
	c->files.st[0] = c->st;
	c->files.fd[0] = c->file_fd;
	c->files.n = c->files.n_paths = 1;
}

/*
 * EXEC_FACT_INTERP: the interpreter that the #! line of the last file names, like
 * fs/binfmt_script.c: resolved from the caller's cwd.  decide() bounds the depth by the
 * kernel's own limit.
 */
static void gather_interp(const struct exec_env *env, struct exec_ctx *c, struct exec_facts *f)
{
	size_t depth = f->n_files - 1; /* of the script; its interpreter is file depth + 1 */
	int r;

	trace_copy(c->interp[depth], sizeof(c->interp[depth]), c->cls.script.interp);
	trace_copy(c->interp_arg[depth], sizeof(c->interp_arg[depth]), c->cls.script.arg);
	c->chain.interp[depth] = c->interp[depth];
	c->chain.arg[depth] = c->cls.script.has_arg ? c->interp_arg[depth] : NULL;
	c->chain.depth = depth + 1;
	c->files.n_paths = depth + 2;
	r = open_and_classify(env, c, f, -1, c->interp[depth], true, &c->files.st[depth + 1], &c->files.fd[depth + 1]);
	if (r < 0) {
		f->interp_err = r;
		return;
	}
	c->files.n++;
}

/*
 * EXEC_FACT_REACH: the checks the kernel would make with the caller's credentials along the
 * files looked at (check_reach), and for a record the name the caller could have found itself
 * by readlink: only for a file it reaches.
 */
static void gather_reach(struct exec_ctx *c, struct exec_facts *f)
{
	if (f->open_err < 0) {
		f->reach = check_unresolved(c);
		return;
	}
	f->reach = check_reach(c);
	if (f->recorded && (f->reach == EXEC_REACH_ALL || f->reach == EXEC_REACH_NAMED)) {
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", c->file_fd);
		ssize_t n = readlink(proc, c->rec.resolved, sizeof(c->rec.resolved) - 1);
		c->rec.resolved[n > 0 ? n : 0] = '\0';
	}
}

/* EXEC_FACT_ARGV: the argv pointers, as many as the rewrite may take (read_argv). */
static void gather_argv(struct exec_ctx *c, struct exec_facts *f)
{
	f->argv_err = read_argv(c);
	if (f->argv_err < 0)
		log_debug_errno(f->argv_err, "pid %d: cannot read the argv of '%.200s': %m", (int)c->tid, c->path);
}

void exec_gather(const struct exec_env *env, struct exec_ctx *c, struct exec_facts *f, enum exec_fact fact)
{
	switch (fact) {
	case EXEC_FACT_PATH:
		gather_path(c, f);
		break;
	case EXEC_FACT_TARGET:
		gather_target(env, c, f);
		break;
	case EXEC_FACT_INTERP:
		gather_interp(env, c, f);
		break;
	case EXEC_FACT_REACH:
		gather_reach(c, f);
		break;
	case EXEC_FACT_SCRIPT_FD:
		f->script_fd_cloexec = target_fd_cloexec(c->tid, c->call.dirfd);
		break;
	case EXEC_FACT_ARGV:
		gather_argv(c, f);
		break;
	case EXEC_FACT_NONE:
	case EXEC_FACT_VIEW:
	case EXEC_FACT_MAX:
	default:
		assert(!"a fact exec_gather does not gather");
		return;
	}
	f->have |= 1u << fact;
}

bool exec_hands_file_fd(const struct exec_ctx *c)
{
	return c->chain.depth == 0 && (exec_fd_based(&c->call, c->path) || c->name_closed);
}

int exec_build_plan(const struct exec_ctx *c, struct injection *inj, int file_target_fd)
{
	char path_str[PATH_MAX + 32];
	struct rw_arg path_arg = { .addr = c->call.path };
	const char *emu_name = strrchr(c->emu->path, '/');
	int n;

	emu_name = emu_name ? emu_name + 1 : c->emu->path;
	path_str[0] = '\0';
	if (exec_hands_file_fd(c)) {
		/* The fd we added, the file already open as binfmt_misc's flag O hands it over. */
		snprintf(path_str, sizeof(path_str), "/proc/self/fd/%d", file_target_fd);
	} else if (exec_fd_based(&c->call, c->path)) {
		/* The kernel's own names for fd-based scripts. */
		if (c->path[0] == '\0')
			snprintf(path_str, sizeof(path_str), "/dev/fd/%d", c->call.dirfd);
		else
			snprintf(path_str, sizeof(path_str), "/dev/fd/%d/%s", c->call.dirfd, c->path);
	} else if (c->chain.depth == 0 && c->path[0] == '-') {
		/* qemu would take a leading '-' for an option. */
		snprintf(path_str, sizeof(path_str), "./%s", c->path);
	}
	if (path_str[0])
		path_arg = (struct rw_arg){ .str = path_str };

	size_t cap = c->argc + 2 * SHEBANG_MAX_DEPTH + 8;
	struct rw_arg *args = malloc(cap * sizeof(*args));
	if (!args)
		return -ENOMEM;
	n = rewrite_build_argv(emu_name, path_arg, c->argv, c->argc, &c->chain, args, cap);
	if (n < 0) {
		free(args);
		return n;
	}

	/* Move the added strings into the same allocation: they must outlive this context. */
	size_t strings = 0;
	for (int i = 0; i < n; i++)
		if (!args[i].addr)
			strings += strlen(args[i].str) + 1;
	struct rw_arg *owned = realloc(args, (size_t)n * sizeof(*args) + strings);
	if (!owned) {
		free(args);
		return -ENOMEM;
	}
	char *arena = (char *)(owned + n);
	for (int i = 0; i < n; i++) {
		if (owned[i].addr)
			continue;
		size_t l = strlen(owned[i].str) + 1;
		memcpy(arena, owned[i].str, l);
		owned[i].str = arena;
		arena += l;
	}
	inj->args = owned;
	inj->nargs = (size_t)n;
	return 0;
}
