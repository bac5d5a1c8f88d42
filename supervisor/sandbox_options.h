/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_SANDBOX_OPTIONS_H
#define UBINFMT_SANDBOX_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "arch.h"

/*
 * Per-sandbox options: one language, one parser, whichever way a sandbox is made.  Entries are
 * KEY=VALUE; keys:
 *
 *   emulators = all | none | ARCH[,ARCH]…
 *       Which foreign architectures the sandbox may run under an emulator (default: all the
 *       supervisor serves).  ARCH is qemu's name or an alias arch_from_name() knows (aarch64,
 *       arm64, armhf, riscv64, ppc64el…); blanks around items are ignored.  Execs of the others
 *       fail with ENOEXEC.
 *   emulator.ARCH = /absolute/path
 *       The emulator binary for ARCH instead of the supervisor's own.  The operator's only (see
 *       trust below).  ARCH must be allowed by the same source's emulators, when it has one.
 *   trace = true | false | json
 *       Trace the sandbox's execs, as text or JSON lines.
 *
 * Where they come from (each a struct sandbox_options_source), and whose they are:
 *
 *   operator  listenerMetadata of an OCI container ("io.ubinfmt." before each key, entries
 *             separated by ';'), `ubinfmt run --option` and its --trace/--json
 *   tenant    io.ubinfmt.* annotations of an OCI container (the image's or pod's author),
 *             `ubinfmt-init --option` (HELLO's options, from inside the container)
 *
 * A tenant may only narrow what the operator chose: its emulators intersect the operator's, its
 * trace counts when the operator left trace unset, and it may never name an emulator path (that
 * would let a container choose a host file for the privileged daemon to open and run).
 *
 * Tenant input is hostile: at most SANDBOX_OPTIONS_MAX entries per source, keys and values
 * bounded, unknown keys, duplicates, bad values and non-lowercase booleans refused with a
 * reason that names the source and the key, so that a typo cannot pass unnoticed.
 *
 * Pure: no syscalls, no globals.  Adding an option: its field below, its key in the table of
 * sandbox_options.c (a parser and how a tenant's value folds into the operator's), and the code
 * that acts on it.
 */

enum sandbox_trace {
	SANDBOX_TRACE_DEFAULT, /* not set: the supervisor's own setting */
	SANDBOX_TRACE_OFF,
	SANDBOX_TRACE_TEXT,
	SANDBOX_TRACE_JSON,
	SANDBOX_TRACE_MAX,
};

_Static_assert(ARCH_MAX < 64, "arch masks are 64-bit");
/* Every architecture but ARCH_UNKNOWN. */
#define SANDBOX_ARCH_ALL (((UINT64_C(1) << ARCH_MAX) - 1) & ~(UINT64_C(1) << ARCH_UNKNOWN))

/* Entries one source may give; keys and values longer than these are refused. */
#define SANDBOX_OPTIONS_MAX 64
#define SANDBOX_OPTION_KEY_MAX 256
#define SANDBOX_OPTION_VALUE_MAX 4096

struct sandbox_options {
	uint64_t arch_mask; /* 1 << arch for each architecture that may be emulated */
	/*
	 * Host path of the emulator for an architecture, or NULL: the operator's choice, which the
	 * front end turns into the sandbox's emulator registry (ubinfmtd accepts only emulators it
	 * opened itself).
	 */
	char *emulator[ARCH_MAX];
	enum sandbox_trace trace;

	/* Parse state of the source being read. */
	uint32_t seen;	    /* keys set so far, 1 << their index in the table */
	unsigned n_entries; /* entries read so far */
};

enum sandbox_options_trust {
	SANDBOX_OPTIONS_OPERATOR, /* may name emulator paths */
	SANDBOX_OPTIONS_TENANT,	  /* may only narrow */
};

struct sandbox_options_source {
	const char *name;   /* for reasons: "listenerMetadata", "annotation", "option" */
	const char *prefix; /* what its keys start with ("io.ubinfmt." for OCI), or "" */
	enum sandbox_options_trust trust;
};

/* Empty options: every architecture, trace unset, no emulator of its own. */
#define SANDBOX_OPTIONS_INIT                                                  \
	{                                                                     \
		.arch_mask = SANDBOX_ARCH_ALL, .trace = SANDBOX_TRACE_DEFAULT \
	}
void sandbox_options_init(struct sandbox_options *o);

/*
 * Reads one entry of src into o (made by sandbox_options_init; one o per source).  key is as
 * written in src, prefix included.  -EINVAL with a reason naming src and key for anything
 * refused (too many entries, key or value too long, unknown key, set twice, bad value, an
 * emulator path from a tenant); -ENOMEM.  o may hold part of the source on failure: free it.
 */
int sandbox_options_add(struct sandbox_options *o, const struct sandbox_options_source *src, const char *key,
			const char *value, char *reason, size_t reason_size);

/* The same for "KEY=VALUE" (HELLO's options, --option): split at the first '=', taken as written. */
int sandbox_options_add_entry(struct sandbox_options *o, const struct sandbox_options_source *src, const char *entry,
			      char *reason, size_t reason_size);

/*
 * The same for "KEY=VALUE; KEY=VALUE…" (listenerMetadata): blanks (space, tab, CR) around keys and
 * values are ignored, empty entries too.
 */
int sandbox_options_add_list(struct sandbox_options *o, const struct sandbox_options_source *src, const char *list,
			     char *reason, size_t reason_size);

/* After a source's last entry: what needs all of it (emulator.ARCH of an ARCH not in emulators). */
int sandbox_options_check(const struct sandbox_options *o, const struct sandbox_options_source *src, char *reason,
			  size_t reason_size);

/* Folds a tenant's options into the operator's o: narrows, never widens (see above). */
void sandbox_options_narrow(struct sandbox_options *o, const struct sandbox_options *tenant);

/* Frees what o owns and leaves it as sandbox_options_init made it. */
void sandbox_options_free(struct sandbox_options *o);

/* "default", "off", "text", "json"; "unknown" for out-of-range values. */
const char *sandbox_trace_name(enum sandbox_trace trace);

#endif
