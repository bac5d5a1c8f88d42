/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host.h"
#include "inject.h"
#include "macros.h"
#include "notif.h"
#include "parse.h"
#include "procfs.h"
#include "stub.h"

/* /proc/TID/status with NGROUPS_MAX groups of 10 digits stays below this. */
#define STUB_STATUS_MAX (1u << 20)

int stub_probe(pid_t tid, uint64_t *ret_sp, uint64_t *ret_pc)
{
	_cleanup_free_ char *status = NULL;
	char buf[256];
	unsigned long long v[9];
	const char *threads;
	int r;

	/* Threads: comes after Groups:, which may hold 65536 groups: read the whole file. */
	r = procfs_read_all(tid, "status", STUB_STATUS_MAX, &status);
	if (r < 0)
		return r;
	threads = strstr(status, "\nThreads:");
	if (!threads || strtoul(threads + 9, NULL, 10) != 1)
		return -EBUSY;

	/* "nr a0 a1 a2 a3 a4 a5 sp pc" while the task is blocked in a syscall. */
	r = procfs_read(tid, "syscall", buf, sizeof(buf));
	if (r < 0)
		return r;
	long nr;
	if (sscanf(buf, "%ld %llx %llx %llx %llx %llx %llx %llx %llx", &nr, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &v[6], &v[7]) != 9)
		return -EPROTO;
	*ret_sp = v[6];
	*ret_pc = v[7];
	return 0;
}

int stub_install(struct injection *inj, uint64_t sp, uint64_t pc, int listener, uint64_t id)
{
	size_t need = rewrite_block_size(inj->args, inj->nargs, 8) + 16;
	uint8_t code[HOST_STUB_MAX_CODE], orig[HOST_STUB_MAX_CODE];
	uint8_t *block;
	size_t len;
	int r;

	block = malloc(need);
	if (!block)
		return -ENOMEM;
	r = rewrite_layout(inj->args, inj->nargs, 8, ALIGN_DOWN(sp - host_red_zone(), (uint64_t)16), block, need,
			   &inj->blk);
	if (r < 0) {
		free(block);
		return r;
	}
	len = host_stub_code(inj->emu_fd_target, inj->blk.empty_addr, inj->blk.argv_addr, inj->envp, code,
			     sizeof(code));

	/*
	 * Read first: nothing changes yet, so a stuck read may hand the exec to the kernel as it
	 * is.  And it opens the task's memory: the notification still pending afterwards proves
	 * that what was opened is this task's, not a reused pid's.
	 */
	const struct inject_access read = {
		.putback = INJECT_PUTBACK_CONTINUE, .listener = listener, .id = id, .owned = block
	};
	r = inject_mem_read(inj, &read, pc, orig, len);
	if (r == 0 && notif_id_valid(listener, id) < 0)
		r = -ESRCH;
	if (r < 0) {
		free(block);
		return r;
	}

	/* Writes below its stack pointer and over its code: it must not run before they end. */
	const struct inject_access below_sp = {
		.putback = INJECT_PUTBACK_ANSWER, .id = id, .answer_err = ENOEXEC, .owned = block
	};
	r = inject_mem_write(inj, &below_sp, inj->blk.base, block, inj->blk.len);
	if (r < 0) {
		free(block);
		return r;
	}
	free(inj->block);
	inj->block = block;

	memcpy(inj->stub_orig, orig, len);
	inj->stub_addr = pc;
	inj->stub_len = len;
	const struct inject_access write_code = {
		.putback = INJECT_PUTBACK_ANSWER, .id = id, .code_written = true, .answer_err = ENOEXEC
	};
	return inject_mem_write(inj, &write_code, pc, code, len);
}

int stub_restore(struct injection *inj, uint64_t id, int answer_err)
{
	uint8_t orig[HOST_STUB_MAX_CODE];
	size_t len = inj->stub_len;
	int r;

	if (!len)
		return 0;
	/* From a copy of ours: the record's own bytes may be reused before a stuck write ends. */
	memcpy(orig, inj->stub_orig, len);
	const struct inject_access how = {
		.putback = INJECT_PUTBACK_ANSWER, .id = id, .code_written = true, .answer_err = answer_err
	};
	r = inject_mem_write(inj, &how, inj->stub_addr, orig, len);
	inj->stub_len = 0;
	return r;
}
