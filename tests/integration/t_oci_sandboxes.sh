#!/usr/bin/env bash
# Per-container settings on one ubinfmtd, through runc: two containers run at once with
# different io.ubinfmt.emulators annotations, an arm64 one that may only emulate aarch64 and an
# armhf one that may only emulate arm, each with the other's busybox inside.  Each runs its own
# architecture, is refused the other (ENOEXEC, counted as failed), and neither sandbox sees the
# other's execs: `ubinfmt trace --sandbox` shows only its own, and `ubinfmt status` counts
# exactly what its trace shows.  Then the rules of listenerMetadata (the operator's profile)
# versus annotations (the image's author): an annotation narrows the allowed emulators but never
# widens them, and an emulator override must name an emulator the daemon already has.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=SCRIPTDIR/oci_lib.sh
source "$(dirname "$0")/oci_lib.sh"

need_oci_base
need_rootfs busybox-armhf
need_busybox arm64 armhf amd64
need_qemu armhf
need_cmd runc python3 timeout

oci_probe rt_runc
qemu_aarch64=$(command -v qemu-aarch64-static) || skip "no qemu-aarch64-static"
start_daemon --emulator "aarch64=$qemu_aarch64"

Ra=$(make_rootfs busybox-arm64) || skip "cannot copy the arm64 rootfs"
Rb=$(make_rootfs busybox-armhf) || skip "cannot copy the armhf rootfs"
cp "$(busybox armhf)" "$Ra/bb-armhf"
cp "$(busybox arm64)" "$Rb/bb-arm64"
ida="ubinfmt-$TEST_NAME-$$-a"
idb="ubinfmt-$TEST_NAME-$$-b"
make_bundle "$T/ba" "$Ra" '["/bin/sleep", "120"]' '{"io.ubinfmt.emulators": "aarch64"}' >/dev/null ||
	skip "cannot write the bundles"
make_bundle "$T/bb" "$Rb" '["/bin/sleep", "120"]' '{"io.ubinfmt.emulators": "arm"}' >/dev/null ||
	skip "cannot write the bundles"

OCI_CONTAINERS+=("rt_runc $ida" "rt_runc $idb")
check "container a (arm64, emulators=aarch64) starts" rt_runc run -d --bundle "$T/ba" "$ida" </dev/null
check "container b (armhf, emulators=arm) starts" rt_runc run -d --bundle "$T/bb" "$idb" </dev/null
wait_field "$ida" emulated 1
expect_eq "a: its own sandbox, first exec emulated" 1 "$field_value"
wait_field "$idb" emulated 1
expect_eq "b: its own sandbox, first exec emulated" 1 "$field_value"

start_trace "$T/ta" --sandbox "$ida"
start_trace "$T/tb" --sandbox "$idb"
a0=$(sandbox_field "$ida" emulated)
b0=$(sandbox_field "$idb" emulated)

# Both at once.  stdout and stderr apart: runc exec copies each through a pipe of its own with a
# goroutine of its own, so their lines interleave in any order (the refused busybox's shell
# error came before the first line or after the last one under load).
rt_runc exec "$ida" /bin/sh -c 'uname -m; /bin/basename /x/in-a; /bb-armhf uname -m; /bin/basename /x/a-done' \
	>"$T/oa" 2>"$T/ea" &
pa=$!
rt_runc exec "$idb" /bin/sh -c 'uname -m; /bin/dirname /in-b/x; /bb-arm64 uname -m; /bin/dirname /b-done/x' \
	>"$T/ob" 2>"$T/eb" &
pb=$!
wait "$pa"
wait "$pb"
oa=$(cat "$T/oa")
ob=$(cat "$T/ob")
ea=$(cat "$T/ea")
eb=$(cat "$T/eb")
expect_eq "a: runs aarch64 programs, and finishes" $'aarch64\nin-a\na-done' "$oa" "stderr: $ea"
expect_match "a: the armhf busybox is refused" "syntax error|[Ee]xec format error" "$ea"
if [[ "$oa$ea" == *armv7l* ]]; then fail "a: the armhf busybox did not run" "$oa$ea"; else pass "a: the armhf busybox did not run"; fi
expect_eq "b: runs arm programs, and finishes" $'armv7l\n/in-b\n/b-done' "$ob" "stderr: $eb"
expect_match "b: the arm64 busybox is refused" "syntax error|[Ee]xec format error" "$eb"
if [[ "$ob$eb" == *aarch64* ]]; then fail "b: the arm64 busybox did not run" "$ob$eb"; else pass "b: the arm64 busybox did not run"; fi

# The last exec of each shell is its second basename/dirname: wait for two of them.
for f in "$T/ta" "$T/tb"; do
	for ((i = 0; i < 50; i++)); do
		[ "$(grep -Ec "path='/bin/(basename|dirname)'" "$f")" -ge 2 ] && break
		sleep 0.1
	done
done
ta=$(cat "$T/ta")
tb=$(cat "$T/tb")
if grep -q "path='/bin/basename'" "$T/ta" && ! grep -q "dirname\|bb-arm64" "$T/ta"; then
	pass "trace --sandbox a: a's execs only"
else
	fail "trace --sandbox a: a's execs only" "$ta"
fi
if grep -q "path='/bin/dirname'" "$T/tb" && ! grep -q "basename\|bb-armhf" "$T/tb"; then
	pass "trace --sandbox b: b's execs only"
else
	fail "trace --sandbox b: b's execs only" "$tb"
fi
if grep -q "path='/bb-armhf'.*decision=no-emulator" "$T/ta" && ! grep 'decision=emulate' "$T/ta" | grep -v 'arch=aarch64' >/dev/null; then
	pass "trace a: aarch64 emulated, arm refused"
else
	fail "trace a: aarch64 emulated, arm refused" "$ta"
fi
if grep -q "path='/bb-arm64'.*decision=no-emulator" "$T/tb" && ! grep 'decision=emulate' "$T/tb" | grep 'arch=aarch64' >/dev/null; then
	pass "trace b: arm emulated, aarch64 refused"
else
	fail "trace b: arm emulated, aarch64 refused" "$tb"
fi
expect_eq "status a: counts exactly a's emulated execs" "$((a0 + $(grep -c decision=emulate "$T/ta")))" \
	"$(sandbox_field "$ida" emulated)" "$ta"
expect_eq "status a: one failed exec (the armhf busybox)" 1 "$(sandbox_field "$ida" failed)"
expect_eq "status b: counts exactly b's emulated execs" "$((b0 + $(grep -c decision=emulate "$T/tb")))" \
	"$(sandbox_field "$idb" emulated)" "$tb"
expect_eq "status b: one failed exec (the arm64 busybox)" 1 "$(sandbox_field "$idb" failed)"
check "delete a" rt_runc delete -f "$ida"
check "delete b" rt_runc delete -f "$idb"

# Who may set what.  run_case LABEL WANT_STATUS ANNOTATIONS METADATA: the arm64 pipeline in a
# fresh container with these settings.
n_case=0
run_case() {
	local label=$1 want=$2 ann=$3 meta=$4 id b
	n_case=$((n_case + 1))
	id="ubinfmt-$TEST_NAME-$$-c$n_case"
	b=$T/bc$n_case
	make_bundle "$b" "$Ra" '["/bin/sh", "-c", "uname -m; /bin/basename /x/ran"]' "$ann" "$meta" >/dev/null ||
		{ fail "$label: write the bundle"; return; }
	OCI_CONTAINERS+=("rt_runc $id")
	run rt_runc run --bundle "$b" "$id" </dev/null
	if [ "$want" = ok ]; then
		expect_eq "$label" $'aarch64\nran' "$out" "exit status $status; ubinfmtd's log:"$'\n'"$(tail -n 5 "$OCI_LOG")"
	elif [ "$status" -ne 0 ] && [[ $out == *"exec format error"* ]]; then
		pass "$label"
	else
		fail "$label" "exit status $status (want ENOEXEC from the kernel)"$'\n'"$out"$'\n'"$(tail -n 5 "$OCI_LOG")"
	fi
}
run_case "metadata allows arm only, annotation asks for aarch64 too: refused (cannot widen)" fail \
	'{"io.ubinfmt.emulators": "aarch64,arm"}' "io.ubinfmt.emulators=arm"
run_case "metadata allows aarch64 and arm, annotation narrows to aarch64: runs" ok \
	'{"io.ubinfmt.emulators": "aarch64"}' "io.ubinfmt.emulators=aarch64,arm"
run_case "metadata overrides aarch64 with the daemon's own emulator: runs" ok \
	'{}' "io.ubinfmt.emulator.aarch64=$qemu_aarch64"
run_case "metadata override naming an unknown host binary: refused" fail '{}' "io.ubinfmt.emulator.aarch64=/bin/true"
if grep -q "untrusted emulator '/bin/true'" "$OCI_LOG"; then
	pass "the daemon says why it refused the override"
else
	fail "the daemon says why it refused the override" "$(cat "$OCI_LOG")"
fi
run_case "an emulator override in an annotation: refused" fail \
	"{\"io.ubinfmt.emulator.aarch64\": \"$qemu_aarch64\"}" ""
run_case "a typo in an io.ubinfmt annotation: refused" fail '{"io.ubinfmt.emulater": "all"}' ""
# Refused settings leave the execs to the kernel: native programs still run.
cp "$(busybox amd64)" "$Ra/busybox-amd64"
make_bundle "$T/bn" "$Ra" '["/busybox-amd64", "echo", "native-ok"]' '{"io.ubinfmt.emulater": "all"}' >/dev/null
OCI_CONTAINERS+=("rt_runc ubinfmt-$TEST_NAME-$$-native")
run rt_runc run --bundle "$T/bn" "ubinfmt-$TEST_NAME-$$-native" </dev/null
expect_eq "refused settings: native programs still run" native-ok "$out" "exit status $status"
daemon_alive "ubinfmtd still running"
finish
