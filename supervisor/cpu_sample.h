/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_CPU_SAMPLE_H
#define UBINFMT_CPU_SAMPLE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Which execs the supervisor measures its own CPU time on, for the stats ubinfmtd shows (CPU
 * per exec).  Reading a thread's CPU clock is a system call (no vDSO clock serves it), two per
 * exec: about 2 µs of the ~20 µs a native exec costs the daemon on a 2-vCPU VM.  A mean per exec
 * needs only a sample: every exec of a sandbox's first CPU_SAMPLE_FIRST (so that a short-lived
 * sandbox's figure is exact), then one in CPU_SAMPLE_MEAN on average.  The stride between two
 * measured execs is random, from a seed the sandbox cannot read, so that no periodic pattern
 * of execs (a loop alternating two programs) is always or never measured, and a tenant cannot
 * place its costly execs between the samples.  Trace records are always measured (engine.c).
 * Pure: no syscalls.
 */

#define CPU_SAMPLE_FIRST 8
#define CPU_SAMPLE_MEAN 16

struct cpu_sampler {
	uint64_t state; /* xorshift64*; never 0 */
	uint32_t left;	/* execs until the next measured one */
};

void cpu_sampler_init(struct cpu_sampler *s, uint64_t seed);
/* Whether the next exec is measured, given how many of its sandbox's execs were measured so far. */
bool cpu_sample_due(struct cpu_sampler *s, uint64_t measured_so_far);
/*
 * The total CPU time of total execs, from sum_ns measured on measured of them: their mean times
 * total (sum_ns itself when every one was measured, 0 when none was).
 */
uint64_t cpu_estimate_total(uint64_t sum_ns, uint64_t measured, uint64_t total);

#endif
