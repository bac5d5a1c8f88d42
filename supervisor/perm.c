/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macros.h"
#include "perm.h"

#define CAP_DAC_OVERRIDE_BIT 1
#define CAP_DAC_READ_SEARCH_BIT 2

/* The value after "Name:\t" on its own line, or NULL. */
static const char *field(const char *text, size_t len, const char *name, size_t *ret_len)
{
	size_t nl = strlen(name);

	for (size_t pos = 0; pos < len;) {
		const char *line = text + pos;
		const char *end = memchr(line, '\n', len - pos);
		size_t l = end ? (size_t)(end - line) : len - pos;
		if (l > nl && memcmp(line, name, nl) == 0 && line[nl] == ':') {
			*ret_len = l - nl - 1;
			return line + nl + 1;
		}
		pos += l + 1;
	}
	return NULL;
}

/*
 * Parses up to max unsigned decimal numbers separated by blanks; *ret_more tells whether
 * another number followed the max-th.
 */
static size_t numbers(const char *s, size_t len, unsigned long *out, size_t max, bool *ret_more)
{
	size_t n = 0, i = 0;

	*ret_more = false;
	while (i < len) {
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			break;
		if (n == max) {
			*ret_more = true;
			break;
		}
		unsigned long v = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9' && v < 0xffffffffUL)
			v = v * 10 + (unsigned long)(s[i++] - '0');
		out[n++] = v;
	}
	return n;
}

int perm_parse_status(const char *text, size_t len, struct creds *ret)
{
	struct creds c = { 0 };
	unsigned long v[PERM_MAX_GROUPS];
	const char *f;
	size_t flen;
	bool more;

	f = field(text, len, "Uid", &flen);
	if (!f || numbers(f, flen, v, 4, &more) != 4)
		return -EINVAL;
	c.fsuid = (uid_t)v[3];
	f = field(text, len, "Gid", &flen);
	if (!f || numbers(f, flen, v, 4, &more) != 4)
		return -EINVAL;
	c.fsgid = (gid_t)v[3];
	f = field(text, len, "Groups", &flen);
	if (f) {
		c.n_groups = numbers(f, flen, v, PERM_MAX_GROUPS, &c.groups_truncated);
		for (size_t i = 0; i < c.n_groups; i++)
			c.groups[i] = (gid_t)v[i];
	}
	f = field(text, len, "CapEff", &flen);
	if (!f)
		return -EINVAL;
	while (flen > 0 && (*f == ' ' || *f == '\t')) {
		f++;
		flen--;
	}
	unsigned long long caps = 0;
	for (size_t i = 0; i < flen && i < 16; i++) {
		char ch = f[i];
		int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
		if (d < 0)
			break;
		caps = caps << 4 | (unsigned)d;
	}
	c.dac_override = caps & (1ULL << CAP_DAC_OVERRIDE_BIT);
	c.dac_read_search = caps & (1ULL << CAP_DAC_READ_SEARCH_BIT);
	*ret = c;
	return 0;
}

/*
 * The x bit of the class generic_permission() picks for creds (owner, group, other): only one
 * class decides.  Groups dropped from a truncated list could make it the group's: then the
 * answer holds only when group and other agree.
 */
static bool x_for_class(const struct creds *c, const struct stat *st)
{
	mode_t mode = st->st_mode;

	if (c->fsuid == st->st_uid)
		return mode & S_IXUSR;
	bool in_group = c->fsgid == st->st_gid;
	for (size_t i = 0; !in_group && i < c->n_groups; i++)
		in_group = c->groups[i] == st->st_gid;
	if (in_group)
		return mode & S_IXGRP;
	if (c->groups_truncated && !(mode & S_IXGRP) != !(mode & S_IXOTH))
		return false;
	return mode & S_IXOTH;
}

bool perm_may_exec(const struct creds *c, const struct stat *st, bool noexec_mount)
{
	mode_t mode = st->st_mode;

	if (noexec_mount || !S_ISREG(mode) || !(mode & 0111))
		return false;
	if (c->dac_override)
		return true; /* with at least one x bit, like generic_permission() */
	return x_for_class(c, st);
}

bool perm_may_search(const struct creds *c, const struct stat *st)
{
	if (!S_ISDIR(st->st_mode))
		return false;
	if (c->dac_override || c->dac_read_search)
		return true;
	return x_for_class(c, st);
}

bool perm_x_for_all(mode_t mode)
{
	return (mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == (S_IXUSR | S_IXGRP | S_IXOTH);
}
