/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `ubinfmt setup docker|podman|containerd [--undo] [--dry-run] [--default] [--root DIR]
 * [--runtime-path PATH]`: puts ubinfmt-runtime into an engine's configuration, says what it
 * changed and how to undo it, and undoes it.
 *
 * Each engine has a few files (roles).  Before its first change to one, setup saves the file
 * as it was (or that it did not exist) under ROOT/var/lib/ubinfmt/setup/ENGINE/, with a copy
 * of what it wrote.  --undo puts the saved file back byte for byte (mode and owner too) when
 * the file is still what setup wrote; when someone changed it since, it takes out only
 * ubinfmt's entries and leaves the rest as it is now.  Running it again changes nothing.  The
 * edits themselves are pure (setup_edit.c); this file reads, saves, writes and prints.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cliopt.h"
#include "log.h"
#include "macros.h"
#include "setup_edit.h"
#include "setup_files.h"

static const char setup_usage[] =
	"Usage: ubinfmt setup docker|podman|containerd [--undo] [--dry-run] [--default]\n"
	"                     [--root DIR] [--runtime-path PATH]\n"
	"\n"
	"Adds ubinfmt-runtime to an engine's configuration as the runtime \"ubinfmt\", prints what\n"
	"it changed and how to undo it, and saves what it replaced under /var/lib/ubinfmt/setup.\n"
	"  docker      /etc/docker/daemon.json: runtimes.ubinfmt (docker run --runtime ubinfmt);\n"
	"              with --default also default-runtime, and a docker.service drop-in that\n"
	"              puts BuildKit's runc (docker build) through ubinfmt-runtime\n"
	"  podman      /etc/containers/containers.conf.d/ubinfmt.conf: the runtime \"ubinfmt\"\n"
	"              (podman run --runtime ubinfmt); with --default, podman's default runtime\n"
	"  containerd  /etc/containerd/config.toml: the CRI runtime handler \"ubinfmt\" (a\n"
	"              Kubernetes RuntimeClass's handler)\n"
	"\n"
	"  --undo               put the files back as they were before setup (byte for byte when\n"
	"                       nobody changed them since; otherwise only ubinfmt's entries go)\n"
	"  --dry-run            say what would change, change nothing\n"
	"  --default            make ubinfmt the engine's default runtime (docker, podman)\n"
	"  --root DIR           edit the files under DIR instead of / (an image, a node's root)\n"
	"  --runtime-path PATH  ubinfmt-runtime's path in that root (default: beside this ubinfmt)\n"
	"\n"
	"Running it again changes nothing.  The engine reads the change when it restarts (docker,\n"
	"containerd) or at its next command (podman); setup restarts nothing.\n";

enum role_kind {
	ROLE_DOCKER_JSON,
	ROLE_DOCKER_DROPIN,
	ROLE_PODMAN_DROPIN,
	ROLE_CONTAINERD_TOML,
	ROLE_KIND_MAX,
};

struct role {
	enum role_kind kind;
	const char *state; /* its files' stem in the state directory */
	const char *path;  /* in the root */
};

struct engine {
	const char *name;
	struct role roles[2];
	size_t n_roles;
	bool has_default;
};

/* clang-format off */
static const struct engine engines[] = {
	{ "docker",
	  { { ROLE_DOCKER_JSON, "daemon.json", "/etc/docker/daemon.json" },
	    { ROLE_DOCKER_DROPIN, "docker.service.d-ubinfmt.conf", "/etc/systemd/system/docker.service.d/ubinfmt.conf" } },
	  2, true },
	{ "podman",
	  { { ROLE_PODMAN_DROPIN, "containers.conf.d-ubinfmt.conf", "/etc/containers/containers.conf.d/ubinfmt.conf" } },
	  1, true },
	{ "containerd", { { ROLE_CONTAINERD_TOML, "config.toml", "/etc/containerd/config.toml" } }, 1, false },
};
/* clang-format on */

#define STATE_DIR "/var/lib/ubinfmt/setup"

struct setup_ctx {
	const struct engine *engine;
	const char *root; /* "" for / */
	char root_buf[PATH_MAX];
	char runtime[PATH_MAX];
	char runc_dir[PATH_MAX];
	char state_dir[PATH_MAX];
	bool undo, dry_run, make_default;
	bool changed, dropin_changed;
};

/* ---- the state directory ------------------------------------------------------------------- */

static int state_path(const struct setup_ctx *c, const struct role *role, const char *suffix, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s.%s", c->state_dir, role->state, suffix);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int state_read(const struct setup_ctx *c, const struct role *role, const char *suffix, struct blob *ret)
{
	char p[PATH_MAX];
	int r = state_path(c, role, suffix, p, sizeof(p));

	return r < 0 ? r : blob_read(p, ret);
}

/* mkdir -p of the state directory (root only: it holds copies of root's configuration). */
static int state_mkdir(const struct setup_ctx *c)
{
	char buf[PATH_MAX];

	if (setup_join(buf, sizeof(buf), c->state_dir, "", NULL) < 0)
		return -ENAMETOOLONG;
	for (char *p = buf + strlen(c->root) + 1;; p++) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		bool private = strncmp(buf + strlen(c->root), STATE_DIR, strlen(STATE_DIR)) == 0;
		if (mkdir(buf, private ? 0700 : 0755) < 0 && errno != EEXIST)
			return negative_errno();
		if (!slash)
			return 0;
		*slash = '/';
		p = slash;
	}
}

static int state_write(const struct setup_ctx *c, const struct role *role, const char *suffix, const struct blob *b)
{
	char p[PATH_MAX];
	int r = state_path(c, role, suffix, p, sizeof(p));

	if (r >= 0)
		r = state_mkdir(c);
	return r < 0 ? r : blob_write(p, b);
}

static void state_remove(const struct setup_ctx *c, const struct role *role, const char *suffix)
{
	char p[PATH_MAX];

	if (state_path(c, role, suffix, p, sizeof(p)) >= 0)
		(void)unlink(p);
}

/* Removes the state directory and the parents setup made, once they are empty. */
static void state_prune(const struct setup_ctx *c)
{
	char p[PATH_MAX];

	(void)rmdir(c->state_dir);
	if (setup_join(p, sizeof(p), c->root, STATE_DIR, NULL) >= 0)
		(void)rmdir(p);
	if (setup_join(p, sizeof(p), c->root, "/var/lib/ubinfmt", NULL) >= 0)
		(void)rmdir(p);
}

/* What setup saved of a role: the file before it (orig, or that there was none), what it wrote. */
struct saved {
	bool any;      /* setup changed this file */
	bool has_orig; /* and knows how it was before (false: changed by someone since) */
	struct blob orig, ours;
};

static void saved_clear(struct saved *s)
{
	blob_clear(&s->orig);
	blob_clear(&s->ours);
}

static int saved_load(const struct setup_ctx *c, const struct role *role, struct saved *ret)
{
	struct saved s = { 0 };
	struct blob absent = { 0 };
	int r;

	r = state_read(c, role, "ours", &s.ours);
	if (r >= 0 && s.ours.exists)
		r = state_read(c, role, "orig", &s.orig);
	if (r >= 0 && s.ours.exists && !s.orig.exists)
		r = state_read(c, role, "absent", &absent);
	if (r < 0) {
		saved_clear(&s);
		blob_clear(&absent);
		return r;
	}
	s.any = s.ours.exists;
	s.has_orig = s.orig.exists || absent.exists;
	blob_clear(&absent);
	*ret = s;
	return 0;
}

/* ---- one role -------------------------------------------------------------------------------- */

static void print_notes(const char *path, const struct setup_edit *e)
{
	for (size_t i = 0; i < e->n_notes; i++)
		printf("  %s: %s\n", path, e->notes[i]);
}

/* The content the options ask for: *want_file false means the file should not be there. */
static int desired(const struct setup_ctx *c, const struct role *role, const struct blob *cur, struct setup_edit *e,
		   bool *want_file)
{
	*want_file = true;
	switch (role->kind) {
	case ROLE_DOCKER_JSON:
		return setup_docker_apply(cur->exists ? cur->data : NULL, cur->len, c->runtime, c->make_default, e);
	case ROLE_DOCKER_DROPIN:
		*want_file = c->make_default;
		return c->make_default ? setup_docker_dropin(c->runc_dir, e) : 0;
	case ROLE_PODMAN_DROPIN:
		return setup_podman_dropin(c->runtime, c->make_default, e);
	case ROLE_CONTAINERD_TOML:
		return setup_containerd_apply(cur->exists ? cur->data : NULL, cur->len, c->runtime, e);
	case ROLE_KIND_MAX:
		break;
	}
	return -EINVAL;
}

/* What is left of a file changed since setup once ubinfmt's entries are out (NULL: no file). */
static int reverted(const struct role *role, const struct blob *cur, struct setup_edit *e)
{
	switch (role->kind) {
	case ROLE_DOCKER_JSON:
		return setup_docker_revert(cur->data, cur->len, e);
	case ROLE_CONTAINERD_TOML:
		return setup_containerd_revert(cur->data, cur->len, e);
	case ROLE_DOCKER_DROPIN:
	case ROLE_PODMAN_DROPIN:
		/* The drop-in is ubinfmt's alone: it goes, whatever was changed in it. */
		*e = (struct setup_edit){ .changed = true };
		return 0;
	case ROLE_KIND_MAX:
		break;
	}
	return -EINVAL;
}

/*
 * The directories setup made (for any engine: /etc may be made for docker and hold
 * containerd's file too) are listed in one file, relative to the root.  After an undo, each
 * one that is empty now goes, deepest first; the others stay listed for a later undo.  An
 * engine still set up keeps its file in its directories, so they are never empty.
 */
static int created_path(const struct setup_ctx *c, char *buf, size_t size)
{
	return setup_join(buf, size, c->root, STATE_DIR "/created-dirs", NULL);
}

static int created_add(const struct setup_ctx *c, const char *dirs)
{
	char p[PATH_MAX];
	struct blob old = { 0 }, b = { .exists = true, .st.st_mode = 0600 };
	_cleanup_free_ char *all = NULL;
	int r = created_path(c, p, sizeof(p));

	if (r >= 0)
		r = state_mkdir(c);
	if (r >= 0)
		r = blob_read(p, &old);
	if (r < 0)
		return r;
	r = asprintf(&all, "%s%s", old.data ? old.data : "", dirs);
	blob_clear(&old);
	if (r < 0)
		return -ENOMEM;
	b.data = all, b.len = strlen(all);
	return blob_write(p, &b);
}

static int by_depth(const void *a, const void *b)
{
	size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);

	return la < lb ? 1 : la > lb ? -1 : 0;
}

static void created_prune(const struct setup_ctx *c)
{
	char p[PATH_MAX], dir[PATH_MAX];
	struct blob list = { 0 }, left = { .exists = true, .st.st_mode = 0600 };
	_cleanup_free_ char **lines = NULL;
	_cleanup_free_ char *kept = NULL;
	size_t n = 0, kept_len = 0;

	if (created_path(c, p, sizeof(p)) < 0 || blob_read(p, &list) < 0 || !list.exists)
		return;
	lines = calloc(list.len + 1, sizeof(*lines));
	kept = calloc(list.len + 1, 1);
	if (!lines || !kept)
		goto out;
	for (char *save = NULL, *l = strtok_r(list.data, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	qsort(lines, n, sizeof(*lines), by_depth);
	for (size_t i = 0; i < n; i++) {
		if (setup_join(dir, sizeof(dir), c->root, lines[i], NULL) < 0 || (rmdir(dir) < 0 && errno != ENOENT)) {
			kept_len += (size_t)sprintf(kept + kept_len, "%s\n", lines[i]);
		}
	}
	if (kept_len == 0) {
		(void)unlink(p);
	} else {
		left.data = kept, left.len = kept_len;
		(void)blob_write(p, &left);
	}
out:
	blob_clear(&list);
}

static int undo_role(struct setup_ctx *c, const struct role *role, const char *path)
{
	struct saved s = { 0 };
	struct blob cur = { 0 }, out = { 0 };
	struct setup_edit e = { 0 };
	int r;

	r = saved_load(c, role, &s);
	if (r >= 0 && s.any)
		r = blob_read(path, &cur);
	if (r < 0 || !s.any)
		goto out;
	if (s.has_orig && blob_equal(&cur, &s.ours)) {
		/* Nobody touched it since: back as it was, byte for byte. */
		if (s.orig.exists)
			printf("  %s: restored as it was before setup (byte for byte)\n", path);
		else
			printf("  %s: removed (there was none before setup)\n", path);
		if (!c->dry_run) {
			r = s.orig.exists			  ? blob_write(path, &s.orig)
			    : unlink(path) < 0 && errno != ENOENT ? negative_errno()
								  : 0;
		}
	} else if (cur.exists) {
		r = reverted(role, &cur, &e);
		if (r < 0)
			goto out;
		printf("  %s: changed since setup: ubinfmt's entries taken out, the rest left as it is now\n", path);
		print_notes(path, &e);
		if (!c->dry_run && e.changed) {
			out = cur;
			out.data = e.text, out.len = e.len;
			r = e.text ? blob_write(path, &out) : unlink(path) < 0 ? negative_errno() : 0;
		}
	} else {
		printf("  %s: already gone\n", path);
	}
	c->changed = true;
	if (role->kind == ROLE_DOCKER_DROPIN)
		c->dropin_changed = true;
	if (r >= 0 && !c->dry_run) {
		state_remove(c, role, "orig");
		state_remove(c, role, "absent");
		state_remove(c, role, "ours");
	}
out:
	if (r < 0 && !e.why[0])
		log_error_errno(r, "undo %s: %m", path);
	else if (r < 0)
		log_error("undo %s: %s", path, e.why);
	setup_edit_clear(&e);
	saved_clear(&s);
	blob_clear(&cur);
	return r;
}

/* Saves how the file was before setup's first change to it, and the directories it makes. */
static int save_before(const struct setup_ctx *c, const struct role *role, const struct blob *cur,
		       const struct saved *s, const char *created)
{
	struct blob marker = { .exists = true, .st.st_mode = 0600 };
	int r = 0;

	if (!s->any)
		r = cur->exists ? state_write(c, role, "orig", cur) : state_write(c, role, "absent", &marker);
	else if (s->has_orig && !blob_equal(cur, &s->ours)) {
		/* Changed by someone since setup wrote it: the saved original is stale now. */
		state_remove(c, role, "orig");
		state_remove(c, role, "absent");
	}
	if (r >= 0 && created)
		r = created_add(c, created);
	return r;
}

static int apply_role(struct setup_ctx *c, const struct role *role, const char *path)
{
	struct saved s = { 0 };
	struct blob cur = { 0 }, out = { 0 };
	struct setup_edit e = { 0 };
	_cleanup_free_ char *created = NULL;
	bool want_file;
	int r;

	r = blob_read(path, &cur);
	if (r >= 0)
		r = saved_load(c, role, &s);
	if (r >= 0)
		r = desired(c, role, &cur, &e, &want_file);
	if (r < 0)
		goto out;
	if (!want_file) {
		/* Not asked for (docker without --default): only what setup itself put there goes. */
		if (s.any)
			r = undo_role(c, role, path);
		goto out;
	}
	e.changed = !cur.exists || cur.len != e.len || memcmp(cur.data, e.text, e.len) != 0;
	if (!e.changed)
		goto out;
	print_notes(path, &e);
	c->changed = true;
	if (role->kind == ROLE_DOCKER_DROPIN)
		c->dropin_changed = true;
	if (c->dry_run)
		goto out;
	out = cur;
	out.data = e.text, out.len = e.len;
	if (!cur.exists)
		out.st = (struct stat){ .st_mode = 0644, .st_uid = 0, .st_gid = 0 };
	r = setup_make_parents(c->root, path, &created);
	if (r >= 0)
		r = save_before(c, role, &cur, &s, created);
	if (r >= 0)
		r = blob_write(path, &out);
	if (r >= 0)
		r = state_write(c, role, "ours", &out);
out:
	if (r == -EINVAL && e.why[0])
		log_error("%s: %s; nothing changed", path, e.why);
	else if (r == -ELOOP || (r == -EINVAL && !cur.exists))
		log_error("%s: a symlink or not a regular file; setup edits regular files only (edit the file "
			  "itself, or name another root with --root); nothing changed",
			  path);
	else if (r < 0)
		log_error_errno(r, "%s: %m", path);
	setup_edit_clear(&e);
	saved_clear(&s);
	blob_clear(&cur);
	return r;
}

/* ---- the command ----------------------------------------------------------------------------- */

static const struct engine *engine_named(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(engines); i++)
		if (strcmp(engines[i].name, name) == 0)
			return &engines[i];
	return NULL;
}

/* ubinfmt-runtime beside this ubinfmt (/usr/bin, /usr/local/bin, a build's bin/). */
static int default_runtime(char *buf, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n < 0)
		return negative_errno();
	self[n] = '\0';
	return setup_join(buf, size, dirname(self), "/ubinfmt-runtime", NULL);
}

/* PREFIX/bin/ubinfmt-runtime has its runc name in PREFIX/libexec/ubinfmt (deploy/CMakeLists.txt). */
static int runc_dir_of(const char *runtime, char *buf, size_t size)
{
	char copy[PATH_MAX];
	char *prefix;

	if (setup_join(copy, sizeof(copy), runtime, "", NULL) < 0)
		return -ENAMETOOLONG;
	prefix = dirname(dirname(copy));
	return setup_join(buf, size, strcmp(prefix, "/") == 0 ? "" : prefix, "/libexec/ubinfmt", NULL);
}

static void print_next_steps(const struct setup_ctx *c)
{
	const char *e = c->engine->name;

	if (!c->changed) {
		printf(c->undo ? "  nothing to undo: setup has not changed %s's configuration here\n"
			       : "  nothing to change: %s is set up already\n",
		       e);
		return;
	}
	if (c->dry_run) {
		printf("Nothing was changed (--dry-run).\n");
		return;
	}
	if (strcmp(e, "docker") == 0)
		printf("Restart docker to apply it: %ssystemctl restart docker\n",
		       c->dropin_changed ? "systemctl daemon-reload && " : "");
	else if (strcmp(e, "containerd") == 0)
		printf("Restart containerd to apply it: systemctl restart containerd\n");
	else
		printf("podman reads it at its next command.\n");
	if (c->undo)
		return;
	if (strcmp(e, "containerd") == 0)
		printf("Use it: a RuntimeClass with handler: ubinfmt "
		       "(/usr/share/ubinfmt/kubernetes/runtimeclass.yaml),\n"
		       "        or ctr run --runc-binary %s …\n",
		       c->runtime);
	else
		printf("Use it: %s run %sIMAGE …\n", e, c->make_default ? "" : "--runtime ubinfmt ");
	printf("Undo it: ubinfmt setup %s%s%s --undo\n", e, c->root[0] ? " --root " : "", c->root);
}

struct setup_args {
	struct setup_ctx *c;
	const char **runtime;
};

enum {
	OPT_UNDO = 0x100,
	OPT_DRY_RUN,
	OPT_DEFAULT,
	OPT_ROOT,
	OPT_RUNTIME_PATH
};

static int handle_setup_option(int key, const char *arg, void *ctx)
{
	struct setup_args *a = ctx;

	switch (key) {
	case OPT_UNDO:
		a->c->undo = true;
		return 0;
	case OPT_DRY_RUN:
		a->c->dry_run = true;
		return 0;
	case OPT_DEFAULT:
		a->c->make_default = true;
		return 0;
	case OPT_ROOT:
		a->c->root = arg;
		return 0;
	case OPT_RUNTIME_PATH:
		*a->runtime = arg;
		return 0;
	default:
		return -EINVAL;
	}
}

static int parse_setup_args(int argc, char **argv, struct setup_ctx *c, const char **ret_runtime)
{
	static const struct cliopt options[] = {
		{ "undo", OPT_UNDO, no_argument, NULL },
		{ "dry-run", OPT_DRY_RUN, no_argument, NULL },
		{ "default", OPT_DEFAULT, no_argument, NULL },
		{ "root", OPT_ROOT, required_argument, NULL },
		{ "runtime-path", OPT_RUNTIME_PATH, required_argument, NULL },
		{ "verbose", 'v', no_argument, NULL },
		{ "help", 'h', no_argument, NULL },
	};
	const struct cliopt_spec spec = {
		.head = setup_usage,
		.options = options,
		.n_options = ARRAY_SIZE(options),
		.handle = handle_setup_option,
	};
	struct setup_args a = { .c = c, .runtime = ret_runtime };
	int r;

	r = cliopt_parse(&spec, argc, argv, &a);
	if (r <= 0)
		return r;
	if (r + 1 != argc || !(c->engine = engine_named(argv[r]))) {
		log_error("setup needs one engine: docker, podman or containerd; see 'ubinfmt setup --help'");
		return -EINVAL;
	}
	if (c->make_default && !c->engine->has_default) {
		log_error("containerd has no default runtime to set: pods choose the handler with "
			  "runtimeClassName: ubinfmt, ctr with --runc-binary");
		return -EINVAL;
	}
	if (c->make_default && c->undo) {
		log_error("--undo takes back everything setup did; it needs no --default");
		return -EINVAL;
	}
	return 1;
}

/* Fills in the root, the runtime's path, its runc directory and the state directory. */
static int resolve_paths(struct setup_ctx *c, const char *runtime)
{
	struct stat st;
	char in_root[PATH_MAX];
	int r;

	if (c->root) {
		if (c->root[0] != '/' || !realpath(c->root, c->root_buf) || stat(c->root_buf, &st) < 0 ||
		    !S_ISDIR(st.st_mode)) {
			log_error("--root '%s': not an absolute path to a directory", c->root);
			return -EINVAL;
		}
		c->root = strcmp(c->root_buf, "/") == 0 ? "" : c->root_buf;
	} else {
		c->root = "";
	}
	r = runtime ? setup_join(c->runtime, sizeof(c->runtime), runtime, "", NULL)
		    : default_runtime(c->runtime, sizeof(c->runtime));
	if (r >= 0)
		r = runc_dir_of(c->runtime, c->runc_dir, sizeof(c->runc_dir));
	if (r >= 0)
		r = setup_join(c->state_dir, sizeof(c->state_dir), c->root, STATE_DIR "/", c->engine->name);
	if (r < 0)
		return log_error_errno(r, "paths: %m");
	if (!setup_path_ok(c->runtime) || !setup_path_ok(c->runc_dir)) {
		log_error("runtime path '%s': it must be absolute, without quotes, backslashes, blanks or "
			  "control characters (it goes into JSON, TOML and systemd files)",
			  c->runtime);
		return -EINVAL;
	}
	if (!c->undo && setup_join(in_root, sizeof(in_root), c->root, c->runtime, NULL) >= 0 &&
	    access(in_root, X_OK) < 0)
		log_warn("%s: %m: the engine will fail to start containers with it until it is there "
			 "(install ubinfmt-runtime, or name it with --runtime-path)",
			 in_root);
	return 0;
}

int cmd_setup(int argc, char **argv)
{
	struct setup_ctx c = { 0 };
	const char *runtime = NULL;
	char path[PATH_MAX];
	int r, failed = 0;

	r = parse_setup_args(argc, argv, &c, &runtime);
	if (r <= 0)
		return r < 0 ? 2 : 0;
	if (resolve_paths(&c, runtime) < 0)
		return 1;

	printf("ubinfmt setup %s%s%s:\n", c.engine->name, c.undo ? " --undo" : "",
	       c.dry_run ? " --dry-run (nothing is changed; this is what it would do)" : "");
	for (size_t i = 0; i < c.engine->n_roles; i++) {
		const struct role *role = &c.engine->roles[i];
		if (setup_join(path, sizeof(path), c.root, role->path, NULL) < 0)
			return 1;
		r = c.undo ? undo_role(&c, role, path) : apply_role(&c, role, path);
		if (r < 0)
			failed = 1;
	}
	if ((c.undo || c.changed) && !c.dry_run) {
		/* Also after a setup that took a drop-in out (docker without --default). */
		created_prune(&c);
		state_prune(&c);
	}
	if (failed)
		return 1;
	print_next_steps(&c);
	return 0;
}
