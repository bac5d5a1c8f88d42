/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdpass.h"
#include "macros.h"
#include "peer.h"
#include "procfs.h"
#include "procstatus.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 /* Linux 6.5 */
#endif

uint64_t peer_ns_inode(pid_t pid, const char *name)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, name);
	return stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

bool peer_pidfd_exited(int pidfd)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

	if (pidfd < 0)
		return true;
	/* A pidfd polls readable once its process has exited. */
	return poll(&pfd, 1, 0) != 0;
}

/* The pidfd of the process that connected: SO_PEERPIDFD where the kernel has it, else by pid. */
static int open_peer_pidfd(int sock, pid_t pid)
{
	int fd = -1;
	socklen_t len = sizeof(fd);

	if (getsockopt(sock, SOL_SOCKET, SO_PEERPIDFD, &fd, &len) == 0 && fd >= 0) {
		/* Older kernels do not set close-on-exec on it. */
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		return fd;
	}
	if (pid <= 0)
		return -1;
	/* Before 6.5: the pid may already name another process; peer_identify checks after reading. */
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	return fd < 0 ? -1 : fd;
}

/* Whether the effective capability set in /proc/PID/status holds CAP_SYS_ADMIN. */
static bool has_cap_sys_admin(pid_t pid)
{
	_cleanup_free_ char *status = NULL;
	uint64_t caps;
	int n = procfs_read_all(pid, "status", 1 << 20, &status);

	return n >= 0 && procstatus_caps(status, (size_t)n, "CapEff", &caps) == 0 &&
	       (caps & (UINT64_C(1) << CAP_SYS_ADMIN));
}

/*
 * Trusts the kernel only: SO_PEERCRED's uid and pid are mapped into our namespaces, and the
 * namespaces and capabilities read from /proc/PID are used only when the pidfd taken at connect
 * time shows that process still alive afterwards (so PID was not reused meanwhile).  A peer that
 * is already gone keeps its uid and nothing else: no pid namespace, never privileged.
 */
int peer_identify(int sock, struct peer *ret)
{
	struct ucred cred = { 0 };
	struct peer p = { 0 };
	_cleanup_close_ int pidfd = -1;
	int r;

	r = proto_peer_cred(sock, &cred);
	if (r < 0)
		return r;
	p.pid = cred.pid;
	p.uid = cred.uid;
	p.gid = cred.gid;
	pidfd = open_peer_pidfd(sock, cred.pid);
	if (p.pid > 0 && pidfd >= 0) {
		uint64_t our_userns = peer_ns_inode(getpid(), "user");
		uint64_t userns = peer_ns_inode(p.pid, "user");
		bool admin = p.uid == 0 && has_cap_sys_admin(p.pid);

		p.pidns = peer_ns_inode(p.pid, "pid");
		if (peer_pidfd_exited(pidfd)) {
			p.pidns = 0;
		} else {
			p.same_userns = userns != 0 && userns == our_userns;
			p.privileged = p.same_userns && admin;
		}
	}
	if (p.pidns == 0)
		p.pid = 0;
	*ret = p;
	return 0;
}
