/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The x86-64 host: x86-64, x32 and i386 tasks share its kernel.  The restart of an interrupted
 * call happens after the ptrace stop (arch/x86/kernel/signal.c, arch_do_signal_or_restart and
 * handle_signal): the tracer sees rax = -ERESTART* and orig_rax = the call, and whatever rax
 * holds when the task resumes decides.  -ERESTARTNOINTR there makes the kernel put orig_rax
 * back into rax and rip back over the 2-byte `syscall` (or `int 0x80`), handler or not.
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

enum arch host_arch(void)
{
	return ARCH_X86_64;
}

uint16_t host_elf_machine(void)
{
	return EM_X86_64;
}

enum exec_abi host_native_abi(void)
{
	return EXEC_ABI_X86_64;
}

const uint32_t *host_filter_arches(void)
{
	/* The native ABI is added by seccomp_init; i386 and x32 share this kernel. */
	static const uint32_t arches[] = { SCMP_ARCH_X86, SCMP_ARCH_X32, 0 };
	return arches;
}

bool host_is_exec_nr(long nr)
{
	return nr == NR_X86_64_EXECVE || nr == NR_X86_64_EXECVEAT || nr == NR_I386_EXECVE || nr == NR_I386_EXECVEAT ||
	       nr == (long)(X32_SYSCALL_BIT | NR_X32_EXECVE) || nr == (long)(X32_SYSCALL_BIT | NR_X32_EXECVEAT);
}

/*
 * PTRACE_GETREGS, not GETREGSET: from a 64-bit tracer it gives the 64-bit layout for every
 * tracee, where NT_PRSTATUS would give an i386 task's 32-bit one.
 */
struct host_ptrace host_regs_request(struct host_regs *regs, bool write)
{
	return (struct host_ptrace){ write ? PTRACE_SETREGS : PTRACE_GETREGS, NULL, &regs->r };
}

uint64_t host_regs_sp(const struct host_regs *regs)
{
	return regs->r.rsp;
}

uint64_t host_red_zone(void)
{
	return X86_64_RED_ZONE;
}

bool host_regs_restarting(const struct host_regs *regs, enum exec_abi abi)
{
	int64_t rax = (int64_t)regs->r.rax;

	(void)abi;
	return rax == -ERESTARTSYS || rax == -ERESTARTNOINTR || rax == -ERESTARTNOHAND || rax == -ERESTART_RESTARTBLOCK;
}

/* The argument registers of each ABI, in order. */
static void set_args(struct user_regs_struct *r, enum exec_abi abi, const uint64_t *args, size_t nargs)
{
	unsigned long long *i386[] = { &r->rbx, &r->rcx, &r->rdx, &r->rsi, &r->rdi, &r->rbp };
	unsigned long long *x86_64[] = { &r->rdi, &r->rsi, &r->rdx, &r->r10, &r->r8, &r->r9 };
	unsigned long long **regs = abi == EXEC_ABI_I386 ? i386 : x86_64;

	for (size_t i = 0; i < nargs && i < 6; i++)
		*regs[i] = args[i];
}

void host_regs_set_restart_call(struct host_regs *regs, enum exec_abi abi, long nr, const uint64_t *args, size_t nargs)
{
	regs->r.orig_rax = (uint64_t)(int64_t)nr;
	regs->r.rax = (uint64_t)(int64_t)-ERESTARTNOINTR;
	set_args(&regs->r, abi, args, nargs);
}

void host_regs_keep_restart(struct host_regs *regs)
{
	regs->r.rax = (uint64_t)(int64_t)-ERESTARTNOINTR;
}

void host_regs_rewind_restart(struct host_regs *regs, enum exec_abi abi)
{
	(void)abi;
	regs->r.rax = regs->r.orig_rax;
	regs->r.rip -= 2; /* `syscall` and `int 0x80` are both 2 bytes */
}

void host_regs_set_call(struct host_regs *regs, enum exec_abi abi, long nr, const uint64_t *args, size_t nargs)
{
	regs->r.orig_rax = (uint64_t)(int64_t)nr;
	set_args(&regs->r, abi, args, nargs);
	regs->r.rax = regs->r.orig_rax;
}

void host_regs_set_error(struct host_regs *regs, enum exec_abi abi, int err)
{
	(void)abi;
	regs->r.rax = (uint64_t)(int64_t)-err;
}

int64_t host_regs_result(const struct host_regs *regs, enum exec_abi abi)
{
	return abi == EXEC_ABI_I386 ? (int64_t)(int32_t)regs->r.rax : (int64_t)regs->r.rax;
}

/*
 * The handler runs between the interrupted wait and its restart: the kernel has already put
 * ptrace's number back into rax and rip on the `syscall` (0f 05).  A call that returned holds
 * its result in rax instead.
 */
bool host_cancel_ptrace_call(void *ctx)
{
	ucontext_t *uc = ctx;
	greg_t *gregs = uc->uc_mcontext.gregs;
	const unsigned char *ip = (const unsigned char *)gregs[REG_RIP];

	if (gregs[REG_RAX] != SYS_ptrace || ip[0] != 0x0f || ip[1] != 0x05)
		return false;
	gregs[REG_RIP] += 2;
	gregs[REG_RAX] = -EINTR;
	return true;
}

static size_t put_imm(uint8_t *p, const void *imm, size_t len)
{
	memcpy(p, imm, len);
	return len;
}

size_t host_stub_code(int fd, uint64_t empty_addr, uint64_t argv_addr, uint64_t envp, uint8_t *buf, size_t size)
{
	uint32_t fd32 = (uint32_t)fd, flags = AT_EMPTY_PATH, nr = NR_X86_64_EXECVEAT;
	size_t n = 0;

	if (size < 48)
		return 0;
	buf[n++] = 0xbf; /* mov edi, imm32 */
	n += put_imm(buf + n, &fd32, 4);
	buf[n++] = 0x48; /* movabs rsi, imm64 */
	buf[n++] = 0xbe;
	n += put_imm(buf + n, &empty_addr, 8);
	buf[n++] = 0x48; /* movabs rdx, imm64 */
	buf[n++] = 0xba;
	n += put_imm(buf + n, &argv_addr, 8);
	buf[n++] = 0x49; /* movabs r10, imm64 */
	buf[n++] = 0xba;
	n += put_imm(buf + n, &envp, 8);
	buf[n++] = 0x41; /* mov r8d, imm32 */
	buf[n++] = 0xb8;
	n += put_imm(buf + n, &flags, 4);
	buf[n++] = 0xb8; /* mov eax, imm32 */
	n += put_imm(buf + n, &nr, 4);
	buf[n++] = 0x0f; /* syscall */
	buf[n++] = 0x05;
	return n;
}

/* exit(42) through each ABI's own exit call. */
/* clang-format off */
static const uint8_t code_i386[] = {
	0xb8, 0x01, 0x00, 0x00, 0x00, /* mov eax, 1 (exit) */
	0xbb, NATIVE_PROBE_STATUS, 0x00, 0x00, 0x00, /* mov ebx, 42 */
	0xcd, 0x80,                   /* int 0x80 */
};
/* clang-format on */
/* clang-format off */
static const uint8_t code_x32[] = {
	0xb8, 0x3c, 0x00, 0x00, 0x40, /* mov eax, 60 | __X32_SYSCALL_BIT (exit) */
	0xbf, NATIVE_PROBE_STATUS, 0x00, 0x00, 0x00, /* mov edi, 42 */
	0x0f, 0x05,                   /* syscall */
};
/* clang-format on */

const struct host_probe *host_probes(size_t *ret_n)
{
	static const struct host_probe probes[] = {
		{ ARCH_I386, EM_386, 0, code_i386, sizeof(code_i386), true },
		{ ARCH_X32, EM_X86_64, 0, code_x32, sizeof(code_x32), true },
	};
	*ret_n = ARRAY_SIZE(probes);
	return probes;
}
