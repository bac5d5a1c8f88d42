/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "exec.h"
#include "macros.h"
#include "perm.h"
#include "procfs.h"
#include "tmem.h"

void exec_ctx_close(struct exec_ctx *c)
{
	resolve_view_close(&c->view);
	if (c->start_fd >= 0)
		close(c->start_fd);
	if (c->file_fd >= 0)
		close(c->file_fd);
	c->start_fd = c->file_fd = -1;
}

/* Our O_PATH copy of the target's fd number fd (execveat's dirfd). */
int exec_open_target_fd(pid_t tid, int fd)
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

/* Whether the target's fd is close-on-exec (from /proc/TID/fdinfo). */
bool exec_target_fd_cloexec(pid_t tid, int fd)
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

/* Opens path (in the target's view) for reading and reads its head: 0, or the kernel's errno. */
int exec_open_and_read(struct exec_ctx *c, int start_fd, const char *path, bool follow, uint8_t *head,
			 size_t *ret_len, struct stat *ret_st, int *ret_fd)
{
	_cleanup_close_ int pfd = -1;
	int fd;
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
	fd = resolve_open_regular(pfd, ret_st);
	if (fd < 0)
		return fd;
	/* A regular file, opened O_NONBLOCK: this read does not wait on a FIFO or device. */
	n = pread(fd, head, CLASSIFY_HEAD_SIZE, 0);
	if (n < 0) {
		int r = negative_errno();
		close(fd);
		return r;
	}
	*ret_len = (size_t)n;
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

/* The files of an exec's #! chain, each kept open (and its stat) for the permission checks. */
struct chain_files {
	struct stat st[SHEBANG_MAX_DEPTH + 1];
	int fd[SHEBANG_MAX_DEPTH + 1];
	size_t n;
};

/*
 * How far the caller gets along the files of its exec, in the kernel's order: the directories
 * to the file it named, that file's exec permission, then for each #! interpreter its
 * directories and its exec permission.  n_paths names are checked (the exec's own path, then
 * c->interp[0…]), of which the first f->n were opened (an interpreter that did not resolve is
 * searched for, not executed).  Every answer here is derived from the caller's credentials
 * (read from its /proc/TID/status) and files already open: nothing in the sandbox is trusted
 * beyond what the kernel's own walk would trust.
 */
static enum exec_reach check_reach(struct exec_ctx *c, const struct chain_files *f, size_t n_paths)
{
	struct lazy_creds creds = { .tid = c->tid };

	for (size_t i = 0; i < n_paths; i++) {
		const char *path = i == 0 ? c->path : c->interp[i - 1];
		int ok = 1;

		if (path[0] != '\0') /* "" is an fd's own file (AT_EMPTY_PATH): no walk */
			ok = may_search_path(c, &creds, i == 0 ? c->start_fd : -1, path);
		if (ok == 0)
			return i == 0 ? EXEC_REACH_NONE : EXEC_REACH_NAMED;
		if (ok > 0 && i < f->n)
			ok = may_exec_file(&creds, &f->st[i], f->fd[i]);
		if (ok < 0)
			return EXEC_REACH_UNKNOWN;
		if (ok == 0)
			return EXEC_REACH_NAMED;
	}
	return EXEC_REACH_ALL;
}

/*
 * Follows the #! chain from the first file like fs/binfmt_script.c and classifies the file the
 * exec finally loads: the decision before any permission check.  Every byte read here is
 * sandbox-controlled: the depth is bounded by the kernel's own limit and each head by
 * CLASSIFY_HEAD_SIZE.  *ret_paths: how many names were looked at (the exec's own and each
 * interpreter, also one that did not resolve).
 */
static enum decision classify_chain(const struct exec_env *env, struct exec_ctx *c, uint8_t *head, size_t len,
				    struct chain_files *f, size_t *ret_paths, int *ret_err)
{
	for (size_t depth = 0;; depth++) {
		int r = classify(head, len, &c->cls);
		*ret_paths = depth + 1;
		if (r == 0 && c->cls.kind == FILE_KIND_ELF)
			c->rec.arch = c->cls.elf.arch;
		if (hostbinfmt_matches(env->host, head, len))
			return DECISION_HOST_BINFMT;
		if (r < 0 || c->cls.kind == FILE_KIND_OTHER)
			return DECISION_KERNEL;
		if (c->cls.kind == FILE_KIND_ELF)
			break;
		if (depth >= SHEBANG_MAX_DEPTH)
			return DECISION_KERNEL; /* the kernel answers ELOOP */

		/* A script: its interpreter is the next file, resolved from the target's cwd. */
		trace_copy(c->interp[depth], sizeof(c->interp[depth]), c->cls.script.interp);
		trace_copy(c->interp_arg[depth], sizeof(c->interp_arg[depth]), c->cls.script.arg);
		c->chain.interp[depth] = c->interp[depth];
		c->chain.arg[depth] = c->cls.script.has_arg ? c->interp_arg[depth] : NULL;
		c->chain.depth = depth + 1;

		*ret_paths = depth + 2;
		r = exec_open_and_read(c, -1, c->interp[depth], true, head, &len, &f->st[depth + 1],
				       &f->fd[depth + 1]);
		if (r < 0)
			return DECISION_KERNEL;
		f->n++;
	}

	enum arch arch = c->cls.elf.arch;
	/* Relocatable objects, core files…: the kernel refuses them, whatever the machine. */
	if (arch == ARCH_UNKNOWN || (c->cls.elf.type != ET_EXEC && c->cls.elf.type != ET_DYN))
		return DECISION_KERNEL;
	if (env->native_mask & (UINT64_C(1) << arch))
		return DECISION_NATIVE;
	if (!(env->emulate_mask & (UINT64_C(1) << arch))) {
		*ret_err = ENOEXEC;
		return DECISION_NO_EMULATOR;
	}
	return DECISION_EMULATE;
}

enum decision exec_classify(const struct exec_env *env, struct exec_ctx *c, const uint8_t *first_head,
			    size_t first_len, int *ret_err)
{
	uint8_t head[CLASSIFY_HEAD_SIZE];
	struct chain_files f = { .n = 1 };
	size_t len = MIN(first_len, sizeof(head)), n_paths = 1;
	enum decision d;

	memcpy(head, first_head, len);
	f.st[0] = c->st;
	f.fd[0] = c->file_fd;
	d = classify_chain(env, c, head, len, &f, &n_paths, ret_err);

	/*
	 * Emulating, or answering ENOEXEC for want of an emulator, replaces the kernel's answer:
	 * only for a caller that the kernel would have let this far, with its own credentials
	 * (our resolution ran with ours).  The emulator is always executable for the caller; the
	 * foreign file, each interpreter and the directories to each must still pass the checks
	 * the kernel would have made (search and x bits, noexec mounts).  A native decision needs
	 * no check (the kernel makes them itself) unless a trace record is to tell what it found.
	 */
	bool ours = d == DECISION_EMULATE || d == DECISION_NO_EMULATOR;
	if (ours || c->traced)
		c->reach = check_reach(c, &f, n_paths);
	if (ours && c->reach == EXEC_REACH_UNKNOWN) {
		*ret_err = 0;
		d = DECISION_KERNEL; /* the task is gone, or its credentials unreadable: the kernel's call */
	} else if (ours && c->reach != EXEC_REACH_ALL) {
		*ret_err = EACCES;
		d = DECISION_DENIED;
	}

	for (size_t i = 1; i < f.n; i++)
		close(f.fd[i]);
	return d;
}

void exec_check_unresolved(struct exec_ctx *c)
{
	struct lazy_creds creds = { .tid = c->tid };
	int ok = c->path[0] ? may_search_path(c, &creds, c->start_fd, c->path) : 1;

	c->reach = ok < 0 ? EXEC_REACH_UNKNOWN : ok ? EXEC_REACH_ALL : EXEC_REACH_NONE;
}

void exec_record_decision(struct exec_ctx *c, enum decision d, int err)
{
	struct trace_record *r = &c->rec;

	switch (c->reach) {
	case EXEC_REACH_ALL:
		r->decision = d;
		r->error = err;
		return;
	case EXEC_REACH_NONE:
	case EXEC_REACH_NAMED:
		/* What the caller gets from the kernel too, whatever the file is. */
		r->decision = DECISION_DENIED;
		r->error = EACCES;
		break;
	case EXEC_REACH_UNCHECKED:
	case EXEC_REACH_UNKNOWN:
	case EXEC_REACH_MAX:
	default:
		/*
		 * Unchecked: nothing was learned from a file (the exec failed before), or no
		 * record was meant to be made; either way the kernel answers, for all it shows.
		 */
		r->decision = DECISION_KERNEL;
		r->error = 0;
		break;
	}
	r->arch = ARCH_UNKNOWN;
	if (c->reach != EXEC_REACH_NAMED)
		r->resolved[0] = '\0';
}

/* Whether the caller named its file through an fd (fexecve, execveat with a dirfd). */
bool exec_fd_based(const struct exec_call *call, const char *path)
{
	return call->dirfd != AT_FDCWD && path[0] != '/';
}

bool exec_hands_file_fd(const struct exec_ctx *c)
{
	return c->chain.depth == 0 && (exec_fd_based(&c->call, c->path) || c->name_closed);
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

int exec_read_argv(struct exec_ctx *c)
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

