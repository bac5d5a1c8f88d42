#!/usr/bin/env bash
# A task that changes its root: the supervisor shares one root per listener until a task calls
# chroot, pivot_root or setns (all trapped), then resolves each exec in its own task's root.
# A foreign /bin/sh inside a chroot must be found in the chroot, not on the host (where /bin/sh
# is native): the wrong root would hand the arm64 file to the kernel, which answers ENOEXEC.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_ubinfmt
need_real_ubinfmt
need_fixtures
need_root
need_cmd chroot

R=$(make_rootfs busybox-arm64)

# The host's native chroot, then a foreign shell inside it.
run urun --trace="$T/host.trace" -- sh -c "/bin/true; chroot '$R' /bin/sh -c 'uname -m; echo in-chroot'"
expect_eq "host fs: exit status" 0 "$status" "$out"
expect_match "host fs: the chroot's arm64 shell ran" $'aarch64\nin-chroot' "$out"
expect_match "host fs: its exec was resolved in the chroot" "path='/bin/sh' .*arch=aarch64 decision=emulate" \
	"$(cat "$T/host.trace")"

# Inside a --rootfs sandbox, the foreign busybox's own chroot applet into a copy of the tree.
run urun --rootfs "$R" -- /bin/sh -c 'mkdir -p /tmp/in && cp -a /bin /usr /tmp/in/ &&
	chroot /tmp/in /bin/sh -c "uname -m; echo nested"'
expect_eq "rootfs: exit status" 0 "$status" "$out"
expect_match "rootfs: nested chroot runs the foreign shell" $'aarch64\nnested' "$out"

# After the chroot, execs outside it still resolve in their own root.
run urun -- sh -c "chroot '$R' /bin/true; $(busybox arm64) echo after-chroot"
expect_eq "host fs: an exec after a child's chroot still works" "after-chroot" "$out"
finish
