/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <elf.h>
#include <errno.h>

#include "decide.h"

static bool has(const struct exec_facts *f, enum exec_fact fact)
{
	return f->have & (1u << fact);
}

static void need(struct exec_decision *d, enum exec_fact fact)
{
	*d = (struct exec_decision){ .need = fact, .decision = DECISION_KERNEL };
}

static void answer(struct exec_decision *d, enum decision decision, int err, enum arch arch)
{
	*d = (struct exec_decision){ .decision = decision, .err = err, .arch = arch };
}

/*
 * What the #! chain says before any permission check, followed like fs/binfmt_script.c: the
 * file the exec finally loads, or *ret_need EXEC_FACT_INTERP while a #! line names an
 * interpreter not classified yet.
 */
static enum decision chain_outcome(const struct exec_facts *f, enum exec_fact *ret_need)
{
	const struct exec_file_facts *last = &f->last;

	if (last->host_binfmt)
		return DECISION_HOST_BINFMT;
	if (last->classify_err < 0 || last->kind == FILE_KIND_OTHER)
		return DECISION_KERNEL;
	if (last->kind == FILE_KIND_SCRIPT) {
		if (f->n_files > SHEBANG_MAX_DEPTH)
			return DECISION_KERNEL; /* the kernel answers ELOOP */
		if (f->interp_err < 0)
			return DECISION_KERNEL; /* the kernel's answer for a missing interpreter */
		*ret_need = EXEC_FACT_INTERP;
		return DECISION_KERNEL;
	}
	/* Relocatable objects, core files…: the kernel refuses them, whatever the machine. */
	if (last->arch == ARCH_UNKNOWN || (last->elf_type != ET_EXEC && last->elf_type != ET_DYN))
		return DECISION_KERNEL;
	if (f->native_mask & (UINT64_C(1) << last->arch))
		return DECISION_NATIVE;
	if (!(f->emulate_mask & (UINT64_C(1) << last->arch)))
		return DECISION_NO_EMULATOR;
	return DECISION_EMULATE;
}

/* A foreign program the caller may run: what its rewrite needs of the caller first. */
static void decide_emulate(const struct exec_facts *f, struct exec_decision *ret)
{
	/* A script named through a close-on-exec fd would be gone after the exec: the kernel's ENOENT. */
	if (f->fd_based && f->n_files > 1) {
		if (!has(f, EXEC_FACT_SCRIPT_FD))
			return need(ret, EXEC_FACT_SCRIPT_FD);
		if (f->script_fd_cloexec)
			return answer(ret, DECISION_KERNEL, 0, ARCH_UNKNOWN);
	}
	if (!has(f, EXEC_FACT_ARGV))
		return need(ret, EXEC_FACT_ARGV);
	/* An argv the kernel could not read either (t_hostile_args): its E2BIG or EFAULT, not ENOEXEC. */
	if (f->argv_err < 0)
		return answer(ret, DECISION_FAILED,
			      f->argv_err == -E2BIG || f->argv_err == -EFAULT ? -f->argv_err : ENOEXEC, ARCH_UNKNOWN);
	answer(ret, DECISION_EMULATE, 0, f->last.arch);
}

/*
 * The target resolved and opened: the chain's outcome, and the permission checks it needs.
 * Emulating, or answering ENOEXEC for want of an emulator, replaces the kernel's answer: only
 * for a caller that the kernel would have let this far, with its own credentials (the
 * supervisor resolved with its own).  A native decision needs no check (the kernel makes them
 * itself) unless a trace record is to tell what it found.
 */
static void decide_target(const struct exec_facts *f, struct exec_decision *ret)
{
	enum exec_fact next = EXEC_FACT_NONE;
	enum decision d = chain_outcome(f, &next);
	bool ours = d == DECISION_EMULATE || d == DECISION_NO_EMULATOR;

	if (next != EXEC_FACT_NONE)
		return need(ret, next);
	if ((ours || f->recorded) && !has(f, EXEC_FACT_REACH))
		return need(ret, EXEC_FACT_REACH);
	if (ours && f->reach == EXEC_REACH_UNKNOWN)
		return answer(ret, DECISION_KERNEL, 0,
			      ARCH_UNKNOWN); /* the task is gone, or its credentials unreadable */
	if (ours && f->reach != EXEC_REACH_ALL)
		return answer(ret, DECISION_DENIED, EACCES, ARCH_UNKNOWN);
	if (d == DECISION_NO_EMULATOR)
		return answer(ret, d, ENOEXEC, f->last.arch);
	if (d != DECISION_EMULATE)
		return answer(ret, d, 0, ARCH_UNKNOWN);
	decide_emulate(f, ret);
}

void decide(const struct exec_facts *f, struct exec_decision *ret)
{
	/* Whatever fails before the target is known is the kernel's to answer. */
	answer(ret, DECISION_KERNEL, 0, ARCH_UNKNOWN);
	if (f->stuck)
		return;
	if (!has(f, EXEC_FACT_VIEW))
		return need(ret, EXEC_FACT_VIEW);
	if (f->view_err < 0) {
		ret->undecided_by = f->view_err;
		return;
	}
	if (!has(f, EXEC_FACT_PATH))
		return need(ret, EXEC_FACT_PATH);
	if (f->path_err < 0)
		return; /* the kernel's EFAULT or ENAMETOOLONG */
	if (f->fd_based && f->dirfd_err < 0) {
		ret->undecided_by = f->dirfd_err; /* the kernel's EBADF, or ours */
		return;
	}
	if (f->empty_path && !f->empty_path_allowed)
		return; /* the kernel's ENOENT */
	if (!has(f, EXEC_FACT_TARGET))
		return need(ret, EXEC_FACT_TARGET);
	if (f->open_err < 0) {
		/* ENOENT, ENOTDIR, ELOOP, EACCES…: a record shows it only as far as the caller reaches. */
		if (f->recorded && !has(f, EXEC_FACT_REACH))
			return need(ret, EXEC_FACT_REACH);
		ret->undecided_by = f->open_err;
		return;
	}
	decide_target(f, ret);
}

void decide_rewrite_failed(int r, struct exec_decision *d)
{
	if (r == -EINPROGRESS || r == -ETIMEDOUT) {
		d->decision = DECISION_KERNEL;
		d->err = 0;
	} else {
		d->decision = DECISION_FAILED;
		d->err = ENOEXEC;
	}
}

void decide_record(enum exec_reach reach, enum decision d, int err, struct trace_record *rec)
{
	switch (reach) {
	case EXEC_REACH_ALL:
		rec->decision = d;
		rec->error = err;
		return;
	case EXEC_REACH_NONE:
	case EXEC_REACH_NAMED:
		/* What the caller gets from the kernel too, whatever the file is. */
		rec->decision = DECISION_DENIED;
		rec->error = EACCES;
		break;
	case EXEC_REACH_UNCHECKED:
	case EXEC_REACH_UNKNOWN:
	case EXEC_REACH_MAX:
	default:
		/*
		 * Unchecked: nothing was learned from a file (the exec failed before), or no
		 * record was meant to be made; either way the kernel answers, for all it shows.
		 */
		rec->decision = DECISION_KERNEL;
		rec->error = 0;
		break;
	}
	rec->arch = ARCH_UNKNOWN;
	if (reach != EXEC_REACH_NAMED)
		rec->resolved[0] = '\0';
}
