/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "emu.h"
#include "host.h"
#include "macros.h"

static const char *const default_dirs[] = { "/usr/bin", "/usr/local/bin", "/usr/libexec/qemu" };

void emu_registry_init(struct emu_registry *reg)
{
	for (int a = 0; a < ARCH_MAX; a++)
		reg->by_arch[a] = (struct emu){ .fd = -1 };
}

void emu_registry_close(struct emu_registry *reg)
{
	for (int a = 0; a < ARCH_MAX; a++) {
		if (reg->by_arch[a].fd >= 0)
			close(reg->by_arch[a].fd);
		reg->by_arch[a].fd = -1;
	}
}

/* Checks the candidate is a 64-bit ELF executable of the host and whether it has a PT_INTERP. */
static int inspect_elf(int fd, bool *ret_static)
{
	Elf64_Ehdr eh;
	bool has_interp = false;

	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh))
		return -ENOEXEC;
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_machine != host_elf_machine() || eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 64)
		return -ENOEXEC;
	Elf64_Phdr ph[64];
	ssize_t want = (ssize_t)(eh.e_phnum * sizeof(ph[0]));
	if (pread(fd, ph, (size_t)want, (off_t)eh.e_phoff) != want)
		return -ENOEXEC;
	for (unsigned i = 0; i < eh.e_phnum; i++)
		if (ph[i].p_type == PT_INTERP)
			has_interp = true;
	*ret_static = !has_interp;
	return 0;
}

/*
 * Every emulated process runs from our fd, so its /proc/PID/exe names the host's emulator
 * inode: a sandbox's root could open that for reading while it runs, and reopen it for writing
 * through /proc/self/fd/N once nothing executes it, then rewrite the host's qemu (the trick of
 * CVE-2019-5736; t_hostile_paths).  Opened through a private, detached, read-only bind mount
 * of its directory, every path to it answers EROFS (emu_names.c hands out named copies of it,
 * read-only the same way).  Needs CAP_SYS_ADMIN (root's `ubinfmt run`, ubinfmtd before it drops
 * capabilities) and Linux >= 5.12; -errno otherwise.
 */
static int open_read_only(const char *path)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
	_cleanup_free_ char *real = realpath(path, NULL);
	_cleanup_close_ int tree = -1;
	struct statvfs sv;
	char *slash;
	int fd;

	/* The final name, symlinks resolved on the host: a symlink would leave the mount. */
	if (!real)
		return negative_errno();
	slash = strrchr(real, '/');
	if (!slash || slash[1] == '\0')
		return -EINVAL;
	*slash = '\0';
	tree = (int)syscall(SYS_open_tree, AT_FDCWD, real[0] ? real : "/", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return negative_errno();
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		return negative_errno();
	fd = openat(tree, slash + 1, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	if (fstatvfs(fd, &sv) < 0 || !(sv.f_flag & ST_RDONLY)) {
		close(fd);
		return -EROFS; /* not what we asked for: do not pretend */
	}
	return fd;
}

static int open_emulator(const char *path, struct emu *ret)
{
	struct stat st;
	bool is_static, read_only;
	int fd, r;

	fd = open_read_only(path);
	read_only = fd >= 0;
	if (fd < 0) {
		/* Without CAP_SYS_ADMIN: a sandbox of ours then has our credentials at most. */
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return negative_errno();
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111)) {
		close(fd);
		return -EACCES;
	}
	r = inspect_elf(fd, &is_static);
	if (r < 0) {
		close(fd);
		return r;
	}
	if (ret->fd >= 0)
		close(ret->fd);
	ret->fd = fd;
	ret->is_static = is_static;
	ret->read_only = read_only;
	ret->dev = st.st_dev;
	ret->ino = st.st_ino;
	ret->size = st.st_size;
	snprintf(ret->path, sizeof(ret->path), "%s", path);
	return 0;
}

int emu_registry_override(struct emu_registry *reg, const char *spec)
{
	const char *eq = strchr(spec, '=');
	char name[64];
	enum arch arch;
	int r;

	if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof(name) || eq[1] == '\0')
		return -EINVAL;
	memcpy(name, spec, (size_t)(eq - spec));
	name[eq - spec] = '\0';
	r = arch_from_name(name, &arch);
	if (r < 0)
		return r;
	r = open_emulator(eq + 1, &reg->by_arch[arch]);
	if (r < 0)
		return r;
	reg->by_arch[arch].overridden = true;
	return 0;
}

/* Up to this many directories are searched (PATH entries, then the usual ones). */
#define EMU_MAX_DIRS 32
/* Candidates kept per architecture, best first, in case the better ones cannot be used. */
#define EMU_MAX_CANDIDATES 4

struct candidate {
	unsigned rank; /* directory order × 2, +1 for a name without -static */
	char path[4096];
};

/* qemu-ARCH-static or qemu-ARCH naming exactly qemu's ARCH (no aliases): its arch, or ARCH_UNKNOWN. */
static enum arch arch_of_name(const char *name, bool *ret_static)
{
	char arch[64];
	size_t len;
	enum arch a;

	if (strncmp(name, "qemu-", 5) != 0)
		return ARCH_UNKNOWN;
	name += 5;
	len = strlen(name);
	*ret_static = len > 7 && strcmp(name + len - 7, "-static") == 0;
	if (*ret_static)
		len -= 7;
	if (len == 0 || len >= sizeof(arch))
		return ARCH_UNKNOWN;
	memcpy(arch, name, len);
	arch[len] = '\0';
	if (arch_from_name(arch, &a) < 0 || strcmp(arch_name(a), arch) != 0)
		return ARCH_UNKNOWN;
	return a;
}

static void add_candidate(struct candidate (*cands)[EMU_MAX_CANDIDATES], size_t *n, enum arch a, unsigned rank,
			  const char *dir, const char *name)
{
	struct candidate c = { .rank = rank };
	size_t i;

	if (snprintf(c.path, sizeof(c.path), "%s/%s", dir, name) >= (int)sizeof(c.path))
		return;
	/* Insertion into the short sorted list; the worst falls off the end. */
	for (i = n[a]; i > 0 && cands[a][i - 1].rank > rank; i--)
		if (i < EMU_MAX_CANDIDATES)
			cands[a][i] = cands[a][i - 1];
	if (i < EMU_MAX_CANDIDATES) {
		cands[a][i] = c;
		if (n[a] < EMU_MAX_CANDIDATES)
			n[a]++;
	}
}

/*
 * One readdir per directory instead of an open per name and directory: start-up costs a few
 * syscalls, not a thousand failed opens.  Earlier directories win, and in one directory the
 * -static build wins over the other.
 */
static void scan_dir(const char *dir, unsigned index, struct candidate (*cands)[EMU_MAX_CANDIDATES], size_t *n)
{
	DIR *d;
	struct dirent *de;

	if (dir[0] != '/')
		return; /* relative PATH entries would depend on our cwd */
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		bool is_static;
		enum arch a = arch_of_name(de->d_name, &is_static);
		if (a != ARCH_UNKNOWN)
			add_candidate(cands, n, a, index * 2 + (is_static ? 0 : 1), dir, de->d_name);
	}
	closedir(d);
}

int emu_registry_discover(struct emu_registry *reg, const char *search_path, bool need_static)
{
	static struct candidate cands[ARCH_MAX][EMU_MAX_CANDIDATES];
	size_t n[ARCH_MAX] = { 0 };
	char dirs[EMU_MAX_DIRS][4096];
	unsigned n_dirs = 0;
	int served = 0;

	for (const char *p = search_path; p && *p && n_dirs < EMU_MAX_DIRS;) {
		size_t len = strcspn(p, ":");
		if (len > 0 && len < sizeof(dirs[0])) {
			memcpy(dirs[n_dirs], p, len);
			dirs[n_dirs++][len] = '\0';
		}
		p += len;
		if (*p == ':')
			p++;
	}
	for (size_t d = 0; d < ARRAY_SIZE(default_dirs) && n_dirs < EMU_MAX_DIRS; d++)
		snprintf(dirs[n_dirs++], sizeof(dirs[0]), "%s", default_dirs[d]);
	for (unsigned i = 0; i < n_dirs; i++) {
		bool seen = false;
		for (unsigned j = 0; j < i && !seen; j++)
			seen = strcmp(dirs[i], dirs[j]) == 0;
		if (!seen)
			scan_dir(dirs[i], i, cands, n);
	}

	for (int a = ARCH_UNKNOWN + 1; a < ARCH_MAX; a++) {
		struct emu *e = &reg->by_arch[a];

		for (size_t i = 0; !e->overridden && e->fd < 0 && i < n[a]; i++) {
			struct emu cand = { .fd = -1 };
			if (open_emulator(cands[a][i].path, &cand) < 0)
				continue;
			if (need_static && !cand.is_static) {
				close(cand.fd);
				continue;
			}
			*e = cand;
		}
		if (e->fd >= 0)
			served++;
	}
	return served;
}

int emu_registry_dup(struct emu_registry *reg, enum arch arch, const struct emu *src)
{
	struct emu *e;
	int fd;

	if (arch <= ARCH_UNKNOWN || arch >= ARCH_MAX || !src || src->fd < 0)
		return -EINVAL;
	fd = fcntl(src->fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return negative_errno();
	e = &reg->by_arch[arch];
	if (e->fd >= 0)
		close(e->fd);
	*e = *src;
	e->fd = fd;
	e->overridden = true;
	return 0;
}

const struct emu *emu_registry_get(const struct emu_registry *reg, enum arch arch)
{
	if (arch <= ARCH_UNKNOWN || arch >= ARCH_MAX || reg->by_arch[arch].fd < 0)
		return NULL;
	return &reg->by_arch[arch];
}
