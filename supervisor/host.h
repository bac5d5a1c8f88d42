/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_HOST_H
#define UBINFMT_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

#include "arch.h"
#include "notif.h"

/*
 * What differs between the machines the engine runs on, in one small interface with one file
 * per host architecture (host/x86_64.c, host/aarch64.c; CMake picks the one for
 * CMAKE_SYSTEM_PROCESSOR).  Everything else, classification and the exec plan included, is the
 * same code on every host.
 */

/* The host's own architecture, and the e_machine of its programs (the emulators are). */
enum arch host_arch(void);
uint16_t host_elf_machine(void);

/* The exec ABI of the host's own programs (the only one a traced caller's code stub serves). */
enum exec_abi host_native_abi(void);

/*
 * The seccomp ABIs the filter covers besides the native one (libseccomp's SCMP_ARCH_*, 0 ends
 * the list): every ABI the kernel may run, since a filter kills a call of an ABI it lacks.
 */
const uint32_t *host_filter_arches(void);

/*
 * Whether nr, as /proc/TID/syscall shows it, is an exec of any ABI the host runs.  The numbers
 * of one ABI are other calls in another (i386's execve is x86-64's munmap): this only says
 * "may be", for a heuristic.
 */
bool host_is_exec_nr(long nr);

/* ---- registers of a stopped task ------------------------------------------------------------- */

/* What PTRACE_GETREGS or PTRACE_GETREGSET(NT_PRSTATUS) fill in, with what the request needs. */
struct host_regs {
	struct user_regs_struct r;
	struct {
		void *base;
		size_t len;
	} iov; /* NT_PRSTATUS's iovec, pointed at r by host_regs_request */
};

/* The ptrace request that reads (write: writes) *regs of a stopped tracee. */
struct host_ptrace {
	int req;
	void *addr;
	void *data;
};
struct host_ptrace host_regs_request(struct host_regs *regs, bool write);

/* The stack pointer of a stopped task. */
uint64_t host_regs_sp(const struct host_regs *regs);

/*
 * Bytes below the stack pointer the ABI lets leaf code use without moving it: what we write
 * goes below that (x86-64: 128; arm64: none).
 */
uint64_t host_red_zone(void);

/*
 * At the ptrace stop that follows an exec answered with a restart code (-ERESTARTNOINTR, or
 * -ERESTARTSYS when a signal won the race): whether the call of abi is about to be made again
 * when the task resumes.  false: it finished some other way; leave it.
 */
bool host_regs_restarting(const struct host_regs *regs, enum exec_abi abi);

/*
 * At such a stop, makes the task, once resumed, make call nr with args[0..nargs) of abi
 * instead, whatever signal handler runs first (the restart made unconditional).
 */
void host_regs_set_restart_call(struct host_regs *regs, enum exec_abi abi, long nr, const uint64_t *args, size_t nargs);

/*
 * regs were read at such a stop and the task has since made another call (it sits at that
 * call's exit stop, where no restart happens): rewrites regs to make the original call again,
 * by themselves, at the system call instruction.
 */
void host_regs_rewind_restart(struct host_regs *regs, enum exec_abi abi);

/*
 * regs are positioned at the system call instruction (host_regs_rewind_restart): makes that
 * call nr with args[0..nargs) instead.
 */
void host_regs_set_call(struct host_regs *regs, enum exec_abi abi, long nr, const uint64_t *args, size_t nargs);

/* At a restart stop: keeps the restart unconditional (the registers to put back should a write get stuck). */
void host_regs_keep_restart(struct host_regs *regs);

/* At a restart stop: makes the interrupted call return -err instead of starting again. */
void host_regs_set_error(struct host_regs *regs, enum exec_abi abi, int err);

/* At a syscall-exit stop: what the call returned, sign-extended from the ABI's width. */
int64_t host_regs_result(const struct host_regs *regs, enum exec_abi abi);

/*
 * The tracer thread's seize abort (inject.c): ctx is the ucontext_t of a signal handler.  When
 * the thread is about to (re)issue ptrace(2) — at the system call instruction with ptrace's
 * number loaded — steps over it with -EINTR as the result and returns true.
 */
bool host_cancel_ptrace_call(void *ctx);

/* ---- code for traced callers (stub.c) ------------------------------------------------------- */

#define HOST_STUB_MAX_CODE 96

/* Pure: the host's instructions for execveat(fd, empty, argv, envp, AT_EMPTY_PATH). 0: too small. */
size_t host_stub_code(int fd, uint64_t empty_addr, uint64_t argv_addr, uint64_t envp, uint8_t *buf, size_t size);

/* ---- the native probe (native.c) ------------------------------------------------------------ */

/*
 * A tiny program of another ABI the host's kernel may run by itself: a 32-bit ELF of this
 * machine and flags, whose code exits with native.h's NATIVE_PROBE_STATUS.
 */
struct host_probe {
	enum arch arch;
	uint16_t machine;
	uint32_t flags;
	const uint8_t *code;
	size_t code_len;
	bool continued; /* the filter covers its ABI: when it runs, its execs are left to the kernel */
};

/* The host's probes; *ret_n of them. */
const struct host_probe *host_probes(size_t *ret_n);

#endif
