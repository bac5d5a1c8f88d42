/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_RT_DETECT_H
#define UBINFMT_RT_DETECT_H

#include <stdbool.h>

#include "arch.h"

struct json_object;

struct rt_detect {
	bool foreign;
	enum arch arch; /* of what was found foreign, else ARCH_UNKNOWN */
	char what[256]; /* "/bin/sh -> /bin/busybox" style note for the log: what was looked at */
};

/*
 * Mode auto: whether the container needs ubinfmtd, judged from its image before it starts.
 * Looks at process.args[0], found the way runc finds it (a name without '/' on the PATH of
 * process.env, else relative to process.cwd), and at /bin/sh, inside the bundle's root.path:
 * each resolved with openat2(RESOLVE_IN_ROOT), so that no symlink of the image leads out of it;
 * opened O_PATH and read only when it is a regular file; its first 256 bytes classified, a #!
 * interpreter followed like the kernel does (SHEBANG_MAX_DEPTH levels).  Foreign is an ELF of
 * another architecture than this machine's (i386 counts as foreign on x86-64: ubinfmtd measures
 * whether it runs natively and lets it be when it does).
 *
 * host is this machine's architecture.  Returns 0 with ret filled (foreign false when nothing
 * foreign was found, including when neither file exists), or -errno when the root cannot be
 * opened: the caller cannot tell then.
 */
int rt_detect_foreign(int bundle_fd, struct json_object *config, enum arch host, struct rt_detect *ret);

/* This machine's architecture (uname), ARCH_UNKNOWN if it has no name we know. */
enum arch rt_host_arch(void);

#endif
