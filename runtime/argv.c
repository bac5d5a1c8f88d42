/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stddef.h>
#include <string.h>

#include "argv.h"
#include "macros.h"

/* What an option does with its value: nothing, or keep it in one of struct rt_argv's fields. */
enum opt_kind {
	OPT_FLAG,
	OPT_SKIP, /* takes a value we do not need */
	OPT_LOG,
	OPT_LOG_FORMAT,
	OPT_BUNDLE,
	OPT_CONFIG,
	OPT_KIND_MAX,
};

struct opt {
	const char *name; /* long name */
	char short_name;  /* 0 when none */
	enum opt_kind kind;
};

/*
 * runc 1.1 and crun 1.8 (their --help).  Only the options that take a value matter: a flag we
 * do not list is taken for a flag anyway.
 */
/* clang-format off */
static const struct opt global_opts[] = {
	{ "root", 0, OPT_SKIP },
	{ "log", 0, OPT_LOG },
	{ "log-format", 0, OPT_LOG_FORMAT },
	{ "criu", 0, OPT_SKIP },
	{ "rootless", 0, OPT_SKIP },
	{ "cgroup-manager", 0, OPT_SKIP },
};
/* clang-format on */

/* clang-format off */
static const struct opt create_opts[] = {
	{ "bundle", 'b', OPT_BUNDLE },
	{ "config", 'f', OPT_CONFIG },
	{ "console-socket", 0, OPT_SKIP },
	{ "pid-file", 0, OPT_SKIP },
	{ "preserve-fds", 0, OPT_SKIP },
};
/* clang-format on */

struct opt_table {
	const struct opt *opts;
	size_t n;
};

static const struct opt *find_long(struct opt_table t, const char *name, size_t len)
{
	for (size_t i = 0; i < t.n; i++)
		if (strlen(t.opts[i].name) == len && memcmp(t.opts[i].name, name, len) == 0)
			return &t.opts[i];
	return NULL;
}

static const struct opt *find_short(struct opt_table t, char c)
{
	for (size_t i = 0; i < t.n; i++)
		if (t.opts[i].short_name == c)
			return &t.opts[i];
	return NULL;
}

static void store(struct rt_argv *a, enum opt_kind kind, const char *value)
{
	switch (kind) {
	case OPT_LOG:
		a->log = value && *value ? value : NULL;
		break;
	case OPT_LOG_FORMAT:
		a->log_format = value && strcmp(value, "json") == 0 ? RT_LOG_JSON : RT_LOG_TEXT;
		break;
	case OPT_BUNDLE:
		a->bundle = value && *value ? value : NULL;
		break;
	case OPT_CONFIG:
		a->config = value && *value ? value : NULL;
		break;
	case OPT_FLAG:
	case OPT_SKIP:
	case OPT_KIND_MAX:
		break;
	}
}

/*
 * One option word at argv[i] (it starts with '-' and is not "-" or "--").  Returns how many
 * words it took: 1, or 2 when its value is the next word.
 */
static int option(struct opt_table t, int argc, char *const argv[], int i, struct rt_argv *a)
{
	const char *w = argv[i], *name, *eq;
	const struct opt *o;
	size_t len;

	/* "--name[=value]", or Go's "-name[=value]" for a long name of more than one letter. */
	name = w[1] == '-' ? w + 2 : w + 1;
	eq = strchr(name, '=');
	len = eq ? (size_t)(eq - name) : strlen(name);
	o = find_long(t, name, len);
	if (o || w[1] == '-') {
		if (!o)
			return 1; /* an unknown flag, or an unknown option with its value after '=' */
		if (o->kind == OPT_FLAG)
			return 1;
		if (eq) {
			store(a, o->kind, eq + 1);
			return 1;
		}
		store(a, o->kind, i + 1 < argc ? argv[i + 1] : NULL);
		return i + 1 < argc ? 2 : 1;
	}

	/* Short options, possibly run together (argp): "-d", "-db DIR", "-bDIR", "-b=DIR" is "=DIR". */
	for (const char *p = w + 1; *p; p++) {
		o = find_short(t, *p);
		if (!o || o->kind == OPT_FLAG)
			continue;
		if (p[1]) {
			store(a, o->kind, p + 1);
			return 1;
		}
		store(a, o->kind, i + 1 < argc ? argv[i + 1] : NULL);
		return i + 1 < argc ? 2 : 1;
	}
	return 1;
}

static bool is_option(const char *w)
{
	return w[0] == '-' && w[1] != '\0' && strcmp(w, "--") != 0;
}

void rt_argv_scan(int argc, char *const argv[], struct rt_argv *ret)
{
	const struct opt_table globals = { global_opts, ARRAY_SIZE(global_opts) };
	const struct opt_table creates = { create_opts, ARRAY_SIZE(create_opts) };
	struct rt_argv a = { .command = RT_CMD_NONE };
	int i = 1;

	while (i < argc && argv[i] && is_option(argv[i]))
		i += option(globals, argc, argv, i, &a);
	if (i < argc && argv[i] && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc || !argv[i]) {
		*ret = a;
		return;
	}

	a.command_index = i;
	a.command = strcmp(argv[i], "create") == 0 ? RT_CMD_CREATE
		    : strcmp(argv[i], "run") == 0  ? RT_CMD_RUN
						   : RT_CMD_OTHER;
	if (a.command == RT_CMD_CREATE || a.command == RT_CMD_RUN) {
		for (i++; i < argc && argv[i] && strcmp(argv[i], "--") != 0;)
			i += is_option(argv[i]) ? option(creates, argc, argv, i, &a) : 1;
	}
	*ret = a;
}

const char *rt_command_name(enum rt_command c)
{
	switch (c) {
	case RT_CMD_NONE:
		return "none";
	case RT_CMD_CREATE:
		return "create";
	case RT_CMD_RUN:
		return "run";
	case RT_CMD_OTHER:
		return "other";
	case RT_CMD_MAX:
		break;
	}
	return "?";
}
