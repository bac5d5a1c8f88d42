/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_OCI_FRONT_H
#define UBINFMT_OCI_FRONT_H

/*
 * The front end of the OCI seccomp-agent socket (runc, crun: one JSON state and one listener fd
 * per connection), as the daemon (main.c) sees it.
 */

struct daemon;
struct oci_front;

/* Serves listen_fd (borrowed: it outlives the front end) on the daemon's loop. */
int oci_front_new(struct daemon *d, int listen_fd, struct oci_front **ret);
/*
 * Closes every runtime's connection and stops watching the socket.  For shutdown, once the loop
 * has stopped (as clients_free).  Accepts NULL; returns NULL.
 */
struct oci_front *oci_front_free(struct oci_front *f);
/* Cuts off runtimes that connected and never finished (their listener, if any, served first). */
void oci_front_tick(struct oci_front *f);

#endif
