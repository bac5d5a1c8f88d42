#!/usr/bin/env bash
# `ubinfmt run` exit codes: CMD's status passes through (0, 1, 5, 255), a CMD killed by signal N
# gives 128+N, a missing CMD 127 and a non-executable one 126 (shell conventions), and SIGTERM
# sent to ubinfmt reaches CMD.  On the host's filesystem and with --rootfs.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_ubinfmt
need_fixtures
need_rootfs busybox-arm64
need_busybox arm64
need_qemu arm64

H=$T/host
mkdir -p "$H"
cp "$(busybox arm64)" "$H/busybox"
cp "$(busybox arm64)" "$H/nox"
chmod 644 "$H/nox"
bb=$H/busybox

for s in 0 1 5 255; do
	expect_status "host fs: exit $s" "$s" urun -- "$bb" sh -c "exit $s"
done
expect_status "host fs: native CMD's status" 1 urun -- /bin/false
expect_status "host fs: killed by SIGTERM is 143" 143 urun -- "$bb" sh -c 'kill -TERM $$'
expect_status "host fs: killed by SIGKILL is 137" 137 urun -- "$bb" sh -c 'kill -KILL $$'
expect_status "host fs: killed by SIGSEGV is 139" 139 urun -- "$bb" sh -c 'kill -SEGV $$'
expect_status "host fs: a nested foreign exec's status" 9 urun -- "$bb" sh -c "$bb sh -c 'exit 9'"
expect_status "host fs: missing CMD is 127" 127 urun -- "$H/does-not-exist"
expect_status "host fs: CMD without x bit is 126" 126 urun -- "$H/nox"

# SIGTERM to ubinfmt reaches CMD (a foreign sleep), which dies of it.
timeout -k 10 "$UBINFMT_TIMEOUT" "$UBINFMT" run -- "$bb" sleep 60 &
pid=$!
sleep 2
kill -TERM "$pid"
wait "$pid"
status=$?
expect_eq "host fs: SIGTERM to ubinfmt is forwarded (143)" 143 "$status"

R=$(make_rootfs busybox-arm64) || skip "cannot copy the rootfs"
for s in 0 5 255; do
	expect_status "rootfs: exit $s" "$s" urun --rootfs "$R" -- /bin/sh -c "exit $s"
done
expect_status "rootfs: a child killed by SIGKILL, passed on by sh" 137 urun --rootfs "$R" -- /bin/sh -c '/bin/sh -c "kill -KILL \$\$"; exit $?'
# CMD may be pid 1 of the new pid namespace, which signals from inside cannot kill: report.
run urun --rootfs "$R" -- /bin/sh -c 'kill -TERM $$; exit 3'
echo "info: rootfs: CMD sending itself SIGTERM: exit status $status (143 if CMD is not the namespace's init)"
expect_status "rootfs: missing CMD is 127" 127 urun --rootfs "$R" -- /does-not-exist

finish
