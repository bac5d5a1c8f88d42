/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "emu_names.h"
#include "log.h"
#include "macros.h"

/* The name of each copy in its directory: a program of that name gets the copy itself. */
#define COPY_NAME ".emu"

struct emu_copy {
	bool used;
	dev_t dev;
	ino_t ino;
	/* Its directory: the emulator's own file name (qemu-arm-static), so that /proc/PID/exe
	 * shows which emulator runs a process, as "/qemu-arm-static/PROGRAM". */
	char dir[NAME_MAX + 1];
};

struct emu_name {
	bool used;
	unsigned copy;
	uint64_t last_use;
	char comm[COMM_NAME_MAX + 1];
};

struct emu_names {
	int writable;  /* the tmpfs, read-write: ours only */
	int read_only; /* a read-only clone of it: every fd handed out is opened through this */
	struct emu_copy copies[EMU_NAMES_MAX_COPIES];
	struct emu_name names[EMU_NAMES_MAX];
	uint64_t clock;
};

/* A detached tmpfs only we can reach; nosuid and nodev like the emulator's own mount. */
static int make_tmpfs(void)
{
	_cleanup_close_ int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
	int mnt;

	if (fs < 0)
		return negative_errno();
	/* Room for the copies (qemu-user-static builds are 10-15 MiB); links cost an inode each. */
	if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "mode", "0700", 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", "512m", 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "nr_inodes", "1024", 0) < 0)
		return negative_errno();
	/*
	 * Huge pages for the part of a copy they fit in: each emulated exec maps the emulator
	 * afresh, and with 2 MiB folios its faults map the text in far fewer steps (about 5% fewer
	 * page faults and 2-5% less CPU per qemu start, measured on the copy of
	 * qemu-aarch64-static; the emulator's own file on ext4 gets small folios).  Not fatal
	 * where the kernel has no transparent huge pages (EINVAL).
	 */
	if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "huge", "within_size", 0) < 0)
		log_debug_errno(negative_errno(), "emulator copies without huge pages: %m");
	if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return negative_errno();
	mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	return mnt < 0 ? negative_errno() : mnt;
}

static int clone_read_only(int mnt)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
	_cleanup_close_ int ro = (int)syscall(SYS_open_tree, mnt, "",
					      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);

	if (ro < 0)
		return negative_errno();
	if (syscall(SYS_mount_setattr, ro, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		return negative_errno();
	return TAKE_FD(ro);
}

int emu_names_new(struct emu_names **ret)
{
	_cleanup_free_ struct emu_names *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return -ENOMEM;
	n->writable = n->read_only = -1;
	r = make_tmpfs();
	if (r < 0)
		return r;
	n->writable = r;
	r = clone_read_only(n->writable);
	if (r < 0) {
		close(n->writable);
		return r;
	}
	n->read_only = r;
	*ret = TAKE_PTR(n);
	return 0;
}

void emu_names_free(struct emu_names *names)
{
	if (!names)
		return;
	close(names->writable);
	close(names->read_only);
	free(names);
}

/* Copies the whole of src (from offset 0, without moving src's offset) into dst. */
static int copy_file(int src, int dst, off_t size)
{
	off_t off = 0;

	while (off < size) {
		ssize_t n = sendfile(dst, src, &off, (size_t)(size - off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		if (n == 0)
			return -EIO; /* shorter than fstat said: the emulator changed under us */
	}
	return 0;
}

/* Whether another copy has the directory dir. */
static bool dir_taken(const struct emu_names *n, const char *dir)
{
	for (unsigned i = 0; i < EMU_NAMES_MAX_COPIES; i++)
		if (n->copies[i].used && strcmp(n->copies[i].dir, dir) == 0)
			return true;
	return false;
}

/* The directory for copy i of the emulator at path: its file name, made unique with ".i". */
static void copy_dir_name(const struct emu_names *n, unsigned i, const char *path, char ret[NAME_MAX + 1])
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;

	snprintf(ret, NAME_MAX + 1, "%.200s", base);
	if (!ret[0] || ret[0] == '.' || dir_taken(n, ret))
		snprintf(ret, NAME_MAX + 1, "%.200s.%u", base, i);
}

/*
 * Copy i of e's file, owned by us and never open for writing after.  Mode 0755
 * like the emulator's own file: a sandbox's root that tries to reopen it for writing must meet
 * the read-only mount (EROFS), the defence that holds whatever its capabilities, and not a
 * missing write bit, which CAP_DAC_OVERRIDE would pass (t_hostile_oci, t_hostile_paths).
 */
static int make_copy(struct emu_names *n, unsigned i, const struct emu *e)
{
	char dir[NAME_MAX + 1], path[NAME_MAX + sizeof("/" COPY_NAME)];
	_cleanup_close_ int fd = -1;
	int r;

	copy_dir_name(n, i, e->path, dir);
	snprintf(path, sizeof(path), "%s/" COPY_NAME, dir);
	/* Left from a copy that failed half way: start again. */
	(void)unlinkat(n->writable, path, 0);
	if (mkdirat(n->writable, dir, 0700) < 0 && errno != EEXIST)
		return negative_errno();
	fd = openat(n->writable, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (fd < 0)
		return negative_errno();
	/* Sized first: "within_size" gives huge pages only to a range inside the file's size. */
	r = ftruncate(fd, e->size) < 0 ? negative_errno() : copy_file(e->fd, fd, e->size);
	if (r < 0) {
		(void)unlinkat(n->writable, path, 0);
		return r;
	}
	n->copies[i] = (struct emu_copy){ .used = true, .dev = e->dev, .ino = e->ino };
	memcpy(n->copies[i].dir, dir, sizeof(dir));
	return 0;
}

/* The index of e's copy, made on first use; -ENOSPC once EMU_NAMES_MAX_COPIES are taken. */
static int copy_of(struct emu_names *n, const struct emu *e)
{
	unsigned i;

	/* The file's identity is e's, taken when it was opened: no fstat per exec. */
	for (i = 0; i < EMU_NAMES_MAX_COPIES && n->copies[i].used; i++)
		if (n->copies[i].dev == e->dev && n->copies[i].ino == e->ino)
			return (int)i;
	if (i == EMU_NAMES_MAX_COPIES)
		return -ENOSPC;
	int r = make_copy(n, i, e);
	return r < 0 ? r : (int)i;
}

/* The slot for comm of copy: its own, or a free one, or the least recently used one (unlinked). */
static struct emu_name *name_slot(struct emu_names *n, unsigned copy, const char *comm, bool *ret_found)
{
	struct emu_name *oldest = &n->names[0];

	for (size_t i = 0; i < EMU_NAMES_MAX; i++) {
		struct emu_name *s = &n->names[i];
		if (s->used && s->copy == copy && strcmp(s->comm, comm) == 0) {
			*ret_found = true;
			return s;
		}
		if (!s->used)
			oldest = s;
		else if (oldest->used && s->last_use < oldest->last_use)
			oldest = s;
	}
	*ret_found = false;
	if (oldest->used && strcmp(oldest->comm, COPY_NAME) != 0) {
		char path[NAME_MAX + COMM_NAME_MAX + 2];
		snprintf(path, sizeof(path), "%s/%s", n->copies[oldest->copy].dir, oldest->comm);
		(void)unlinkat(n->writable, path, 0);
	}
	oldest->used = false;
	return oldest;
}

int emu_names_open(struct emu_names *n, const struct emu *e, const char *comm)
{
	char copy_path[NAME_MAX + sizeof("/" COPY_NAME)], path[NAME_MAX + COMM_NAME_MAX + 2];
	struct emu_name *slot;
	bool found;
	int copy, fd;

	if (strchr(comm, '/') || strlen(comm) > COMM_NAME_MAX || !comm[0] || strcmp(comm, ".") == 0 ||
	    strcmp(comm, "..") == 0)
		return -EINVAL;
	copy = copy_of(n, e);
	if (copy < 0)
		return copy;
	snprintf(copy_path, sizeof(copy_path), "%s/" COPY_NAME, n->copies[copy].dir);
	snprintf(path, sizeof(path), "%s/%s", n->copies[copy].dir, comm);
	slot = name_slot(n, (unsigned)copy, comm, &found);
	if (!found) {
		/* EEXIST: comm is COPY_NAME itself, the copy. */
		if (linkat(n->writable, copy_path, n->writable, path, 0) < 0 && errno != EEXIST)
			return negative_errno();
		*slot = (struct emu_name){ .used = true, .copy = (unsigned)copy };
		memcpy(slot->comm, comm, strlen(comm) + 1);
	}
	slot->last_use = ++n->clock;
	fd = openat(n->read_only, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? negative_errno() : fd;
}

int emu_names_comm_of_fd(int fd, char ret[COMM_NAME_MAX + 1])
{
	char proc[32], link[PATH_MAX];
	struct stat st;
	ssize_t len;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	len = readlink(proc, link, sizeof(link) - 1);
	if (len < 0)
		return negative_errno();
	link[len] = '\0';
	if (fstat(fd, &st) < 0)
		return negative_errno();
	return comm_from_fd_link(link, st.st_nlink == 0, ret);
}
