/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef UBINFMT_SETUP_EDIT_H
#define UBINFMT_SETUP_EDIT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The edits `ubinfmt setup` makes to an engine's configuration, as pure functions of the
 * file's bytes: no file system, no globals, so that cmocka drives them (test_setup_edit).
 * The command (setup.c) reads, saves, writes and undoes; these only decide the new bytes.
 *
 * Each takes the current content (NULL when the file does not exist) and fills a setup_edit:
 * the new content (NULL: the file should not exist), whether it differs from the current one,
 * and one line per change for the user.  They return 0, -EINVAL when the file cannot be edited
 * (not JSON, a runtime "ubinfmt" that someone else defined…; `why` says it, naming the file's
 * line where there is one) or -ENOMEM.
 */

#define SETUP_NOTES_MAX 4
#define SETUP_NOTE_LEN 256
/* Configuration files are small; anything larger is refused before it is parsed. */
#define SETUP_FILE_MAX (4u << 20)

struct setup_edit {
	char *text; /* malloc'd, NUL-terminated; NULL: no file */
	size_t len;
	bool changed;
	size_t n_notes;
	char notes[SETUP_NOTES_MAX][SETUP_NOTE_LEN];
	char why[SETUP_NOTE_LEN];
};

/* Frees the text and empties the edit (safe on a zeroed one). */
void setup_edit_clear(struct setup_edit *e);

/*
 * A path may go into JSON, TOML and systemd's Environment= as it is: absolute, and without
 * quotes, backslashes, blanks or control characters.
 */
bool setup_path_ok(const char *path);

/*
 * Docker's /etc/docker/daemon.json: the runtime "ubinfmt" with `path` RUNTIME in "runtimes";
 * with make_default, "default-runtime": "ubinfmt", without it a "default-runtime" of "ubinfmt"
 * is taken out (each call gives the state its options ask for).  Every other key and its
 * order stay; an unchanged file keeps its bytes.
 */
int setup_docker_apply(const char *cur, size_t len, const char *runtime, bool make_default, struct setup_edit *ret);
/* Takes out what setup_docker_apply put in (for a file changed since: its other keys stay). */
int setup_docker_revert(const char *cur, size_t len, struct setup_edit *ret);

/*
 * The systemd drop-in for docker.service that makes BuildKit inside dockerd run the shim:
 * RUNC_DIR (which holds ubinfmt-runtime under the name runc) first on dockerd's PATH, and
 * DOCKER_BUILDKIT_RUNC_COMMAND for the Docker releases that read it.
 */
int setup_docker_dropin(const char *runc_dir, struct setup_edit *ret);

/* podman's containers.conf.d drop-in: the runtime "ubinfmt", and with make_default the default. */
int setup_podman_dropin(const char *runtime, bool make_default, struct setup_edit *ret);

/*
 * containerd's config.toml: a block, between "# BEGIN ubinfmt setup" and "# END ubinfmt setup"
 * lines, that defines the CRI runtime handler "ubinfmt" (runc's shim v2 running RUNTIME as its
 * runc), under the CRI plugin's name for the file's config version (1: plugins.cri, 2:
 * plugins."io.containerd.grpc.v1.cri", 3: plugins."io.containerd.cri.v1.runtime"), with
 * SystemdCgroup = true when the file's runc handler has it (the kubelet's cgroup driver must be
 * the same for every handler), and the runc handler as containerd has it built in when the
 * file does not name it (containerd takes a file's handlers instead of its built-in ones, so
 * runc would be gone).  An absent or empty file gets "version = 2" first.  A handler
 * named ubinfmt outside the block is refused.  The rest of the file stays byte for byte.
 */
int setup_containerd_apply(const char *cur, size_t len, const char *runtime, struct setup_edit *ret);
/* Takes the block (and the blank line setup put before it) out again. */
int setup_containerd_revert(const char *cur, size_t len, struct setup_edit *ret);

#endif
