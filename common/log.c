/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static enum log_level log_level = LOG_WARN;
static const char *log_program = "ubinfmt";

void log_set_level(enum log_level level)
{
	log_level = level < LOG_LEVEL_MAX ? level : LOG_TRACE;
}

enum log_level log_get_level(void)
{
	return log_level;
}

void log_set_program(const char *name)
{
	log_program = name;
}

int log_parse_level(const char *s, enum log_level *ret_level)
{
	static const char *const names[LOG_LEVEL_MAX] = { "error", "warn", "info", "debug", "trace" };

	for (int i = 0; i < LOG_LEVEL_MAX; i++) {
		if (strcmp(s, names[i]) == 0 || (s[0] == '0' + i && s[1] == '\0')) {
			*ret_level = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void log_emit(enum log_level level, int err, const char *fmt, ...)
{
	static const char *const prefixes[LOG_LEVEL_MAX] = { "error", "warning", "info", "debug", "trace" };
	char line[2048];
	va_list ap;
	int n;

	/* %m in fmt means the error passed in, not whatever errno happens to hold. */
	if (err < 0)
		errno = -err;
	n = snprintf(line, sizeof(line), "%s[%d] %s: ", log_program, (int)getpid(),
		     prefixes[level < LOG_LEVEL_MAX ? level : LOG_TRACE]);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per line, so concurrent writers do not interleave mid-line. */
	size_t len = strnlen(line, sizeof(line) - 2);
	line[len++] = '\n';
	(void)!write(STDERR_FILENO, line, len);
}
