/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "abi.h"
#include "host.h"
#include "macros.h"
#include "notif.h"

/* Linux 6.6 and later; Debian 12's headers predate them. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

/*
 * libseccomp builds the multi-ABI program; we load it ourselves because libseccomp 2.5 cannot
 * ask for SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV.  That flag matters: once the supervisor has
 * received a notification, signals no longer tear the trapped exec out of the kernel and
 * restart it, so a signal storm cannot turn every foreign exec into a retry loop.
 */
static int export_filter(struct sock_fprog *ret_prog)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	_cleanup_close_ int memfd = -1;
	struct stat st;
	int r;

	if (!ctx)
		return -ENOMEM;
	/* The native ABI is added by seccomp_init; the host names the others its kernel runs. */
	for (const uint32_t *a = host_filter_arches(); *a; a++) {
		r = seccomp_arch_add(ctx, *a);
		if (r < 0 && r != -EEXIST)
			goto out;
	}
	r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(execve), 0);
	if (r < 0)
		goto out;
	r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(execveat), 0);
	if (r < 0)
		goto out;
	/*
	 * The calls that give a task another root: rare, so trapping them is free, and it lets
	 * the supervisor keep one root per listener until the first of them (notif_changes_root).
	 */
	static const char *const root_changers[] = { "chroot", "pivot_root", "setns" };
	for (size_t i = 0; i < ARRAY_SIZE(root_changers); i++) {
		r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, seccomp_syscall_resolve_name(root_changers[i]), 0);
		if (r < 0)
			goto out;
	}

	memfd = memfd_create("ubinfmt-bpf", MFD_CLOEXEC);
	if (memfd < 0) {
		r = negative_errno();
		goto out;
	}
	r = seccomp_export_bpf(ctx, memfd);
	if (r < 0)
		goto out;
	if (fstat(memfd, &st) < 0) {
		r = negative_errno();
		goto out;
	}
	if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
	    st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS) {
		r = -EPROTO;
		goto out;
	}
	struct sock_filter *insns = malloc((size_t)st.st_size);
	if (!insns) {
		r = -ENOMEM;
		goto out;
	}
	if (pread(memfd, insns, (size_t)st.st_size, 0) != st.st_size) {
		free(insns);
		r = -EIO;
		goto out;
	}
	ret_prog->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
	ret_prog->filter = insns;
	r = 0;
out:
	seccomp_release(ctx);
	return r;
}

int notif_install_filter(void)
{
	struct sock_fprog prog;
	unsigned long flags = SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	int r, fd;

	r = export_filter(&prog);
	if (r < 0)
		return r;
	fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (fd < 0 && errno == EINVAL) {
		/* Kernels before 5.19 lack WAIT_KILLABLE_RECV: still correct, only slower under signals. */
		flags &= ~(unsigned long)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
		fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	}
	r = fd < 0 ? negative_errno() : fd;
	free(prog.filter);
	if (r < 0)
		return r;
	/* The listener is created with O_CLOEXEC by the kernel; keep it that way explicitly. */
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

int notif_bufs_alloc(struct notif_bufs *ret)
{
	struct notif_bufs b = { 0 };

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &b.sizes) < 0)
		return negative_errno();
	b.req = calloc(1, MAX(b.sizes.seccomp_notif, sizeof(struct seccomp_notif)));
	b.resp = calloc(1, MAX(b.sizes.seccomp_notif_resp, sizeof(struct seccomp_notif_resp)));
	if (!b.req || !b.resp) {
		notif_bufs_free(&b);
		return -ENOMEM;
	}
	*ret = b;
	return 0;
}

void notif_bufs_free(struct notif_bufs *bufs)
{
	free(bufs->req);
	free(bufs->resp);
	bufs->req = NULL;
	bufs->resp = NULL;
}

int notif_recv(int listener, struct notif_bufs *bufs)
{
	memset(bufs->req, 0, bufs->sizes.seccomp_notif);
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, bufs->req) < 0)
		return negative_errno();
	return 0;
}

static int send_resp(int listener, struct notif_bufs *bufs)
{
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, bufs->resp) < 0)
		return negative_errno();
	return 0;
}

int notif_send_continue(int listener, struct notif_bufs *bufs, uint64_t id)
{
	memset(bufs->resp, 0, bufs->sizes.seccomp_notif_resp);
	bufs->resp->id = id;
	bufs->resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	return send_resp(listener, bufs);
}

int notif_send_result(int listener, struct notif_bufs *bufs, uint64_t id, int err, int64_t val)
{
	memset(bufs->resp, 0, bufs->sizes.seccomp_notif_resp);
	bufs->resp->id = id;
	bufs->resp->error = err ? -err : 0;
	bufs->resp->val = err ? 0 : val;
	return send_resp(listener, bufs);
}

int notif_addfd(int listener, uint64_t id, int fd, bool cloexec)
{
	struct seccomp_notif_addfd addfd = {
		.id = id,
		.srcfd = (uint32_t)fd,
		.newfd_flags = cloexec ? O_CLOEXEC : 0,
	};
	int r = ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);

	return r < 0 ? negative_errno() : r;
}

int notif_set_sync_wakeup(int listener)
{
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, (uint64_t)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0)
		return negative_errno();
	return 0;
}

int notif_id_valid(int listener, uint64_t id)
{
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0)
		return negative_errno();
	return 0;
}

int notif_decode_exec(const struct seccomp_data *data, struct exec_call *ret)
{
	struct exec_call c = { .dirfd = AT_FDCWD };
	int nr = data->nr;
	int base = 0;

	switch (data->arch) {
	case AUDIT_ARCH_X86_64:
		if ((uint32_t)nr & X32_SYSCALL_BIT) {
			c.abi = EXEC_ABI_X32;
			c.ptr_size = 4;
			nr = (int)((uint32_t)nr & ~X32_SYSCALL_BIT);
			if (nr == NR_X32_EXECVE || nr == NR_X86_64_EXECVE)
				break;
			if (nr == NR_X32_EXECVEAT || nr == NR_X86_64_EXECVEAT) {
				c.is_execveat = true;
				break;
			}
			return -EINVAL;
		}
		c.abi = EXEC_ABI_X86_64;
		c.ptr_size = 8;
		if (nr == NR_X86_64_EXECVEAT)
			c.is_execveat = true;
		else if (nr != NR_X86_64_EXECVE)
			return -EINVAL;
		break;
	case AUDIT_ARCH_I386:
		c.abi = EXEC_ABI_I386;
		c.ptr_size = 4;
		if (nr == NR_I386_EXECVEAT)
			c.is_execveat = true;
		else if (nr != NR_I386_EXECVE)
			return -EINVAL;
		break;
	case AUDIT_ARCH_AARCH64:
		c.abi = EXEC_ABI_AARCH64;
		c.ptr_size = 8;
		if (nr == NR_AARCH64_EXECVEAT)
			c.is_execveat = true;
		else if (nr != NR_AARCH64_EXECVE)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}

	if (c.is_execveat) {
		c.dirfd = (int)(int32_t)data->args[0];
		base = 1;
		c.flags = (int)(int32_t)data->args[4];
	}
	uint64_t mask = c.ptr_size == 4 ? UINT32_MAX : UINT64_MAX;
	c.path = data->args[base] & mask;
	c.argv = data->args[base + 1] & mask;
	c.envp = data->args[base + 2] & mask;
	*ret = c;
	return 0;
}

bool notif_changes_root(const struct seccomp_data *data)
{
	int nr = data->nr;

	switch (data->arch) {
	case AUDIT_ARCH_X86_64:
		nr = (int)((uint32_t)nr & ~X32_SYSCALL_BIT);
		return nr == NR_X86_64_CHROOT || nr == NR_X86_64_PIVOT_ROOT || nr == NR_X86_64_SETNS;
	case AUDIT_ARCH_I386:
		return nr == NR_I386_CHROOT || nr == NR_I386_PIVOT_ROOT || nr == NR_I386_SETNS;
	case AUDIT_ARCH_AARCH64:
		return nr == NR_AARCH64_CHROOT || nr == NR_AARCH64_PIVOT_ROOT || nr == NR_AARCH64_SETNS;
	default:
		return false;
	}
}

int exec_abi_execveat_nr(enum exec_abi abi)
{
	switch (abi) {
	case EXEC_ABI_X86_64:
		return NR_X86_64_EXECVEAT;
	case EXEC_ABI_I386:
		return NR_I386_EXECVEAT;
	case EXEC_ABI_X32:
		return (int)(NR_X32_EXECVEAT | X32_SYSCALL_BIT);
	case EXEC_ABI_AARCH64:
		return NR_AARCH64_EXECVEAT;
	case EXEC_ABI_NONE:
	case EXEC_ABI_MAX:
		break;
	}
	return -EINVAL;
}

int exec_abi_mmap_nr(enum exec_abi abi)
{
	switch (abi) {
	case EXEC_ABI_X86_64:
		return NR_X86_64_MMAP;
	case EXEC_ABI_I386:
		return NR_I386_MMAP2;
	case EXEC_ABI_X32:
		return (int)(NR_X86_64_MMAP | X32_SYSCALL_BIT);
	case EXEC_ABI_AARCH64:
		return NR_AARCH64_MMAP;
	case EXEC_ABI_NONE:
	case EXEC_ABI_MAX:
		break;
	}
	return -EINVAL;
}

bool notif_is_listener(int fd)
{
	char path[64], target[64];
	ssize_t n;

	/* The kernel names every listener's anonymous inode so; nothing else has that name. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target, "anon_inode:seccomp notify") == 0;
}
