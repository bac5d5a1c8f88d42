/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * execbench: starts a program N times in a row, fork (or vfork) + execve + waitpid each time,
 * and prints what one start cost, measured from before the fork to after the wait:
 *
 *   mode=vfork n=1000 warmup=1 failed=0 total_us=356123 per_exec_us=356.1 p50_us=350.2 p99_us=420.9
 *   max_us=812.0 cpu_us=40.2 self_cpu_us=51250 children_cpu_us=40300        (on one line)
 *
 * cpu_us is the CPU time (user+system, from wait4) of one start's whole process tree: run it with
 * -n 1 around another command to learn what that command's tree cost, supervisor included.
 * self_cpu_us and children_cpu_us are this process's own total and that of every child it
 * reaped (warm-up included): what a supervisor above it did not spend.
 *
 * PROG is looked up in PATH once, before anything is timed.  Built static by bench/run.sh, so
 * that it runs the same on the host, in a rootfs and under PRoot.  It is also the per-sandbox
 * load of the storm scenario: --raw writes every latency, --hold keeps the process (and so its
 * sandbox) alive after the report until a file appears, so that ubinfmtd's status can be read
 * while every sandbox still exists.
 *
 * Exit status: 0 when every start exited 0, 1 when one did not, 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static uint64_t arg_n = 1000;
static uint64_t arg_warmup = 1;
static bool arg_vfork;
static const char *arg_raw;
static const char *arg_hold;
static const char *arg_label;
static char **arg_cmd;
static char *arg_path; /* arg_cmd[0], looked up in PATH once when it has no slash */

static const char usage[] =
	"Usage: execbench [-n N] [-w WARMUP] [--vfork] [--raw FILE] [--hold FILE] [--label L] -- PROG [ARG…]\n"
	"Starts PROG N times (after WARMUP untimed starts) and prints the cost of one start.\n";

static int parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -errno;
	if (*end != '\0')
		return -EINVAL;
	*ret = (uint64_t)v;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000u + (uint64_t)tv->tv_usec * 1000u;
}

/*
 * One start of arg_cmd; returns its wait status, or -errno when it could not be started.  Adds
 * the CPU time of the child and its reaped descendants to *cpu_ns.
 */
static int start_once(uint64_t *cpu_ns)
{
	struct rusage ru;
	pid_t pid;
	int status;

	/* A vfork child shares our memory: it only calls execve and _exit. */
	pid = arg_vfork ? vfork() : fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execve(arg_path, arg_cmd, environ);
		_exit(errno == ENOENT ? 127 : 126);
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return -errno;
	*cpu_ns += tv_ns(&ru.ru_utime) + tv_ns(&ru.ru_stime);
	return status;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank quantile of a sorted array. */
static uint64_t quantile(const uint64_t *v, size_t n, double q)
{
	size_t k = (size_t)(q * (double)n + 0.999999);

	if (k == 0)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static int write_raw(const char *path, const uint64_t *lat, size_t n)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%.1f\n", (double)lat[i] / 1000.0);
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

static void hold(const char *path)
{
	const struct timespec tick = { .tv_nsec = 5 * 1000 * 1000 };

	while (access(path, F_OK) < 0)
		nanosleep(&tick, NULL);
}

/* Like execvp's search, but once, before anything is timed. */
static int find_in_path(const char *name, char **ret)
{
	const char *p = getenv("PATH");
	char buf[4096];

	if (strchr(name, '/')) {
		*ret = strdup(name);
		return *ret ? 0 : -ENOMEM;
	}
	for (p = p ? p : "/usr/local/bin:/usr/bin:/bin"; *p;) {
		size_t len = strcspn(p, ":");
		int n = snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, len ? p : ".", name);
		if (n > 0 && (size_t)n < sizeof(buf) && access(buf, X_OK) == 0) {
			*ret = strdup(buf);
			return *ret ? 0 : -ENOMEM;
		}
		p += len;
		if (*p == ':')
			p++;
	}
	return -ENOENT;
}

static int parse_args(int argc, char **argv)
{
	/* clang-format off */
	static const struct option options[] = {
		{ "vfork", no_argument, NULL, 'v' },
		{ "raw", required_argument, NULL, 'r' },
		{ "hold", required_argument, NULL, 'H' },
		{ "label", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	/* clang-format on */
	int c;

	while ((c = getopt_long(argc, argv, "+n:w:h", options, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_u64(optarg, &arg_n) < 0 || arg_n == 0 || arg_n > 100000000)
				return fprintf(stderr, "execbench: bad -n '%s'\n", optarg), -EINVAL;
			break;
		case 'w':
			if (parse_u64(optarg, &arg_warmup) < 0 || arg_warmup > 1000000)
				return fprintf(stderr, "execbench: bad -w '%s'\n", optarg), -EINVAL;
			break;
		case 'v':
			arg_vfork = true;
			break;
		case 'r':
			arg_raw = optarg;
			break;
		case 'H':
			arg_hold = optarg;
			break;
		case 'l':
			arg_label = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind >= argc)
		return fputs(usage, stderr), -EINVAL;
	arg_cmd = argv + optind;
	if (find_in_path(arg_cmd[0], &arg_path) < 0)
		return fprintf(stderr, "execbench: '%s' not found\n", arg_cmd[0]), -ENOENT;
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t *lat, t_all, failed = 0, cpu_ns = 0, warm_cpu_ns = 0;
	struct rusage self, children;
	int r;

	if (parse_args(argc, argv) < 0)
		return 2;
	lat = calloc(arg_n, sizeof(*lat));
	if (!lat)
		return fputs("execbench: out of memory\n", stderr), 2;

	for (uint64_t i = 0; i < arg_warmup; i++)
		(void)start_once(&warm_cpu_ns);

	t_all = now_ns();
	for (uint64_t i = 0; i < arg_n; i++) {
		uint64_t t0 = now_ns();
		r = start_once(&cpu_ns);
		lat[i] = now_ns() - t0;
		if (r != 0)
			failed++;
		if (r < 0 && failed == 1)
			fprintf(stderr, "execbench: cannot start '%s': %s\n", arg_cmd[0], strerror(-r));
		else if (r > 0 && failed == 1)
			fprintf(stderr, "execbench: '%s' ended with wait status 0x%x\n", arg_cmd[0], (unsigned)r);
	}
	t_all = now_ns() - t_all;

	if (arg_raw && (r = write_raw(arg_raw, lat, arg_n)) < 0)
		fprintf(stderr, "execbench: --raw '%s': %s\n", arg_raw, strerror(-r));
	qsort(lat, arg_n, sizeof(*lat), cmp_u64);
	if (arg_label)
		printf("label=%s ", arg_label);
	(void)getrusage(RUSAGE_SELF, &self);
	(void)getrusage(RUSAGE_CHILDREN, &children);
	printf("mode=%s n=%" PRIu64 " warmup=%" PRIu64 " failed=%" PRIu64 " total_us=%" PRIu64 " per_exec_us=%.1f "
	       "p50_us=%.1f p99_us=%.1f max_us=%.1f cpu_us=%.1f self_cpu_us=%" PRIu64 " children_cpu_us=%" PRIu64 "\n",
	       arg_vfork ? "vfork" : "fork", arg_n, arg_warmup, failed, t_all / 1000,
	       (double)t_all / 1000.0 / (double)arg_n, (double)quantile(lat, arg_n, 0.50) / 1000.0,
	       (double)quantile(lat, arg_n, 0.99) / 1000.0, (double)lat[arg_n - 1] / 1000.0,
	       (double)cpu_ns / 1000.0 / (double)arg_n, (tv_ns(&self.ru_utime) + tv_ns(&self.ru_stime)) / 1000,
	       (tv_ns(&children.ru_utime) + tv_ns(&children.ru_stime)) / 1000);
	fflush(stdout);
	free(lat);
	free(arg_path);
	if (arg_hold)
		hold(arg_hold);
	return failed ? 1 : 0;
}
