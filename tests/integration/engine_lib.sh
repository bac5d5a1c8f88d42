# shellcheck shell=bash
# shellcheck disable=SC2154 # status and out are set by lib.sh's run
# Private container engine daemons for the engine tests (t_docker, t_buildkit): containerd and
# dockerd from Debian's packages, started with everything under the test's $T, and
# ubinfmt-runtime (the OCI runtime shim) as their runtime.  Sourced after lib.sh and oci_lib.sh
# (which starts ubinfmtd on sockets under $T: start_daemon).
#
# Nothing lands in the engines' system-wide places: containerd's root, state and sockets, and
# dockerd's data root, exec root, pid file, socket, daemon.json and trust key are under $T; no
# bridge, no iptables rules, no NAT (`--bridge none --iptables=false --ip-masq=false
# --ip-forward=false`); containers' cgroups (BuildKit's steps' too) under a parent named for
# this test.  The exit trap removes every container, stops dockerd and containerd by pid, kills
# by pid what they left running (tasks in the test's cgroups, shims of its containerd) and
# unmounts what they left mounted under $T, naming each, removes the two run directories they
# make outside their roots when this test created them, and then runs oci_lib.sh's and
# lib.sh's clean-up (cgroups, ubinfmtd, $T).  dockerd's images and build cache live in its data
# root under $T and go with it.
#
# Environment:
#   UBINFMT_RUNTIME         the shim (default: build/bin/ubinfmt-runtime, beside $UBINFMT)
#   UBINFMT_DOCKER_CLI      the docker client (default: the one on PATH whose version is
#                           dockerd's: a newer client needs the buildx plugin for BuildKit)
#   UBINFMT_DOCKER_STORAGE  dockerd's storage driver (default: its own choice, overlay2 here)
#   UBINFMT_ENGINE_TIMEOUT  seconds one engine command may take (default 180)

UBINFMT_RUNTIME=${UBINFMT_RUNTIME:-$(dirname "$UBINFMT")/ubinfmt-runtime}
UBINFMT_ENGINE_TIMEOUT=${UBINFMT_ENGINE_TIMEOUT:-180}

# The cgroup parent of every container (and BuildKit step) the engines start, removed at exit.
ENGINE_CGROUP=ubinfmt-$TEST_NAME-$$
OCI_CGROUPS+=("$ENGINE_CGROUP")

# The real runc, before any test puts the shim first on a PATH as `runc`.
# shellcheck disable=SC2034 # for the tests that source this file
ENGINE_REAL_RUNC=$(command -v runc)

# ---- requirements -----------------------------------------------------------------------------

# What every engine test needs on top of need_oci_base: Debian's docker.io (dockerd, its
# containerd, runc, docker-init) and a docker client of dockerd's version.
need_docker() {
	command -v dockerd >/dev/null 2>&1 ||
		skip "no dockerd: docker.io is not installed (sudo UBINFMT_ENGINES=1 bash tools/deps.sh installs it)"
	need_cmd containerd containerd-shim-runc-v2 ctr runc python3 timeout tar
	[ -x "$UBINFMT_RUNTIME" ] || skip "no ubinfmt-runtime at $UBINFMT_RUNTIME (build it first)"
	DOCKER_CLI=${UBINFMT_DOCKER_CLI:-$(docker_cli_for_dockerd)} ||
		skip "no docker client of dockerd's version ($(dockerd --version 2>&1)) on PATH: $(type -ap docker | tr '\n' ' ')"
}

# The docker client on PATH with dockerd's own version (Debian's docker.io ships both; another
# client earlier on PATH, e.g. a static Docker 28 in /usr/local/bin, lacks the embedded BuildKit
# client that DOCKER_BUILDKIT=1 uses with Docker 20.10).
docker_cli_for_dockerd() {
	local want c
	want=$(dockerd --version 2>/dev/null | sed -n 's/^Docker version \([^,]*\),.*/\1/p')
	[ -n "$want" ] || return 1
	for c in $(type -ap docker); do
		[ "$("$c" --version 2>/dev/null | sed -n 's/^Docker version \([^,]*\),.*/\1/p')" = "$want" ] &&
			{ echo "$c"; return 0; }
	done
	return 1
}

# ---- the shim's configuration -----------------------------------------------------------------

# runtime_conf FILE [KEY=VALUE…]: writes the shim's configuration file (runtime-spec: `key =
# value` lines): ubinfmtd's OCI socket of this test ($OCI_SOCK) and the settings given.  Without
# runtime=…, the shim looks `runc` up on PATH, as installed.  The engines get the file through
# UBINFMT_RUNTIME_CONFIG in their environment, so that /etc/ubinfmt/runtime.conf, if any, plays
# no part.
runtime_conf() {
	local file=$1 kv
	shift
	{
		echo "# written by $TEST_NAME"
		echo "socket = $OCI_SOCK"
		for kv in "$@"; do
			echo "${kv%%=*} = ${kv#*=}"
		done
	} >"$file"
}

# ---- containerd ---------------------------------------------------------------------------------

CONTAINERD_PID=
CONTAINERD_SOCK=
CONTAINERD_LOG=

# containerd_start [ENV=VALUE…]: a private containerd (root, state, sockets under $T/ctd) with
# the environment given (its shims, and the runtimes they start, inherit it); waits until it
# answers.  The CRI plugin (Kubernetes' way in, CNI and all) and the opt plugin (which would
# create /opt/containerd) are disabled: dockerd needs neither.
containerd_start() {
	local d=$T/ctd i
	mkdir -p "$d/root" "$d/state"
	engine_note_dirs
	CONTAINERD_SOCK=$d/containerd.sock
	CONTAINERD_LOG=$T/containerd.log
	cat >"$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt"]
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[debug]
  address = "$d/debug.sock"
  level = "info"
[metrics]
  address = ""
EOF
	env "$@" containerd --config "$d/config.toml" >"$CONTAINERD_LOG" 2>&1 &
	CONTAINERD_PID=$!
	track_pid "$CONTAINERD_PID"
	for ((i = 0; i < 100; i++)); do
		[ -S "$CONTAINERD_SOCK" ] &&
			timeout 5 ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1 && return 0
		kill -0 "$CONTAINERD_PID" 2>/dev/null || break
		sleep 0.1
	done
	fail "containerd starts" "$(tail -n 30 "$CONTAINERD_LOG")"
	finish
}

# ---- dockerd ------------------------------------------------------------------------------------

DOCKERD_PID=
DOCKER_SOCK=
DOCKERD_LOG=
DOCKER_CLI=

# dockerd_start [--env ENV=VALUE]… [DOCKERD_ARG…]: a private dockerd on the private containerd
# (containerd_start first), with the environment given (--env PATH=… decides which `runc`
# BuildKit finds) and the arguments given (--add-runtime, --default-runtime…).  Waits until it
# answers; fails the test with its log when it does not come up.
dockerd_start() {
	local d=$T/dk envs=() i
	while [ "${1:-}" = --env ]; do
		envs+=("$2")
		shift 2
	done
	mkdir -p "$d/data" "$d/exec" "$T/docker-cli"
	chmod 700 "$d"
	DOCKER_SOCK=$d/docker.sock
	DOCKERD_LOG=$T/dockerd.log
	# The trust key dockerd 20.10 creates is /etc/docker/key.json unless told otherwise.
	printf '{"deprecated-key-path": "%s"}\n' "$d/key.json" >"$d/daemon.json"
	engine_note_dirs
	env "${envs[@]}" dockerd --config-file "$d/daemon.json" --data-root "$d/data" --exec-root "$d/exec" \
		--pidfile "$d/dockerd.pid" --host "unix://$DOCKER_SOCK" --containerd "$CONTAINERD_SOCK" \
		--bridge none --iptables=false --ip6tables=false --ip-masq=false --ip-forward=false \
		--userland-proxy=false --cgroup-parent "/$ENGINE_CGROUP" \
		${UBINFMT_DOCKER_STORAGE:+--storage-driver "$UBINFMT_DOCKER_STORAGE"} "$@" >"$DOCKERD_LOG" 2>&1 &
	DOCKERD_PID=$!
	track_pid "$DOCKERD_PID"
	for ((i = 0; i < 300; i++)); do
		[ -S "$DOCKER_SOCK" ] && dk version >/dev/null 2>&1 && return 0
		kill -0 "$DOCKERD_PID" 2>/dev/null || break
		sleep 0.1
	done
	fail "dockerd starts" "$(tail -n 30 "$DOCKERD_LOG")"
	finish
}

# dk ARG…: the docker client on this test's dockerd, with its configuration under $T and a
# time limit.
dk() {
	DOCKER_HOST=unix://$DOCKER_SOCK DOCKER_CONFIG=$T/docker-cli \
		timeout -k 5 "$UBINFMT_ENGINE_TIMEOUT" "$DOCKER_CLI" "$@"
}

# dockerd_stop: removes every container, then stops dockerd (SIGTERM; SIGKILL after 20 s) and
# waits for it.  Safe to call twice.
dockerd_stop() {
	local ids i
	[ -n "$DOCKERD_PID" ] || return 0
	if kill -0 "$DOCKERD_PID" 2>/dev/null; then
		ids=$(dk ps -aq 2>/dev/null)
		# shellcheck disable=SC2086 # one id per word
		[ -n "$ids" ] && dk rm -f $ids >/dev/null 2>&1
		kill -TERM "$DOCKERD_PID" 2>/dev/null
		for ((i = 0; i < 200; i++)); do
			kill -0 "$DOCKERD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$DOCKERD_PID" 2>/dev/null
	fi
	wait "$DOCKERD_PID" 2>/dev/null
	DOCKERD_PID=
	return 0
}

# containerd_stop: stops containerd (SIGTERM; SIGKILL after 10 s) and waits for it.  Its shims
# outlive it by design: engine_reap_leftovers deals with those still running.
containerd_stop() {
	local i
	[ -n "$CONTAINERD_PID" ] || return 0
	kill -TERM "$CONTAINERD_PID" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$CONTAINERD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$CONTAINERD_PID" 2>/dev/null
	wait "$CONTAINERD_PID" 2>/dev/null
	CONTAINERD_PID=
	return 0
}

# The pids of the containerd shims started by this test's containerd: containerd-shim-runc-v2
# processes (comm "containerd-shim") with "-address SOCKET" on their command line.
engine_shim_pids() {
	local d comm
	[ -n "$CONTAINERD_SOCK" ] || return 0
	for d in /proc/[0-9]*; do
		comm=$(cat "$d/comm" 2>/dev/null) || continue
		[ "$comm" = containerd-shim ] || continue
		tr '\0' '\n' 2>/dev/null <"$d/cmdline" | grep -A1 -xF -- -address | grep -xF -- "$CONTAINERD_SOCK" >/dev/null &&
			echo "${d#/proc/}"
	done
	return 0
}

# Directories dockerd 20.10 and containerd 1.6 make outside the roots they are given: the plugin
# socket directory of dockerd, and the directory of containerd's shim sockets (fixed in 1.6,
# whatever its state directory).  Those missing before this test's engines started are removed
# at exit, when empty (another engine on this machine may be using them).
ENGINE_FIXED_DIRS=(/run/docker/plugins /run/docker /run/containerd/s /run/containerd)
ENGINE_NEW_DIRS=()
engine_note_dirs() {
	local d n
	for d in "${ENGINE_FIXED_DIRS[@]}"; do
		[ -e "$d" ] && continue
		for n in "${ENGINE_NEW_DIRS[@]}"; do
			[ "$n" = "$d" ] && continue 2
		done
		ENGINE_NEW_DIRS+=("$d")
	done
}

# Mount points under $T, deepest first.
engine_mounts() {
	awk -v t="$T/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# The tasks in the cgroups of this test's cgroup parent: what its containers left running.
engine_cgroup_tasks() {
	local d
	for d in /sys/fs/cgroup/*/"$ENGINE_CGROUP" /sys/fs/cgroup/"$ENGINE_CGROUP"; do
		[ -d "$d" ] && find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
	done | sort -un
}

# engine_leftovers: one line per thing the engines left behind once stopped (a task in one of
# this test's cgroups, a shim of its containerd, a mount under $T); waits up to 5 s for tasks
# and shims that are on their way out.
engine_leftovers() {
	local i p m left
	for ((i = 0; i < 50; i++)); do
		left=$(engine_cgroup_tasks; engine_shim_pids)
		[ -z "$left" ] && break
		sleep 0.1
	done
	for p in $(engine_cgroup_tasks); do
		echo "task $p ($(cat "/proc/$p/comm" 2>/dev/null)) in cgroup $ENGINE_CGROUP"
	done
	for p in $(engine_shim_pids); do
		echo "containerd shim $p"
	done
	for m in $(engine_mounts); do
		echo "mount $m"
	done
}

# engine_reap_leftovers: kills (by pid) the tasks in this test's cgroups and the shims of its
# containerd, and unmounts what is left under $T, saying so for each: a test that stopped the
# engines in good order leaves none.
engine_reap_leftovers() {
	local p m
	for p in $(engine_cgroup_tasks) $(engine_shim_pids); do
		echo "engine_lib: pid $p ($(cat "/proc/$p/comm" 2>/dev/null)) outlived the engines: killed" >&2
		kill -KILL "$p" 2>/dev/null
	done
	for m in $(engine_mounts); do
		echo "engine_lib: $m was left mounted: unmounted" >&2
		umount -l "$m" 2>/dev/null
	done
	return 0
}

engine_cleanup() {
	local d
	dockerd_stop
	containerd_stop
	engine_reap_leftovers
	for d in "${ENGINE_NEW_DIRS[@]}"; do
		rmdir "$d" 2>/dev/null
	done
	oci_cleanup
}

# engines_stop_check: stops dockerd and containerd, then checks that they left nothing behind
# (engine_leftovers); the exit trap reaps what they did leave.
engines_stop_check() {
	local left
	dockerd_stop
	containerd_stop
	left=$(engine_leftovers)
	if [ -z "$left" ]; then
		pass "dockerd and containerd stopped: no mount, shim or containerized task left"
	else
		fail "dockerd and containerd stopped: no mount, shim or containerized task left" "$left"
	fi
}
trap engine_cleanup EXIT

# ---- images -----------------------------------------------------------------------------------

# image_from_rootfs NAME ROOTFS ARCH: loads the directory ROOTFS (a copy of a fixture) into
# dockerd as image NAME (repository:tag) of platform linux/ARCH (Docker's names: arm64, arm,
# amd64…), with /bin/sh as its command: an image archive (`docker save`'s format: one layer, a
# config, a manifest) written here and `docker load`ed, no registry involved.  Not `docker
# import`: dockerd 20.10 ignores its --platform and labels every imported image amd64, which
# BuildKit then takes at its word.
image_from_rootfs() {
	local name=$1 rootfs=$2 arch=$3 d
	d=$(mktemp -d "$T/image.XXXXXX") || return 1
	tar -C "$rootfs" --numeric-owner -cf "$d/layer.tar" . || return 1
	python3 - "$d" "$name" "$arch" <<'PY' || return 1
import hashlib, json, os, sys
d, name, arch = sys.argv[1:]
h = hashlib.sha256()
with open(os.path.join(d, "layer.tar"), "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
        h.update(block)
layer = h.hexdigest()
os.mkdir(os.path.join(d, layer))
os.rename(os.path.join(d, "layer.tar"), os.path.join(d, layer, "layer.tar"))
config = json.dumps({
    "architecture": arch, "os": "linux",
    "created": "2026-01-01T00:00:00Z",
    "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + layer]},
    "history": [{"created": "2026-01-01T00:00:00Z", "created_by": "ubinfmt test fixture"}],
}, sort_keys=True).encode()
cid = hashlib.sha256(config).hexdigest()
with open(os.path.join(d, cid + ".json"), "wb") as f:
    f.write(config)
with open(os.path.join(d, "manifest.json"), "w") as f:
    json.dump([{"Config": cid + ".json", "RepoTags": [name], "Layers": [layer + "/layer.tar"]}], f)
PY
	tar -C "$d" -c . | dk load >/dev/null || return 1
	rm -rf "$d"
}
