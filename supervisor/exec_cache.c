/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <elf.h>
#include <string.h>

#include "exec_cache.h"

bool exec_cache_keeps(const struct exec_file_facts *facts, uint64_t native_mask)
{
	if (facts->host_binfmt || facts->classify_err < 0)
		return true;
	switch (facts->kind) {
	case FILE_KIND_OTHER:
		return true;
	case FILE_KIND_ELF:
		/* What chain_outcome (decide.c) leaves to the kernel, and nothing it would emulate. */
		if (facts->arch == ARCH_UNKNOWN || (facts->elf_type != ET_EXEC && facts->elf_type != ET_DYN))
			return true;
		return facts->arch < 64 && (native_mask & (UINT64_C(1) << facts->arch));
	case FILE_KIND_SCRIPT:
	case FILE_KIND_MAX:
	default:
		return false;
	}
}

static bool key_eq(const struct exec_cache_key *a, const struct exec_cache_key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->mnt_id == b->mnt_id && a->size == b->size &&
	       a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec && a->ctime_sec == b->ctime_sec &&
	       a->ctime_nsec == b->ctime_nsec;
}

static struct exec_cache_entry *find(const struct exec_cache *cache, const struct exec_cache_key *key)
{
	for (uint32_t i = 0; i < cache->n && i < EXEC_CACHE_SIZE; i++)
		if (key_eq(&cache->e[i].key, key))
			return (struct exec_cache_entry *)&cache->e[i];
	return NULL;
}

const struct exec_file_facts *exec_cache_find(const struct exec_cache *cache, const struct exec_cache_key *key)
{
	const struct exec_cache_entry *e = find(cache, key);

	return e ? &e->facts : NULL;
}

void exec_cache_put(struct exec_cache *cache, const struct exec_cache_key *key, const struct exec_file_facts *facts)
{
	struct exec_cache_entry *e = find(cache, key);

	if (!e) {
		if (cache->n < EXEC_CACHE_SIZE) {
			e = &cache->e[cache->n++];
		} else {
			e = &cache->e[cache->next % EXEC_CACHE_SIZE];
			cache->next = (cache->next + 1) % EXEC_CACHE_SIZE;
		}
	}
	e->key = *key;
	e->facts = *facts;
}
