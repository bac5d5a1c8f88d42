#!/usr/bin/env bash
# containerd (1.6 in Debian 12) through ubinfmt-runtime, the OCI runtime shim: no seccomp profile
# is written by anyone, the shim adds the notify rule and ubinfmtd's socket to each bundle.
#
#  - `ctr run --runtime io.containerd.runc.v2 --runc-binary SHIM` of an arm64 image imported with
#    `ctr image import --platform linux/arm64` (an OCI archive of the arm64 busybox tree, written
#    by the test): nested foreign execs, exit status, a detached container whose bundle carries
#    the rewritten seccomp section, `ctr task exec` into it, the sandbox going with the task;
#  - the CRI plugin with a runtime handler `ubinfmt` (runtime_type io.containerd.runc.v2,
#    options.BinaryName = SHIM), the piece a Kubernetes RuntimeClass selects: containerd accepts
#    the configuration (plugin status, the CRI's own view of it), and the CRI API itself, driven
#    by cri.py over gRPC as a kubelet would (Debian 12 has no crictl), runs a pod on that handler:
#    an arm64 container with containerd's default seccomp profile (RuntimeDefault: defaultAction
#    ERRNO, an allow list), ExecSync into a running one; the same image on the default handler
#    fails with exec format error;
#  - ubinfmtd down (stopped: no socket; killed: a stale socket): `ctr run` and the CRI's
#    RunPodSandbox fail with one line naming the socket and how to start the daemon.
#
# containerd runs privately (containerd_lib.sh): its state under $T, its own mount namespace, no
# CNI (host-network pods).
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=SCRIPTDIR/oci_lib.sh
source "$(dirname "$0")/oci_lib.sh"
# shellcheck source=SCRIPTDIR/containerd_lib.sh
source "$(dirname "$0")/containerd_lib.sh"

UBINFMT_RUNTIME=${UBINFMT_RUNTIME:-$(dirname "$UBINFMT")/ubinfmt-runtime}
SHIM=$UBINFMT_RUNTIME

need_oci_base
need_containerd
need_cmd runc python3 timeout
[ -x "$SHIM" ] || skip "no ubinfmt-runtime at $SHIM (build it first)"

IMAGE=localhost/ubinfmt-arm64:test
cgparent="ubinfmt-$TEST_NAME-$$"
OCI_CGROUPS+=("$cgparent" "$cgparent-cri")
CTD_NAMESPACES+=(k8s.io)
PIPELINE_NESTED='uname -m; /bin/basename /x/nested-marker; sh -c "exit 3"; echo $?; exit 7'

# The shim's configuration: runc, this test's ubinfmtd, and listenerMetadata asking the daemon
# to trace every exec of these containers in its log (which shows the nested ones).
cat >"$T/runtime.conf" <<EOF
# ubinfmt-runtime for $TEST_NAME
runtime = runc
socket = $OCI_SOCK
metadata = io.ubinfmt.trace=true
EOF
export UBINFMT_RUNTIME_CONFIG=$T/runtime.conf

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

# expect_traced LABEL ID PATH…: ubinfmtd's log traces an emulated exec of each PATH, as many as
# it is listed, while container ID runs (its trace lines come between the daemon's lines about
# ID; the test runs one container at a time).
expect_traced() {
	local label=$1 id=$2 p missing=() section
	shift 2
	section=$(sed -n "/container '$id' (creating/,/sandbox '$id': every task is gone/p" "$OCI_LOG")
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
		fail "$label" "no emulated exec of ${missing[*]} traced for [$id]; ubinfmtd's log:"$'\n'"$(tail -n 30 "$OCI_LOG")"
	fi
}

# expect_down_line LABEL: the output of the last run has a line naming ubinfmtd's socket and
# how to start the daemon, and the command failed.
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

# The runtime handler of docs/containerd.md (its first TOML block), verbatim but for the shim's
# path; containerd_lib.sh's configuration declares runc, as that page says to.
handler=$(sed -n '/^```toml$/,/^```$/{p;/^```$/q}' "$REPO/docs/containerd.md" | sed '1d;$d' |
	sed "s|/usr/bin/ubinfmt-runtime|$SHIM|")
[[ $handler == *'runtimes.ubinfmt]'*BinaryName* ]] || skip "no runtime handler in docs/containerd.md"

start_daemon
ctd_start "$handler"

# ---- ctr ------------------------------------------------------------------------------------

make_oci_archive "$FIXTURES/rootfs/busybox-arm64" arm64 "$IMAGE" "$T/arm64.tar" ||
	skip "cannot write the OCI archive of the arm64 rootfs"
if containerd --version | grep ' 1\.6\.' >/dev/null; then
	run ctd_ctr image import "$T/arm64.tar"
	expect_match "containerd 1.6: ctr image import without --platform skips a foreign image" \
		'image might be filtered out' "$out" "exit status $status"
fi
check "ctr image import --platform linux/arm64 of an OCI archive" ctd_ctr image import --platform linux/arm64 "$T/arm64.tar"
ctr_run=(ctd_ctr run --runtime io.containerd.runc.v2 --runc-binary "$SHIM" --platform linux/arm64
	--fifo-dir "$CTD/fifo")

id="ubinfmt-ctr-$$-run"
expect_pipeline "ctr run --runc-binary SHIM: arm64 pipeline with nested execs, exit status 7" \
	"${ctr_run[@]}" --rm --cgroup "/$cgparent/$id" "$IMAGE" "$id" /bin/sh -c "$PIPELINE_NESTED"
expect_traced "ctr run: ubinfmtd emulated the nested execs (listenerMetadata from runtime.conf)" "$id" \
	/bin/sh /bin/basename /bin/sh

id="ubinfmt-ctr-$$-sleep"
run "${ctr_run[@]}" -d --null-io --cgroup "/$cgparent/$id" "$IMAGE" "$id" /bin/sleep 120
if [ "$status" -eq 0 ]; then
	pass "ctr run -d: long-running arm64 container starts"
	if wait_field "$id" emulated 1; then
		pass "ctr run -d: a sandbox named '$id', its first exec emulated"
	else
		fail "ctr run -d: a sandbox named '$id', its first exec emulated" \
			"emulated: $field_value"$'\n'"$("$UBINFMT" status --control "$OCI_CONTROL" 2>&1)"
	fi
	bundle=$CTD/state/io.containerd.runtime.v2.task/$CTD_NS/$id
	run python3 - "$bundle/config.json" "$OCI_SOCK" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
s = c["linux"]["seccomp"]
notify = [r for r in s["syscalls"] if r["action"] == "SCMP_ACT_NOTIFY"]
assert s["listenerPath"] == sys.argv[2], s.get("listenerPath")
assert [sorted(r["names"]) for r in notify] == [["execve", "execveat"]], notify
assert c["annotations"]["io.ubinfmt.runtime"] == "rewritten", c.get("annotations")
print(s["listenerPath"], s.get("listenerMetadata"))
PY
	expect_eq "ctr run -d: the shim rewrote the bundle (notify rule, listenerPath, annotation)" \
		"$OCI_SOCK io.ubinfmt.trace=true" "$out"
	before=$(sandbox_field "$id" emulated)
	run ctd_ctr task exec --fifo-dir "$CTD/fifo" --exec-id x1 "$id" /bin/sh -c 'uname -m; /bin/basename /x/exec-marker; exit 4'
	expect_eq "ctr task exec: foreign commands in the running container" $'aarch64\nexec-marker' "$out"
	expect_eq "ctr task exec: exit status comes back" 4 "$status"
	wait_field "$id" emulated "$((before + 2))"
	expect_eq "status: the exec's two emulated execs are counted in the container's sandbox" \
		"$((before + 2))" "$field_value"
	check "ctr task delete -f" ctd_ctr task delete -f "$id"
	check "ctr container delete" ctd_ctr container delete "$id"
	if wait_field "$id" emulated none; then
		pass "ctr task delete: the sandbox goes with the task"
	else
		fail "ctr task delete: the sandbox goes with the task" "$("$UBINFMT" status --control "$OCI_CONTROL" 2>&1)"
	fi
else
	fail "ctr run -d: long-running arm64 container starts" "exit status $status"$'\n'"$out"
fi

# ---- CRI ------------------------------------------------------------------------------------

run ctd_ctr plugins ls
expect_match "CRI plugin loads with the ubinfmt handler (ctr plugins ls: cri ok)" \
	$'io\\.containerd\\.grpc\\.v1[[:space:]]+cri[[:space:]]+[^\n]*[[:space:]]ok' "$out"

if have_cri_client; then
	run cri config
	config=$out
	run python3 -c '
import json, sys
r = json.loads(sys.argv[1])["containerd"]["runtimes"]["ubinfmt"]
print(r["runtimeType"], r["options"]["BinaryName"])' "$config"
	expect_eq "CRI: the handler as containerd reads it (Status, verbose)" "io.containerd.runc.v2 $SHIM" "$out" "$config"

	make_oci_archive "$FIXTURES/rootfs/busybox-amd64" amd64 "$CTD_PAUSE_IMAGE" "$T/pause.tar" \
		'["/bin/sleep", "2147483647"]' || skip "cannot write the OCI archive of the pause image"
	CTD_NS=k8s.io check "ctr -n k8s.io image import: the arm64 image" \
		ctd_ctr image import --platform linux/arm64 "$T/arm64.tar"
	CTD_NS=k8s.io check "ctr -n k8s.io image import: the pause image" ctd_ctr image import "$T/pause.tar"

	# pod_json NAME HANDLER: a pod's configuration for cri.py.
	pod_json() {
		mkdir -p "$T/pods/$1"
		printf '{"name": "%s", "uid": "%s-%s", "namespace": "default", "handler": "%s", "cgroup_parent": "/%s", "log_directory": "%s"}\n' \
			"$1" "$1" "$$" "$2" "$cgparent-cri" "$T/pods/$1" >"$T/pods/$1.json"
		echo "$T/pods/$1.json"
	}
	# cri_log POD NAME: the container's output from its CRI log ("TIME STREAM TAG TEXT" lines).
	cri_log() {
		sed -E 's/^[^ ]+ (stdout|stderr) [FP] //' "$T/pods/$1/$2.log" 2>/dev/null
	}

	pod=$(pod_json p1 ubinfmt)
	run cri runp "$pod"
	pod_id=$out
	if [ "$status" -eq 0 ]; then
		pass "CRI RunPodSandbox with runtime handler ubinfmt"
		if grep -q "container '$pod_id' (creating" "$OCI_LOG"; then
			pass "CRI: the pod's sandbox container went through the shim to ubinfmtd"
		else
			fail "CRI: the pod's sandbox container went through the shim to ubinfmtd" "$(tail -n 20 "$OCI_LOG")"
		fi
		run cri create "$pod_id" "$pod" "$IMAGE" c1 --seccomp-default /bin/sh -c "$PIPELINE_NESTED"
		c1=$out
		check "CRI CreateContainer: arm64 image, containerd's default seccomp profile" test "$status" -eq 0
		check "CRI StartContainer" cri start "$c1"
		run cri wait "$c1" 60
		expect_match "CRI: the container exits with 7" '^exited 7 ' "$out"
		expect_eq "CRI: arm64 pipeline with nested execs in the container's log" \
			$'aarch64\nnested-marker\n3' "$(cri_log p1 c1)" "$(tail -n 20 "$OCI_LOG")"
		expect_traced "CRI: ubinfmtd emulated the nested execs" "$c1" /bin/sh /bin/basename /bin/sh

		run cri create "$pod_id" "$pod" "$IMAGE" c2 /bin/sleep 120
		c2=$out
		check "CRI: a long-running arm64 container starts" cri start "$c2"
		run cri exec "$c2" /bin/sh -c 'uname -m; /bin/basename /x/execsync-marker; exit 5'
		expect_eq "CRI ExecSync: foreign commands in the running container" $'aarch64\nexecsync-marker' "$out"
		expect_eq "CRI ExecSync: exit status comes back" 5 "$status"
	else
		fail "CRI RunPodSandbox with runtime handler ubinfmt" "$out"$'\n'"$(tail -n 20 "$CTD_LOG")"
	fi

	# The same image on the default handler (plain runc): the kernel cannot run it.
	pod=$(pod_json p2 "")
	run cri runp "$pod"
	pod_id=$out
	if [ "$status" -eq 0 ]; then
		run cri create "$pod_id" "$pod" "$IMAGE" c3 /bin/sh -c 'uname -m'
		c3=$out
		run cri start "$c3"
		start_out=$out
		run cri wait "$c3" 60
		expect_match "CRI without the handler: the arm64 container fails (exec format error)" \
			'exec format error' "$start_out"$'\n'"$(cri_log p2 c3)" "$out"
	else
		fail "CRI RunPodSandbox on the default handler" "$out"
	fi

	# What containerd 1.6 lacks (docs/containerd.md): its CRI resolves an image for the host's
	# platform only, so an image whose reference is an index without a linux/amd64 entry is "not
	# found", its arm64 content in the store and unpacked or not; one manifest is not checked.
	if containerd --version | grep ' 1\.6\.' >/dev/null; then
		make_oci_index "$T/arm64.tar" localhost/ubinfmt-arm64-index:test "$T/index.tar" &&
			CTD_NS=k8s.io ctd_ctr image import --platform linux/arm64 "$T/index.tar" >/dev/null
		run cri create "$pod_id" "$pod" localhost/ubinfmt-arm64-index:test c4 /bin/sh -c 'uname -m'
		expect_match "containerd 1.6 CRI: an arm64-only index is not found (a single manifest is)" \
			'CreateContainer: NOT_FOUND' "$out"
	else
		skip_check "containerd 1.6 CRI and arm64-only indexes" "containerd is not 1.6 here: $(containerd --version)"
	fi
	check "CRI StopPodSandbox, RemovePodSandbox" cri rmp-all
else
	skip_check "CRI API: pods on the ubinfmt handler" "$(have_cri_client 2>&1)"
fi

# ---- ubinfmtd down ----------------------------------------------------------------------------

kill "$OCI_DAEMON_PID"
wait "$OCI_DAEMON_PID" 2>/dev/null
OCI_DAEMON_PID=
id="ubinfmt-ctr-$$-down"
run "${ctr_run[@]}" --rm --cgroup "/$cgparent/$id" "$IMAGE" "$id" /bin/sh -c 'uname -m'
expect_down_line "ubinfmtd stopped: ctr run fails with one line naming the socket and the fix"
ctd_ctr container delete "$id" >/dev/null 2>&1
if have_cri_client; then
	run cri runp "$(pod_json p3 ubinfmt)"
	expect_down_line "ubinfmtd stopped: CRI RunPodSandbox fails with one line naming the socket and the fix"
fi

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
id="ubinfmt-ctr-$$-stale"
run "${ctr_run[@]}" --rm --cgroup "/$cgparent/$id" "$IMAGE" "$id" /bin/sh -c 'uname -m'
expect_down_line "ubinfmtd killed (stale socket): ctr run fails with one line naming the socket and the fix"
ctd_ctr container delete "$id" >/dev/null 2>&1

# The handler alone in a configuration that declares no other runtime (as Debian's
# /etc/containerd/config.toml): the CRI plugin does not load at all (docs/containerd.md).
ctd_stop
CTD_DECLARE_RUNC=0 ctd_start "$handler"
run ctd_ctr plugins ls
expect_match "the handler without runc declared: the CRI plugin does not load" \
	$'io\\.containerd\\.grpc\\.v1[[:space:]]+cri[[:space:]]+[^\n]*[[:space:]]error' "$out"
if grep -q 'no corresponding runtime configured in `containerd.runtimes` for `containerd` `default_runtime_name = \\"runc\\"' "$CTD_LOG"; then
	pass "the handler without runc declared: containerd's log says why"
else
	fail "the handler without runc declared: containerd's log says why" "$(grep -i cri "$CTD_LOG" | tail -n 5)"
fi
finish
