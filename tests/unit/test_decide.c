/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
/* cmocka.h needs the headers above. */
#include <setjmp.h>
#include <cmocka.h>

#include "decide.h"

/*
 * The table below starts each case from a base (every fact gathered, a caller that reaches
 * everything) and overrides the fields the case is about.
 */
#pragma GCC diagnostic ignored "-Woverride-init"

#define BIT(f) (1u << (f))
#define ALL_FACTS                                                                                   \
	(BIT(EXEC_FACT_VIEW) | BIT(EXEC_FACT_PATH) | BIT(EXEC_FACT_TARGET) | BIT(EXEC_FACT_REACH) | \
	 BIT(EXEC_FACT_SCRIPT_FD) | BIT(EXEC_FACT_ARGV))
#define NATIVE_MASK ((UINT64_C(1) << ARCH_X86_64) | (UINT64_C(1) << ARCH_I386))
#define EMULATE_MASK ((UINT64_C(1) << ARCH_AARCH64) | (UINT64_C(1) << ARCH_ARM))
#define ELF(a)                                                         \
	{                                                              \
		.kind = FILE_KIND_ELF, .arch = (a), .elf_type = ET_DYN \
	}
#define SCRIPT                           \
	{                                \
		.kind = FILE_KIND_SCRIPT \
	}
#define BASE                                                                                       \
	.have = ALL_FACTS, .native_mask = NATIVE_MASK, .emulate_mask = EMULATE_MASK, .n_files = 1, \
	.reach = EXEC_REACH_ALL, .last = ELF(ARCH_AARCH64)

struct decide_case {
	const char *name;
	struct exec_facts facts;
	enum exec_fact need;
	enum decision decision;
	int err;
	enum arch arch;
	int undecided_by;
};

/*
 * Every errno the integration tests check, by who gives it.  The kernel's (the exec goes on
 * undecided, and fails there as it would without ubinfmt): ENOENT (missing file or directory,
 * dangling symlink, an empty path without AT_EMPTY_PATH, a missing interpreter), ENOTDIR,
 * ELOOP (symlink loops, #! chains past the kernel's depth), ENAMETOOLONG, EFAULT of a path in
 * unmapped memory, EACCES of a file no one may exec or of a directory, ENOEXEC of garbage and
 * of machines no emulator serves, EBADF.  ETXTBSY is always the kernel's: the decision never
 * opens a file for writing.  The engine's own: EACCES for a foreign file the caller may not
 * reach or exec (no x bit for it, a noexec mount, a directory it may not search), ENOEXEC for
 * a foreign file without an emulator, E2BIG and EFAULT of an argv it cannot read.
 */
/* clang-format off */
static const struct decide_case cases[] = {
	/* Before the target is known: the kernel's, whatever it says. */
	{ "too many decisions stuck", { BASE, .stuck = true }, .decision = DECISION_KERNEL },
	{ "no root (out of fds)", { BASE, .view_err = -EMFILE }, .decision = DECISION_KERNEL, .undecided_by = -EMFILE },
	{ "path in unmapped memory: EFAULT", { BASE, .path_err = -EFAULT }, .decision = DECISION_KERNEL },
	{ "path of PATH_MAX bytes: ENAMETOOLONG", { BASE, .path_err = -ENAMETOOLONG }, .decision = DECISION_KERNEL },
	{ "execveat of an fd it does not have: EBADF", { BASE, .fd_based = true, .dirfd_err = -EBADF },
	  .decision = DECISION_KERNEL, .undecided_by = -EBADF },
	{ "empty path without AT_EMPTY_PATH: ENOENT", { BASE, .fd_based = true, .empty_path = true },
	  .decision = DECISION_KERNEL },
	{ "missing file: ENOENT", { BASE, .open_err = -ENOENT }, .decision = DECISION_KERNEL, .undecided_by = -ENOENT },
	{ "file used as a directory: ENOTDIR", { BASE, .open_err = -ENOTDIR }, .decision = DECISION_KERNEL,
	  .undecided_by = -ENOTDIR },
	{ "symlink loop: ELOOP", { BASE, .open_err = -ELOOP }, .decision = DECISION_KERNEL, .undecided_by = -ELOOP },
	{ "name too long: ENAMETOOLONG", { BASE, .open_err = -ENAMETOOLONG }, .decision = DECISION_KERNEL,
	  .undecided_by = -ENAMETOOLONG },
	{ "no x bit at all, or a directory: EACCES", { BASE, .open_err = -EACCES }, .decision = DECISION_KERNEL,
	  .undecided_by = -EACCES },
	{ "missing file, recorded: the reach first", { BASE, .open_err = -ENOENT, .recorded = true,
						       .have = ALL_FACTS & ~BIT(EXEC_FACT_REACH) },
	  .need = EXEC_FACT_REACH, .decision = DECISION_KERNEL },

	/* The file itself. */
	{ "native ELF", { BASE, .last = ELF(ARCH_X86_64) }, .decision = DECISION_NATIVE },
	{ "native i386 ELF", { BASE, .last = ELF(ARCH_I386) }, .decision = DECISION_NATIVE },
	{ "foreign ELF with an emulator", { BASE }, .decision = DECISION_EMULATE, .arch = ARCH_AARCH64 },
	{ "foreign ELF, fd-based, empty path with AT_EMPTY_PATH",
	  { BASE, .fd_based = true, .empty_path = true, .empty_path_allowed = true },
	  .decision = DECISION_EMULATE, .arch = ARCH_AARCH64 },
	{ "foreign ELF, no emulator: ENOEXEC", { BASE, .last = ELF(ARCH_RISCV64) }, .decision = DECISION_NO_EMULATOR,
	  .err = ENOEXEC, .arch = ARCH_RISCV64 },
	{ "foreign ELF, its emulator excluded: ENOEXEC", { BASE, .emulate_mask = UINT64_C(1) << ARCH_ARM },
	  .decision = DECISION_NO_EMULATOR, .err = ENOEXEC, .arch = ARCH_AARCH64 },
	{ "ELF of a machine no qemu serves (IA-64): ENOEXEC", { BASE, .last = ELF(ARCH_UNKNOWN) },
	  .decision = DECISION_KERNEL },
	{ "relocatable foreign ELF", { BASE, .last = { .kind = FILE_KIND_ELF, .arch = ARCH_AARCH64, .elf_type = ET_REL } },
	  .decision = DECISION_KERNEL },
	{ "foreign executable ELF", { BASE, .last = { .kind = FILE_KIND_ELF, .arch = ARCH_ARM, .elf_type = ET_EXEC } },
	  .decision = DECISION_EMULATE, .arch = ARCH_ARM },
	{ "garbage bytes: ENOEXEC", { BASE, .last = { .kind = FILE_KIND_OTHER } }, .decision = DECISION_KERNEL },
	{ "a head classify refuses", { BASE, .last = { .classify_err = -EINVAL, .kind = FILE_KIND_ELF,
						      .arch = ARCH_AARCH64, .elf_type = ET_DYN } },
	  .decision = DECISION_KERNEL },
	{ "claimed by the host's binfmt_misc", { BASE, .last = { .host_binfmt = true, .kind = FILE_KIND_OTHER } },
	  .decision = DECISION_HOST_BINFMT },
	{ "foreign ELF claimed by the host's binfmt_misc", { BASE, .last = { .host_binfmt = true, .kind = FILE_KIND_ELF,
									   .arch = ARCH_AARCH64, .elf_type = ET_DYN } },
	  .decision = DECISION_HOST_BINFMT },
	{ "a head classify refuses, claimed by the host", { BASE, .last = { .classify_err = -EINVAL, .host_binfmt = true } },
	  .decision = DECISION_HOST_BINFMT },

	/* What the caller may reach, with its own credentials. */
	{ "foreign, no x bit for the caller: EACCES", { BASE, .reach = EXEC_REACH_NAMED }, .decision = DECISION_DENIED,
	  .err = EACCES },
	{ "foreign on a noexec mount: EACCES", { BASE, .reach = EXEC_REACH_NAMED }, .decision = DECISION_DENIED,
	  .err = EACCES },
	{ "foreign behind a directory it may not search: EACCES", { BASE, .reach = EXEC_REACH_NONE },
	  .decision = DECISION_DENIED, .err = EACCES },
	{ "foreign, its credentials unreadable (gone?)", { BASE, .reach = EXEC_REACH_UNKNOWN },
	  .decision = DECISION_KERNEL },
	{ "no emulator, no x bit for the caller: EACCES first", { BASE, .last = ELF(ARCH_RISCV64),
								  .reach = EXEC_REACH_NAMED },
	  .decision = DECISION_DENIED, .err = EACCES },
	{ "no emulator, credentials unreadable", { BASE, .last = ELF(ARCH_RISCV64), .reach = EXEC_REACH_UNKNOWN },
	  .decision = DECISION_KERNEL },
	{ "native, no x bit for the caller: the kernel's EACCES", { BASE, .last = ELF(ARCH_X86_64),
								    .reach = EXEC_REACH_NAMED },
	  .decision = DECISION_NATIVE },
	{ "foreign, reach not known yet", { BASE, .have = ALL_FACTS & ~BIT(EXEC_FACT_REACH) }, .need = EXEC_FACT_REACH,
	  .decision = DECISION_KERNEL },
	{ "no emulator, reach not known yet", { BASE, .last = ELF(ARCH_RISCV64),
						.have = ALL_FACTS & ~BIT(EXEC_FACT_REACH) },
	  .need = EXEC_FACT_REACH, .decision = DECISION_KERNEL },
	{ "native, not recorded: no reach needed", { BASE, .last = ELF(ARCH_X86_64),
						     .have = ALL_FACTS & ~BIT(EXEC_FACT_REACH) },
	  .decision = DECISION_NATIVE },
	{ "native, recorded: the reach too", { BASE, .last = ELF(ARCH_X86_64), .recorded = true,
					       .have = ALL_FACTS & ~BIT(EXEC_FACT_REACH) },
	  .need = EXEC_FACT_REACH, .decision = DECISION_KERNEL },

	/* The argv of a foreign program. */
	{ "foreign, argv in unmapped memory: EFAULT", { BASE, .argv_err = -EFAULT }, .decision = DECISION_FAILED,
	  .err = EFAULT },
	{ "foreign, argv too long: E2BIG", { BASE, .argv_err = -E2BIG }, .decision = DECISION_FAILED, .err = E2BIG },
	{ "foreign, no memory for the argv: ENOEXEC", { BASE, .argv_err = -ENOMEM }, .decision = DECISION_FAILED,
	  .err = ENOEXEC },
	{ "foreign, argv not read yet", { BASE, .have = ALL_FACTS & ~BIT(EXEC_FACT_ARGV) }, .need = EXEC_FACT_ARGV,
	  .decision = DECISION_KERNEL },
	{ "native, argv never read", { BASE, .last = ELF(ARCH_X86_64), .have = ALL_FACTS & ~BIT(EXEC_FACT_ARGV) },
	  .decision = DECISION_NATIVE },

	/* #! chains. */
	{ "a script: its interpreter next", { BASE, .last = SCRIPT }, .need = EXEC_FACT_INTERP,
	  .decision = DECISION_KERNEL },
	{ "a script at the kernel's depth: its interpreter next",
	  { BASE, .last = SCRIPT, .n_files = SHEBANG_MAX_DEPTH }, .need = EXEC_FACT_INTERP,
	  .decision = DECISION_KERNEL },
	{ "a script past the kernel's depth: ELOOP", { BASE, .last = SCRIPT, .n_files = SHEBANG_MAX_DEPTH + 1 },
	  .decision = DECISION_KERNEL },
	{ "missing interpreter: ENOENT", { BASE, .last = SCRIPT, .interp_err = -ENOENT },
	  .decision = DECISION_KERNEL },
	{ "interpreter without x bit: EACCES", { BASE, .last = SCRIPT, .n_files = 2, .interp_err = -EACCES },
	  .decision = DECISION_KERNEL },
	{ "native script", { BASE, .last = ELF(ARCH_X86_64), .n_files = 2 }, .decision = DECISION_NATIVE },
	{ "foreign interpreter", { BASE, .n_files = 2 }, .decision = DECISION_EMULATE, .arch = ARCH_AARCH64 },
	{ "foreign interpreter the caller may not exec: EACCES", { BASE, .n_files = 3, .reach = EXEC_REACH_NAMED },
	  .decision = DECISION_DENIED, .err = EACCES },
	{ "fd-based script, foreign interpreter: the fd's flags next",
	  { BASE, .n_files = 2, .fd_based = true, .have = ALL_FACTS & ~BIT(EXEC_FACT_SCRIPT_FD) },
	  .need = EXEC_FACT_SCRIPT_FD, .decision = DECISION_KERNEL },
	{ "fd-based script of a close-on-exec fd: the kernel's ENOENT",
	  { BASE, .n_files = 2, .fd_based = true, .script_fd_cloexec = true }, .decision = DECISION_KERNEL },
	{ "fd-based script of an fd it keeps", { BASE, .n_files = 2, .fd_based = true },
	  .decision = DECISION_EMULATE, .arch = ARCH_AARCH64 },
	{ "fd-based foreign ELF: no flags needed",
	  { BASE, .fd_based = true, .script_fd_cloexec = true, .have = ALL_FACTS & ~BIT(EXEC_FACT_SCRIPT_FD) },
	  .decision = DECISION_EMULATE, .arch = ARCH_AARCH64 },
};
/* clang-format on */

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct decide_case *c = &cases[i];
		struct exec_decision d;

		memset(&d, 0x5a, sizeof(d));
		decide(&c->facts, &d);
		if (d.need == c->need && d.decision == c->decision && d.err == c->err && d.arch == c->arch &&
		    d.undecided_by == c->undecided_by)
			continue;
		print_error("%s: need %d, decision %d, err %d, arch %d, undecided_by %d; expected %d, %d, %d, %d, %d\n",
			    c->name, d.need, d.decision, d.err, d.arch, d.undecided_by, c->need, c->decision, c->err,
			    c->arch, c->undecided_by);
		fail();
	}
}

/*
 * A scripted source of facts, answering each request as gathering would; records what was
 * asked, in order.
 */
struct script {
	struct exec_facts gathered; /* the values each fact takes once gathered */
	enum exec_fact asked[16];
	size_t n_asked;
	size_t interps; /* how many interpreters the chain has: each INTERP makes the next the last */
	struct exec_file_facts final;
};

static void run(struct script *s, struct exec_facts *f, struct exec_decision *d)
{
	for (decide(f, d); d->need != EXEC_FACT_NONE; decide(f, d)) {
		assert_true(s->n_asked < 16);
		assert_false(f->have & BIT(d->need) && d->need != EXEC_FACT_INTERP);
		s->asked[s->n_asked++] = d->need;
		switch (d->need) {
		case EXEC_FACT_VIEW:
			f->view_err = s->gathered.view_err;
			break;
		case EXEC_FACT_PATH:
			f->fd_based = s->gathered.fd_based;
			break;
		case EXEC_FACT_TARGET:
			f->n_files = 1;
			f->last = s->interps ? (struct exec_file_facts)SCRIPT : s->final;
			break;
		case EXEC_FACT_INTERP:
			f->n_files++;
			f->last = f->n_files <= s->interps ? (struct exec_file_facts)SCRIPT : s->final;
			break;
		case EXEC_FACT_REACH:
			f->reach = s->gathered.reach;
			break;
		case EXEC_FACT_SCRIPT_FD:
			f->script_fd_cloexec = s->gathered.script_fd_cloexec;
			break;
		case EXEC_FACT_ARGV:
			f->argv_err = s->gathered.argv_err;
			break;
		case EXEC_FACT_NONE:
		case EXEC_FACT_MAX:
		default:
			fail();
		}
		f->have |= BIT(d->need);
	}
}

static void assert_asked(const struct script *s, const enum exec_fact *want, size_t n)
{
	assert_int_equal(s->n_asked, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(s->asked[i], want[i]);
}

/* A native exec that no record is made of costs no permission walk and no argv read. */
static void test_asks_native(void **state)
{
	struct script s = { .gathered = { .reach = EXEC_REACH_ALL }, .final = ELF(ARCH_X86_64) };
	struct exec_facts f = { .native_mask = NATIVE_MASK, .emulate_mask = EMULATE_MASK };
	struct exec_decision d;
	static const enum exec_fact want[] = { EXEC_FACT_VIEW, EXEC_FACT_PATH, EXEC_FACT_TARGET };

	(void)state;
	run(&s, &f, &d);
	assert_int_equal(d.decision, DECISION_NATIVE);
	assert_asked(&s, want, sizeof(want) / sizeof(want[0]));
}

/* Recorded: the walk too, so that the record shows only what the caller could see. */
static void test_asks_native_recorded(void **state)
{
	struct script s = { .gathered = { .reach = EXEC_REACH_NONE }, .final = ELF(ARCH_X86_64) };
	struct exec_facts f = { .native_mask = NATIVE_MASK, .emulate_mask = EMULATE_MASK, .recorded = true };
	struct exec_decision d;
	static const enum exec_fact want[] = { EXEC_FACT_VIEW, EXEC_FACT_PATH, EXEC_FACT_TARGET, EXEC_FACT_REACH };

	(void)state;
	run(&s, &f, &d);
	assert_int_equal(d.decision, DECISION_NATIVE);
	assert_asked(&s, want, sizeof(want) / sizeof(want[0]));
}

/* A foreign script through a dirfd: the whole chain, then the checks, then the fd, then argv. */
static void test_asks_foreign_fd_script(void **state)
{
	struct script s = {
		.gathered = { .reach = EXEC_REACH_ALL, .fd_based = true },
		.interps = 2,
		.final = ELF(ARCH_AARCH64),
	};
	struct exec_facts f = { .native_mask = NATIVE_MASK, .emulate_mask = EMULATE_MASK };
	struct exec_decision d;
	static const enum exec_fact want[] = {
		EXEC_FACT_VIEW,	  EXEC_FACT_PATH,  EXEC_FACT_TARGET,	EXEC_FACT_INTERP,
		EXEC_FACT_INTERP, EXEC_FACT_REACH, EXEC_FACT_SCRIPT_FD, EXEC_FACT_ARGV,
	};

	(void)state;
	run(&s, &f, &d);
	assert_int_equal(d.decision, DECISION_EMULATE);
	assert_int_equal(d.arch, ARCH_AARCH64);
	assert_int_equal(f.n_files, 3);
	assert_asked(&s, want, sizeof(want) / sizeof(want[0]));
}

/* A denied foreign exec never reads the argv; a failed view stops everything. */
static void test_asks_stops_early(void **state)
{
	struct script denied = { .gathered = { .reach = EXEC_REACH_NAMED }, .final = ELF(ARCH_ARM) };
	struct script no_view = { .gathered = { .view_err = -ESRCH } };
	struct exec_facts f = { .native_mask = NATIVE_MASK, .emulate_mask = EMULATE_MASK };
	struct exec_decision d;
	static const enum exec_fact want[] = { EXEC_FACT_VIEW, EXEC_FACT_PATH, EXEC_FACT_TARGET, EXEC_FACT_REACH };
	static const enum exec_fact want_view[] = { EXEC_FACT_VIEW };

	(void)state;
	run(&denied, &f, &d);
	assert_int_equal(d.decision, DECISION_DENIED);
	assert_int_equal(d.err, EACCES);
	assert_asked(&denied, want, sizeof(want) / sizeof(want[0]));

	f = (struct exec_facts){ .native_mask = NATIVE_MASK, .emulate_mask = EMULATE_MASK };
	run(&no_view, &f, &d);
	assert_int_equal(d.decision, DECISION_KERNEL);
	assert_int_equal(d.undecided_by, -ESRCH);
	assert_asked(&no_view, want_view, 1);
}

/*
 * A rewrite that fails: another thread of the process in an exec leaves it to the kernel; a
 * caller already ptraced by another process with other threads (-EPERM), a task gone, no
 * emulator in the registry after all, anything else: ENOEXEC.
 */
static void test_rewrite_failed(void **state)
{
	static const struct {
		int r;
		enum decision decision;
		int err;
		/* clang-format off */
	} rows[] = {
		{ -EINPROGRESS, DECISION_KERNEL, 0 }, { -ETIMEDOUT, DECISION_KERNEL, 0 },
		{ -EPERM, DECISION_FAILED, ENOEXEC }, { -ESRCH, DECISION_FAILED, ENOEXEC },
		{ -ENOEXEC, DECISION_FAILED, ENOEXEC }, { -ENOMEM, DECISION_FAILED, ENOEXEC },
	};
	/* clang-format on */

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct exec_decision d = { .decision = DECISION_EMULATE, .arch = ARCH_AARCH64 };
		decide_rewrite_failed(rows[i].r, &d);
		assert_int_equal(d.decision, rows[i].decision);
		assert_int_equal(d.err, rows[i].err);
		assert_int_equal(d.need, EXEC_FACT_NONE);
	}
}

/* What a record may show: nothing the caller could not have learned itself. */
static void test_record(void **state)
{
	static const struct {
		enum exec_reach reach;
		enum decision decision;
		int err;
		bool keeps_arch, keeps_resolved;
		/* clang-format off */
	} rows[] = {
		{ EXEC_REACH_ALL, DECISION_EMULATE, 0, true, true },
		{ EXEC_REACH_ALL, DECISION_FAILED, E2BIG, true, true },
		{ EXEC_REACH_NAMED, DECISION_DENIED, EACCES, false, true },
		{ EXEC_REACH_NONE, DECISION_DENIED, EACCES, false, false },
		{ EXEC_REACH_UNCHECKED, DECISION_KERNEL, 0, false, false },
		{ EXEC_REACH_UNKNOWN, DECISION_KERNEL, 0, false, false },
	};
	/* clang-format on */

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct trace_record rec = { .arch = ARCH_AARCH64, .resolved = "/usr/bin/x" };
		/* The answer given; the record says rows[i].decision. */
		enum decision given = rows[i].reach == EXEC_REACH_ALL ? rows[i].decision : DECISION_NATIVE;
		decide_record(rows[i].reach, given, rows[i].reach == EXEC_REACH_ALL ? rows[i].err : 0, &rec);
		assert_int_equal(rec.decision, rows[i].decision);
		assert_int_equal(rec.error, rows[i].err);
		assert_int_equal(rec.arch, rows[i].keeps_arch ? ARCH_AARCH64 : ARCH_UNKNOWN);
		assert_string_equal(rec.resolved, rows[i].keeps_resolved ? "/usr/bin/x" : "");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_asks_native),
		cmocka_unit_test(test_asks_native_recorded),
		cmocka_unit_test(test_asks_foreign_fd_script),
		cmocka_unit_test(test_asks_stops_early),
		cmocka_unit_test(test_rewrite_failed),
		cmocka_unit_test(test_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
