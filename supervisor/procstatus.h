/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_PROCSTATUS_H
#define UBINFMT_PROCSTATUS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Pure readers of /proc/PID/status text, which the kernel writes but whose length and some of
 * whose values (the name, the groups, the ids) a sandbox chooses.  Nothing here reads past len
 * or trusts a line to be well-formed.
 */

/* The value of the line "NAME:…" (whole name, at a line start), without the colon, or NULL. */
const char *procstatus_field(const char *text, size_t len, const char *name, size_t *ret_len);

/*
 * The blank-separated decimal numbers of line NAME, the first max of them into out: how many
 * there are (more than max when some did not fit), or -EINVAL when the line is missing, holds
 * anything else, or a value past 2^32 - 1 (no id or pid is that large).
 */
int procstatus_numbers(const char *text, size_t len, const char *name, unsigned long *out, size_t max);

/* A capability set of line NAME (CapEff…): up to 16 hex digits, as the kernel prints it. */
int procstatus_caps(const char *text, size_t len, const char *name, uint64_t *ret);

#endif
