/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cpu_sample.h"

static uint64_t next_random(struct cpu_sampler *s)
{
	uint64_t x = s->state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	s->state = x;
	return x * UINT64_C(0x2545F4914F6CDD1D);
}

void cpu_sampler_init(struct cpu_sampler *s, uint64_t seed)
{
	s->state = seed ? seed : UINT64_C(0x9E3779B97F4A7C15);
	s->left = 0;
}

bool cpu_sample_due(struct cpu_sampler *s, uint64_t measured_so_far)
{
	if (measured_so_far < CPU_SAMPLE_FIRST)
		return true;
	if (s->left > 1) {
		s->left--;
		return false;
	}
	/* Uniform over 1 … 2 × MEAN - 1: a mean stride of MEAN.  The top bits are the best mixed. */
	s->left = 1 + (uint32_t)((next_random(s) >> 32) % (2 * CPU_SAMPLE_MEAN - 1));
	return true;
}

uint64_t cpu_estimate_total(uint64_t sum_ns, uint64_t measured, uint64_t total)
{
	if (measured == 0)
		return 0;
	if (measured >= total)
		return sum_ns;
	/* In 128 bits: sum_ns × total overflows 64 after ~5 hours of CPU over 1e6 execs. */
	return (uint64_t)((unsigned __int128)sum_ns * total / measured);
}
