/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_JOURNAL_H
#define UBINFMT_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The in-flight journal: one page of shared memory that the agent (ubinfmt-init) creates and
 * keeps, and the daemon writes as it works.  For every notification it has received and not
 * yet answered, the daemon notes (id, tid).  If the daemon is killed, those tasks would wait
 * forever: a received notification cannot be received again.  The next daemon gets the page
 * back with the listener, and re-answers each noted notification that is still pending so
 * that its exec starts over (see engine_recover).
 *
 * The page lives in the sandbox's agent, so its contents are untrusted input to the daemon.
 */

#define JOURNAL_SIZE 4096
#define JOURNAL_SLOTS ((JOURNAL_SIZE - 16) / 16)

struct journal_slot {
	uint64_t id;
	uint32_t tid;
	uint32_t used;
};

struct journal {
	uint32_t magic;
	uint32_t version;
	uint64_t reserved;
	struct journal_slot slots[JOURNAL_SLOTS];
};

/* Agent side: a sealed memfd of JOURNAL_SIZE bytes, zeroed. */
int journal_create(void);

/* Daemon side: maps fd (checking its size) read-write and shared; NULL with errno on failure. */
struct journal *journal_map(int fd);
void journal_unmap(struct journal *j);

/* Notes an in-flight notification; returns the slot, or -1 when the page is full. */
int journal_put(struct journal *j, uint64_t id, pid_t tid);
void journal_clear(struct journal *j, int slot);

#endif
