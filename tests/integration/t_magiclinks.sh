#!/usr/bin/env bash
# Magic links resolve in the exec'ing process's view, never the supervisor's: a foreign program
# re-execs itself through /proc/self/exe; a foreign shell execs /dev/fd/N and /proc/self/fd/N
# (fds it opened on the foreign or the native busybox); /proc/self/cwd and /proc/self/root
# paths; a native caller execs /dev/fd/N on a foreign binary and /proc/self/exe on itself.
# `exec -a NAME` sets argv[0], from which busybox picks its applet; `uname -m` tells which
# binary really ran.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_twin_sandbox

R=$(make_rootfs busybox-arm64) || skip "cannot copy the rootfs"
mkdir -p "$R/native"
cp "$(busybox amd64)" "$R/native/busybox"

# sb LABEL WANT SCRIPT: runs SCRIPT with the sandbox's (foreign) /bin/sh.
sb() {
	run urun --rootfs "$R" -- /bin/sh -c "$3"
	expect_eq "$1" "$2" "$out" "exit status $status"
}

sb "foreign program re-execs /proc/self/exe" reexec-ok 'exec -a echo /proc/self/exe reexec-ok'
sb "... and it is the arm64 busybox" aarch64 'exec -a uname /proc/self/exe -m'
sb "re-exec /proc/self/exe from a subshell" sub-ok '(exec -a echo /proc/self/exe sub-ok)'
sb "foreign shell execs /dev/fd/3 (foreign binary)" fd-ok 'exec 3</bin/busybox; exec -a echo /dev/fd/3 fd-ok'
sb "... which runs the arm64 code" aarch64 'exec 3</bin/busybox; exec -a uname /dev/fd/3 -m'
sb "foreign shell execs /dev/fd/5 (native binary)" x86_64 'exec 5</native/busybox; exec -a uname /dev/fd/5 -m'
sb "foreign shell execs /proc/self/fd/7" proc-fd-ok 'exec 7</bin/busybox; exec -a echo /proc/self/fd/7 proc-fd-ok'
sb "/dev/fd/N not at the end: a child, fd inherited" $'child-fd-ok\nafter' \
	'exec 4</bin/busybox; /dev/fd/4 2>/dev/null; (exec -a echo /dev/fd/4 child-fd-ok); echo after'
sb "/proc/self/cwd/busybox" cwd-ok 'cd /bin && exec -a echo /proc/self/cwd/busybox cwd-ok'
sb "/proc/self/root/bin/busybox is the sandbox's" aarch64 'exec -a uname /proc/self/root/bin/busybox -m'

run urun --rootfs "$R" -- /bin/sh -c 'exec 3</bin/busybox; exec /bin/exectest errno /dev/fd/3 echo native-caller-fd-ok'
expect_eq "native caller execs /dev/fd/3 on a foreign binary" native-caller-fd-ok "$out" "exit status $status"
run urun --rootfs "$R" -- /bin/exectest errno /proc/self/exe exectest errno /nonexistent-target
expect_eq "native caller execs /proc/self/exe (itself)" "errno ENOENT" "$(head -n 1 <<<"$out")" "$out"

# Host filesystem.
H=$T/host
mkdir -p "$H"
cp "$(busybox arm64)" "$H/busybox"
run urun -- "$H/busybox" sh -c 'exec -a uname /proc/self/exe -m'
expect_eq "host fs: foreign program re-execs /proc/self/exe" aarch64 "$out" "exit status $status"
run urun -- "$H/busybox" sh -c "exec 3<$H/busybox; exec -a echo /dev/fd/3 host-fd-ok"
expect_eq "host fs: foreign shell execs /dev/fd/3" host-fd-ok "$out" "exit status $status"

finish
