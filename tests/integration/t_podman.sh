#!/usr/bin/env bash
# podman (4.3.1 in Debian 12), root and daemonless, with `--runtime runc`, `--rootfs` (the arm64
# busybox tree, no qemu inside) and `--security-opt seccomp=PROFILE`, a seccomp profile whose
# listenerPath names ubinfmtd's OCI socket: podman passes it (and listenerMetadata, and
# --annotation) through to runc.
#
# Nothing lands in podman's system-wide places: storage, run and tmp directories are under the
# test's $T (`--root`, `--runroot`, `--tmpdir`, vfs), no network (`--network none`: the default
# bridge would create /var/lib/cni, /run/netns and a cni-podman0 bridge), cgroups under a parent
# named for this test and removed at the end (`--cgroup-parent`, `--cgroups=no-conmon`: otherwise
# /sys/fs/cgroup/*/libpod_parent stays), events in a file under $T.  --ulimit: root here lacks
# CAP_SYS_RESOURCE, and podman's default limits are higher than the current ones.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=SCRIPTDIR/oci_lib.sh
source "$(dirname "$0")/oci_lib.sh"

need_oci_base
need_cmd podman runc python3 timeout

cgparent="ubinfmt-$TEST_NAME-$$"
OCI_CGROUPS+=("$cgparent")
podman_cmd() {
	timeout -k 5 "$UBINFMT_OCI_TIMEOUT" podman --root "$T/podman/root" --runroot "$T/podman/runroot" \
		--tmpdir "$T/podman/tmp" --volumepath "$T/podman/volumes" --network-config-dir "$T/podman/net" \
		--storage-driver vfs --cgroup-manager cgroupfs --events-backend file --runtime runc \
		--runtime-flag root="$T/runc-state" "$@"
}
# `podman … delete -f ID` for the exit trap.
rt_podman() {
	if [ "$1" = delete ]; then
		shift 2
		podman_cmd rm -f -t 0 "$@"
	else
		podman_cmd "$@"
	fi
}
run_opts=(--network none --cgroups=no-conmon --cgroup-parent="/$cgparent"
	--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

# Can podman run a plain native container here at all?
cp -a "$FIXTURES/rootfs/busybox-amd64" "$T/native-rootfs" || skip "cannot copy the amd64 rootfs"
run podman_cmd run --rm "${run_opts[@]}" --rootfs "$T/native-rootfs" /bin/true
[ "$status" -eq 0 ] || skip "podman cannot start even a plain native container here (exit status $status): $out"

start_daemon
seccomp_json >"$T/profile.json"
seccomp_json "io.ubinfmt.trace=json" >"$T/profile-trace.json"
R=$(make_rootfs busybox-arm64) || skip "cannot copy the rootfs"

check_pipeline "podman run: arm64 pipeline with nested execs, exit status 7" "$R" \
	podman_cmd run --rm "${run_opts[@]}" --security-opt seccomp="$T/profile.json" --rootfs "$R" \
	/bin/sh -c "$PIPELINE"

# podman's own default profile with execve/execveat moved to SCMP_ACT_NOTIFY (docs/oci.md).
if [ -r /usr/share/containers/seccomp.json ]; then
	python3 - "$OCI_SOCK" >"$T/profile-default.json" <<'PY'
import json, sys
p = json.load(open("/usr/share/containers/seccomp.json"))
for rule in p["syscalls"]:
    rule["names"] = [n for n in rule["names"] if n not in ("execve", "execveat")]
p["syscalls"] = [r for r in p["syscalls"] if r["names"]]
p["syscalls"].append({"names": ["execve", "execveat"], "action": "SCMP_ACT_NOTIFY"})
p["listenerPath"] = sys.argv[1]
print(json.dumps(p, indent=1))
PY
	check_pipeline "podman run: podman's default profile plus the notify rule" "$R" \
		podman_cmd run --rm "${run_opts[@]}" --security-opt seccomp="$T/profile-default.json" --rootfs "$R" \
		/bin/sh -c "$PIPELINE"
else
	skip_check "podman's default profile plus the notify rule" "no /usr/share/containers/seccomp.json"
fi

# listenerMetadata from the profile reaches the daemon: io.ubinfmt.trace=json traces this
# container's execs as JSON lines in the daemon's log.
run podman_cmd run --rm "${run_opts[@]}" --security-opt seccomp="$T/profile-trace.json" --rootfs "$R" \
	/bin/basename /x/podman-metadata
expect_eq "podman run: listenerMetadata profile" podman-metadata "$out" "exit status $status"
if grep -q '"path":"/bin/basename".*"decision":"emulate"' "$OCI_LOG"; then
	pass "podman run: listenerMetadata reaches ubinfmtd (io.ubinfmt.trace=json)"
else
	fail "podman run: listenerMetadata reaches ubinfmtd (io.ubinfmt.trace=json)" "$(cat "$OCI_LOG")"
fi

# --annotation reaches the daemon: a container that may only emulate arm cannot start arm64 sh.
run podman_cmd run --rm "${run_opts[@]}" --security-opt seccomp="$T/profile.json" \
	--annotation io.ubinfmt.emulators=arm --rootfs "$R" /bin/sh -c 'uname -m'
if [ "$status" -ne 0 ] && [[ $out =~ "exec format error" ]]; then
	pass "podman run --annotation io.ubinfmt.emulators=arm: arm64 is refused (ENOEXEC)"
else
	fail "podman run --annotation io.ubinfmt.emulators=arm: arm64 is refused (ENOEXEC)" \
		"exit status $status"$'\n'"$out"
fi

# A detached container, `podman exec` into it, status and trace of its sandbox.
name="ubinfmt-$TEST_NAME-$$"
OCI_CONTAINERS+=("rt_podman $name")
run podman_cmd run -d --name "$name" "${run_opts[@]}" --security-opt seccomp="$T/profile.json" \
	--rootfs "$R" /bin/sleep 120
id=$out
if [ "$status" -eq 0 ] && [[ $id =~ ^[0-9a-f]{64}$ ]]; then
	pass "podman run -d: long-running container starts"
	if wait_field "$id" emulated 1; then
		pass "podman run -d: a sandbox for the container id, its first exec emulated"
	else
		fail "podman run -d: a sandbox for the container id, its first exec emulated" \
			"emulated: $field_value"$'\n'"$("$UBINFMT" status --control "$OCI_CONTROL" 2>&1)"
	fi
	start_trace "$T/trace.txt"
	run podman_cmd exec "$name" /bin/sh -c 'uname -m; /bin/basename /x/podman-exec; exit 4'
	expect_eq "podman exec: foreign commands in the running container" $'aarch64\npodman-exec' "$out"
	expect_eq "podman exec: exit status comes back" 4 "$status"
	if wait_grep "$T/trace.txt" "path='/bin/basename'.*arch=aarch64.*decision=emulate"; then
		pass "trace: shows the podman exec"
	else
		fail "trace: shows the podman exec" "$(cat "$T/trace.txt")"
	fi
	n=$(grep -c 'decision=emulate' "$T/trace.txt")
	expect_eq "status: counts the container's emulated execs" "$((1 + n))" "$(sandbox_field "$id" emulated)" \
		"$(cat "$T/trace.txt")"
	check "podman rm -f" podman_cmd rm -f -t 0 "$name"
	if wait_field "$id" emulated none; then
		pass "podman rm: the sandbox goes with the container"
	else
		fail "podman rm: the sandbox goes with the container" "$("$UBINFMT" status --control "$OCI_CONTROL" 2>&1)"
	fi
else
	fail "podman run -d: long-running container starts" "exit status $status"$'\n'"$out"
fi
daemon_alive "ubinfmtd still running"
finish
