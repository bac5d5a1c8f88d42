#!/usr/bin/env bash
# Native callers launching a foreign program through posix_spawn, vfork+execve, fork+execve and
# execve from a non-main thread (exectest spawn).  For each: the caller's path and argv memory
# (kept in the caller's stack frame, which a vfork child and glibc's posix_spawn helper share)
# is byte-for-byte unchanged afterwards, the pid the caller got is the pid the program reports
# (`echo $$`), and the exit status (7) comes back.  In a --rootfs sandbox and on the host's
# filesystem, through the applet symlink /bin/sh and through /bin/busybox with argv[0] "sh".
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_ubinfmt
need_exectest
need_fixtures
need_rootfs busybox-arm64 busybox-armhf
need_busybox arm64 amd64
need_qemu arm64 armhf

modes=(posix_spawn vfork fork thread)

# spawn_check LABEL MODE UBINFMT-ARGS… -- EXECTEST PATH ARGV…
spawn_check() {
	local label=$1 mode=$2
	shift 2
	run urun "$@"
	if [ "$status" -eq 0 ] && grep -qx "ok $mode" <<<"$out" && grep -qx "status 7" <<<"$out"; then
		pass "$label"
	else
		fail "$label" "exit status $status"$'\n'"$out"
	fi
}

R=$(make_rootfs busybox-arm64) || skip "cannot copy the rootfs"
mkdir -p "$R/native"
cp "$(busybox amd64)" "$R/native/busybox"
R32=$(make_rootfs busybox-armhf) || skip "cannot copy the rootfs"

for m in "${modes[@]}"; do
	spawn_check "rootfs $m: /bin/sh (applet symlink)" "$m" --rootfs "$R" -- \
		/bin/exectest spawn "$m" --status 7 /bin/sh sh -c 'echo $$; exit 7'
	spawn_check "rootfs $m: /bin/busybox, argv[0] sh, nested exec" "$m" --rootfs "$R" -- \
		/bin/exectest spawn "$m" --status 7 /bin/busybox sh -c 'echo $$; /bin/true; exit 7'
	spawn_check "rootfs $m: armhf (32-bit guest)" "$m" --rootfs "$R32" -- \
		/bin/exectest spawn "$m" --status 7 /bin/busybox sh -c 'echo $$; exit 7'
	spawn_check "rootfs $m: native target" "$m" --rootfs "$R" -- \
		/bin/exectest spawn "$m" --status 7 /native/busybox sh -c 'echo $$; exit 7'
done

H=$T/host
mkdir -p "$H"
cp "$(busybox arm64)" "$H/busybox"
for m in "${modes[@]}"; do
	spawn_check "host fs $m" "$m" -- "$EXECTEST" spawn "$m" --status 7 "$H/busybox" sh -c 'echo $$; exit 7'
done

finish
