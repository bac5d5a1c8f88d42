/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tiny: the smallest static x86-64 program that behaves like /bin/true.  No libc, no loader, no
 * relocations: its exec costs what the kernel (and the supervisor) charge for an exec and
 * nothing else.  Built by bench/run.sh with: gcc -O2 -static -nostdlib -fno-stack-protector.
 */

void _start(void) __attribute__((noreturn));

void _start(void)
{
	/* exit_group(0) */
	__asm__ volatile("syscall" : : "a"(231), "D"(0) : "rcx", "r11", "memory");
	__builtin_unreachable();
}
