/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_NOTIF_H
#define UBINFMT_NOTIF_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/seccomp.h>

/*
 * The seccomp user-notification side: the filter that traps execve/execveat on every syscall
 * ABI of the host, and thin wrappers over the listener ioctls.  -ENOENT from recv, send, addfd
 * or id_valid means the target is gone or was interrupted: callers treat it as routine.
 */

struct notif_bufs {
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	struct seccomp_notif_sizes sizes;
};

/*
 * Installs the exec-trapping filter on the calling thread (inherited by its children) and
 * returns the listener fd (CLOEXEC).  Needs CAP_SYS_ADMIN in the caller's user namespace or
 * no_new_privs; -EBUSY when a listener already exists in the task's filter chain.
 */
int notif_install_filter(void);

/* Allocates request/response buffers with the kernel's sizes (SECCOMP_GET_NOTIF_SIZES). */
int notif_bufs_alloc(struct notif_bufs *ret);
void notif_bufs_free(struct notif_bufs *bufs);

/* Zeroes the request and receives one notification; blocks if none is pending (poll first). */
int notif_recv(int listener, struct notif_bufs *bufs);
/* Lets the trapped syscall run as the caller made it. */
int notif_send_continue(int listener, struct notif_bufs *bufs, uint64_t id);
/* Fails the trapped syscall with -err (err > 0), or returns val when err is 0. */
int notif_send_result(int listener, struct notif_bufs *bufs, uint64_t id, int err, int64_t val);
/* Installs fd in the target as its lowest free fd; returns the target's fd number. */
int notif_addfd(int listener, uint64_t id, int fd, bool cloexec);
/*
 * Asks the kernel to wake the supervisor on the trapped task's CPU and switch to it at once
 * (Linux ≥ 6.6): less latency per exec, and a shorter window in which a signal can interrupt
 * a notification not yet received (which makes execve fail with EINTR).  -EINVAL before 6.6.
 */
int notif_set_sync_wakeup(int listener);
/* 0 while the notification is still pending, -ENOENT once the target left the syscall. */
int notif_id_valid(int listener, uint64_t id);
/* Whether fd is a seccomp listener, and not some other file a client sent in its place. */
bool notif_is_listener(int fd);

/* Audit arch and syscall numbers the filter traps, for decoding seccomp_data. */
enum exec_abi {
	EXEC_ABI_NONE,
	EXEC_ABI_X86_64,
	EXEC_ABI_I386,
	EXEC_ABI_X32,
	EXEC_ABI_AARCH64,
	EXEC_ABI_MAX,
};

struct exec_call {
	enum exec_abi abi;
	bool is_execveat;
	int dirfd;     /* AT_FDCWD for execve */
	uint64_t path; /* target addresses */
	uint64_t argv;
	uint64_t envp;
	int flags;	   /* execveat flags, 0 for execve */
	unsigned ptr_size; /* 8, or 4 for i386 and x32 */
};

/* Pure: decodes an execve/execveat notification's seccomp_data; -EINVAL for anything else. */
int notif_decode_exec(const struct seccomp_data *data, struct exec_call *ret);

/* Pure: whether a notification is one of the root-changing calls the filter also traps. */
bool notif_changes_root(const struct seccomp_data *data);

/* Syscall numbers for the rewrite, per ABI. */
int exec_abi_execveat_nr(enum exec_abi abi);
int exec_abi_mmap_nr(enum exec_abi abi);

#endif
