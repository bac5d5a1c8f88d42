/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_RT_LOGFMT_H
#define UBINFMT_RT_LOGFMT_H

#include <stddef.h>
#include <time.h>

#include "argv.h"

/*
 * One line in the format of runc's own log (runc --log FILE --log-format text|json), which
 * is what engines read back when the runtime fails: containerd's shim (Docker, ctr, Kubernetes)
 * and podman show the "msg" of the last "error" line to the user.
 *
 *   json: {"level":"error","msg":"…","time":"2026-12-06T15:40:01Z"}
 *   text: time="2026-12-06T15:40:01Z" level=error msg="…"
 *
 * level is logrus's word ("error", "warning"); now is the time to show, in UTC.  The line ends
 * with '\n'.  Returns its length, or -ENOSPC when buf is too small, -ENOMEM.  Pure.
 */
int rt_logfmt(char *buf, size_t size, enum rt_log_format format, const char *level, const char *msg, time_t now);

#endif
