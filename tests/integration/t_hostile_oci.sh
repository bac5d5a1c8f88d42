#!/usr/bin/env bash
# Hostile OCI settings (issue 9, findings 6 and 9), through real runc containers with ubinfmtd as
# their seccomp agent.
#
# 1. Emulators stay read-only whatever a container's options are.  Every emulated process runs
#    from the daemon's fd, so its /proc/PID/exe is the host's qemu: a container's root holds it,
#    lets the process end, and reopens the held fd for writing through /proc/self/fd/N (the
#    trick of CVE-2019-5736).  The daemon opens its emulators at start-up through a read-only
#    mount, so the answer must be EROFS under every option combination: none, emulators
#    narrowed by an annotation or by metadata, trace, a metadata emulator override (which used
#    to reopen the emulators after the daemon dropped CAP_SYS_ADMIN: writable), all of them
#    together, and the override through `runc exec`.  The emulator is a copy of qemu, never the
#    host's own, and it must be unchanged at the end.
# 2. Refused settings still serve the listener, with no emulation and the reason logged: a
#    5000-byte io.ubinfmt.trace, listenerMetadata over 16 KiB, 257 io.ubinfmt.* annotations, a
#    payload over 1 MiB (too large to parse: its sandbox gets a generated id), a typo.  In each
#    container a native program runs, a foreign one fails with the kernel's ENOEXEC, and the
#    daemon's log names the reason (they used to fail every exec with ENOSYS after 5 s).
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=SCRIPTDIR/oci_lib.sh
source "$(dirname "$0")/oci_lib.sh"

need_oci_base
need_exectest
need_busybox amd64 arm64
need_cmd runc python3 timeout md5sum

oci_probe rt_runc
QEMU=$(command -v qemu-aarch64-static) || skip "no qemu-aarch64-static"
EMU=$T/qemu-aarch64-copy
cp "$QEMU" "$EMU" || skip "cannot copy $QEMU"
emu_sum=$(md5sum <"$EMU")
emu_size=$(stat -c %s "$EMU")
start_daemon --emulator "aarch64=$EMU"

# The arm64 busybox rootfs, exectest in /bin, a native busybox in /e (its shell: /e/sh).
R=$(make_rootfs busybox-arm64) || skip "cannot copy the arm64 rootfs"
mkdir -p "$R/e"
{ cp "$(busybox amd64)" "$R/e/busybox" && ln -s busybox "$R/e/sh"; } || skip "cannot set up the rootfs"

# PROBE (native shell): an arm64 sleep runs under the emulator; its /proc/PID/exe is opened,
# the process killed and reaped, and the held fd reopened for writing (no write is made).
# Prints "size N" (of what it holds) and "reopen: writable" or "reopen: ERROR TEXT".
# shellcheck disable=SC2016 # expanded by the container's shell
PROBE='
/bin/busybox sleep 30 & p=$!
i=0
while [ $i -lt 1000 ]; do
	case "$(/e/busybox readlink /proc/$p/exe 2>/dev/null)" in *qemu*) break ;; esac
	/e/busybox usleep 10000
	i=$((i + 1))
done
exec 9</proc/$p/exe || exit 1
echo "size $(/e/busybox wc -c </proc/self/fd/9)"
kill $p
wait $p
if err=$( (exec 8>>/proc/self/fd/9) 2>&1 ); then echo "reopen: writable"; else echo "reopen: ${err##*: }"; fi'
probe_args=$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' /e/sh -c "$PROBE")

n_case=0
# new_bundle ARGS_JSON ANNOTATIONS_JSON METADATA: a bundle on $R; sets $bundle and $id.
new_bundle() {
	n_case=$((n_case + 1))
	id="ubinfmt-$TEST_NAME-$$-$n_case"
	bundle=$T/b$n_case
	OCI_CONTAINERS+=("rt_runc $id")
	make_bundle "$bundle" "$R" "$1" "$2" "$3" >/dev/null
}

# expect_read_only LABEL: $out is the probe's output.
expect_read_only() {
	local label=$1 ctx
	ctx="exit status $status; output:"$'\n'"$out"$'\n'"ubinfmtd's log:"$'\n'"$(tail -n 8 "$OCI_LOG")"
	if ! grep -qx "size $emu_size" <<<"$out"; then
		fail "$label: the container holds the emulator (its /proc/PID/exe)" "$ctx"
	elif grep -qx "reopen: Read-only file system" <<<"$out"; then
		pass "$label: the emulator reopens only as EROFS"
	else
		fail "$label: the emulator reopens only as EROFS" "$ctx"
	fi
}

# read_only_case LABEL ANNOTATIONS_JSON METADATA
read_only_case() {
	if ! new_bundle "$probe_args" "$2" "$3"; then
		fail "$1: write the bundle"
		return
	fi
	run rt_runc run --bundle "$bundle" "$id" </dev/null
	expect_read_only "$1"
}

read_only_case "no options" '{}' ''
read_only_case "annotation io.ubinfmt.emulators=aarch64" '{"io.ubinfmt.emulators": "aarch64"}' ''
read_only_case "metadata io.ubinfmt.emulators=aarch64,arm" '{}' 'io.ubinfmt.emulators=aarch64,arm'
read_only_case "annotation io.ubinfmt.trace=true" '{"io.ubinfmt.trace": "true"}' ''
read_only_case "metadata override io.ubinfmt.emulator.aarch64 (the daemon's own)" '{}' \
	"io.ubinfmt.emulator.aarch64=$EMU"
read_only_case "override, narrowing and trace together" \
	'{"io.ubinfmt.emulators": "aarch64", "io.ubinfmt.trace": "json"}' \
	"io.ubinfmt.emulators=aarch64,arm; io.ubinfmt.emulator.aarch64=$EMU; io.ubinfmt.trace=true"

# The same through `runc exec`, whose listener joins the running container's sandbox.  Its init
# is native: nothing else may execute the emulator, or the reopen says ETXTBSY whatever the mount.
if new_bundle '["/e/busybox", "sleep", "120"]' '{}' "io.ubinfmt.emulator.aarch64=$EMU" &&
	rt_runc run -d --bundle "$bundle" "$id" </dev/null >"$T/run-d.out" 2>&1; then
	run rt_runc exec "$id" /e/sh -c "$PROBE"
	expect_read_only "runc exec into a container with an override"
	rt_runc delete -f "$id" >/dev/null 2>&1
else
	fail "runc run -d with an override" "$(cat "$T/run-d.out" 2>/dev/null)"
fi

# ---- refused settings -------------------------------------------------------------------------

# refused_case LABEL LOG_REGEX ANNOTATIONS_JSON METADATA [BIG_ANNOTATION_BYTES]: a container
# whose settings are refused runs a native program and gets the kernel's ENOEXEC for a foreign
# one; a log line matches LOG_REGEX ("$id" in it is the container's id).  BIG_ANNOTATION_BYTES
# adds an org.example.big annotation of that size (too long for a command line).
refused_case() {
	local label=$1 regex=$2 big=${5:-0} before
	if ! new_bundle '["/e/sh", "-c", "/e/busybox echo native-ok; /bin/exectest errno /bin/busybox true 2>/dev/null"]' "$3" "$4"; then
		fail "$label: write the bundle"
		return
	fi
	if [ "$big" -gt 0 ]; then
		python3 - "$bundle/config.json" "$big" <<'PY' || { fail "$label: write the bundle"; return; }
import json, sys
c = json.load(open(sys.argv[1]))
c.setdefault("annotations", {})["org.example.big"] = "x" * int(sys.argv[2])
json.dump(c, open(sys.argv[1], "w"))
PY
	fi
	before=$(wc -l <"$OCI_LOG")
	run rt_runc run --bundle "$bundle" "$id" </dev/null
	expect_eq "$label: native runs, foreign gets the kernel's ENOEXEC" $'native-ok\nerrno ENOEXEC' "$out" \
		"exit status $status; ubinfmtd's log:"$'\n'"$(tail -n 8 "$OCI_LOG")"
	regex=${regex//\$id/$id}
	if tail -n "+$((before + 1))" "$OCI_LOG" | grep -E -- "$regex" >/dev/null; then
		pass "$label: the daemon's log says why"
	else
		fail "$label: the daemon's log says why" "want a line matching: $regex"$'\n'"$(tail -n 8 "$OCI_LOG")"
	fi
}

long_trace=$(python3 -c 'import json; print(json.dumps({"io.ubinfmt.trace": "t" * 5000}))')
long_meta="io.ubinfmt.emulators=$(python3 -c 'print(",".join(["aarch64"] * 2200))')"
many=$(python3 -c 'import json; print(json.dumps({"io.ubinfmt.x%d" % i: "" for i in range(257)}))')

refused_case "a 5000-byte io.ubinfmt.trace annotation" \
	"container '\$id': annotation 'io.ubinfmt.trace' has a value longer than 4096 bytes; its execs are left to the kernel" \
	"$long_trace" ''
refused_case "listenerMetadata of ${#long_meta} bytes" \
	"container '\$id': 'metadata' is longer than 16384 bytes; its execs are left to the kernel" '{}' "$long_meta"
refused_case "257 io.ubinfmt.* annotations" \
	"container '\$id': more than 256 io.ubinfmt.\* annotations; its execs are left to the kernel" "$many" ''
refused_case "a payload over 1 MiB (1.2 MB of an unrelated annotation)" \
	"unusable state payload \(a payload of more than 1048576 bytes\): serving its listener as sandbox 'oci-unnamed-[0-9a-f]{16}', a generated id" \
	'{}' '' 1200000
# Five times the size: the rest is read and dropped in several steps, each after the other fds.
refused_case "a payload of 5 MB" \
	"unusable state payload \(a payload of more than 1048576 bytes\): serving its listener as sandbox 'oci-unnamed-[0-9a-f]{16}', a generated id" \
	'{}' '' 5000000
refused_case "a typo in an io.ubinfmt annotation" \
	"container '\$id': annotation: unknown key 'io.ubinfmt.emulater'" '{"io.ubinfmt.emulater": "all"}' ''

# Afterwards, a container with plain settings is still emulated, and the emulator is untouched.
if new_bundle '["/bin/uname", "-m"]' '{}' ''; then
	run rt_runc run --bundle "$bundle" "$id" </dev/null
	expect_eq "a plain container afterwards: emulated" aarch64 "$out" "exit status $status"
fi
expect_eq "the emulator binary is unchanged" "$emu_sum" "$(md5sum <"$EMU")"
daemon_alive "ubinfmtd still running"
finish
