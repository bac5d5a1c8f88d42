/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_OCI_REASON_H
#define UBINFMT_OCI_REASON_H

#include <stddef.h>

#include "macros.h"

/* Internal to supervisor/oci: how its parsers explain a refusal.  Pure. */

/* Size of a buffer for oci_quote: 48 characters, each escaped in at most 4 bytes, and "…". */
#define OCI_QUOTE_MAX (48 * 4 + 4)

/* Formats into reason (may be NULL or 0-sized).  Returns error, so `return oci_reason(…)`. */
_printf_(4, 5) int oci_reason(char *reason, size_t size, int error, const char *fmt, ...);

/*
 * Copies len bytes of s (from the payload, so hostile) for display: printable ASCII as is,
 * other bytes as \xNN, cut after 48 characters with "…".  Returns buf.
 */
const char *oci_quote(char buf[static OCI_QUOTE_MAX], const char *s, size_t len);

#endif
