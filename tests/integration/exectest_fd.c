/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * exectest's modes for programs named through an fd that the exec itself closes:
 *
 *   exectest fdexec [--keep-fd] [--opath] [--memfd] [--unlink] [--fork] [--via HOW] [--name NAME]
 *                   PATH [ARGV0 ARG…]
 *       Opens PATH close-on-exec (O_RDONLY, or O_PATH with --opath; --memfd: a read-only
 *       MFD_CLOEXEC memfd copy of it; --unlink: a copy in /tmp, deleted once open) and execs
 *       it through that fd, named as HOW says (with --name, PATH is a directory and the
 *       program is NAME in it: HOW's name followed by "/NAME", or execveat(N, NAME, 0)):
 *         proc     execve("/proc/self/fd/N")             (the default)
 *         dev      execve("/dev/fd/N")
 *         pid      execve("/proc/PID/fd/N"), PID its own pid
 *         thread   execve("/proc/thread-self/fd/N")
 *         fexecve  glibc's fexecve (execveat(N, "", AT_EMPTY_PATH))

 *       --keep-fd clears FD_CLOEXEC first; --fork does it in a forked child and prints the
 *       child's "status N" (CPython's test_fexecve: os.execve(fd, …) in a child of fork).
 *       Every inherited fd from 3 up is closed first, so that the program starts with 0, 1, 2
 *       and only what the exec itself leaves.
 *
 *   exectest arm64-fexecve
 *       Writes to stdout a tiny static arm64 program that does what glibc's fexecve does:
 *           afexecve PATH ARGV0 [ARG…]
 *       opens PATH with O_CLOEXEC, calls execveat(fd, "", &argv[2], envp, AT_EMPTY_PATH), and
 *       when that gives ENOSYS (qemu-user before 8.0 has no execveat), execve of
 *       "/proc/self/fd/N"; a step that fails makes it exit with 100 + errno.  The foreign caller
 *       whose own exec is what a foreign CPython's os.execve(fd, …) becomes.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exectest.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

enum via {
	VIA_PROC,
	VIA_DEV,
	VIA_PID,
	VIA_THREAD,
	VIA_FEXECVE,
	VIA_MAX,
};

static const char *const via_names[VIA_MAX] = {
	[VIA_PROC] = "proc", [VIA_DEV] = "dev", [VIA_PID] = "pid", [VIA_THREAD] = "thread", [VIA_FEXECVE] = "fexecve",
};

struct fd_opts {
	bool keep_fd, opath, memfd, unlink, fork;
	enum via via;
	const char *name; /* --name: the program is this name in the directory PATH */
};

/* Reopens fd read-only and close-on-exec through its magic link, then closes fd. */
static int reopen_read_only(int fd)
{
	char proc[64];
	int r;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	r = open(proc, O_RDONLY | O_CLOEXEC);
	if (r < 0)
		et_die(EXIT_FAIL, "reopen %s read-only: %m", proc);
	close(fd);
	return r;
}

/* A read-only MFD_CLOEXEC memfd holding a copy of path (a memfd open for writing: ETXTBSY). */
static int memfd_copy(const char *path)
{
	return reopen_read_only(et_memfd_copy(path));
}

/* A copy of path in /tmp, open close-on-exec (O_PATH with opath) and already deleted. */
static int unlinked_copy(const char *path, bool opath)
{
	_cleanup_close_ int src = open(path, O_RDONLY | O_CLOEXEC);
	char tmp[] = "/tmp/exectest-XXXXXX";
	int out, fd, r;

	if (src < 0)
		et_die(EXIT_FAIL, "open '%s': %m", path);
	out = mkostemp(tmp, O_CLOEXEC);
	if (out < 0)
		et_die(EXIT_FAIL, "mkostemp in /tmp: %m");
	r = et_copy_fd(src, out);
	if (r < 0 || fchmod(out, 0755) < 0)
		et_die(EXIT_FAIL, "copy '%s' to %s: %s", path, tmp, strerror(r < 0 ? -r : errno));
	close(out);
	fd = open(tmp, (opath ? O_PATH : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		et_die(EXIT_FAIL, "open %s: %m", tmp);
	if (unlink(tmp) < 0)
		et_die(EXIT_FAIL, "unlink %s: %m", tmp);
	return fd;
}

static void parse_fd_opts(int argc, char **argv, struct fd_opts *o, int *ret_first)
{
	int i;

	*o = (struct fd_opts){ .via = VIA_PROC };
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (et_streq(a, "--")) {
			i++;
			break;
		}
		if (et_streq(a, "--keep-fd"))
			o->keep_fd = true;
		else if (et_streq(a, "--opath"))
			o->opath = true;
		else if (et_streq(a, "--memfd"))
			o->memfd = true;
		else if (et_streq(a, "--unlink"))
			o->unlink = true;
		else if (et_streq(a, "--fork"))
			o->fork = true;
		else if (et_streq(a, "--name") && i + 1 < argc)
			o->name = argv[++i];
		else if (et_streq(a, "--via") && i + 1 < argc) {
			const char *how = argv[++i];
			o->via = VIA_MAX;
			for (enum via v = 0; v < VIA_MAX; v++)
				if (et_streq(how, via_names[v]))
					o->via = v;
			if (o->via == VIA_MAX)
				et_die(EXIT_USAGE, "%s: --via '%s': proc, dev, pid, thread or fexecve", argv[0], how);
		} else
			et_die(EXIT_USAGE, "%s: bad option '%s' (see the comment at the top of exectest_fd.c)", argv[0],
			       a);
	}
	if ((o->memfd && (o->opath || o->unlink)))
		et_die(EXIT_USAGE, "%s: --memfd goes with neither --opath nor --unlink", argv[0]);
	if (o->name && (o->memfd || o->unlink))
		et_die(EXIT_USAGE, "%s: --name goes with neither --memfd nor --unlink", argv[0]);
	*ret_first = i;
}

static _noreturn_ void exec_through(int fd, enum via via, const char *name, char **args)
{
	char path[PATH_MAX];
	int err;

	switch (via) {
	case VIA_FEXECVE:
		if (name)
			syscall(SYS_execveat, fd, name, args, environ, 0);
		else
			fexecve(fd, args, environ);
		err = errno;
		printf("errno %s\n", et_errno_name(err));
		et_die(EXIT_FAIL, "%s(%d): %s", name ? "execveat" : "fexecve", fd, strerror(err));
	case VIA_DEV:
		snprintf(path, sizeof(path), "/dev/fd/%d", fd);
		break;
	case VIA_PID:
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)getpid(), fd);
		break;
	case VIA_THREAD:
		snprintf(path, sizeof(path), "/proc/thread-self/fd/%d", fd);
		break;
	case VIA_PROC:
	case VIA_MAX:
	default:
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		break;
	}
	if (name && snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s", name) >=
			    (int)(sizeof(path) - strlen(path)))
		et_die(EXIT_USAGE, "--name '%s' is too long", name);
	execve(path, args, environ);
	err = errno;
	printf("errno %s\n", et_errno_name(err));
	et_die(EXIT_FAIL, "execve '%s': %s", path, strerror(err));
}

int et_fdexec(int argc, char **argv)
{
	struct fd_opts o;
	int first, fd, status;
	pid_t pid;

	parse_fd_opts(argc, argv, &o, &first);
	et_need_operands(argc, first, 1, argv[0]);
	char *path = argv[first];
	char **args = et_make_argv(argv + first + 1, argc - first - 1, path, NULL);

	/* What the test's runner left open must not look like something the exec left. */
	if (syscall(SYS_close_range, 3U, ~0U, 0) < 0)
		et_die(EXIT_FAIL, "close_range: %m");
	if (o.memfd)
		fd = memfd_copy(path);
	else if (o.unlink)
		fd = unlinked_copy(path, o.opath);
	else
		fd = open(path, (o.opath ? O_PATH : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		et_die(EXIT_FAIL, "open '%s': %m", path);
	if (o.keep_fd && fcntl(fd, F_SETFD, 0) < 0)
		et_die(EXIT_FAIL, "clear FD_CLOEXEC: %m");
	fflush(stdout);
	if (!o.fork)
		exec_through(fd, o.via, o.name, args);

	pid = fork();
	if (pid < 0)
		et_die(EXIT_FAIL, "fork: %m");
	if (pid == 0)
		exec_through(fd, o.via, o.name, args);
	if (waitpid(pid, &status, 0) < 0)
		et_die(EXIT_FAIL, "waitpid: %m");
	fflush(stdout);
	et_print_status(status);
	return 0;
}

/* ---- a tiny arm64 caller ---------------------------------------------------------------------- */

#define A64_BASE 0x400000u

/*
 * The program's code and data: one read-write-execute segment after the ELF and program
 * headers, position-independent (every address is adr-relative).  Assembled once with
 * `llvm-mc -triple=aarch64-linux-gnu`; each word is listed with its instruction (which
 * `llvm-mc --disassemble -triple=aarch64-linux-gnu` gives back).
 */
static const uint32_t a64_code[] = {
	0xf94003f3, /* 0x00 ldr   x19, [sp]             argc */
	0x910023f4, /* 0x04 add   x20, sp, #8           argv */
	0x8b130e95, /* 0x08 add   x21, x20, x19, lsl #3 */
	0x910022b5, /* 0x0c add   x21, x21, #8          envp */
	0xf1000e7f, /* 0x10 cmp   x19, #3 */
	0x5400056b, /* 0x14 b.lt  usage */
	0x92800c60, /* 0x18 mov   x0, #-100             AT_FDCWD */
	0xf9400681, /* 0x1c ldr   x1, [x20, #8]         PATH */
	0xd2a00102, /* 0x20 mov   x2, #0x80000          O_RDONLY | O_CLOEXEC */
	0xd2800003, /* 0x24 mov   x3, #0 */
	0xd2800708, /* 0x28 mov   x8, #56               openat */
	0xd4000001, /* 0x2c svc   #0 */
	0xf100001f, /* 0x30 cmp   x0, #0 */
	0x540003eb, /* 0x34 b.lt  fail */
	0xaa0003f6, /* 0x38 mov   x22, x0               fd */
	0x10000481, /* 0x3c adr   x1, empty */
	0x91004282, /* 0x40 add   x2, x20, #16          &argv[2] */
	0xaa1503e3, /* 0x44 mov   x3, x21 */
	0xd2820004, /* 0x48 mov   x4, #0x1000           AT_EMPTY_PATH */
	0xd2802328, /* 0x4c mov   x8, #281              execveat */
	0xd4000001, /* 0x50 svc   #0 */
	0xb100981f, /* 0x54 cmn   x0, #38               ENOSYS? */
	0x540002c1, /* 0x58 b.ne  fail */
	0xaa1603ee, /* 0x5c mov   x14, x22 */
	0xd280014c, /* 0x60 mov   x12, #10 */
	0x3000054b, /* 0x64 adr   x11, digits */
	0x9acc09cd, /* 0x68 1: udiv x13, x14, x12 */
	0x9b0cb9af, /* 0x6c msub  x15, x13, x12, x14 */
	0x9100c1ef, /* 0x70 add   x15, x15, #'0' */
	0x381ffd6f, /* 0x74 strb  w15, [x11, #-1]! */
	0xaa0d03ee, /* 0x78 mov   x14, x13 */
	0xb5ffff6e, /* 0x7c cbnz  x14, 1b */
	0x30000260, /* 0x80 adr   x0, path */
	0x30000441, /* 0x84 adr   x1, digits */
	0x91003810, /* 0x88 add   x16, x0, #14          after "/proc/self/fd/" */
	0x3840156f, /* 0x8c 2: ldrb w15, [x11], #1 */
	0x3800160f, /* 0x90 strb  w15, [x16], #1 */
	0xeb01017f, /* 0x94 cmp   x11, x1 */
	0x54ffffa1, /* 0x98 b.ne  2b */
	0x3900021f, /* 0x9c strb  wzr, [x16] */
	0x91004281, /* 0xa0 add   x1, x20, #16 */
	0xaa1503e2, /* 0xa4 mov   x2, x21 */
	0xd2801ba8, /* 0xa8 mov   x8, #221              execve */
	0xd4000001, /* 0xac svc   #0 */
	0xcb0003e0, /* 0xb0 fail: neg x0, x0 */
	0x91019000, /* 0xb4 add   x0, x0, #100 */
	0xd2800ba8, /* 0xb8 mov   x8, #93               exit */
	0xd4000001, /* 0xbc svc   #0 */
	0xd2800040, /* 0xc0 usage: mov x0, #2 */
	0xd2800ba8, /* 0xc4 mov   x8, #93 */
	0xd4000001, /* 0xc8 svc   #0 */
};
_Static_assert(sizeof(a64_code) == 0xcc, "the data follows the code at 0xcc");

/* Then at 0xcc: empty ""; at 0xcd: path, "/proc/self/fd/" and room; digits end at 0x10d. */
#define A64_PATH_OFF 0xcd
#define A64_END_OFF 0x10d

int et_arm64_fexecve(int argc, char **argv)
{
	uint8_t image[sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + A64_END_OFF] = { 0 };
	const size_t code_off = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_SYSV },
		.e_type = ET_EXEC,
		.e_machine = EM_AARCH64,
		.e_version = EV_CURRENT,
		.e_entry = A64_BASE + code_off,
		.e_phoff = sizeof(Elf64_Ehdr),
		.e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr),
		.e_phnum = 1,
	};
	Elf64_Phdr ph = {
		.p_type = PT_LOAD,
		.p_flags = PF_R | PF_W | PF_X,
		.p_offset = 0,
		.p_vaddr = A64_BASE,
		.p_paddr = A64_BASE,
		.p_filesz = sizeof(image),
		.p_memsz = sizeof(image),
		.p_align = 0x1000,
	};

	(void)argv;
	if (argc != 1)
		et_die(EXIT_USAGE, "arm64-fexecve takes no operands");
	/* Little-endian like the host: the words and headers go in as they are. */
	memcpy(image, &eh, sizeof(eh));
	memcpy(image + sizeof(eh), &ph, sizeof(ph));
	memcpy(image + code_off, a64_code, sizeof(a64_code));
	memcpy(image + code_off + A64_PATH_OFF, "/proc/self/fd/", 14);
	if (fwrite(image, 1, sizeof(image), stdout) != sizeof(image) || fflush(stdout) != 0)
		et_die(EXIT_FAIL, "write the program: %m");
	return 0;
}
