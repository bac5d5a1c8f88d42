/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * exectest ptrace CMD [ARG…]: runs CMD as a traced process and follows its children, threads and
 * execs as `strace -f` does, without printing anything (so CMD's own output is all there is on
 * stdout).  It stands in for strace where there is none (the emulated arm64 machine): ubinfmt
 * cannot PTRACE_SEIZE a task that is already traced, and must serve it another way.
 *
 * The child does PTRACE_TRACEME and stops itself before it execs CMD; from then on every stop
 * is continued at once.  Real signals are delivered again (PTRACE_CONT with the signal); ptrace
 * event stops, group stops and the SIGSTOP each new child starts with are not.  Ends when CMD's
 * process exits, with its exit status (128 + the signal that killed it); the tasks still traced
 * then are detached by the kernel as we exit.  Portable: no registers are read, so it is the same
 * on every architecture.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exectest.h"

/* The tasks seen so far that have not yet had their first stop (the attach's SIGSTOP). */
struct tracees {
	pid_t *pid;
	bool *fresh;
	size_t n, cap;
};

static size_t tracee_find(const struct tracees *t, pid_t pid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->pid[i] == pid)
			return i;
	return t->n;
}

/* A task we have not seen yet is new: its first SIGSTOP is the attach's, not a real one. */
static size_t tracee_get(struct tracees *t, pid_t pid)
{
	size_t i = tracee_find(t, pid);

	if (i < t->n)
		return i;
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->pid = realloc(t->pid, t->cap * sizeof(*t->pid));
		t->fresh = realloc(t->fresh, t->cap * sizeof(*t->fresh));
		if (!t->pid || !t->fresh)
			et_die(EXIT_FAIL, "out of memory");
	}
	t->pid[t->n] = pid;
	t->fresh[t->n] = true;
	return t->n++;
}

static void tracee_forget(struct tracees *t, pid_t pid)
{
	size_t i = tracee_find(t, pid);

	if (i == t->n)
		return;
	t->n--;
	t->pid[i] = t->pid[t->n];
	t->fresh[i] = t->fresh[t->n];
}

static _noreturn_ void traced_child(char **cmd)
{
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0) {
		printf("skip: PTRACE_TRACEME: %s\n", strerror(errno));
		fflush(stdout);
		_exit(EXIT_SKIP);
	}
	/* Waits here until the parent has set its options: CMD's exec is then already followed. */
	raise(SIGSTOP);
	execvp(cmd[0], cmd);
	fprintf(stderr, "exectest: ptrace: execvp '%s': %s\n", cmd[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* The signal to deliver when a stopped task with wait status st resumes (0: none). */
static int signal_to_deliver(struct tracees *t, pid_t pid, int st)
{
	int sig = WSTOPSIG(st);
	siginfo_t si;
	size_t i;

	if (st >> 16) { /* PTRACE_EVENT_FORK, _VFORK, _CLONE, _EXEC: a stop of ours */
		unsigned long former;
		/* A thread other than the leader exec'd: its own tid is gone, without an exit. */
		if (st >> 16 == PTRACE_EVENT_EXEC && ptrace(PTRACE_GETEVENTMSG, pid, NULL, &former) == 0 &&
		    (pid_t)former != pid)
			tracee_forget(t, (pid_t)former);
		return 0;
	}
	i = tracee_get(t, pid);
	if (t->fresh[i] && sig == SIGSTOP) {
		t->fresh[i] = false;
		return 0;
	}
	/* Without PTRACE_SEIZE, a group stop looks like a SIGSTOP; only it has no siginfo. */
	if (ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) < 0)
		return 0;
	return sig;
}

int et_ptrace(int argc, char **argv)
{
	const long opts = PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC;
	struct tracees t = { 0 };
	pid_t first, pid;
	int st;

	if (argc < 2)
		et_die(EXIT_USAGE, "usage: exectest ptrace CMD [ARG…]");
	fflush(stdout);
	first = fork();
	if (first < 0)
		et_die(EXIT_FAIL, "fork: %s", strerror(errno));
	if (first == 0)
		traced_child(argv + 1);

	if (waitpid(first, &st, 0) < 0)
		et_die(EXIT_FAIL, "waitpid: %s", strerror(errno));
	if (!WIFSTOPPED(st)) /* it could not be traced (exit 77, "skip: …") */
		return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	size_t i = tracee_get(&t, first);
	t.fresh[i] = false; /* its SIGSTOP is the one just seen */
	if (ptrace(PTRACE_SETOPTIONS, first, NULL, (void *)opts) < 0)
		et_die(EXIT_FAIL, "PTRACE_SETOPTIONS: %s", strerror(errno));
	if (ptrace(PTRACE_CONT, first, NULL, NULL) < 0)
		et_die(EXIT_FAIL, "PTRACE_CONT: %s", strerror(errno));

	for (;;) {
		pid = waitpid(-1, &st, __WALL);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			et_die(EXIT_FAIL, "waitpid: %s", strerror(errno));
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			if (pid == first)
				break;
			tracee_forget(&t, pid);
			continue;
		}
		if (!WIFSTOPPED(st))
			continue;
		/* ESRCH: killed meanwhile; its exit comes next. */
		(void)ptrace(PTRACE_CONT, pid, NULL, (void *)(long)signal_to_deliver(&t, pid, st));
	}
	free(t.pid);
	free(t.fresh);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
