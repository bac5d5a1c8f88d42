/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "macros.h"

#define JOURNAL_MAGIC 0x4a464255u /* "UBFJ" */

_Static_assert(sizeof(struct journal) <= JOURNAL_SIZE, "journal must fit its page");

int journal_create(void)
{
	_cleanup_close_ int fd = memfd_create("ubinfmt-journal", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	struct journal head = { .magic = JOURNAL_MAGIC, .version = 1 };

	if (fd < 0)
		return negative_errno();
	if (ftruncate(fd, JOURNAL_SIZE) < 0)
		return negative_errno();
	if (pwrite(fd, &head, 16, 0) != 16)
		return -EIO;
	/* A fixed size: the daemon maps it without fearing a shrink (SIGBUS) or growth. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		return negative_errno();
	return TAKE_FD(fd);
}

struct journal *journal_map(int fd)
{
	struct stat st;
	void *p;
	int seals;

	if (fstat(fd, &st) < 0)
		return NULL;
	seals = fcntl(fd, F_GET_SEALS);
	if (!S_ISREG(st.st_mode) || st.st_size != JOURNAL_SIZE || seals < 0 ||
	    (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) != (F_SEAL_SHRINK | F_SEAL_GROW)) {
		errno = EINVAL;
		return NULL;
	}
	p = mmap(NULL, JOURNAL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	struct journal *j = p;
	if (j->magic != JOURNAL_MAGIC || j->version != 1) {
		munmap(p, JOURNAL_SIZE);
		errno = EPROTO;
		return NULL;
	}
	return j;
}

void journal_unmap(struct journal *j)
{
	if (j)
		munmap(j, JOURNAL_SIZE);
}

int journal_put(struct journal *j, uint64_t id, pid_t tid)
{
	for (int i = 0; i < (int)JOURNAL_SLOTS; i++) {
		struct journal_slot *s = &j->slots[i];
		if (__atomic_load_n(&s->used, __ATOMIC_RELAXED))
			continue;
		s->id = id;
		s->tid = (uint32_t)tid;
		__atomic_store_n(&s->used, 1, __ATOMIC_RELEASE);
		return i;
	}
	return -1;
}

void journal_clear(struct journal *j, int slot)
{
	if (slot >= 0 && slot < (int)JOURNAL_SLOTS)
		__atomic_store_n(&j->slots[slot].used, 0, __ATOMIC_RELEASE);
}
