/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_HISTO_H
#define UBINFMT_HISTO_H

#include <stdint.h>

/*
 * A latency histogram with four buckets per power of two (≤ 19% error), from 1 µs to about four
 * minutes, for p50/p99 of the supervisor's handling time.  Pure, fixed size, no allocation.
 */

#define HISTO_BUCKETS 112

struct histo {
	uint64_t count;
	uint64_t buckets[HISTO_BUCKETS];
};

void histo_add(struct histo *h, uint64_t ns);
/* The upper bound of the bucket holding quantile q (0 < q ≤ 1), in ns; 0 when empty. */
uint64_t histo_quantile(const struct histo *h, double q);

#endif
