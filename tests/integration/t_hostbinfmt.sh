#!/usr/bin/env bash
# Architectures the host's own binfmt_misc already handles are left to the kernel.  The "host"
# here is a throwaway user namespace with a private binfmt_misc instance (Linux ≥ 6.7) where
# qemu-aarch64 is registered: ubinfmt, run inside it, must leave arm64 to the kernel
# (decision host-binfmt) and still emulate armhf itself.  The real host's binfmt_misc is never
# mounted.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_real_ubinfmt
need_fixtures
need_cmd unshare
need_cmd python3

q=$(command -v qemu-aarch64-static || true)
[ -n "$q" ] || skip "qemu-aarch64-static is not installed"
magic=$(sed -n 's/^magic //p' /usr/share/binfmts/qemu-aarch64 2>/dev/null || true)
mask=$(sed -n 's/^mask //p' /usr/share/binfmts/qemu-aarch64 2>/dev/null || true)
[ -n "$magic" ] && [ -n "$mask" ] || skip "no binfmt description for qemu-aarch64 in /usr/share/binfmts"

cp "$(busybox arm64)" "$T/busybox-arm64"
mkdir -p "$T/armhf"
cp "$(busybox armhf)" "$T/armhf/busybox"

cat >"$T/inner.sh" <<INNER
set -e
mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || { echo "no private binfmt_misc"; exit 77; }
echo ":qemu-aarch64:M::$magic:$mask:$q:FPO" >/proc/sys/fs/binfmt_misc/register
"$UBINFMT" detect "$T/busybox-arm64"
"$UBINFMT" run --trace="$T/trace.json" --json -- "$T/busybox-arm64" echo arm64-via-kernel
"$UBINFMT" run --trace="$T/trace.json" --json -- "$T/armhf/busybox" echo armhf-via-ubinfmt
echo -1 >/proc/sys/fs/binfmt_misc/qemu-aarch64
umount /proc/sys/fs/binfmt_misc
INNER

run timeout 120 unshare -Urm --fork bash "$T/inner.sh"
if [ "$status" -eq 77 ]; then
	skip "this kernel gives user namespaces no binfmt_misc instance of their own (Linux < 6.7)"
fi
expect_eq "the namespace runs both" 0 "$status" "$out"
expect_match "detect says host-binfmt" 'host-binfmt' "$out"
expect_match "arm64 runs through the kernel's binfmt_misc" 'arm64-via-kernel' "$out"
expect_match "armhf runs through ubinfmt" 'armhf-via-ubinfmt' "$out"

decisions=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(r["arch"], r["decision"])
' "$T/trace.json" 2>&1)
expect_match "arm64 exec left to the kernel" 'aarch64 host-binfmt' "$decisions"
expect_match "armhf exec emulated" 'arm emulate' "$decisions"
finish
