/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for perm_parse_status(), which reads /proc/TID/status of a trapped task,
 * and perm_may_exec(), which redoes the kernel's exec permission check on a foreign file.  A
 * sandbox controls part of that text (its Name: line, escaped by the kernel), how many
 * supplementary groups it has, and every credential in it.  The input is the status text (its
 * own heap buffer of exactly its size, so ASan reports any read past it).  Checked:
 *
 *  - only 0 or -EINVAL; at most PERM_MAX_GROUPS groups kept, and groups_truncated set when the
 *    line had more;
 *  - the credentials printed back as the kernel prints them parse to the same credentials;
 *  - perm_may_exec() agrees with the kernel's generic_permission() for MAY_EXEC (owner, then
 *    group, then other bits; CAP_DAC_OVERRIDE needs one x bit; only regular files; noexec)
 *    on files whose owner, group and mode are taken from the input's last bytes, except where
 *    the groups were truncated and the answer depends on them: then it must refuse.
 *
 *   clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -Icommon -Isupervisor \
 *         fuzz/fuzz_perm.c supervisor/perm.c -o fuzz_perm
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "perm.h"
#include "procaccess.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool in_groups(const struct creds *c, gid_t gid)
{
	if (c->fsgid == gid)
		return true;
	for (size_t i = 0; i < c->n_groups; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

/* generic_permission(MAY_EXEC) and do_open_execat's checks, from the kernel. */
static bool ref_may_exec(const struct creds *c, const struct stat *st, bool noexec)
{
	mode_t m = st->st_mode;

	if (noexec || !S_ISREG(m))
		return false;
	if (c->dac_override && (m & 0111))
		return true;
	if (c->fsuid == st->st_uid)
		return m & S_IXUSR;
	if (in_groups(c, st->st_gid))
		return m & S_IXGRP;
	return m & S_IXOTH;
}

static size_t print_status(const struct creds *c, char *buf, size_t size)
{
	size_t n = (size_t)snprintf(
		buf, size,
		"Name:\tx\\nUid:\t9\t9\t9\t9\nUmask:\t0022\nUid:\t0\t0\t0\t%u\nGid:\t0\t0\t0\t%u\nGroups:", c->fsuid,
		c->fsgid);
	for (size_t i = 0; i < c->n_groups && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%u", i ? " " : "", c->groups[i]);
	if (n < size)
		n += (size_t)snprintf(buf + n, size - n, " \nCapEff:\t%016llx\n", c->dac_override ? 0x2ULL : 0ULL);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct creds c, again;
	static char text[PERM_MAX_GROUPS * 12 + 256];
	char *t = malloc(size ? size : 1);
	int r;

	if (!t)
		abort();
	memcpy(t, data, size);
	/* The magic-link check reads the same file: ids per pid namespace level, capabilities. */
	struct proc_status ps;
	if (procaccess_parse_status(t, size, &ps) == 0) {
		pid_t tgid, tid;
		if (ps.n_levels > PROC_PIDNS_LEVELS)
			abort();
		for (size_t depth = 0; depth <= PROC_PIDNS_LEVELS; depth++) {
			int d = procaccess_ids_at_depth(&ps, depth, &tgid, &tid);
			if (d != 0 && d != -ENOENT)
				abort();
			if (d == 0 && depth >= ps.n_levels)
				abort();
		}
	}
	memset(&c, 0x5a, sizeof(c));
	r = perm_parse_status(t, size, &c);
	free(t);
	if (r != 0 && r != -EINVAL)
		abort();
	if (r != 0)
		return 0;
	if (c.n_groups > PERM_MAX_GROUPS || (c.groups_truncated && c.n_groups != PERM_MAX_GROUPS))
		abort();

	/*
	 * Round trip, behind a Name: line that tries to fake a Uid: line (the kernel escapes a
	 * newline in the name as the two characters backslash and n, so it stays one line).
	 */
	size_t n = print_status(&c, text, sizeof(text));
	if (n >= sizeof(text))
		abort();
	memset(&again, 0, sizeof(again));
	if (perm_parse_status(text, n, &again) != 0 || again.fsuid != c.fsuid || again.fsgid != c.fsgid ||
	    again.n_groups != c.n_groups || again.dac_override != c.dac_override ||
	    memcmp(again.groups, c.groups, c.n_groups * sizeof(gid_t)) != 0)
		abort();

	/* Files derived from the input's last bytes. */
	uint8_t k[8] = { 0 };
	memcpy(k, data + (size > 8 ? size - 8 : 0), size > 8 ? 8 : size);
	for (int v = 0; v < 8; v++) {
		struct stat st = { 0 };
		uint8_t b = k[v];
		st.st_mode = (mode_t)((b & 0x80 ? S_IFDIR : S_IFREG) | ((unsigned)k[(v + 1) % 8] << 1 & 0777));
		st.st_uid = b & 1 ? c.fsuid : c.fsuid + 1;
		switch (b >> 1 & 3) {
		case 0:
			st.st_gid = c.fsgid;
			break;
		case 1:
			st.st_gid = c.n_groups ? c.groups[b % c.n_groups] : c.fsgid + 1;
			break;
		default:
			st.st_gid = (gid_t)(k[(v + 2) % 8] | k[(v + 3) % 8] << 8);
			break;
		}
		bool noexec = b & 8;
		bool got = perm_may_exec(&c, &st, noexec), want = ref_may_exec(&c, &st, noexec);
		if (got != want) {
			/* Truncated groups: allowed only to refuse, and only where they matter. */
			bool ambiguous = c.groups_truncated && !in_groups(&c, st.st_gid) && c.fsuid != st.st_uid &&
					 !c.dac_override && !(st.st_mode & S_IXGRP) != !(st.st_mode & S_IXOTH);
			if (!ambiguous || got)
				abort();
		}
	}
	return 0;
}
