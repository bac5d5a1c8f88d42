/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_LOG_H
#define UBINFMT_LOG_H

#include <errno.h>
#include <stddef.h>

#include "macros.h"

enum log_level {
	LOG_ERROR,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
	LOG_TRACE,
	LOG_LEVEL_MAX,
};

/* Set once by main from -v and UBINFMT_LOG; read by every log call. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_set_program(const char *name);
/*
 * What every program's main does first: name it in every line, and take the level from
 * UBINFMT_LOG if set (a value that names no level is said in a warning, and ignored).
 */
void log_setup(const char *program);
/* One -v: the next level up, trace at most. */
void log_more_verbose(void);
/* Parses "error", "warn", "info", "debug", "trace" or a digit; -EINVAL otherwise. */
int log_parse_level(const char *s, enum log_level *ret_level);

/*
 * Writes one line to stderr: "prog[pid] level: message\n", in one write.  The formatted message
 * passes through log_escape, so that no argument (a path or a name from a sandbox) can end the
 * line, start a forged one or steer a terminal: one call is exactly one line.
 */
void log_emit(enum log_level level, int err, const char *fmt, ...) _printf_(3, 4);

/*
 * Pure: copies src into dst (size bytes, size >= 1, always NUL-terminated) with every byte
 * below 0x20, DEL and the backslash as a visible escape (\n, \r, \t, \\, \xNN), so that the
 * copy holds no control character and reads back unambiguously.  Bytes from 0x80 up (UTF-8
 * names) are kept.  What does not fit is cut after a whole escape and ends in "...".  Returns
 * the length written.
 */
size_t log_escape(char *dst, size_t size, const char *src);

/* Every macro preserves errno so that %m and the caller's errno survive. */
#define log_at(level, err, ...)                                \
	do {                                                   \
		int log_saved_errno_ = errno;                  \
		if ((level) <= log_get_level())                \
			log_emit((level), (err), __VA_ARGS__); \
		errno = log_saved_errno_;                      \
	} while (0)

#define log_error(...) log_at(LOG_ERROR, 0, __VA_ARGS__)
#define log_warn(...) log_at(LOG_WARN, 0, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_at(LOG_DEBUG, 0, __VA_ARGS__)
#define log_trace(...) log_at(LOG_TRACE, 0, __VA_ARGS__)

/* Logs with %m meaning strerror(-r), and evaluates to r (which must be negative). */
#define log_full_errno(level, r, ...)                           \
	({                                                      \
		int log_r_ = (r), log_saved_errno_ = errno;     \
		if ((level) <= log_get_level())                 \
			log_emit((level), log_r_, __VA_ARGS__); \
		errno = log_saved_errno_;                       \
		log_r_;                                         \
	})
#define log_error_errno(r, ...) log_full_errno(LOG_ERROR, (r), __VA_ARGS__)
#define log_warn_errno(r, ...) log_full_errno(LOG_WARN, (r), __VA_ARGS__)
#define log_debug_errno(r, ...) log_full_errno(LOG_DEBUG, (r), __VA_ARGS__)

#endif
