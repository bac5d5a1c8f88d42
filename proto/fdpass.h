/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_FDPASS_H
#define UBINFMT_FDPASS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* From <sys/socket.h> with _GNU_SOURCE. */
struct ucred;

/* Most fds that one message carries or that proto_recv accepts. */
#define PROTO_MAX_FDS 4

/*
 * Sends one message (one SOCK_SEQPACKET datagram) with n_fds fds as SCM_RIGHTS.  Never raises
 * SIGPIPE (MSG_NOSIGNAL).  Returns 0, -EINVAL (more than PROTO_MAX_FDS fds), -EMSGSIZE (len over
 * PROTO_MAX_MSG), or sendmsg's -errno: -EAGAIN on a full non-blocking socket, -EPIPE when the
 * peer is gone.  Retries EINTR.
 */
int proto_send(int sock, const uint8_t *msg, size_t len, const int *fds, size_t n_fds);

/*
 * Receives one datagram into buf (size bytes; PROTO_MAX_MSG holds any message) and at most
 * max_fds fds into fds, close-on-exec.  Returns its length (0: the peer closed the connection) and
 * sets *ret_n_fds; fds and ret_n_fds are written only on success.  On any error every fd that did
 * arrive is closed again: -EMSGSIZE (datagram longer than size), -EPROTO (more fds than max_fds),
 * -EMFILE (fds lost to RLIMIT_NOFILE), or recvmsg's -errno (-EAGAIN on an empty non-blocking
 * socket).  Retries EINTR.  The bytes are still to be decoded (proto_decode).
 */
int proto_recv(int sock, uint8_t *buf, size_t size, int *fds, size_t max_fds, size_t *ret_n_fds);

/* Most fds fdpass_recvmsg takes in one message (its control buffer's room). */
#define FDPASS_MAX_FDS 8

/* What fdpass_recvmsg saw besides the bytes. */
struct fdpass_got {
	size_t n_fds;	 /* fds stored in fds[] */
	size_t arrived;	 /* fds that came, stored or closed at once (those beyond max_fds) */
	bool truncated;	 /* MSG_TRUNC: a datagram longer than size (its rest is gone) */
	bool ctruncated; /* MSG_CTRUNC: fds the kernel did not hand over (no room, RLIMIT_NOFILE) */
};

/*
 * The one recvmsg with SCM_RIGHTS of the project, for datagram and stream sockets: at most size
 * bytes into buf; flags (MSG_DONTWAIT…) get MSG_CMSG_CLOEXEC added, so fds are close-on-exec
 * from the moment they exist.  The fds that come along go into fds[] in order, at most max_fds
 * (≤ FDPASS_MAX_FDS); any beyond are closed at once, never leaked.  Retries EINTR.  Returns the
 * byte count (0: the peer closed the connection) or recvmsg's -errno, and fills *ret; what the
 * caller makes of truncation and extra fds is its own protocol's rule (proto_recv).
 */
ssize_t fdpass_recvmsg(int sock, void *buf, size_t size, int flags, int *fds, size_t max_fds, struct fdpass_got *ret);

struct proto_msg;
/* Encodes m and sends it with n_fds fds: proto_encode's and proto_send's errors. */
int proto_send_msg(int sock, const struct proto_msg *m, const int *fds, size_t n_fds);

/* The peer's pid, uid and gid as of connect() or socketpair() (SO_PEERCRED). */
int proto_peer_cred(int sock, struct ucred *ret);

/* Closes fds[0..n) and sets each to -1: for fds a message did not call for. */
void proto_close_fds(int *fds, size_t n);

#endif
