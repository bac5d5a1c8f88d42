#!/usr/bin/env bash
# ubinfmt-runtime, the OCI runtime shim, in front of the real runc and crun with ubinfmtd as
# the seccomp agent (oci_lib.sh): bundles as engines write them, with no seccomp section at all
# (runc spec, --privileged), with Docker 20.10's default profile and with podman 4.3's (both
# captured on this kind of machine: tests/unit/data/runtime), and no listenerPath written by
# anyone but the shim.
#
#  - run: the arm64 pipeline prints aarch64, nested execs work, the exit status comes back; the
#    bundle's config.json sends execve/execveat (once each) to ubinfmtd;
#  - create, start, state, exec, kill, delete pass through;
#  - mode auto: a native bundle is left byte for byte, an arm64 one rewritten;
#    io.ubinfmt.enable=false leaves a bundle alone;
#  - a profile that already has another agent's listenerPath is refused with a clear message;
#  - installed as "runc" first on PATH (symlink, hard link), it finds the real runc; alone on
#    PATH it says so;
#  - crun through the shim (in a private mount namespace on hybrid-cgroup hosts), and ubinfmtd's
#    line for a crun that fails before its container exists;
#  - ubinfmtd down: one line on stderr and in the runtime's --log (JSON), exit 1; with
#    fallback=native the container runs without emulation and a foreign exec gets ENOEXEC.
# shellcheck disable=SC2154,SC2076 # status and out are set by lib.sh's run; quoted =~ is literal on purpose
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=SCRIPTDIR/oci_lib.sh
source "$(dirname "$0")/oci_lib.sh"

UBINFMT_RUNTIME=${UBINFMT_RUNTIME:-$(dirname "$UBINFMT")/ubinfmt-runtime}
DATA=$REPO/tests/unit/data/runtime

need_oci_base
need_exectest
need_cmd runc python3 timeout cmp
[ -x "$UBINFMT_RUNTIME" ] || skip "no ubinfmt-runtime at $UBINFMT_RUNTIME (build it first)"
oci_probe rt_runc
start_daemon

# The shim's configuration: a file, as an operator writes it (env overrides are checked too).
cat >"$T/runtime.conf" <<EOF
# written by t_runtime.sh
runtime = runc
socket = $OCI_SOCK
EOF
export UBINFMT_RUNTIME_CONFIG=$T/runtime.conf

# rt_shim ARG…: the shim in front of runc, with runc's state under $T.
rt_shim() {
	timeout -k 5 "$UBINFMT_OCI_TIMEOUT" "$UBINFMT_RUNTIME" --root "$T/runc-state" "$@"
}

# plain_bundle DIR ROOTFS ARGS_JSON [PROFILE [ANNOTATIONS_JSON]]: a bundle from `runc spec` with
# no seccomp section, or PROFILE's (a captured config.json: its linux.seccomp, or a file holding
# a seccomp section itself).
plain_bundle() {
	local dir=$1 rootfs=$2 args=$3 profile=${4:-} annotations=${5:-"{}"}
	mkdir -p "$dir" && runc spec --bundle "$dir" || return 1
	python3 - "$dir/config.json" "$rootfs" "$args" "$profile" "$annotations" <<'PY'
import json, sys
p, rootfs, args, profile, annotations = sys.argv[1:]
c = json.load(open(p))
c["root"]["path"] = rootfs
c["process"]["terminal"] = False
c["process"]["args"] = json.loads(args)
c["linux"].pop("seccomp", None)
if profile:
    prof = json.load(open(profile))
    c["linux"]["seccomp"] = prof["linux"]["seccomp"] if "linux" in prof else prof
if json.loads(annotations):
    c["annotations"] = json.loads(annotations)
json.dump(c, open(p, "w"), indent=1)
PY
}

# served_by_shim LABEL CONFIG: execve and execveat once each, in the notify rule, listenerPath
# ours, the annotation set, every other rule as before (BEFORE: the config.json before).
served_by_shim() {
	local label=$1 config=$2 before=$3 verdict
	verdict=$(python3 - "$config" "$before" "$OCI_SOCK" <<'PY'
import json, sys
c, b, sock = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
s = c["linux"]["seccomp"]
bad = []
for name in ("execve", "execveat"):
    rules = [r for r in s["syscalls"] if name in r.get("names", [])]
    if len(rules) != 1 or rules[0]["action"] != "SCMP_ACT_NOTIFY":
        bad.append("%s in %s" % (name, [r["action"] for r in rules]))
if s.get("listenerPath") != sock:
    bad.append("listenerPath %r" % s.get("listenerPath"))
if c.get("annotations", {}).get("io.ubinfmt.runtime") != "rewritten":
    bad.append("no annotation")
bs = b["linux"].get("seccomp")
if bs:
    for k in bs:
        if k != "syscalls" and bs[k] != s.get(k):
            bad.append("%s changed" % k)
    strip = lambda r: dict(r, names=[n for n in r["names"] if n not in ("execve", "execveat")])
    want = [strip(r) for r in bs["syscalls"]]
    want = [r for r in want if r["names"] or r["action"] != "SCMP_ACT_ALLOW"]
    if want != s["syscalls"][:-1]:
        bad.append("other rules changed")
for k in c:
    if k not in ("linux", "annotations") and c[k] != b[k]:
        bad.append("%s changed" % k)
print("; ".join(bad) or "ok")
PY
)
	expect_eq "$label" ok "$verdict"
}

R=$(make_rootfs busybox-arm64) || skip "cannot copy the arm64 rootfs"
N=$(make_rootfs busybox-amd64) || skip "cannot copy the amd64 rootfs"
{ mkdir -p "$N/f" && cp "$(busybox arm64)" "$N/f/busybox"; } || skip "cannot copy the arm64 busybox"
pipeline_args=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' /bin/sh -c "$PIPELINE")
id_base="ubinfmt-rt-$$"

# ---- run: no seccomp section, Docker's default profile, podman's --------------------------------
for profile in none docker-20.10-default podman-4.3-default; do
	b=$T/b-$profile id=$id_base-$profile
	p=$DATA/$profile.json
	[ "$profile" = none ] && p=
	plain_bundle "$b" "$R" "$pipeline_args" "$p" >/dev/null || { fail "write the $profile bundle"; continue; }
	cp "$b/config.json" "$T/before.json"
	OCI_CONTAINERS+=("rt_runc $id")
	check_pipeline "run ($profile profile): arm64 pipeline with nested execs, exit status 7" "$R" \
		rt_shim run --bundle "$b" "$id"
	served_by_shim "run ($profile profile): config.json sends execve/execveat to ubinfmtd, the rest as it was" \
		"$b/config.json" "$T/before.json"
	if grep -q "container '$id' (creating" "$OCI_LOG"; then
		pass "run ($profile profile): ubinfmtd served the container, with its options (no refused annotation)"
	else
		fail "run ($profile profile): ubinfmtd served the container" "$(tail -n 20 "$OCI_LOG")"
	fi
	rt_runc delete -f "$id" >/dev/null 2>&1
done
if grep -q "unknown key 'io.ubinfmt" "$OCI_LOG"; then
	fail "ubinfmtd takes the shim's annotations as its own" "$(grep "unknown key" "$OCI_LOG")"
else
	pass "ubinfmtd does not refuse the shim's annotations"
fi

# ---- the other commands pass through ----------------------------------------------------------
b=$T/b-sleep id=$id_base-sleep
plain_bundle "$b" "$R" '["/bin/sleep", "120"]' "$DATA/docker-20.10-default.json" >/dev/null
OCI_CONTAINERS+=("rt_runc $id")
check "create: through the shim" rt_shim create --bundle "$b" "$id" </dev/null
cp "$b/config.json" "$T/created.json"
run rt_shim state "$id"
expect_match "state: passes through (created)" '"status": "created"' "$out"
check "start: passes through" rt_shim start "$id"
run rt_shim state "$id"
expect_match "state: running" '"status": "running"' "$out"
before=$(sandbox_field "$id" emulated)
run rt_shim exec "$id" /bin/sh -c 'uname -m; sh -c "exit 4"; echo nested $?; exit 5'
expect_eq "exec: foreign commands in the running container" $'aarch64\nnested 4' "$out"
expect_eq "exec: exit status" 5 "$status"
n=$(sandbox_field "$id" emulated)
if [[ $before =~ ^[0-9]+$ && $n =~ ^[0-9]+$ ]] && [ "$n" -gt "$before" ]; then
	pass "exec: ubinfmtd served the exec in the container's sandbox ($before, then $n emulated execs)"
else
	fail "exec: ubinfmtd served the exec in the container's sandbox" "emulated: $before, then $n"
fi
check "kill: passes through" rt_shim kill "$id" KILL
for ((i = 0; i < 50; i++)); do
	rt_shim state "$id" 2>/dev/null | grep '"status": "stopped"' >/dev/null && break
	sleep 0.1
done
run rt_shim state "$id"
expect_match "state: stopped after kill" '"status": "stopped"' "$out"
check "delete: passes through" rt_shim delete "$id"
expect_status "state: gone after delete" 1 rt_runc state "$id"
if cmp -s "$b/config.json" "$T/created.json"; then
	pass "start, exec, kill and delete leave config.json alone"
else
	fail "start, exec, kill and delete leave config.json alone"
fi
run rt_shim --version
expect_match "--version: the real runtime's" '^runc version' "$out"

# ---- mode auto, io.ubinfmt.enable -----------------------------------------------------------------
b=$T/b-native id=$id_base-native
plain_bundle "$b" "$N" '["/bin/sh", "-c", "echo native; uname -m"]' "$DATA/podman-4.3-default.json" >/dev/null
cp "$b/config.json" "$T/native.json"
OCI_CONTAINERS+=("rt_runc $id")
UBINFMT_RUNTIME_MODE=auto run rt_shim run --bundle "$b" "$id"
expect_eq "mode auto: a native image runs" $'native\nx86_64' "$out" "exit status $status"
if cmp -s "$b/config.json" "$T/native.json"; then
	pass "mode auto: a native image's config.json is left byte for byte"
else
	fail "mode auto: a native image's config.json is left byte for byte" "$(diff "$T/native.json" "$b/config.json" | head)"
fi
rt_runc delete -f "$id" >/dev/null 2>&1

b=$T/b-auto id=$id_base-auto
plain_bundle "$b" "$R" '["/bin/sh", "-c", "uname -m"]' "$DATA/docker-20.10-default.json" >/dev/null
cp "$b/config.json" "$T/before.json"
OCI_CONTAINERS+=("rt_runc $id")
UBINFMT_RUNTIME_MODE=auto run rt_shim run --bundle "$b" "$id"
expect_eq "mode auto: an arm64 image runs under ubinfmtd" aarch64 "$out" "exit status $status"
served_by_shim "mode auto: an arm64 image's config.json is rewritten" "$b/config.json" "$T/before.json"
rt_runc delete -f "$id" >/dev/null 2>&1

# The entrypoint decides even when /bin/sh is native: an arm64 program in the amd64 image.
b=$T/b-auto-entry id=$id_base-auto-entry
plain_bundle "$b" "$N" '["busybox", "uname", "-m"]' >/dev/null
python3 - "$b/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["env"] = ["PATH=/f:/bin"]
json.dump(c, open(sys.argv[1], "w"))
PY
OCI_CONTAINERS+=("rt_runc $id")
UBINFMT_RUNTIME_MODE=auto run rt_shim run --bundle "$b" "$id"
expect_eq "mode auto: a foreign entrypoint found on process.env's PATH" aarch64 "$out" "exit status $status"
rt_runc delete -f "$id" >/dev/null 2>&1

b=$T/b-disabled id=$id_base-disabled
plain_bundle "$b" "$R" '["/bin/sh", "-c", "uname -m"]' "" '{"io.ubinfmt.enable": "false"}' >/dev/null
cp "$b/config.json" "$T/disabled.json"
OCI_CONTAINERS+=("rt_runc $id")
run rt_shim run --bundle "$b" "$id"
if [ "$status" -ne 0 ] && [[ $out =~ "exec format error" ]] && cmp -s "$b/config.json" "$T/disabled.json"; then
	pass "io.ubinfmt.enable=false: the bundle is left alone (arm64: exec format error)"
else
	fail "io.ubinfmt.enable=false: the bundle is left alone (arm64: exec format error)" \
		"exit status $status"$'\n'"$out"$'\n'"$(diff "$T/disabled.json" "$b/config.json" | head)"
fi
rt_runc delete -f "$id" >/dev/null 2>&1
UBINFMT_RUNTIME_MODE=auto run rt_shim run --bundle "$b" "$id"
expect_match "io.ubinfmt.enable=false: also in mode auto" "exec format error" "$out"
rt_runc delete -f "$id" >/dev/null 2>&1
b=$T/b-never id=$id_base-never
plain_bundle "$b" "$R" '["/bin/sh", "-c", "uname -m"]' >/dev/null
cp "$b/config.json" "$T/never.json"
OCI_CONTAINERS+=("rt_runc $id")
UBINFMT_RUNTIME_MODE=never run rt_shim run --bundle "$b" "$id"
if [[ $out =~ "exec format error" ]] && cmp -s "$b/config.json" "$T/never.json"; then
	pass "mode never: the bundle is left alone (arm64: exec format error)"
else
	fail "mode never: the bundle is left alone (arm64: exec format error)" "exit status $status"$'\n'"$out"
fi
rt_runc delete -f "$id" >/dev/null 2>&1

# ---- another agent's listenerPath -------------------------------------------------------------
b=$T/b-other id=$id_base-other
plain_bundle "$b" "$R" '["/bin/true"]' >/dev/null
python3 - "$b/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/other-agent.sock",
                         "syscalls": [{"names": ["openat"], "action": "SCMP_ACT_NOTIFY"}]}
json.dump(c, open(sys.argv[1], "w"))
PY
cp "$b/config.json" "$T/other.json"
OCI_CONTAINERS+=("rt_runc $id")
run rt_shim run --bundle "$b" "$id"
if [ "$status" -eq 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] &&
	[[ $out =~ "another agent (listenerPath '/run/other-agent.sock')" ]] && cmp -s "$b/config.json" "$T/other.json"; then
	pass "another agent's listenerPath: refused in one line, config.json untouched"
else
	fail "another agent's listenerPath: refused in one line, config.json untouched" "exit status $status"$'\n'"$out"
fi
expect_status "another agent's listenerPath: the real runtime never ran" 1 rt_runc state "$id"

# ---- installed as runc first on PATH -----------------------------------------------------------
mkdir -p "$T/libexec" "$T/hard"
ln -s "$UBINFMT_RUNTIME" "$T/libexec/runc"
hard_ok=0
ln "$UBINFMT_RUNTIME" "$T/hard/runc" 2>/dev/null && hard_ok=1
for how in symlink hardlink; do
	dir=$T/libexec
	if [ "$how" = hardlink ]; then
		[ "$hard_ok" = 1 ] || { skip_check "as runc (hard link)" "$T is on another file system than the build"; continue; }
		dir=$T/hard
	fi
	b=$T/b-as-runc-$how id=$id_base-as-runc-$how
	plain_bundle "$b" "$R" '["/bin/sh", "-c", "uname -m"]' >/dev/null
	OCI_CONTAINERS+=("rt_runc $id")
	# Only the runtime's name changes, as for BuildKit inside dockerd.
	run env -u UBINFMT_RUNTIME_REAL PATH="$dir:$PATH" timeout -k 5 "$UBINFMT_OCI_TIMEOUT" \
		runc --root "$T/runc-state" run --bundle "$b" "$id"
	expect_eq "as runc first on PATH ($how): finds the real runc, the container runs under ubinfmtd" aarch64 "$out" \
		"exit status $status"
	rt_runc delete -f "$id" >/dev/null 2>&1
done
run env PATH="$T/libexec" "$T/libexec/runc" --version
if [ "$status" -eq 1 ] && [[ $out =~ "the real runtime 'runc' found on PATH is ubinfmt-runtime itself" ]]; then
	pass "alone on PATH as runc: says it only finds itself"
else
	fail "alone on PATH as runc: says it only finds itself" "exit status $status"$'\n'"$out"
fi

# ---- crun through the shim ------------------------------------------------------------------
# crun 1.8.1 refuses hybrid cgroups outside a private mount namespace without .../unified.
shim_crun() {
	if [ "$CRUN_PRIVATE_NS" = 1 ]; then
		# shellcheck disable=SC2016 # expanded by the inner shell
		UBINFMT_RUNTIME_REAL=crun timeout -k 5 "$UBINFMT_OCI_TIMEOUT" unshare -m --propagation private sh -c \
			'umount /sys/fs/cgroup/unified || exit 125; s=$0 r=$1; shift; exec "$s" --root "$r" "$@"' \
			"$UBINFMT_RUNTIME" "$T/crun-state" "$@"
	else
		UBINFMT_RUNTIME_REAL=crun timeout -k 5 "$UBINFMT_OCI_TIMEOUT" "$UBINFMT_RUNTIME" --root "$T/crun-state" "$@"
	fi
}
if command -v crun >/dev/null 2>&1; then
	if hybrid_cgroups && command -v unshare >/dev/null 2>&1; then
		# First outside the private namespace: crun connects to ubinfmtd, then fails on the
		# cgroups before its container exists.
		b=$T/b-crun-fail
		plain_bundle "$b" "$R" '["/bin/true"]' >/dev/null
		OCI_CONTAINERS+=("rt_crun $id_base-crun-fail")
		run env UBINFMT_RUNTIME_REAL=crun timeout -k 5 "$UBINFMT_OCI_TIMEOUT" "$UBINFMT_RUNTIME" \
			--root "$T/crun-state" run --bundle "$b" "$id_base-crun-fail"
		# crun's own error is the one line the user needs; the daemon says nothing above debug.
		if [ "$status" -ne 0 ] && [ -n "$out" ] && ! grep -q "$id_base-crun-fail" "$OCI_LOG"; then
			pass "a crun that fails before its container exists: its own error, no word from ubinfmtd"
		else
			fail "a crun that fails before its container exists: its own error, no word from ubinfmtd" \
				"exit status $status: $out"$'\n'"$(tail -n 5 "$OCI_LOG")"
		fi
		if grep -q "gets no emulation" "$OCI_LOG"; then
			fail "ubinfmtd: no 'gets no emulation' for a container that never ran" "$(grep "no emulation" "$OCI_LOG")"
		else
			pass "ubinfmtd: no 'gets no emulation' for a container that never ran"
		fi
		CRUN_PRIVATE_NS=1
	fi
	b=$T/b-crun-probe
	plain_bundle "$b" "$N" '["/bin/true"]' >/dev/null
	python3 - "$b/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["annotations"] = {"io.ubinfmt.enable": "false"}
json.dump(c, open(sys.argv[1], "w"))
PY
	OCI_CONTAINERS+=("rt_crun $id_base-crun-probe")
	run shim_crun run --bundle "$b" "$id_base-crun-probe"
	if [ "$status" -ne 0 ]; then
		skip_check "crun through the shim" "crun cannot start even a plain native container here: $out"
	else
		b=$T/b-crun id=$id_base-crun
		plain_bundle "$b" "$R" "$pipeline_args" "$DATA/podman-4.3-default.json" >/dev/null
		OCI_CONTAINERS+=("rt_crun $id")
		check_pipeline "crun through the shim (podman's profile): arm64 pipeline, exit status 7" "$R" \
			shim_crun run --bundle "$b" "$id"
		shim_crun delete -f "$id" >/dev/null 2>&1
		b=$T/b-crun-sleep id=$id_base-crun-sleep
		plain_bundle "$b" "$R" '["/bin/sleep", "120"]' >/dev/null
		OCI_CONTAINERS+=("rt_crun $id")
		check "crun run -d through the shim" shim_crun run -d --bundle "$b" "$id" </dev/null
		run shim_crun exec "$id" /bin/sh -c 'uname -m; exit 6'
		expect_eq "crun exec through the shim: foreign command" aarch64 "$out"
		expect_eq "crun exec through the shim: exit status" 6 "$status"
		check "crun delete -f through the shim" shim_crun delete -f "$id"
	fi
else
	skip_check "crun through the shim" "crun is not installed"
fi

# ---- ubinfmtd down ----------------------------------------------------------------------------
kill "$OCI_DAEMON_PID" 2>/dev/null
wait "$OCI_DAEMON_PID" 2>/dev/null
OCI_DAEMON_PID=
b=$T/b-down id=$id_base-down
plain_bundle "$b" "$R" '["/bin/sh", "-c", "uname -m"]' "$DATA/docker-20.10-default.json" >/dev/null
cp "$b/config.json" "$T/down.json"
OCI_CONTAINERS+=("rt_runc $id")
: >"$T/log.json"
run rt_shim --log "$T/log.json" --log-format json run --bundle "$b" "$id"
want="ubinfmtd is not running: its socket $OCI_SOCK is missing. Start it (systemctl start ubinfmtd.socket, or run ubinfmtd), or set 'fallback = native' in $T/runtime.conf to run containers without emulation"
expect_eq "ubinfmtd down: exit status 1" 1 "$status" "$out"
expect_match "ubinfmtd down: one line on stderr naming the socket and how to start ubinfmtd" \
	"^ubinfmt-runtime\[[0-9]+\] error: $(printf '%s' "$want" | sed 's/[][().*+?{}|^$\\]/\\&/g')\$" "$out"
run python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
d = json.loads(lines[-1])
print(len(lines), d["level"], d["msg"], sorted(d))' "$T/log.json"
expect_eq "ubinfmtd down: the same line in runc's --log, as runc writes it (JSON)" \
	"1 error ubinfmt-runtime: $want ['level', 'msg', 'time']" "$out"
if cmp -s "$b/config.json" "$T/down.json"; then
	pass "ubinfmtd down: config.json untouched"
else
	fail "ubinfmtd down: config.json untouched"
fi
: >"$T/log.txt"
run rt_shim --log "$T/log.txt" run --bundle "$b" "$id"
expect_match "ubinfmtd down: runc's text log format without --log-format" \
	'^time="[0-9T:-]+Z" level=error msg="ubinfmt-runtime: ubinfmtd is not running: ' "$(cat "$T/log.txt")"

# fallback = native: a native container runs; its foreign exec gets the kernel's ENOEXEC.
b=$T/b-fallback id=$id_base-fallback
plain_bundle "$b" "$N" '["/bin/exectest", "errno", "/f/busybox", "busybox", "uname", "-m"]' \
	"$DATA/podman-4.3-default.json" >/dev/null
cp "$b/config.json" "$T/fallback.json"
OCI_CONTAINERS+=("rt_runc $id")
UBINFMT_RUNTIME_FALLBACK=native run rt_shim run --bundle "$b" "$id"
if [ "$status" -eq 0 ] && [[ $out =~ "errno ENOEXEC" ]] &&
	[[ $out =~ "warning: ubinfmtd is not running (its socket $OCI_SOCK is missing): the container runs without emulation" ]] &&
	cmp -s "$b/config.json" "$T/fallback.json"; then
	pass "fallback = native: a warning, the container runs unmodified, a foreign exec gets ENOEXEC"
else
	fail "fallback = native: a warning, the container runs unmodified, a foreign exec gets ENOEXEC" \
		"exit status $status"$'\n'"$out"
fi
rt_runc delete -f "$id" >/dev/null 2>&1
echo "fallback = native" >>"$T/runtime.conf"
run rt_shim run --bundle "$b" "$id"
expect_match "fallback = native from runtime.conf" "errno ENOEXEC" "$out"
rt_runc delete -f "$id" >/dev/null 2>&1
echo "fallbak = native" >>"$T/runtime.conf"
run rt_shim state "$id"
expect_eq "a typo in runtime.conf: one line naming the file, line and key" \
	"ubinfmt-runtime[X] error: bad configuration: $T/runtime.conf:5: unknown key 'fallbak' (known: runtime, socket, mode, fallback, metadata)" \
	"$(printf '%s\n' "$out" | sed 's/\[[0-9]*\]/[X]/')"
finish
