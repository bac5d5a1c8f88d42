#!/usr/bin/env bash
# argv[0] is preserved through the rewrite: busybox picks its applet from argv[0], so an applet
# reached through a symlink (`ln -s busybox echo; ./echo hi`) only works if the foreign program
# sees "./echo", not the resolved path.  Also an argv[0] unrelated to the path (exectest execs
# /bin/busybox with argv[0] "echo"), a login-shell "-sh", and a shell's $0.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_twin_sandbox

R=$(make_rootfs busybox-arm64) || skip "cannot copy the rootfs"
mkdir -p "$R/t"
cp "$R/bin/busybox" "$R/t/busybox"
ln -s busybox "$R/t/echo"
ln -s busybox "$R/t/sh"
ln -s busybox "$R/t/no-such-applet"

run urun --rootfs "$R" -- /bin/sh -c 'cd /t && ./echo hi'
expect_eq "rootfs: ./echo hi through a symlink" hi "$out" "exit status $status"

run urun --rootfs "$R" -- /bin/sh -c 'cd /t && ./sh -c "echo \$0"'
expect_eq "rootfs: \$0 of ./sh is ./sh" ./sh "$out" "exit status $status"

run urun --rootfs "$R" -- /bin/sh -c 'cd /t && ./no-such-applet; echo "status $?"'
expect_match "rootfs: busybox sees the symlink's name" 'no-such-applet: applet not found' "$out"

run urun --rootfs "$R" -- /t/echo direct-cmd
expect_eq "rootfs: the command itself is an applet symlink" direct-cmd "$out" "exit status $status"

run urun --rootfs "$R" -- /bin/exectest errno /bin/busybox echo argv0-ok
expect_eq "rootfs: native caller, argv[0] 'echo' on /bin/busybox" argv0-ok "$out" "exit status $status"

run urun --rootfs "$R" -- /bin/exectest errno /bin/busybox -sh -c 'echo "$0"'
expect_eq "rootfs: login-shell argv[0] '-sh'" "-sh" "$out" "exit status $status"

# Odd argv[0]s: the foreign busybox must react exactly like the native one does.
mkdir -p "$R/native"
cp "$(busybox amd64)" "$R/native/busybox"
for a0 in "" "/some/where/echo" "echo with space"; do
	run urun --rootfs "$R" -- /bin/exectest errno /native/busybox "$a0" argv0-check
	native=$out
	run urun --rootfs "$R" -- /bin/exectest errno /bin/busybox "$a0" argv0-check
	expect_eq "rootfs: argv[0] '$a0' like native" "$native" "$out"
done

# Host filesystem, relative path from the current directory.
H=$T/host
mkdir -p "$H"
cp "$(busybox arm64)" "$H/busybox"
ln -s busybox "$H/echo"
run bash -c 'cd "$1" && shift && "$@"' _ "$H" timeout -k 10 "$UBINFMT_TIMEOUT" "$UBINFMT" run -- ./echo hi
expect_eq "host fs: ./echo hi through a symlink" hi "$out" "exit status $status"

finish
