/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_EMU_NAMES_H
#define UBINFMT_EMU_NAMES_H

#include "comm.h"
#include "emu.h"

/*
 * Emulators under the names of the programs they run, so that an emulated process is named
 * after its program (/proc/PID/comm: ps, pidof, pkill, killall), as under binfmt_misc, and not
 * after qemu.
 *
 * The kernel names a process exec'd from an fd (execveat(fd, "", AT_EMPTY_PATH), how every
 * emulator is started) after the fd's directory entry.  So each emulator in use is copied once
 * into a private tmpfs, and each program name gets a hard link to its copy there; the task is
 * handed that link, opened through a read-only clone of the mount (every path to it answers
 * EROFS, like the emulator's own fd: emu.c).  The tmpfs is detached and ours: no one else can
 * list it, so one sandbox never sees the names of another's programs.
 *
 * Bounded: EMU_NAMES_MAX_COPIES copies (a few emulators, ~10-15 MiB each), EMU_NAMES_MAX names,
 * the least recently used one unlinked for a new one.  Creating the tmpfs needs CAP_SYS_ADMIN
 * (call emu_names_new before the capabilities are dropped); copying and linking later needs
 * nothing but the mount, which we own.
 */

#define EMU_NAMES_MAX_COPIES 16
#define EMU_NAMES_MAX 512

struct emu_names;

/* -errno (EPERM without CAP_SYS_ADMIN): emulated processes then keep the emulator's name. */
int emu_names_new(struct emu_names **ret);
void emu_names_free(struct emu_names *names);

/*
 * An fd (ours to close, close-on-exec, read-only) of emulator e's copy, its directory entry
 * named comm: copies e's file on first use, links comm on first use.  -errno: hand out e->fd.
 */
int emu_names_open(struct emu_names *names, const struct emu *e, const char *comm);

/* The name an exec of fd's own file gives its process (comm.h), for fexecve of our copy fd. */
int emu_names_comm_of_fd(int fd, char ret[COMM_NAME_MAX + 1]);

#endif
