#!/usr/bin/env bash
# A signal storm during foreign execs (exectest storm): a thread signals every exec'ing child as
# fast as it can, alternating a signal whose handler has SA_RESTART (SIGURG) and one whose
# handler has not (SIGWINCH); each child execs the foreign busybox as `echo storm-<i>` and must
# print exactly its own argument and exit 0.  (Those two signals are ignored by default, so one
# landing just after a successful exec is harmless; a handler without SA_RESTART may make a
# trapped exec fail with EINTR, which the child retries as a robust caller would; the count of
# such retries is shown on the result line.)
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_twin_sandbox

N=${UBINFMT_STORM_N:-32}
eintr_seen=0

storm_check() {
	local label=$1
	shift
	run urun "$@"
	if [ "$status" -eq 0 ] && grep -qx "ok $N/$N" <<<"$out"; then
		pass "$label ($(grep -E '^(signals|eintr|fdleak) ' <<<"$out" | paste -sd' '))"
		if ! grep -qx 'eintr 0' <<<"$out"; then
			eintr_seen=1
		fi
	else
		fail "$label" "exit status $status"$'\n'"$out"
	fi
}

R=$(make_rootfs busybox-arm64) || skip "cannot copy the rootfs"
mkdir -p "$R/native"
cp "$(busybox amd64)" "$R/native/busybox"

storm_check "rootfs: native target (control)" --rootfs "$R" -- /bin/exectest storm "$N" /native/busybox echo
for round in 1 2 3; do
	storm_check "rootfs: foreign target, round $round" --rootfs "$R" -- /bin/exectest storm "$N" /bin/busybox echo
done
storm_check "rootfs: foreign shell with a nested exec" --rootfs "$R" -- \
	/bin/exectest storm "$N" /bin/busybox sh -c '/bin/echo "$1"' sh

H=$T/host
mkdir -p "$H"
cp "$(busybox arm64)" "$H/busybox"
storm_check "host fs: foreign target" -- "$EXECTEST" storm "$N" "$H/busybox" echo

if [ "$eintr_seen" = 1 ]; then
	echo "info: some execs failed with EINTR and were retried.  Without a seccomp listener execve"
	echo "info: never does; with one, a signal whose handler lacks SA_RESTART that arrives before"
	echo "info: the supervisor has received the notification interrupts it (the kernel's"
	echo "info: WAIT_KILLABLE_RECV only protects the wait after the receive).  fdleak counts the"
	echo "info: failed attempts after which the caller had more open fds than before."
fi

finish
