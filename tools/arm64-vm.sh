#!/usr/bin/env bash
# The arm64 host tests: builds ubinfmt for arm64 (cmake/aarch64-linux-gnu.cmake), packs it with
# Debian's arm64 kernel, busybox and qemu-user-static and the foreign test binaries into an
# initramfs, boots that in qemu-system-aarch64 (TCG: -M virt -cpu max -smp 2 -m 2G) and runs
# tests/arm64/suite.sh inside.  The suite's "UBT:" lines come back over the serial console; the
# exit status is 0 when every check passed (ctest: integration.arm64).
#
# Usage: tools/arm64-vm.sh
#   UBINFMT_ARM64_BUILD=DIR    the arm64 build directory (default: <repo>/build-arm64)
#   UBINFMT_FIXTURES=DIR       the fixtures (tools/fixtures.sh; default: <repo>/.cache/fixtures)
#   UBINFMT_ARM64_TIMEOUT=S    how long the machine may run (default: 900)
#   UBINFMT_ARM64_LOG=FILE     keep the console log there (default: in the build directory)
set -euo pipefail
export LC_ALL=C
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${UBINFMT_ARM64_BUILD:-$repo/build-arm64}
fixtures=${UBINFMT_FIXTURES:-$repo/.cache/fixtures}
timeout_s=${UBINFMT_ARM64_TIMEOUT:-900}
cache=$repo/.cache/arm64

say() { printf 'arm64-vm: %s\n' "$*" >&2; }
die() {
	say "$*"
	exit 1
}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

for tool in aarch64-linux-gnu-gcc qemu-system-aarch64 cpio gzip; do
	command -v "$tool" >/dev/null || die "needs $tool: run tools/deps.sh"
done

t=$(now)
bash "$repo/tools/sysroot.sh"
bash "$repo/tools/fixtures.sh" 2>/dev/null
say "sysroot, kernel and fixtures ready ($(secs "$t"))"

t=$(now)
cmake -S "$repo" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$repo/cmake/aarch64-linux-gnu.cmake" \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DUBINFMT_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)" >"$build/arm64-build.log" 2>&1 ||
	die "the arm64 build failed: see $build/arm64-build.log"
say "arm64 build ready ($(secs "$t"))"

t=$(now)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib/aarch64-linux-gnu,opt/ubinfmt/bin,fixtures,proc,sys,dev,tmp,etc,root}
install -m 0755 "$cache/vm/busybox" "$root/bin/busybox"
install -m 0755 "$cache"/vm/qemu/qemu-*-static "$root/usr/bin/"
# The arm64 build links libseccomp, liburing, libcap-ng and json-c dynamically: the sysroot's.
cp -a "$cache"/sysroot/lib/aarch64-linux-gnu/*.so* "$root/lib/aarch64-linux-gnu/"
cp -a "$cache"/sysroot/usr/lib/aarch64-linux-gnu/*.so* "$root/lib/aarch64-linux-gnu/"
ln -s aarch64-linux-gnu/ld-linux-aarch64.so.1 "$root/lib/ld-linux-aarch64.so.1"
for p in ubinfmt ubinfmtd ubinfmt-init; do
	install -m 0755 "$build/bin/$p" "$root/opt/ubinfmt/bin/"
done
install -m 0755 "$(find "$build/tests" -name exectest -type f | head -n 1)" "$root/opt/ubinfmt/bin/exectest"
install -m 0755 "$build"/bin/test_* "$root/opt/ubinfmt/bin/"
for a in amd64 armhf riscv64; do
	[ -x "$fixtures/busybox/$a/busybox" ] || die "no $a busybox in $fixtures: run tools/fixtures.sh"
	install -D -m 0755 "$fixtures/busybox/$a/busybox" "$root/fixtures/$a/busybox"
done
cp -a "$fixtures/rootfs/busybox-amd64" "$root/fixtures/rootfs-amd64"
install -m 0755 "$repo/tests/arm64/suite.sh" "$root/suite.sh"
# The unit tests read their data from the source tree, by absolute path.
mkdir -p "$root$repo/tests/unit" "$root$repo/deploy/ubinfmt"
cp -a "$repo/tests/unit/data" "$root$repo/tests/unit/"
cp "$repo/deploy/ubinfmt/runtime.conf" "$root$repo/deploy/ubinfmt/"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
# The initramfs is the kernel's rootfs, which cannot be pivot_root'ed away from (ubinfmt run
# --rootfs does that): /init copies it into a tmpfs and switches to it, then runs /init2.
cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mkdir -p /newroot
/bin/busybox mount -t tmpfs -o size=1536m root /newroot
for f in /*; do
	case $f in /proc | /sys | /dev | /newroot | /init) ;; *) /bin/busybox cp -a "$f" /newroot/ ;; esac
done
/bin/busybox mkdir -p /newroot/proc /newroot/sys /newroot/dev /newroot/tmp
exec /bin/busybox switch_root /newroot /init2
INIT
cat >"$root/init2" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# A tmpfs on /tmp, with what the image has there (the source tree's test data, when the tree
# itself is under /tmp: a CI clone) carried over rather than hidden.
mkdir -p /tmp.image && cp -a /tmp/. /tmp.image/
mount -t tmpfs tmp /tmp
cp -a /tmp.image/. /tmp/ && rm -rf /tmp.image
export PATH=/usr/bin:/bin:/usr/sbin:/sbin HOME=/root
echo "UBT: BOOTED $(cut -d' ' -f1 /proc/uptime)"
sh /suite.sh 2>&1
echo "UBT: END $(cut -d' ' -f1 /proc/uptime)"
sync
poweroff -f
INIT
chmod 755 "$root/init" "$root/init2"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.gz"
say "initramfs $(du -h "$work/initrd.gz" | cut -f1) ready ($(secs "$t"))"

log=${UBINFMT_ARM64_LOG:-$build/arm64-vm.log}
t=$(now)
say "booting Debian's arm64 kernel in qemu-system-aarch64 (TCG, 2 vCPUs); console log: $log"
status=0
timeout -k 10 "$timeout_s" qemu-system-aarch64 -M virt -cpu max,pauth-impdef=on -smp 2 -m 2G -nographic -nic none \
	-no-reboot -kernel "$cache/vm/vmlinuz" -initrd "$work/initrd.gz" \
	-append "console=ttyAMA0 rdinit=/init panic=-1 quiet loglevel=3" </dev/null >"$log" 2>&1 || status=$?
tr -d '\r' <"$log" >"$log.txt" && mv "$log.txt" "$log"
say "machine ran $(secs "$t") (qemu exit status $status)"

grep '^UBT: ' "$log" | grep -v '^UBT:| ' >&2 || true
grep '^UBT:| ' "$log" >&2 || true
booted=$(sed -n 's/^UBT: BOOTED //p' "$log")
ended=$(sed -n 's/^UBT: END //p' "$log")
[ -n "$booted" ] || die "the machine did not come up (see $log)"
[ -n "$ended" ] || die "the suite did not finish within ${timeout_s}s (see $log)"
say "boot to /init: ${booted}s; suite: $(awk -v a="$booted" -v b="$ended" 'BEGIN { printf "%.1f", b - a }')s (guest clock)"
grep -q '^UBT: DONE ' "$log" || die "the suite did not report (see $log)"
if grep -q '^UBT: FAIL ' "$log"; then
	die "$(grep -c '^UBT: FAIL ' "$log") check(s) failed in the arm64 machine"
fi
npass=$(grep -c '^UBT: PASS ' "$log")
[ "$npass" -gt 0 ] || die "no check passed"
say "all $npass checks passed on arm64"
