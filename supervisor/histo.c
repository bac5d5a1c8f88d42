/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "histo.h"

#define HISTO_MIN_SHIFT 10 /* everything below 1024 ns shares bucket 0 */

static unsigned bucket_of(uint64_t ns)
{
	if (ns < (UINT64_C(1) << HISTO_MIN_SHIFT))
		return 0;
	unsigned e = 63u - (unsigned)__builtin_clzll(ns);
	unsigned sub = (unsigned)(ns >> (e - 2)) & 3u;
	unsigned idx = (e - HISTO_MIN_SHIFT) * 4u + sub + 1u;

	return idx < HISTO_BUCKETS ? idx : HISTO_BUCKETS - 1;
}

static uint64_t upper_bound(unsigned idx)
{
	if (idx == 0)
		return UINT64_C(1) << HISTO_MIN_SHIFT;
	unsigned e = (idx - 1) / 4 + HISTO_MIN_SHIFT;
	unsigned sub = (idx - 1) % 4;

	return (UINT64_C(1) << e) + ((uint64_t)(sub + 1) << (e - 2));
}

void histo_add(struct histo *h, uint64_t ns)
{
	h->buckets[bucket_of(ns)]++;
	h->count++;
}

uint64_t histo_quantile(const struct histo *h, double q)
{
	uint64_t want, seen = 0;

	if (h->count == 0)
		return 0;
	if (q <= 0)
		q = 1e-9;
	if (q > 1)
		q = 1;
	want = (uint64_t)(q * (double)h->count + 0.999999);
	if (want == 0)
		want = 1;
	for (unsigned i = 0; i < HISTO_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= want)
			return upper_bound(i);
	}
	return upper_bound(HISTO_BUCKETS - 1);
}
