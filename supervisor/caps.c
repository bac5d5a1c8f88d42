/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <cap-ng.h>
#include <errno.h>
#include <sys/resource.h>
#include <unistd.h>

#include "caps.h"
#include "macros.h"

int caps_drop_to_supervisor(void)
{
	if (geteuid() != 0)
		return 0;
	capng_clear(CAPNG_SELECT_BOTH);
	capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET, CAP_SYS_PTRACE,
		      CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_KILL, -1);
	/*
	 * The bounding set first, while CAP_SETPCAP is still ours (best effort: nothing we run
	 * execs, it only keeps anything that ever would from getting more back).
	 */
	(void)capng_apply(CAPNG_SELECT_BOUNDS);
	return capng_apply(CAPNG_SELECT_CAPS) < 0 ? -EPERM : 0;
}

int caps_raise_priority(int nice_value)
{
	/* PRIO_PROCESS with 0 is the calling thread on Linux. */
	if (setpriority(PRIO_PROCESS, 0, nice_value) < 0)
		return negative_errno();
	return 0;
}
