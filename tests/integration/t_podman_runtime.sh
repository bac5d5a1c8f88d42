#!/usr/bin/env bash
# podman (4.3.1 in Debian 12) through ubinfmt-runtime, the OCI runtime shim: an arm64 image and
# no seccomp option anywhere.  The shim adds the notify rule and ubinfmtd's socket to podman's
# own default profile (defaultAction ERRNO and its allow list) in each bundle.
#
#  - `podman --runtime SHIM run` of an arm64 image (imported from the arm64 busybox tree with
#    `podman import --arch arm64`): nested foreign execs, exit status; `--security-opt
#    seccomp=unconfined` (no profile at all); `run -d`, whose bundle carries podman's profile
#    merged with the notify rule, and `podman exec` into it;
#  - the containers.conf drop-in of docs/podman.md (`[engine.runtimes] ubinfmt = [SHIM]`,
#    `runtime = "ubinfmt"`) in /etc/containers/containers.conf.d, as an administrator installs
#    it (seen through a private mount namespace): `podman info` names it, `podman run` uses it,
#    and so does `podman build`, whose RUN steps run arm64 code (podman build ignores
#    containers.conf's seccomp_profile, not its runtime); `podman build --runtime SHIM` too;
#  - ubinfmtd down (stopped: no socket; killed: a stale socket): `podman run` and `podman build`
#    fail with one line naming the socket and how to start the daemon.
#
# Storage, state and cgroups are the test's own, as in t_podman.sh; its run root is short
# (podman refuses one longer than 50 characters).
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=SCRIPTDIR/oci_lib.sh
source "$(dirname "$0")/oci_lib.sh"

UBINFMT_RUNTIME=${UBINFMT_RUNTIME:-$(dirname "$UBINFMT")/ubinfmt-runtime}
SHIM=$UBINFMT_RUNTIME

need_oci_base
need_cmd podman runc python3 timeout unshare
[ -x "$SHIM" ] || skip "no ubinfmt-runtime at $SHIM (build it first)"

IMAGE=localhost/ubinfmt-arm64:test
cgparent="ubinfmt-$TEST_NAME-$$"
OCI_CGROUPS+=("$cgparent" "$cgparent-build")
PIPELINE_NESTED='uname -m; /bin/basename /x/nested-marker; sh -c "exit 3"; echo $?; exit 7'

# The shim's configuration: runc, this test's ubinfmtd, and listenerMetadata asking the daemon
# to trace every exec of these containers in its log (which shows the nested ones).
cat >"$T/runtime.conf" <<EOF
runtime = runc
socket = $OCI_SOCK
metadata = io.ubinfmt.trace=true
EOF
export UBINFMT_RUNTIME_CONFIG=$T/runtime.conf

# podman reads /etc/containers/containers.conf.d/*.conf.  Each podman command of the test runs
# in a mount namespace of its own where /etc/containers is a copy under $T with the drop-ins it
# needs; the host's /etc is never touched.
#  - etc-plain: only what the test needs, the environment: podman gives conmon, and so the
#    runtime, a clean one, so UBINFMT_RUNTIME_CONFIG goes through conmon_env_vars (podman build
#    runs the runtime itself, with podman's environment);
#  - etc-ubinfmt: the same plus docs/podman.md's drop-in, verbatim but for the shim's path.
for etc in etc-plain etc-ubinfmt; do
	cp -a /etc/containers "$T/$etc" || skip "cannot copy /etc/containers"
	mkdir -p "$T/$etc/containers.conf.d"
	cat >"$T/$etc/containers.conf.d/zz-test-env.conf" <<EOF
[engine]
conmon_env_vars = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "UBINFMT_RUNTIME_CONFIG=$UBINFMT_RUNTIME_CONFIG"]
EOF
done
sed -n '/^```toml$/,/^```$/p' "$REPO/docs/podman.md" | sed '1d;$d' | sed "s|/usr/bin/ubinfmt-runtime|$SHIM|" \
	>"$T/etc-ubinfmt/containers.conf.d/ubinfmt.conf"
grep -q '^runtime = "ubinfmt"' "$T/etc-ubinfmt/containers.conf.d/ubinfmt.conf" ||
	skip "no containers.conf drop-in in docs/podman.md"

# podman_in ETC ARG…: podman with /etc/containers from $T/ETC, its storage and runc's state under
# $T, and a tmpfs on /run: podman's clean-up of a container (`podman container cleanup`, which
# conmon runs when it exits) calls the runtime without --runtime-flag, and runc makes its
# default state directory /run/runc.
podman_in() {
	local etc=$T/$1
	shift
	# shellcheck disable=SC2016 # expanded by the inner shell
	timeout -k 5 "$UBINFMT_OCI_TIMEOUT" env -u CONTAINERS_CONF unshare -m --propagation private sh -c \
		'mount -t tmpfs -o mode=0755 ubinfmt-podman /run && mount --bind "$0" /etc/containers &&
		exec podman "$@"' "$etc" \
		--root "$T/p/root" --runroot "$T/p/rr" --tmpdir "$T/p/tmp" --volumepath "$T/p/vol" \
		--network-config-dir "$T/p/net" --storage-driver vfs --cgroup-manager cgroupfs \
		--events-backend file --runtime-flag root="$T/runc-state" "$@"
}
podman_cmd() {
	podman_in etc-plain "$@"
}
# podman through the shim named on the command line.
podman_shim() {
	podman_cmd --runtime "$SHIM" "$@"
}
# podman with the containers.conf drop-in.
podman_conf() {
	podman_in etc-ubinfmt "$@"
}
# `podman … delete -f ID` for the exit trap.
rt_podman() {
	if [ "$1" = delete ]; then
		shift 2
		podman_shim rm -f -t 0 "$@"
	else
		podman_shim "$@"
	fi
}
run_opts=(--pull never --arch arm64 --network none --cgroups=no-conmon --cgroup-parent="/$cgparent"
	--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
build_opts=(--pull=never --arch arm64 --network none --cgroup-parent="/$cgparent-build"
	--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --no-cache)

# expect_pipeline LABEL CMD…: CMD ran PIPELINE_NESTED in the arm64 image.
expect_pipeline() {
	local label=$1
	shift
	run "$@"
	if [ "$status" -eq 7 ] && [ "$out" = $'aarch64\nnested-marker\n3' ]; then
		pass "$label"
	else
		fail "$label" "\$ $*"$'\n'"exit status $status (want 7), want aarch64 / nested-marker / 3, got:"$'\n'"$out"$'\n'"ubinfmtd's log:"$'\n'"$(tail -n 20 "$OCI_LOG")"
	fi
}

# expect_traced LABEL PATH…: ubinfmtd's log traces an emulated exec of each PATH, as many as it
# is listed, in the last container it served (its trace lines follow the daemon's line about
# that container; the test runs one container at a time).
expect_traced() {
	local label=$1 p missing=() section
	shift
	section=$(tac "$OCI_LOG" | sed "/container '.*' (creating/q" | tac)
	declare -A want=()
	for p in "$@"; do
		want[$p]=$((${want[$p]:-0} + 1))
	done
	for p in "${!want[@]}"; do
		[ "$(grep -F "path='$p'" <<<"$section" | grep -c 'decision=emulate')" -ge "${want[$p]}" ] ||
			missing+=("$p (${want[$p]})")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		pass "$label"
	else
		fail "$label" "no emulated exec of ${missing[*]} traced; ubinfmtd's log:"$'\n'"$(tail -n 30 "$OCI_LOG")"
	fi
}

# expect_down_line LABEL: the last run failed, and its output has a line naming ubinfmtd's
# socket and how to start the daemon.
expect_down_line() {
	local line
	line=$(grep -F -- "$OCI_SOCK" <<<"$out" | grep -E 'ubinfmtd' | head -n 1)
	if [ "$status" -ne 0 ] && [ -n "$line" ]; then
		pass "$1"
		echo "    | $line"
	else
		fail "$1" "exit status $status; want a line naming $OCI_SOCK and how to start ubinfmtd, got:"$'\n'"$out"
	fi
}

# Can podman run a plain native container here at all (plain runc, no ubinfmt)?
cp -a "$FIXTURES/rootfs/busybox-amd64" "$T/native-rootfs" || skip "cannot copy the amd64 rootfs"
run podman_cmd --runtime runc run --rm --network none --cgroups=no-conmon --cgroup-parent="/$cgparent" \
	--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --rootfs "$T/native-rootfs" /bin/true
[ "$status" -eq 0 ] || skip "podman cannot start even a plain native container here (exit status $status): $out"

tar -C "$FIXTURES/rootfs/busybox-arm64" -cf "$T/arm64.tar" . || skip "cannot pack the arm64 rootfs"
check "podman import --arch arm64 of the arm64 busybox tree" \
	podman_cmd import --arch arm64 --os linux -c 'CMD ["/bin/sh"]' "$T/arm64.tar" "$IMAGE"

start_daemon

# ---- podman --runtime SHIM ------------------------------------------------------------------

expect_pipeline "podman --runtime SHIM run: arm64 pipeline with nested execs, exit status 7" \
	podman_shim run --rm "${run_opts[@]}" "$IMAGE" /bin/sh -c "$PIPELINE_NESTED"
expect_traced "podman run: ubinfmtd emulated the nested execs (listenerMetadata from runtime.conf)" \
	/bin/sh /bin/basename /bin/sh
expect_pipeline "podman --runtime SHIM run --security-opt seccomp=unconfined (no profile): the same" \
	podman_shim run --rm "${run_opts[@]}" --security-opt seccomp=unconfined "$IMAGE" /bin/sh -c "$PIPELINE_NESTED"
run podman_shim run --rm "${run_opts[@]}" --annotation io.ubinfmt.enable=false "$IMAGE" /bin/sh -c 'uname -m'
expect_match "podman run --annotation io.ubinfmt.enable=false: left alone, the kernel refuses arm64" \
	'exec format error' "$out" "exit status $status"

name="ubinfmt-$TEST_NAME-$$"
OCI_CONTAINERS+=("rt_podman $name")
run podman_shim run -d --name "$name" "${run_opts[@]}" "$IMAGE" /bin/sleep 120
id=$out
if [ "$status" -eq 0 ] && [[ $id =~ ^[0-9a-f]{64}$ ]]; then
	pass "podman --runtime SHIM run -d: long-running arm64 container starts"
	if wait_field "$id" emulated 1; then
		pass "podman run -d: a sandbox for the container id, its first exec emulated"
	else
		fail "podman run -d: a sandbox for the container id, its first exec emulated" \
			"emulated: $field_value"$'\n'"$("$UBINFMT" status --control "$OCI_CONTROL" 2>&1)"
	fi
	run python3 - "$T/p/root/vfs-containers/$id/userdata/config.json" "$OCI_SOCK" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
s = c["linux"]["seccomp"]
notify = [r for r in s["syscalls"] if r["action"] == "SCMP_ACT_NOTIFY"]
assert s["listenerPath"] == sys.argv[2], s.get("listenerPath")
assert [sorted(r["names"]) for r in notify] == [["execve", "execveat"]], notify
assert c["annotations"]["io.ubinfmt.runtime"] == "rewritten", c.get("annotations")
allowed = {n for r in s["syscalls"] if r["action"] == "SCMP_ACT_ALLOW" for n in r["names"]}
assert "execve" not in allowed and "execveat" not in allowed
print(s["defaultAction"], len(allowed) > 100)
PY
	expect_eq "podman run -d: podman's default profile kept, execve/execveat moved to the notify rule" \
		"SCMP_ACT_ERRNO True" "$out"
	before=$(sandbox_field "$id" emulated)
	run podman_shim exec "$name" /bin/sh -c 'uname -m; /bin/basename /x/exec-marker; exit 4'
	expect_eq "podman exec: foreign commands in the running container" $'aarch64\nexec-marker' "$out"
	expect_eq "podman exec: exit status comes back" 4 "$status"
	wait_field "$id" emulated "$((before + 2))"
	expect_eq "status: the exec's two emulated execs are counted in the container's sandbox" \
		"$((before + 2))" "$field_value"
	check "podman rm -f" podman_shim rm -f -t 0 "$name"
	if wait_field "$id" emulated none; then
		pass "podman rm: the sandbox goes with the container"
	else
		fail "podman rm: the sandbox goes with the container" "$("$UBINFMT" status --control "$OCI_CONTROL" 2>&1)"
	fi
else
	fail "podman --runtime SHIM run -d: long-running arm64 container starts" "exit status $status"$'\n'"$out"
fi

# ---- containers.conf ------------------------------------------------------------------------

run podman_conf info --format '{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Path}}'
expect_eq "containers.conf runtime = \"ubinfmt\": podman info names the shim" "ubinfmt $SHIM" "$out"
expect_pipeline "containers.conf: podman run, arm64 pipeline with nested execs, exit status 7" \
	podman_conf run --rm "${run_opts[@]}" "$IMAGE" /bin/sh -c "$PIPELINE_NESTED"

mkdir -p "$T/ctx"
cat >"$T/ctx/Containerfile" <<EOF
FROM $IMAGE
RUN uname -m >/built-arch && sh -c 'exit 3'; echo "nested \$?" >>/built-arch
RUN [ "\$(uname -m)" = aarch64 ] && /bin/basename /x/build-marker >>/built-arch
EOF
run podman_conf build "${build_opts[@]}" -t localhost/ubinfmt-built:test "$T/ctx"
if [ "$status" -eq 0 ]; then
	pass "containers.conf: podman build, RUN steps run arm64 code"
	run podman_conf run --rm "${run_opts[@]}" localhost/ubinfmt-built:test cat /built-arch
	expect_eq "podman build: what the RUN steps wrote" $'aarch64\nnested 3\nbuild-marker' "$out"
	if grep -Eq "container 'buildah-[^']*' \(creating" "$OCI_LOG"; then
		pass "podman build: its RUN containers went through the shim to ubinfmtd"
	else
		fail "podman build: its RUN containers went through the shim to ubinfmtd" "$(tail -n 20 "$OCI_LOG")"
	fi
else
	fail "containers.conf: podman build, RUN steps run arm64 code" "exit status $status"$'\n'"$out"$'\n'"$(tail -n 20 "$OCI_LOG")"
fi
run podman_cmd build --runtime "$SHIM" "${build_opts[@]}" -t localhost/ubinfmt-built2:test "$T/ctx"
expect_eq "podman build --runtime SHIM: RUN steps run arm64 code" 0 "$status" "$out"

# ---- ubinfmtd down ----------------------------------------------------------------------------

kill "$OCI_DAEMON_PID"
wait "$OCI_DAEMON_PID" 2>/dev/null
OCI_DAEMON_PID=
run podman_conf run --rm "${run_opts[@]}" "$IMAGE" /bin/sh -c 'uname -m'
expect_down_line "ubinfmtd stopped: podman run fails with one line naming the socket and the fix"
run podman_shim run --rm "${run_opts[@]}" "$IMAGE" /bin/sh -c 'uname -m'
expect_down_line "ubinfmtd stopped: podman --runtime SHIM run, the same"
run podman_conf build "${build_opts[@]}" "$T/ctx"
expect_down_line "ubinfmtd stopped: podman build fails with one line naming the socket and the fix"

# Killed: its socket file stays behind, nobody listens.
"$UBINFMTD" --socket "$OCI_AGENT" --oci-socket "$OCI_SOCK" --control "$OCI_CONTROL" >>"$OCI_LOG" 2>&1 &
pid=$!
disown "$pid" # no "Killed" notice from the shell
track_pid "$pid"
for ((i = 0; i < 100; i++)); do
	[ -S "$OCI_SOCK" ] && break
	sleep 0.1
done
kill -KILL "$pid"
while lib_alive "$pid"; do sleep 0.1; done
run podman_conf run --rm "${run_opts[@]}" "$IMAGE" /bin/sh -c 'uname -m'
expect_down_line "ubinfmtd killed (stale socket): podman run fails with one line naming the socket and the fix"
finish
