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
#include "procstatus.h"

#define CAP_DAC_OVERRIDE_BIT 1
#define CAP_DAC_READ_SEARCH_BIT 2

int perm_parse_status(const char *text, size_t len, struct creds *ret)
{
	struct creds c = { 0 };
	unsigned long v[PERM_MAX_GROUPS];
	uint64_t caps;
	int n;

	if (procstatus_numbers(text, len, "Uid", v, 4) != 4)
		return -EINVAL;
	c.fsuid = (uid_t)v[3];
	if (procstatus_numbers(text, len, "Gid", v, 4) != 4)
		return -EINVAL;
	c.fsgid = (gid_t)v[3];
	n = procstatus_numbers(text, len, "Groups", v, PERM_MAX_GROUPS);
	if (n > 0) {
		c.n_groups = MIN((size_t)n, (size_t)PERM_MAX_GROUPS);
		c.groups_truncated = (size_t)n > PERM_MAX_GROUPS;
		for (size_t i = 0; i < c.n_groups; i++)
			c.groups[i] = (gid_t)v[i];
	}
	if (procstatus_caps(text, len, "CapEff", &caps) < 0)
		return -EINVAL;
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
