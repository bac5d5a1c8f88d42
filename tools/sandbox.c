/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdpass.h"
#include "log.h"
#include "macros.h"
#include "notif.h"
#include "sandbox.h"

/* Messages on the socketpair, besides the listener itself. */
#define MSG_IDMAPS_DONE 'm'

/* The listener travels as the one fd of a one-byte message 'L' (proto/fdpass.c). */
#define MSG_LISTENER 'L'

static int send_fd(int sock, int fd)
{
	const uint8_t byte = MSG_LISTENER;

	return proto_send(sock, &byte, 1, &fd, 1);
}

int sandbox_recv_listener(int sock)
{
	uint8_t byte;
	size_t n_fds = 0;
	int fd = -1, n;

	n = proto_recv(sock, &byte, 1, &fd, 1, &n_fds);
	if (n < 0)
		return n;
	if (n == 0)
		return -EPIPE; /* the sandbox exited before handing over its listener */
	if (byte != MSG_LISTENER || n_fds != 1) {
		proto_close_fds(&fd, n_fds);
		return -EPROTO;
	}
	return fd;
}

/* "inside outside count" per extent, newuidmap's arguments after the pid. */
#define ID_ARG_LEN 11

/*
 * What it trusts: HELPER is the newuidmap/newgidmap found on our own PATH (it runs with the
 * caller's privileges plus its setuid bit, which is its own business: it checks /etc/subuid
 * against the caller itself).  What it checks: its exit status, nothing of its output.
 */
int sandbox_map_with_helper(const char *helper, pid_t pid, const struct idmap *map, const sigset_t *mask)
{
	size_t n_args = 2 + 3 * map->n + 1;
	_cleanup_free_ char **argv = calloc(n_args, sizeof(*argv));
	_cleanup_free_ char *strs = calloc(1 + 3 * map->n, ID_ARG_LEN);
	posix_spawnattr_t attr;
	const char *name = strrchr(helper, '/');
	pid_t child;
	int status, r;

	if (!argv || !strs)
		return -ENOMEM;
	argv[0] = (char *)(name ? name + 1 : helper);
	argv[1] = strs;
	snprintf(argv[1], ID_ARG_LEN, "%d", (int)pid);
	for (size_t i = 0; i < map->n; i++) {
		const uint32_t v[3] = { map->ext[i].inside, map->ext[i].outside, map->ext[i].count };
		for (size_t j = 0; j < 3; j++) {
			char *a = strs + (1 + 3 * i + j) * ID_ARG_LEN;
			snprintf(a, ID_ARG_LEN, "%" PRIu32, v[j]);
			argv[2 + 3 * i + j] = a;
		}
	}

	r = -posix_spawnattr_init(&attr);
	if (r < 0)
		return r;
	r = -posix_spawnattr_setsigmask(&attr, mask);
	if (r == 0)
		r = -posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	if (r == 0)
		r = -posix_spawn(&child, helper, NULL, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	if (r < 0)
		return r;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return negative_errno();
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EPERM;
}

static int write_file(const char *path, const char *text)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(text);

	if (fd < 0)
		return negative_errno();
	if (write(fd, text, len) != (ssize_t)len)
		return negative_errno();
	return 0;
}

static int write_map(pid_t pid, const char *file, const struct idmap *map)
{
	char path[64], text[IDMAP_TEXT_MAX];
	int r;

	r = idmap_format(map, text, sizeof(text));
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	return write_file(path, text);
}

int sandbox_map_own_ids(pid_t pid, const struct idmap *uids, const struct idmap *gids)
{
	char path[64];
	int r;

	/* An unprivileged gid_map is only accepted once setgroups is denied. */
	snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
	r = write_file(path, "deny");
	if (r < 0 && r != -ENOENT)
		return r;
	r = write_map(pid, "uid_map", uids);
	if (r < 0)
		return r;
	return write_map(pid, "gid_map", gids);
}

/*
 * What it trusts: the namespace is the one our own child created (it waits for us, so the pid
 * is still its).  What it checks: nothing else.
 */
int sandbox_join_userns(pid_t pid)
{
	char path[64];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	/*
	 * As the namespace's owner we get all of its capabilities, and nothing outside it: what
	 * the sandbox's own root has.  Reading /proc of a task that runs as a subordinate id (0400
	 * files such as syscall) and ptracing it need them; from outside, only its owner could.
	 */
	if (setns(fd, CLONE_NEWUSER) < 0)
		return negative_errno();
	/*
	 * In one namespace with the sandbox, its root could ptrace us (same ids, a subset of its
	 * capabilities), which across the namespace boundary it could not: not dumpable, we need
	 * CAP_SYS_PTRACE over the namespace of our mm, the host's.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return negative_errno();
	return 0;
}

/* ---- inside the sandbox: everything below runs in the child and ends in _exit ------------- */

_noreturn_ static void die_errno(int r, const char *what, const char *arg)
{
	log_error_errno(r, "%s '%s': %m", what, arg);
	_exit(125);
}

static void mount_or_die(const char *src, const char *dst, const char *type, unsigned long flags, const char *data)
{
	if (mount(src, dst, type, flags, data) < 0)
		die_errno(negative_errno(), type ? "cannot mount" : "cannot bind-mount", dst);
}

/* Creates DIR/name if missing (a mount point): nothing else in the rootfs is touched. */
static void ensure_dir(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die_errno(negative_errno(), "cannot create mount point", path);
}

static void make_dev(void)
{
	static const char *const devices[] = { "null", "zero", "full", "random", "urandom", "tty" };
	/* clang-format off */
	static const char *const links[][2] = {
		{ "fd", "/proc/self/fd" },
		{ "stdin", "/proc/self/fd/0" },
		{ "stdout", "/proc/self/fd/1" },
		{ "stderr", "/proc/self/fd/2" },
		{ "ptmx", "pts/ptmx" },
	};
	/* clang-format on */
	char path[64];

	mount_or_die("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_STRICTATIME, "mode=0755,size=64k");
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
		char host[64];
		snprintf(path, sizeof(path), "dev/%s", devices[i]);
		snprintf(host, sizeof(host), "/dev/%s", devices[i]);
		/* Bind mounts of the host's nodes work in a user namespace, unlike mknod. */
		int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
		if (fd < 0)
			die_errno(negative_errno(), "cannot create", path);
		close(fd);
		if (mount(host, path, NULL, MS_BIND, NULL) < 0)
			log_debug_errno(negative_errno(), "no %s in the sandbox: %m", host);
	}
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		snprintf(path, sizeof(path), "dev/%s", links[i][0]);
		if (symlink(links[i][1], path) < 0)
			die_errno(negative_errno(), "cannot create", path);
	}
	ensure_dir("dev/pts");
	ensure_dir("dev/shm");
	if (mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620") < 0)
		log_debug_errno(negative_errno(), "no devpts in the sandbox: %m");
	mount_or_die("tmpfs", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
}

/* Mounts the sandbox's filesystem and makes rootfs its root (we are in new mount+pid ns). */
static void enter_rootfs(const char *rootfs)
{
	mount_or_die(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	mount_or_die(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL);
	if (chdir(rootfs) < 0)
		die_errno(negative_errno(), "cannot enter", rootfs);
	ensure_dir("proc");
	ensure_dir("dev");
	ensure_dir("tmp");
	mount_or_die("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	make_dev();
	mount_or_die("tmpfs", "tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	/* pivot_root(".", ".") stacks the old root under the new one; detach it at once. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		die_errno(negative_errno(), "cannot make the root", rootfs);
	if (umount2(".", MNT_DETACH) < 0)
		die_errno(negative_errno(), "cannot detach the old root from", rootfs);
	if (chdir("/") < 0)
		die_errno(negative_errno(), "cannot enter", "/");
}

/* Installs the filter, hands the listener over and becomes CMD. */
_noreturn_ static void exec_cmd(const struct sandbox_spec *spec)
{
	int listener, r;

	if (spec->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die_errno(negative_errno(), "cannot set", "no_new_privs");
	listener = notif_install_filter();
	if (listener == -EBUSY) {
		log_error("cannot install the exec filter: this process already has a seccomp listener in its "
			  "filter chain (nested under LXD, Sysbox or another ubinfmt?); run ubinfmt outside it");
		_exit(125);
	}
	if (listener < 0)
		die_errno(listener, "cannot install the exec filter for", spec->argv[0]);
	r = send_fd(spec->sock, listener);
	if (r < 0)
		die_errno(r, "cannot hand the listener to the supervisor for", spec->argv[0]);
	close(listener);
	close(spec->sock);
	sigprocmask(SIG_SETMASK, &spec->orig_mask, NULL);
	execvp(spec->argv[0], spec->argv);
	r = negative_errno();
	log_error_errno(r, "cannot run '%s': %m", spec->argv[0]);
	_exit(r == -ENOENT ? 127 : 126);
}

/*
 * PID 1 of the sandbox's pid namespace: forwards signals to CMD, reaps every orphan, and
 * exits with CMD's status (128+N when CMD dies of signal N: an init cannot re-raise it).
 */
_noreturn_ static void run_init(const struct sandbox_spec *spec)
{
	sigset_t all;
	pid_t cmd;

	cmd = fork();
	if (cmd < 0)
		die_errno(negative_errno(), "cannot fork", spec->argv[0]);
	if (cmd == 0)
		exec_cmd(spec);
	close(spec->sock);

	sigfillset(&all);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			if (kill(cmd, sig) < 0 && errno != ESRCH)
				log_warn_errno(negative_errno(), "cannot forward signal %d: %m", sig);
			continue;
		}
		for (;;) {
			int status;
			pid_t pid = waitpid(-1, &status, WNOHANG);
			if (pid <= 0)
				break;
			if (pid != cmd)
				continue;
			if (WIFEXITED(status))
				_exit(WEXITSTATUS(status));
			if (WIFSIGNALED(status))
				_exit(128 + WTERMSIG(status));
		}
	}
}

static int wait_for_idmaps(int sock)
{
	char byte;
	ssize_t n;

	do
		n = read(sock, &byte, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1 || byte != MSG_IDMAPS_DONE)
		return -EPIPE;
	return 0;
}

pid_t sandbox_start(const struct sandbox_spec *spec)
{
	struct clone_args args = { .exit_signal = SIGCHLD };
	pid_t pid;

	if (spec->rootfs)
		args.flags = CLONE_NEWNS | CLONE_NEWPID;
	if (spec->userns)
		args.flags |= CLONE_NEWUSER;
	pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0)
		return negative_errno();
	if (pid > 0)
		return pid;

	/* The child. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		_exit(125);
	/*
	 * Until the parent has written our maps we are nobody to the kernel; after, we hold every
	 * capability of the new namespace (whatever our id there): enough to install the filter
	 * without no_new_privs, and to mount the rootfs.
	 */
	if (spec->userns && wait_for_idmaps(spec->sock) < 0)
		_exit(125);
	if (!spec->rootfs)
		exec_cmd(spec);
	enter_rootfs(spec->rootfs);
	run_init(spec);
}

int sandbox_signal_idmaps_done(int sock)
{
	char byte = MSG_IDMAPS_DONE;

	return write(sock, &byte, 1) == 1 ? 0 : negative_errno();
}
