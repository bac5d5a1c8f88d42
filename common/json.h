/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_JSON_H
#define UBINFMT_JSON_H

#include <stddef.h>
#include <stdio.h>

/*
 * JSON strings made of bytes we do not trust (paths, ids, interpreter names from a sandbox), with
 * one rule for every JSON the programs write: '"' and '\' get a backslash; every byte below
 * 0x20, DEL and every byte from 0x80 up is written \u00XX.  The last keeps the output ASCII and
 * valid JSON whatever the bytes are (a file name need not be UTF-8): a reader gets one code
 * point per byte, which it turns back into the bytes as Latin-1.
 */

/* The longest escape of one byte ("\u00ff"), with room for a NUL. */
#define JSON_ESCAPE_MAX 8

/* Writes byte c as it goes inside a JSON string into out (NUL-terminated); returns its length. */
size_t json_escape_byte(unsigned char c, char out[JSON_ESCAPE_MAX]);

/*
 * Writes s as a JSON string, quotes included, into buf (NUL-terminated); returns its length.
 * When it does not fit, it is cut after a whole escape and still closed, so that it stays a
 * valid string; with size < 3 buf is left empty.
 */
size_t json_quote(char *buf, size_t size, const char *s);

/* The same, written to f. */
void json_print_string(FILE *f, const char *s);

#endif
