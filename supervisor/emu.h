/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_EMU_H
#define UBINFMT_EMU_H

#include <stdbool.h>
#include <sys/types.h>

#include "arch.h"

/*
 * The emulator registry: which qemu-user binary serves which architecture, each opened once
 * on the host so that the sandbox needs no copy of it and cannot swap it.
 *
 * Paths are opened only by emu_registry_override and emu_registry_discover, at start-up: the
 * read-only mount (emu.c) needs CAP_SYS_ADMIN, which the supervisors drop once they serve.
 * A registry made later (a container's own choices) takes duplicates of those fds with
 * emu_registry_dup, never a new open of a path.
 */

struct emu {
	char path[4096];
	int fd; /* O_RDONLY|O_CLOEXEC on the host binary (through a read-only mount when we
	               * may make one), -1 if none */
	bool is_static;
	bool overridden; /* chosen (--emulator, emu_registry_dup), not left to discovery */
	bool read_only;	 /* fd is on a read-only mount: no path to the file opens it for writing */
	dev_t dev;	 /* fd's file, from the fstat at its open: what identifies it (emu_names.c) */
	ino_t ino;
	off_t size;
};

struct emu_registry {
	struct emu by_arch[ARCH_MAX];
};

/* Empty registry (every fd -1). */
void emu_registry_init(struct emu_registry *reg);
void emu_registry_close(struct emu_registry *reg);

/*
 * Parses "ARCH=PATH" and opens PATH for arch; the override wins over discovery.
 * -EINVAL for a malformed spec or unknown arch, -errno when PATH cannot be opened,
 * -ENOEXEC when PATH is not an ELF for this machine.
 */
int emu_registry_override(struct emu_registry *reg, const char *spec);

/*
 * Finds qemu-<arch>-static, then qemu-<arch>, on search_path (a PATH-like string, may be NULL)
 * and in /usr/bin, /usr/local/bin, /usr/libexec/qemu, for each architecture not overridden.
 * need_static: only static binaries count (the emulator runs inside a foreign rootfs, where
 * the host's shared libraries do not exist).  Returns the number of architectures served.
 */
int emu_registry_discover(struct emu_registry *reg, const char *search_path, bool need_static);

/*
 * Serves arch with src's emulator: a duplicate of its fd (close-on-exec), the same file and
 * the same read-only mount, whatever has become of src's path since.  -EINVAL for a bad arch
 * or an src without an fd, -errno when out of fds.
 */
int emu_registry_dup(struct emu_registry *reg, enum arch arch, const struct emu *src);

/* The emulator for arch, or NULL. */
const struct emu *emu_registry_get(const struct emu_registry *reg, enum arch arch);

#endif
