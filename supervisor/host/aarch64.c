/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The arm64 host: AArch64 tasks (and, on kernels and CPUs that have it, AArch32 ones, which run
 * here only under qemu-arm: see host_probes).
 *
 * How an interrupted call restarts on arm64 (arch/arm64/kernel/signal.c, do_signal), which is
 * where the rewrite's registers come from.  A task whose exec was answered -ERESTARTNOINTR
 * returns towards user space with a signal pending (PTRACE_INTERRUPT's trap, or a real signal)
 * and enters do_signal:
 *   1. the call was a system call (in_syscall: syscallno is not NO_SYSCALL), so the kernel
 *      notes continue_addr = pc (after the `svc`), restart_addr = pc - 4 (the `svc`) and
 *      retval = x0 (-ERESTARTNOINTR), and forgets the syscall (syscallno = NO_SYSCALL);
 *   2. for every -ERESTART* code it restarts right away, *before* anything is reported to a
 *      tracer: x0 = orig_x0 (the first argument, which the return value had overwritten) and
 *      pc = restart_addr.  x1-x5 and x8 (the number) were never changed;
 *   3. get_signal() then takes our ptrace stop (PTRACE_EVENT_STOP, or a signal-delivery stop):
 *      the tracer sees a task already positioned to execute `svc` again with the exec's
 *      registers, and may change any of them (NT_PRSTATUS: x0-x30, sp, pc, pstate);
 *   4. if a handler is to run, the kernel undoes the restart only when pc is still restart_addr
 *      and retval is -ERESTARTNOHAND, -ERESTART_RESTARTBLOCK, or -ERESTARTSYS without
 *      SA_RESTART: never for -ERESTARTNOINTR, so the frame saves our registers and sigreturn
 *      comes back to the `svc`;
 *   5. the task resumes at the `svc`, which reads the number from x8 and the arguments from
 *      x0-x5: the rewrite sets exactly those.
 * So, unlike x86-64, the restart cannot be made unconditional at the stop (retval is the
 * kernel's local by then): the engine always answers -ERESTARTNOINTR itself, and with
 * SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (Linux >= 5.19) no signal can turn that into
 * -ERESTARTSYS.  To make the call fail instead, pc goes to continue_addr with x0 = -err: the
 * kernel leaves a pc the tracer moved alone (step 4's test).
 *
 * The syscall-exit stop of PTRACE_SYSCALL (the scratch mmap) is before do_signal and does no
 * restart: what the tracer leaves in x0 is the result, and pc is after the `svc`.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <ucontext.h>

#include "abi.h"
#include "host.h"
#include "macros.h"
#include "native.h"

#define A64_SVC0 0xd4000001u /* svc #0 */
#define A64_INSN 4u

enum arch host_arch(void)
{
	return ARCH_AARCH64;
}

uint16_t host_elf_machine(void)
{
	return EM_AARCH64;
}

enum exec_abi host_native_abi(void)
{
	return EXEC_ABI_AARCH64;
}

const uint32_t *host_filter_arches(void)
{
	/*
	 * Only the native ABI: AArch32 programs are never continued natively (host_probes), so no
	 * task of the sandbox makes compat calls, and the filter kills one that would.
	 */
	static const uint32_t arches[] = { 0 };
	return arches;
}

bool host_is_exec_nr(long nr)
{
	return nr == NR_AARCH64_EXECVE || nr == NR_AARCH64_EXECVEAT;
}

struct host_ptrace host_regs_request(struct host_regs *regs, bool write)
{
	regs->iov.base = &regs->r;
	regs->iov.len = sizeof(regs->r);
	return (struct host_ptrace){ write ? PTRACE_SETREGSET : PTRACE_GETREGSET, (void *)(uintptr_t)NT_PRSTATUS,
				     &regs->iov };
}

uint64_t host_regs_sp(const struct host_regs *regs)
{
	return regs->r.sp;
}

/* AAPCS64 has no red zone: nothing below sp belongs to the code; signal frames go right there. */
uint64_t host_red_zone(void)
{
	return 0;
}

/* Step 3 above: the exec's number is still in x8 and the kernel has put pc on the `svc`. */
bool host_regs_restarting(const struct host_regs *regs, enum exec_abi abi)
{
	long nr = (long)regs->r.regs[8];

	return abi == EXEC_ABI_AARCH64 && (nr == NR_AARCH64_EXECVE || nr == NR_AARCH64_EXECVEAT) &&
	       regs->r.pc % A64_INSN == 0;
}

static void set_args(struct user_regs_struct *r, const uint64_t *args, size_t nargs)
{
	for (size_t i = 0; i < nargs && i < 6; i++)
		r->regs[i] = args[i];
}

void host_regs_set_restart_call(struct host_regs *regs, enum exec_abi abi, long nr, const uint64_t *args, size_t nargs)
{
	(void)abi;
	regs->r.regs[8] = (uint64_t)nr;
	set_args(&regs->r, args, nargs);
}

/* Already unconditional (step 4): nothing to do. */
void host_regs_keep_restart(struct host_regs *regs)
{
	(void)regs;
}

/* regs were read at the restart stop, when the kernel had already rewound them (step 2). */
void host_regs_rewind_restart(struct host_regs *regs, enum exec_abi abi)
{
	(void)regs;
	(void)abi;
}

void host_regs_set_call(struct host_regs *regs, enum exec_abi abi, long nr, const uint64_t *args, size_t nargs)
{
	host_regs_set_restart_call(regs, abi, nr, args, nargs);
}

void host_regs_set_error(struct host_regs *regs, enum exec_abi abi, int err)
{
	(void)abi;
	regs->r.regs[0] = (uint64_t)(int64_t)-err;
	regs->r.pc += A64_INSN; /* continue_addr: the kernel no longer restarts */
}

int64_t host_regs_result(const struct host_regs *regs, enum exec_abi abi)
{
	(void)abi;
	return (int64_t)regs->r.regs[0];
}

/*
 * The handler runs after do_signal rewound the interrupted ptrace(2): pc on the `svc`, x8 =
 * ptrace's number, x0 = its first argument again.  A call that returned has pc after it.
 */
bool host_cancel_ptrace_call(void *ctx)
{
	ucontext_t *uc = ctx;
	mcontext_t *mc = &uc->uc_mcontext;
	uint32_t insn;

	if (mc->regs[8] != SYS_ptrace || mc->pc % A64_INSN != 0)
		return false;
	memcpy(&insn, (const void *)(uintptr_t)mc->pc, sizeof(insn));
	if (insn != A64_SVC0)
		return false;
	mc->pc += A64_INSN;
	mc->regs[0] = (uint64_t)(int64_t)-EINTR;
	return true;
}

/* movz xd, #imm16, lsl #(16 * hw) and movk: the 64-bit forms, little-endian words. */
static size_t put_insn(uint8_t *p, uint32_t insn)
{
	memcpy(p, &insn, 4);
	return 4;
}

static size_t put_mov(uint8_t *p, unsigned rd, uint64_t v, unsigned halfwords)
{
	size_t n = 0;

	for (unsigned hw = 0; hw < halfwords; hw++) {
		uint32_t base = hw == 0 ? 0xd2800000u : 0xf2800000u; /* movz : movk */
		n += put_insn(p + n, base | (hw << 21) | ((uint32_t)((v >> (16 * hw)) & 0xffff) << 5) | rd);
	}
	return n;
}

size_t host_stub_code(int fd, uint64_t empty_addr, uint64_t argv_addr, uint64_t envp, uint8_t *buf, size_t size)
{
	size_t n = 0;

	if (size < 17 * A64_INSN)
		return 0;
	n += put_mov(buf + n, 0, (uint32_t)fd, 2);
	n += put_mov(buf + n, 1, empty_addr, 4);
	n += put_mov(buf + n, 2, argv_addr, 4);
	n += put_mov(buf + n, 3, envp, 4);
	n += put_mov(buf + n, 4, AT_EMPTY_PATH, 1);
	n += put_mov(buf + n, 8, NR_AARCH64_EXECVEAT, 1);
	n += put_insn(buf + n, A64_SVC0);
	return n;
}

/*
 * An arm64 kernel may run AArch32 (armhf, armel) programs itself, or not: CONFIG_COMPAT and a
 * CPU with AArch32 at EL0.  This probe says which; the engine still serves armhf through
 * qemu-arm (native.c), see host_filter_arches.
 */
/* clang-format off */
static const uint8_t code_arm[] = {
	NATIVE_PROBE_STATUS, 0x00, 0xa0, 0xe3, /* mov r0, #42 */
	0x01, 0x70, 0xa0, 0xe3,                /* mov r7, #1 (exit) */
	0x00, 0x00, 0x00, 0xef,                /* svc #0 */
};
/* clang-format on */

const struct host_probe *host_probes(size_t *ret_n)
{
	static const struct host_probe probes[] = {
		{ ARCH_ARM, EM_ARM, 0x05000400 /* EABI 5, hard float */, code_arm, sizeof(code_arm), false },
	};
	*ret_n = ARRAY_SIZE(probes);
	return probes;
}
