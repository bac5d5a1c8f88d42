/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_OCI_OPTIONS_H
#define UBINFMT_OCI_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "arch.h"
#include "oci.h"

/*
 * Per-container options, read from two places of the container's config.json:
 *
 * linux.seccomp.listenerMetadata (it reaches us as the payload's "metadata") belongs to
 * whoever chose the seccomp profile: the operator (podman --security-opt seccomp=FILE, a
 * node-local Kubernetes profile).  It is ours alone, since listenerPath names our socket, so
 * every key in it must be one of ours.  Entries are KEY=VALUE separated by ';'; blanks (space,
 * tab) around keys and values are ignored, empty entries too; a key may appear once:
 *
 *     io.ubinfmt.emulators=aarch64,arm; io.ubinfmt.emulator.aarch64=/opt/qemu/qemu-aarch64; io.ubinfmt.trace=json
 *
 * Annotations (state.annotations) may come from the image's or the pod's author.  Keys
 * starting with "io.ubinfmt." are ours, anything else is ignored.  Values are taken exactly as
 * written.
 *
 * Keys:
 *   io.ubinfmt.emulators = all | none | ARCH[,ARCH]…
 *       Which foreign architectures this container may run under an emulator (default: all
 *       the daemon serves).  ARCH is qemu's name or an alias arch_from_name() knows (aarch64,
 *       arm64, armhf, riscv64, ppc64el…); blanks around items are ignored.  When both places
 *       set it, the container gets the intersection: an annotation can narrow what the
 *       operator allowed, never widen it.
 *   io.ubinfmt.emulator.ARCH = /absolute/path
 *       The emulator binary for ARCH instead of the daemon's own.  listenerMetadata only: from
 *       an annotation, it would let an image's author choose a host file for the privileged
 *       daemon to open and run inside the container.  ARCH must be allowed by the same
 *       metadata's io.ubinfmt.emulators, when it has one.
 *   io.ubinfmt.trace = true | false | json
 *       Trace this container's execs, as text or JSON lines.  listenerMetadata wins over an
 *       annotation.
 *
 * io.ubinfmt.runtime and io.ubinfmt.enable are ubinfmt-runtime's annotations (runtime/profile.h)
 * and are skipped.  Any other io.ubinfmt.* key, a malformed value or a non-lowercase boolean is
 * an error, so a typo cannot pass unnoticed.
 */

enum oci_trace {
	OCI_TRACE_DEFAULT, /* not set: the daemon's own setting */
	OCI_TRACE_OFF,
	OCI_TRACE_TEXT,
	OCI_TRACE_JSON,
	OCI_TRACE_MAX,
};

_Static_assert(ARCH_MAX < 64, "arch masks are 64-bit");
/* Every architecture but ARCH_UNKNOWN. */
#define OCI_ARCH_ALL (((UINT64_C(1) << ARCH_MAX) - 1) & ~(UINT64_C(1) << ARCH_UNKNOWN))

struct oci_options {
	uint64_t arch_mask;       /* 1 << arch for each architecture that may be emulated */
	/*
	 * Host path of the emulator for an architecture, or NULL.  The daemon opens it with its
	 * own privileges: it should still accept only paths it was told to trust.
	 */
	char *emulator[ARCH_MAX];
	enum oci_trace trace;
};

/*
 * Reads st's metadata and io.ubinfmt.* annotations.  On success fills *ret, released with
 * oci_options_free.  -EINVAL, with a reason naming the key and where it came from, for any
 * unknown key or bad value, or st->options_refused's reason (too large, too many); -ENOMEM.
 * *ret is untouched on failure.
 */
int oci_parse_options(const struct oci_state *st, struct oci_options *ret, char *reason,
		      size_t reason_size);

/* Frees what o owns and leaves it empty. */
void oci_options_free(struct oci_options *o);

/* "default", "off", "text", "json". */
const char *oci_trace_name(enum oci_trace trace);

#endif
