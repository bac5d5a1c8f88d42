/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>

#include "macros.h"
#include "perm.h"
#include "procfs.h"

/*
 * /proc/TID/status is about 1.5 KiB, but its Groups: line, which comes before CapEff:, holds
 * up to NGROUPS_MAX (65536) numbers of up to 10 digits: read the whole file, within a bound.
 */
#define STATUS_MAX (1u << 20)

int perm_read_creds(pid_t tid, struct creds *ret)
{
	_cleanup_free_ char *buf = NULL;
	int n = procfs_read_all(tid, "status", STATUS_MAX, &buf);

	if (n < 0)
		return n;
	return perm_parse_status(buf, (size_t)n, ret);
}
