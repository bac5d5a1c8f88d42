/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_OCI_OPTIONS_H
#define UBINFMT_OCI_OPTIONS_H

#include <stddef.h>

#include "oci.h"
#include "sandbox_options.h"

/*
 * A container's sandbox options (sandbox_options.h), read from two places of its config.json:
 *
 * linux.seccomp.listenerMetadata (it reaches us as the payload's "metadata") belongs to
 * whoever chose the seccomp profile: the operator (podman --security-opt seccomp=FILE, a
 * node-local Kubernetes profile).  It is ours alone, since listenerPath names our socket, so
 * every key in it must be one of ours.  Entries are KEY=VALUE separated by ';'; blanks (space,
 * tab, CR) around keys and values are ignored, empty entries too; a key may appear once:
 *
 *     io.ubinfmt.emulators=aarch64,arm; io.ubinfmt.emulator.aarch64=/opt/qemu/qemu-aarch64; io.ubinfmt.trace=json
 *
 * Annotations (state.annotations) may come from the image's or the pod's author: a tenant.
 * Keys starting with "io.ubinfmt." are ours, anything else is ignored.  Values are taken
 * exactly as written.
 *
 * Keys are sandbox_options.h's with "io.ubinfmt." before them.  io.ubinfmt.runtime and
 * io.ubinfmt.enable are ubinfmt-runtime's annotations (runtime/profile.h) and are skipped.
 */

/*
 * Reads st's metadata and io.ubinfmt.* annotations.  On success fills *ret, released with
 * sandbox_options_free.  -EINVAL, with a reason naming the key and where it came from, for any
 * unknown key or bad value, or st->options_refused's reason (too large, too many); -ENOMEM.
 * *ret is untouched on failure.
 */
int oci_parse_options(const struct oci_state *st, struct sandbox_options *ret, char *reason, size_t reason_size);

#endif
