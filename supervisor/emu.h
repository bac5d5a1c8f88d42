/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_EMU_H
#define UBINFMT_EMU_H

#include <stdbool.h>

#include "arch.h"

/*
 * The emulator registry: which qemu-user binary serves which architecture, each opened once
 * on the host so that the sandbox needs no copy of it and cannot swap it.
 */

struct emu {
	char path[4096];
	int fd;       /* O_RDONLY|O_CLOEXEC on the host binary (through a read-only mount when we
	               * may make one), -1 if none */
	bool is_static;
	bool overridden; /* from --emulator */
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

/* The emulator for arch, or NULL. */
const struct emu *emu_registry_get(const struct emu_registry *reg, enum arch arch);

#endif
