#!/usr/bin/env bash
# Mixed architectures in one tree: an arm64 shell runs an armhf busybox and the native amd64
# busybox.  `uname -m` tells who emulates each (aarch64, armv7l, x86_64), and the native
# program's /proc/PID/exe, read while it runs, must be the native busybox, not a qemu binary,
# while the armhf one's is qemu's.  With --rootfs and on the host's filesystem.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_ubinfmt
need_fixtures
need_rootfs busybox-arm64
need_busybox armhf amd64
need_qemu arm64 armhf

# $1 = path of the armhf busybox, $2 = path of the native busybox, as the sandbox sees them.
# A long-running child's exe is read by the arm64 shell (qemu only fakes /proc/self/exe for
# itself, not for other processes), once the child no longer is the forked arm64 shell.  The
# killed children are reaped before the last exec: a SIGCHLD landing while an exec waits for the
# supervisor can fail it with EINTR (see t_storm.sh), which is not what this test is about.
script='exe_of() {
	i=0
	while [ $i -lt 50 ]; do
		e=$(readlink /proc/$1/exe)
		case $e in *qemu-aarch64*|"") sleep 0.2; i=$((i + 1)) ;; *) break ;; esac
	done
	echo "$e"
}
uname -m
"$1" uname -m
"$2" uname -m
"$2" sleep 30 & p=$!; echo "native-exe $(exe_of $p)"; kill $p; wait $p 2>/dev/null
"$1" sleep 30 & p=$!; echo "armhf-exe $(exe_of $p)"; kill $p; wait $p 2>/dev/null
"$2" sh -c "echo native-parent-ok"'

check_mixed() {
	local label=$1
	shift
	run "$@"
	local lines=()
	mapfile -t lines <<<"$out"
	if [ "$status" -ne 0 ]; then
		fail "$label: exit status 0" "exit status $status"$'\n'"$out"
		return
	fi
	expect_eq "$label: arm64 shell's uname -m" aarch64 "${lines[0]:-}" "$out"
	expect_eq "$label: armhf busybox's uname -m" armv7l "${lines[1]:-}" "$out"
	expect_eq "$label: native busybox's uname -m" x86_64 "${lines[2]:-}" "$out"
	expect_match "$label: native child runs the native busybox, not qemu" \
		'^native-exe .*/native/busybox$' "${lines[3]:-}" "$out"
	expect_match "$label: armhf child is run by qemu-arm" \
		'^armhf-exe .*qemu-arm' "${lines[4]:-}" "$out"
	expect_eq "$label: native shell under the foreign one" native-parent-ok "${lines[5]:-}" "$out"
}

R=$(make_rootfs busybox-arm64) || skip "cannot copy the rootfs"
mkdir -p "$R/armhf" "$R/native"
cp "$(busybox armhf)" "$R/armhf/busybox"
cp "$(busybox amd64)" "$R/native/busybox"
check_mixed rootfs urun --rootfs "$R" -- /bin/sh -c "$script" sh /armhf/busybox /native/busybox

H=$T/host
mkdir -p "$H/armhf" "$H/native" "$H/arm64"
cp "$(busybox armhf)" "$H/armhf/busybox"
cp "$(busybox amd64)" "$H/native/busybox"
cp "$(busybox arm64)" "$H/arm64/busybox"
# On the host the shell's PATH finds host programs; make the arm64 shell's own applets win.
check_mixed "host fs" urun -- "$H/arm64/busybox" sh -c "PATH=/nonexistent; $script" sh \
	"$H/armhf/busybox" "$H/native/busybox"

finish
