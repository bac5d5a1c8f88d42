/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * seizetest: the engine's PTRACE_SEIZE against a process whose exec lock another of its threads
 * holds (t_hostile_stall).
 *
 *   seizetest PID TIMEOUT_MS
 *       PID is a process of which another thread is in the middle of an exec that does not end
 *       (exectest threadexec with fusehang's "exe"); PID's own thread sleeps.  Waits (10 s at
 *       most) until inject_exec_under_way sees that thread, then seizes PID with inject_seize
 *       and TIMEOUT_MS, which the exec lock makes wait until the seize is aborted.  Then the
 *       tracer thread must still serve: a child of ours is seized, and let go when the tracer
 *       stops.  Prints "under-way yes|no", "seize ok|ENAME", "waited MS", "pid-traced N"
 *       (PID's TracerPid afterwards), "child-seize ok|ENAME", "child-traced yes|no",
 *       "child-released yes|no".
 *
 * Links the engine (not static): it runs on the host, as root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inject.h"
#include "parse.h"

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *result_name(int r)
{
	return r == 0 ? "ok" : strerrorname_np(-r) ? strerrorname_np(-r) : "?";
}

/* PID's TracerPid, or -1. */
static int tracer_of(pid_t pid)
{
	char path[64], line[256];
	int tracer = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %d", &tracer) == 1)
			break;
	fclose(f);
	return tracer;
}

int main(int argc, char **argv)
{
	int pid, timeout, r;
	pid_t busy = 0, child;
	long t0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 3 || parse_int(argv[1], 1, INT32_MAX, &pid) < 0 || parse_int(argv[2], 1, 60000, &timeout) < 0) {
		fprintf(stderr, "usage: seizetest PID TIMEOUT_MS\n");
		return 2;
	}
	if (inject_tracer_start() < 0)
		return 1;
	t0 = now_ms();
	while ((r = inject_exec_under_way(pid, &busy)) == 0 && now_ms() - t0 < 10000)
		usleep(20 * 1000);
	printf("under-way %s\n", r > 0 && busy > 0 ? "yes" : "no");

	t0 = now_ms();
	r = inject_seize(pid, (unsigned)timeout);
	printf("seize %s\nwaited %ld\n", result_name(r), now_ms() - t0);
	printf("pid-traced %d\n", tracer_of(pid));

	child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		for (;;)
			pause();
	}
	r = inject_seize(child, (unsigned)timeout);
	printf("child-seize %s\n", result_name(r));
	printf("child-traced %s\n", tracer_of(child) > 0 ? "yes" : "no");
	/* The tracer thread ends, and with it its tracing of the child. */
	inject_tracer_stop();
	printf("child-released %s\n", tracer_of(child) == 0 ? "yes" : "no");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return 0;
}
