/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fdpass.h"
#include "macros.h"
#include "proto.h"

/* Room for PROTO_MAX_FDS fds, aligned for struct cmsghdr. */
union cmsg_buf {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(int) * PROTO_MAX_FDS)];
};

int proto_send(int sock, const uint8_t *msg, size_t len, const int *fds, size_t n_fds)
{
	union cmsg_buf control;
	/* sendmsg does not write through iov_base; the cast only drops const. */
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (n_fds > PROTO_MAX_FDS)
		return -EINVAL;
	if (len > PROTO_MAX_MSG)
		return -EMSGSIZE;
	if (n_fds > 0) {
		struct cmsghdr *c;

		memset(&control, 0, sizeof(control));
		mh.msg_control = control.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return negative_errno();
	/* A SOCK_SEQPACKET datagram goes whole or not at all: a short send means another socket type. */
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

ssize_t fdpass_recvmsg(int sock, void *buf, size_t size, int flags, int *fds, size_t max_fds, struct fdpass_got *ret)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * FDPASS_MAX_FDS)];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr mh;
	ssize_t n;

	*ret = (struct fdpass_got){ 0 };
	do {
		mh = (struct msghdr){
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = control.buf,
			.msg_controllen = sizeof(control.buf),
		};
		n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return negative_errno();
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		/* Other control messages (SCM_CREDENTIALS with SO_PASSCRED) hold no fds: skipped. */
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(0))
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			ret->arrived++;
			if (ret->n_fds < MIN(max_fds, (size_t)FDPASS_MAX_FDS))
				fds[ret->n_fds++] = fd;
			else
				(void)close(fd);
		}
	}
	ret->truncated = mh.msg_flags & MSG_TRUNC;
	ret->ctruncated = mh.msg_flags & MSG_CTRUNC;
	return n;
}

/*
 * Trusts nothing the peer sends: the datagram may be longer than buf, carry more fds than the
 * caller expects, or arrive with its control data cut short.  The fds that did arrive are either
 * all handed to the caller or all closed, so that a hostile peer cannot leak fds into this
 * process, and they are close-on-exec from the moment they exist (MSG_CMSG_CLOEXEC).  The bytes
 * themselves are only copied: proto_decode checks them.
 */
int proto_recv(int sock, uint8_t *buf, size_t size, int *fds, size_t max_fds, size_t *ret_n_fds)
{
	int got[PROTO_MAX_FDS];
	struct fdpass_got g;
	ssize_t n;
	int err = 0;

	n = fdpass_recvmsg(sock, buf, MIN(size, (size_t)INT_MAX), 0, got, PROTO_MAX_FDS, &g);
	if (n < 0)
		return (int)n;
	if (g.truncated)
		err = -EMSGSIZE;
	else if (g.ctruncated)
		/*
		 * The kernel also truncates when it cannot install an fd (RLIMIT_NOFILE): with room
		 * left in the buffer, that is the reason, not a peer sending too many.
		 */
		err = g.arrived < FDPASS_MAX_FDS ? -EMFILE : -EPROTO;
	else if (g.arrived > max_fds)
		err = -EPROTO;
	if (err < 0) {
		proto_close_fds(got, g.n_fds);
		return err;
	}
	if (g.n_fds > 0)
		memcpy(fds, got, g.n_fds * sizeof(int));
	if (ret_n_fds)
		*ret_n_fds = g.n_fds;
	return (int)n;
}

/*
 * The kernel's word, recorded at connect() or socketpair(): trusted, but the pid may have exited
 * and been reused since.  Good for logs and for mapping a connection to a sandbox; anything that
 * acts on the process should hold a pidfd instead.
 */
int proto_peer_cred(int sock, struct ucred *ret)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return negative_errno();
	if (len != sizeof(cred))
		return -EIO;
	*ret = cred;
	return 0;
}

void proto_close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (fds[i] >= 0)
			(void)close(fds[i]);
		fds[i] = -1;
	}
}

int proto_send_msg(int sock, const struct proto_msg *m, const int *fds, size_t n_fds)
{
	uint8_t buf[PROTO_MAX_MSG];
	int n = proto_encode(m, buf, sizeof(buf));

	if (n < 0)
		return n;
	return proto_send(sock, buf, (size_t)n, fds, n_fds);
}
