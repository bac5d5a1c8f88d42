/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_REASON_H
#define UBINFMT_REASON_H

#include <stddef.h>

#include "macros.h"

/* How the parsers of sandbox-controlled text (OCI payloads, sandbox options) explain a refusal.  Pure. */

/* Size of a buffer for reason_quote: 48 characters, each escaped in at most 4 bytes, and "…". */
#define REASON_QUOTE_MAX (48 * 4 + 4)

/* Formats into reason (may be NULL or 0-sized).  Returns error, so `return reason_set(…)`. */
_printf_(4, 5) int reason_set(char *reason, size_t size, int error, const char *fmt, ...);

/*
 * Copies len bytes of s (from the payload, so hostile) for display: printable ASCII as is,
 * other bytes as \xNN, cut after 48 characters with "…".  Returns buf.
 */
const char *reason_quote(char buf[static REASON_QUOTE_MAX], const char *s, size_t len);

#endif
