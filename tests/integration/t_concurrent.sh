#!/usr/bin/env bash
# 64 foreign execs at once (exectest concurrent): all children are forked first, blocked on a
# pipe, and released together; each execs the foreign busybox with its own last argument and
# must print exactly it and exit with the expected status.  Completion and output are asserted,
# not time.  Also 64 foreign shells each with a nested exec, a mix of two architectures, and the
# host's filesystem.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_ubinfmt
need_exectest
need_fixtures
need_rootfs busybox-arm64
need_busybox arm64 armhf
need_qemu arm64 armhf

N=${UBINFMT_CONCURRENT_N:-64}

conc_check() {
	local label=$1
	shift
	run urun "$@"
	if [ "$status" -eq 0 ] && grep -qx "ok $N/$N" <<<"$out"; then
		pass "$label"
	else
		fail "$label" "exit status $status"$'\n'"$out"
	fi
}

R=$(make_rootfs busybox-arm64) || skip "cannot copy the rootfs"
mkdir -p "$R/armhf"
cp "$(busybox armhf)" "$R/armhf/busybox"

conc_check "rootfs: $N x echo" --rootfs "$R" -- /bin/exectest concurrent "$N" /bin/busybox echo
conc_check "rootfs: $N x sh with a nested exec, status 3" --rootfs "$R" -- \
	/bin/exectest concurrent --status 3 "$N" /bin/sh sh -c '/bin/echo "$1"; exit 3' sh
conc_check "rootfs: $N x arm64 sh running armhf echo" --rootfs "$R" -- \
	/bin/exectest concurrent "$N" /bin/busybox sh -c 'exec -a echo /armhf/busybox "$1"' sh
# Two batches at once, from two native callers.
run urun --rootfs "$R" -- /bin/sh -c "/bin/exectest concurrent $N /bin/busybox echo & /bin/exectest concurrent $N /armhf/busybox echo; wait \$!"
if [ "$status" -eq 0 ] && [ "$(grep -cx "ok $N/$N" <<<"$out")" -eq 2 ]; then
	pass "rootfs: two batches of $N at once"
else
	fail "rootfs: two batches of $N at once" "exit status $status"$'\n'"$out"
fi

H=$T/host
mkdir -p "$H"
cp "$(busybox arm64)" "$H/busybox"
conc_check "host fs: $N x echo" -- "$EXECTEST" concurrent "$N" "$H/busybox" echo

finish
