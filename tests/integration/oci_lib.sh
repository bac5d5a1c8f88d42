# shellcheck shell=bash
# shellcheck disable=SC2154 # status and out are set by lib.sh's run
# Helpers for the tests that run real OCI runtimes (runc, crun, podman) against ubinfmtd as their
# seccomp agent (linux.seccomp.listenerPath).  Sourced after lib.sh.
#
# Everything lives under the test's $T: the daemon's sockets and log, the runtimes' state
# (`--root`), podman's storage; the exit trap deletes every container the test created, stops
# what it started (by pid) and removes the cgroups it named, before lib.sh's own clean-up.
#
# Environment: UBINFMTD, the daemon (default: beside $UBINFMT).

UBINFMTD=${UBINFMTD:-$(dirname "$UBINFMT")/ubinfmtd}
UBINFMT_OCI_TIMEOUT=${UBINFMT_OCI_TIMEOUT:-60}

# What every OCI runtime test needs besides its runtime: root, the real ubinfmt and ubinfmtd,
# the arm64 and amd64 busybox rootfs, qemu for arm64.
need_oci_base() {
	need_root
	need_real_ubinfmt
	need_ubinfmtd
	need_fixtures
	need_rootfs busybox-arm64 busybox-amd64
	need_qemu arm64
}

OCI_DAEMON_PID=
OCI_SOCK=$T/oci.sock
OCI_CONTROL=$T/control.sock
OCI_AGENT=$T/agent.sock
OCI_LOG=$T/daemon.log
OCI_BG_PIDS=()      # background helpers (ubinfmt trace, runtime execs) to stop at exit
OCI_CONTAINERS=()   # "RUNTIME ID" pairs to delete at exit (RUNTIME: a function below)
OCI_CGROUPS=()      # cgroup names (under every hierarchy) to remove at exit

oci_cleanup() {
	local c pid d name
	for c in "${OCI_CONTAINERS[@]}"; do
		"${c%% *}" delete -f "${c#* }" >/dev/null 2>&1
	done
	for pid in "${OCI_BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	if [ -n "$OCI_DAEMON_PID" ]; then
		kill "$OCI_DAEMON_PID" 2>/dev/null
		wait "$OCI_DAEMON_PID" 2>/dev/null
	fi
	for name in "${OCI_CGROUPS[@]}"; do
		for d in /sys/fs/cgroup/*/"$name" /sys/fs/cgroup/"$name"; do
			[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
		done
	done
	lib_cleanup
}
trap oci_cleanup EXIT

# ---- the daemon -----------------------------------------------------------------------------

need_ubinfmtd() {
	[ -x "$UBINFMTD" ] || skip "no ubinfmtd binary at $UBINFMTD (build it first)"
}

# start_daemon [ARG…]: ubinfmtd on this test's sockets, logging to $OCI_LOG; waits until its
# control socket answers.  Fails the test when it does not come up.
start_daemon() {
	local i
	"$UBINFMTD" --socket "$OCI_AGENT" --oci-socket "$OCI_SOCK" --control "$OCI_CONTROL" -v "$@" \
		>"$OCI_LOG" 2>&1 &
	OCI_DAEMON_PID=$!
	for ((i = 0; i < 50; i++)); do
		if "$UBINFMT" status --control "$OCI_CONTROL" >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$OCI_DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	fail "ubinfmtd starts" "$(cat "$OCI_LOG")"
	finish
}

# daemon_alive NAME: a check that the daemon is still running.
daemon_alive() {
	if kill -0 "$OCI_DAEMON_PID" 2>/dev/null; then
		pass "$1"
	else
		fail "$1" "ubinfmtd (pid $OCI_DAEMON_PID) is gone; its log:"$'\n'"$(cat "$OCI_LOG")"
	fi
}

# sandbox_field ID FIELD: FIELD (listeners, emulated, failed, native, kernel…) of sandbox ID in
# `ubinfmt status --json`, or "none" when there is no such sandbox.  Ids longer than the
# daemon's limit are matched by prefix.
sandbox_field() {
	"$UBINFMT" status --json --control "$OCI_CONTROL" 2>&1 | python3 -c '
import json, sys
want, field = sys.argv[1], sys.argv[2]
text = sys.stdin.read()
try:
    entries = json.loads(text)
except ValueError:
    print("bad-json: " + text.replace("\n", " ")); sys.exit(0)
hits = [e for e in entries if e["id"] == want or (len(e["id"]) >= 16 and want.startswith(e["id"]))]
print(hits[0][field] if hits else "none")' "$1" "$2"
}

# wait_field ID FIELD WANT [SECONDS]: waits until sandbox_field ID FIELD prints WANT; leaves the
# last value in $field_value.  Returns 1 on timeout.
field_value=
wait_field() {
	local i n=$((${4:-5} * 10))
	for ((i = 0; i < n; i++)); do
		field_value=$(sandbox_field "$1" "$2")
		[ "$field_value" = "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

# start_trace FILE [ARG…]: `ubinfmt trace ARG…` in the background into FILE, tracing once it
# returns (stopped at exit with the other tracked pids).
start_trace() {
	local file=$1
	shift
	trace_start "$file" --control "$OCI_CONTROL" "$@" || fail "ubinfmt trace $* starts tracing"
}

# wait_grep FILE REGEX [SECONDS]: waits until a line of FILE matches REGEX (grep -E).
wait_grep() {
	local i n=$((${3:-5} * 10))
	for ((i = 0; i < n; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ---- bundles --------------------------------------------------------------------------------

# The seccomp section that hands execve/execveat to ubinfmtd.  No "architectures": runc 1.1.5,
# crun 1.8.1 and podman 4.3.1 then filter the native ABI (and runc/libseccomp add x32/i386 on an
# x86-64 host), which is all ubinfmt needs.
# seccomp_json [METADATA]
seccomp_json() {
	python3 -c '
import json, sys
s = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": sys.argv[1],
     "syscalls": [{"names": ["execve", "execveat"], "action": "SCMP_ACT_NOTIFY"}]}
if len(sys.argv) > 2:
    s["listenerMetadata"] = sys.argv[2]
print(json.dumps(s, indent=1))' "$OCI_SOCK" "$@"
}

# make_bundle DIR ROOTFS ARGS_JSON [ANNOTATIONS_JSON [METADATA]]: an OCI bundle at DIR from
# `runc spec`, with ROOTFS (a directory, used in place) as its root, ARGS_JSON (a JSON array) as
# the process, no terminal, and the seccomp section above.
make_bundle() {
	local dir=$1 rootfs=$2 args=$3 annotations=${4:-"{}"} metadata_args=("${@:5}")
	mkdir -p "$dir" || return 1
	runc spec --bundle "$dir" || return 1
	seccomp_json "${metadata_args[@]}" >"$dir/seccomp.json" || return 1
	python3 - "$dir" "$rootfs" "$args" "$annotations" <<'PY'
import json, sys
d, rootfs, args, annotations = sys.argv[1:]
p = d + "/config.json"
c = json.load(open(p))
c["root"]["path"] = rootfs
c["process"]["terminal"] = False
c["process"]["args"] = json.loads(args)
ann = json.loads(annotations)
if ann:
    c["annotations"] = ann
c["linux"]["seccomp"] = json.load(open(d + "/seccomp.json"))
json.dump(c, open(p, "w"), indent=1)
PY
}

# ---- runtimes -------------------------------------------------------------------------------
# Each runtime is a function taking the runtime's own arguments, with its state under $T and a
# time limit.

rt_runc() {
	timeout -k 5 "$UBINFMT_OCI_TIMEOUT" runc --root "$T/runc-state" "$@"
}

# crun 1.8.1 refuses hybrid cgroups (v1 controllers plus a cgroup2 at /sys/fs/cgroup/unified):
# there it runs in a private mount namespace of its own with that cgroup2 unmounted; the host's
# mounts are untouched.
CRUN_PRIVATE_NS=0
rt_crun() {
	if [ "$CRUN_PRIVATE_NS" = 1 ]; then
		# shellcheck disable=SC2016 # expanded by the inner shell
		timeout -k 5 "$UBINFMT_OCI_TIMEOUT" unshare -m --propagation private sh -c \
			'umount /sys/fs/cgroup/unified || exit 125; exec crun --root "$0" "$@"' "$T/crun-state" "$@"
	else
		timeout -k 5 "$UBINFMT_OCI_TIMEOUT" crun --root "$T/crun-state" "$@"
	fi
}

# Whether this host has hybrid cgroups (cgroup v1 controllers and a cgroup2 at .../unified).
hybrid_cgroups() {
	[ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" != cgroup2fs ] &&
		[ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]
}

# ---- the checks every runtime gets ----------------------------------------------------------

PIPELINE='uname -m; ls / | wc -l; sh -c "exit 3"; echo $?; exit 7'

# check_pipeline LABEL ROOTFS CMD…: CMD runs the arm64 busybox in ROOTFS with PIPELINE: it must
# print aarch64, the number of entries in / and 3, and exit with 7.
check_pipeline() {
	local label=$1 rootfs=$2 entries lines=()
	shift 2
	run "$@"
	entries=$(ls "$rootfs" | wc -l)
	mapfile -t lines <<<"$out"
	if [[ $status -eq 7 && ${#lines[@]} -eq 3 && ${lines[0]} == aarch64 && ${lines[1]// /} == "$entries" &&
		${lines[2]} == 3 ]]; then
		pass "$label"
	else
		fail "$label" "\$ $*"$'\n'"exit status $status (want 7); want aarch64 / $entries / 3, got:"$'\n'"$out"$'\n'"ubinfmtd's log:"$'\n'"$(tail -n 20 "$OCI_LOG")"
	fi
}

# oci_probe RT: whether runtime RT can start a plain native container here at all (no seccomp,
# no ubinfmt): the amd64 busybox rootfs running /bin/true.  Skips the test with the runtime's
# own words when it cannot: then ubinfmt is not what fails.
oci_probe() {
	local rt=$1 id="ubinfmt-probe-$$" b=$T/probe
	cp -a "$FIXTURES/rootfs/busybox-amd64" "$T/probe-rootfs" || skip "cannot copy the amd64 rootfs"
	make_bundle "$b" "$T/probe-rootfs" '["/bin/true"]' >/dev/null || skip "cannot write a probe bundle"
	python3 - "$b/config.json" <<'PY' || skip "cannot edit the probe bundle"
import json, sys
c = json.load(open(sys.argv[1]))
del c["linux"]["seccomp"]
json.dump(c, open(sys.argv[1], "w"), indent=1)
PY
	OCI_CONTAINERS+=("$rt $id")
	run "$rt" run --bundle "$b" "$id" </dev/null
	[ "$status" -eq 0 ] ||
		skip "${rt#rt_} cannot start even a plain native container on this host (exit status $status): $out"
	"$rt" delete -f "$id" >/dev/null 2>&1
	rm -rf --one-file-system "$b" "$T/probe-rootfs"
}

# oci_runtime_checks RT: what every OCI runtime must do with ubinfmtd as its seccomp agent.
#  1. `RT run` of a bundle whose rootfs is the arm64 busybox tree (no qemu inside): the nested
#     foreign pipeline prints aarch64, the entries of /, 3, and RT returns the status 7;
#  2. a long-running container (`RT run -d`, the arm64 sleep) gets one sandbox, named by its id,
#     with one listener and its first exec counted as emulated;
#  3. `RT exec` into it works (output, exit status) and lands in the same sandbox: a running
#     `RT exec -d` shows as a second listener, which goes away when that process ends;
#  4. `ubinfmt trace --sandbox ID` (text) and `ubinfmt trace --json` show the execs of the running
#     container as they happen, and `ubinfmt status` counts exactly the emulated ones;
#  5. deleting the container removes its sandbox, and the daemon stays up throughout.
oci_runtime_checks() {
	local rt=$1 name=${1#rt_} R id1="ubinfmt-$TEST_NAME-$$-run" id2="ubinfmt-$TEST_NAME-$$-sleep"
	local n_emulate before

	R=$(make_rootfs busybox-arm64) || { fail "copy the arm64 rootfs"; return; }
	# Read-only root: both containers share the one copy.
	make_bundle "$T/b-run" "$R" "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' \
		/bin/sh -c "$PIPELINE")" >/dev/null || { fail "write the bundle"; return; }
	make_bundle "$T/b-sleep" "$R" '["/bin/sleep", "120"]' >/dev/null || { fail "write the bundle"; return; }

	OCI_CONTAINERS+=("$rt $id1")
	check_pipeline "$name run: arm64 pipeline with nested execs, exit status 7" "$R" \
		"$rt" run --bundle "$T/b-run" "$id1"
	if grep -q "container '$id1' (creating" "$OCI_LOG"; then
		pass "$name run: ubinfmtd served the container's listener"
	else
		fail "$name run: ubinfmtd served the container's listener" "$(cat "$OCI_LOG")"
	fi

	OCI_CONTAINERS+=("$rt $id2")
	run "$rt" run -d --bundle "$T/b-sleep" "$id2" </dev/null
	if [ "$status" -ne 0 ]; then
		fail "$name run -d: long-running container starts" "exit status $status"$'\n'"$out"$'\n'"$(cat "$OCI_LOG")"
		return
	fi
	pass "$name run -d: long-running container starts"
	if wait_field "$id2" emulated 1; then
		pass "$name run -d: one sandbox named '$id2', its first exec emulated"
	else
		fail "$name run -d: one sandbox named '$id2', its first exec emulated" \
			"emulated: $field_value"$'\n'"$("$UBINFMT" status --control "$OCI_CONTROL" 2>&1)"
	fi
	wait_field "$id2" listeners 1
	expect_eq "$name run -d: one listener" 1 "$field_value"

	start_trace "$T/trace.txt" --sandbox "$id2"
	start_trace "$T/trace-all.json" --json
	before=$(sandbox_field "$id2" emulated)
	run "$rt" exec "$id2" /bin/sh -c 'uname -m; /bin/basename /x/traced-marker'
	expect_eq "$name exec: foreign commands in the running container" $'aarch64\ntraced-marker' "$out" \
		"exit status $status"
	expect_status "$name exec: exit status comes back" 5 "$rt" exec "$id2" /bin/sh -c 'exit 5'

	if wait_grep "$T/trace.txt" "path='/bin/basename'.*arch=aarch64.*decision=emulate"; then
		pass "trace --sandbox: shows the exec in the running container"
	else
		fail "trace --sandbox: shows the exec in the running container" "$(cat "$T/trace.txt")"
	fi
	if wait_grep "$T/trace-all.json" '"path":"/bin/basename".*"decision":"emulate"'; then
		pass "trace --json: shows the exec in the running container"
	else
		fail "trace --json: shows the exec in the running container" "$(cat "$T/trace-all.json")"
	fi
	# Every emulated exec since the subscription is one trace line, and nothing else counted.
	n_emulate=$(grep -c 'decision=emulate' "$T/trace.txt")
	expect_eq "status: counts the emulated execs (one per trace line)" "$((before + n_emulate))" \
		"$(sandbox_field "$id2" emulated)" "$(cat "$T/trace.txt")"
	expect_eq "status: no failed execs" 0 "$(sandbox_field "$id2" failed)" "$(grep -E "warning|error" "$OCI_LOG" | tail -20)"

	run "$rt" exec -d "$id2" /bin/sleep 3 </dev/null
	if [ "$status" -ne 0 ]; then
		fail "$name exec -d: starts" "exit status $status"$'\n'"$out"
	elif wait_field "$id2" listeners 2; then
		pass "$name exec -d: its listener joins the container's sandbox (2 listeners)"
	else
		fail "$name exec -d: its listener joins the container's sandbox (2 listeners)" \
			"listeners: $field_value"$'\n'"$("$UBINFMT" status --control "$OCI_CONTROL" 2>&1)"
	fi
	if wait_field "$id2" listeners 1 10; then
		pass "$name exec -d: its listener goes when the exec'd process ends"
	else
		fail "$name exec -d: its listener goes when the exec'd process ends" "listeners: $field_value"
	fi

	check "$name delete -f" "$rt" delete -f "$id2"
	if wait_field "$id2" emulated none; then
		pass "$name delete: the sandbox goes with the container"
	else
		fail "$name delete: the sandbox goes with the container" "$("$UBINFMT" status --control "$OCI_CONTROL" 2>&1)"
	fi
	daemon_alive "ubinfmtd still running"
}
