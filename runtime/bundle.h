/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_RT_BUNDLE_H
#define UBINFMT_RT_BUNDLE_H

#include <sys/types.h>

struct json_object;

/* config.json of a bundle: engines write 10–60 KiB; Kubernetes allows 256 KiB of annotations. */
#define RT_BUNDLE_CONFIG_MAX (16 * 1024 * 1024)
/* json-c counts levels of values; config.json's deepest (seccomp args) are at 6. */
#define RT_BUNDLE_JSON_DEPTH 64

struct rt_bundle {
	int dir_fd;	   /* the bundle directory (O_PATH) */
	int config_dir_fd; /* the directory config.json is in (the bundle's, or crun --config's) */
	char *config_name; /* its name there */
	mode_t mode;	   /* config.json's permission bits, kept by the rewrite */
	uid_t uid;
	gid_t gid;
	struct json_object *config;
};

/*
 * Reads and parses BUNDLE/CONFIG (bundle NULL: the cwd; config NULL: "config.json").
 * Trusts the engine that wrote the bundle to name a real directory; checks that the config is
 * a regular file of at most RT_BUNDLE_CONFIG_MAX bytes and JSON (any JSON: the merge checks
 * what it reads).  -errno from the system, -EFBIG, -EPROTO for malformed JSON (reason says
 * where), -ENOMEM.  On success ret is filled and released with rt_bundle_close.
 */
int rt_bundle_open(const char *bundle, const char *config, struct rt_bundle *ret, char *reason, size_t reason_size);

/*
 * Replaces config.json with b->config, atomically: a temporary file in the same directory,
 * written whole, given config.json's mode (and owner, when it differs and we may), fsync'd,
 * renamed over it.  On failure the temporary file is removed and config.json is untouched.
 */
int rt_bundle_write(struct rt_bundle *b);

void rt_bundle_close(struct rt_bundle *b);

#endif
