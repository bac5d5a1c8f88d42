/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_NATIVE_H
#define UBINFMT_NATIVE_H

#include <stddef.h>
#include <stdint.h>

#include "arch.h"

/*
 * Which architectures this machine runs by itself.  Measured, not assumed: an x86-64 kernel
 * may lack (or have disabled) the i386 and x32 ABIs, and a virtual machine may refuse 32-bit
 * code even when the kernel has them.
 */

/* Pure: a minimal static ELF for arch that exits with NATIVE_PROBE_STATUS. Returns its size. */
#define NATIVE_PROBE_STATUS 42
int native_probe_image(enum arch arch, uint8_t *buf, size_t size);

/*
 * Runs the probes (fork + fexecve of a memfd, before any filter is installed) and returns a
 * bitmask of 1u << arch for every architecture that ran; the host's own is always set.
 */
uint64_t native_probe(void);

#endif
