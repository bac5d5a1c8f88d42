#!/usr/bin/env bash
# Fetches what the arm64 build and its test machine need from Debian's archive, as arm64 .debs
# unpacked with dpkg -x (never installed): dpkg's architecture list and /etc/apt stay untouched.
#
# Usage: tools/sysroot.sh [--force]
#   UBINFMT_ARM64_CACHE=DIR   cache directory (default: <repo>/.cache/arm64, which git ignores)
#
# Produces, under the cache directory:
#   sysroot/          libc6, libc6-dev, linux-libc-dev, libgcc-s1 and the -dev packages of
#                     libseccomp, liburing, libcap-ng, json-c and cmocka (with their runtime
#                     libraries): what cmake/aarch64-linux-gnu.cmake builds against, and the
#                     shared libraries the arm64 build needs at run time in the test machine
#   vm/vmlinuz        Debian's arm64 kernel (linux-image-arm64's current image)
#   vm/qemu/          qemu-x86_64-static, qemu-arm-static, qemu-riscv64-static built for arm64
#                     (Debian's qemu-user-static:arm64): the emulators an arm64 host runs
#   vm/busybox        busybox-static:arm64, the test machine's /bin/sh
#
# The private apt configuration lives in apt/ (own sources.list limited to bookworm main, own
# lists, status file and keyring), as in tools/fixtures.sh.  A stamp (the hash of this script)
# makes a re-run return at once.
set -euo pipefail
umask 022
export LC_ALL=C

prog=sysroot.sh
script=$(readlink -f "${BASH_SOURCE[0]}")
repo=$(dirname "$(dirname "$script")")
cache=${UBINFMT_ARM64_CACHE:-$repo/.cache/arm64}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
mirror=http://deb.debian.org/debian
# shellcheck source=SCRIPTDIR/apt_private.sh
source "$repo/tools/apt_private.sh"

sysroot_pkgs=(libc6 libc6-dev linux-libc-dev libgcc-s1 libcrypt1
	libseccomp-dev libseccomp2 liburing-dev liburing2 libcap-ng-dev libcap-ng0
	libjson-c-dev libjson-c5 libcmocka-dev libcmocka0)

die() {
	printf '%s: %s\n' "$prog" "$*" >&2
	exit 1
}

force=false
for arg in "$@"; do
	case $arg in
	--force) force=true ;;
	-h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$script"; exit 0 ;;
	*) die "unknown argument '$arg' (usage: $0 [--force])" ;;
	esac
done

want_stamp=$(sha256sum "$script")
want_stamp=${want_stamp%% *}
stamp_ok() {
	local have=
	[ -f "$cache/.stamp" ] && read -r have <"$cache/.stamp" || return 1
	[ "$have" = "$want_stamp" ] && [ -e "$cache/sysroot/usr/include/seccomp.h" ] &&
		[ -s "$cache/vm/vmlinuz" ] && [ -x "$cache/vm/qemu/qemu-x86_64-static" ] && [ -x "$cache/vm/busybox" ]
}
if ! $force && stamp_ok; then
	exit 0
fi
mkdir -p "$cache"
cache=$(readlink -f "$cache")
exec 9>"$cache/.lock"
flock 9 || die "cannot lock $cache/.lock"
if ! $force && stamp_ok; then
	exit 0
fi
rm -f "$cache/.stamp"
! $force || rm -rf "$cache/debs"
[ -r "$keyring" ] || die "cannot read $keyring; install debian-archive-keyring"

log=$(mktemp)
x=$(mktemp -d)
trap 'rm -rf "$log" "$x"' EXIT

# The private apt: APT_CONFIG is read before anything else and points every Dir:: away from
# /etc/apt and /var/lib/apt; only arm64 is known to it.
d=$cache/apt
mkdir -p "$cache/debs"
apt_private_config "$d" "deb [signed-by=$keyring] $mirror bookworm main" arm64 arm64
echo 'APT::Sandbox::User "root";' >>"$d/apt.conf"
apt_in() {
	APT_CONFIG=$d/apt.conf "$@" </dev/null
}
apt_in apt-get update >"$log" 2>&1 && ! grep -Eq '^W: (Failed to fetch|Some index files failed|GPG error)' "$log" ||
	die "cannot update the bookworm arm64 package lists: $(grep -E '^[EW]: ' "$log" | paste -sd ';')"

# linux-image-arm64 is a metapackage: the image is the package it depends on.
kernel=$(apt_in apt-cache depends linux-image-arm64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*-arm64\)$/\1/p' | head -n 1)
[ -n "$kernel" ] || die "cannot tell which kernel linux-image-arm64 depends on"
pkgs=("${sysroot_pkgs[@]}" "$kernel" qemu-user-static busybox-static)

(cd "$cache/debs" && apt_in apt-get -q download "${pkgs[@]}") >"$log" 2>&1 ||
	die "cannot download ${pkgs[*]}: $(grep -E '^E: ' "$log" | paste -sd ';')"
deb() {
	local f
	f=$(ls -t "$cache/debs/$1"_*_arm64.deb "$cache/debs/$1"_*_all.deb 2>/dev/null | head -n 1)
	[ -n "$f" ] || die "no .deb for $1 in $cache/debs"
	printf '%s' "$f"
}

rm -rf "$cache/sysroot.new"
mkdir -p "$cache/sysroot.new"
for p in "${sysroot_pkgs[@]}"; do
	dpkg -x "$(deb "$p")" "$cache/sysroot.new" || die "cannot unpack $p"
done
# Absolute symlinks (libfoo.so -> /lib/...) would name the build machine's files: make them
# point inside the sysroot.
while IFS= read -r l; do
	t=$(readlink "$l")
	case $t in /*) ln -sfn "$(realpath -m --relative-to="$(dirname "$l")" "$cache/sysroot.new$t")" "$l" ;; esac
done < <(find "$cache/sysroot.new" -type l)
rm -rf "$cache/sysroot"
mv "$cache/sysroot.new" "$cache/sysroot"

rm -rf "$cache/vm.new"
mkdir -p "$cache/vm.new/qemu"
dpkg -x "$(deb "$kernel")" "$x/kernel"
cp "$x"/kernel/boot/vmlinuz-* "$cache/vm.new/vmlinuz"
dpkg -x "$(deb qemu-user-static)" "$x/qemu"
for q in x86_64 arm riscv64; do
	install -m 0755 "$x/qemu/usr/bin/qemu-$q-static" "$cache/vm.new/qemu/"
done
dpkg -x "$(deb busybox-static)" "$x/bb"
install -m 0755 "$x/bb/bin/busybox" "$cache/vm.new/busybox"
file -b "$cache/vm.new/busybox" | grep -q 'ARM aarch64' || die "busybox-static:arm64 is not an arm64 binary"
rm -rf "$cache/vm"
mv "$cache/vm.new" "$cache/vm"
# Only the packages in use: drop superseded .debs.
for p in "${pkgs[@]}"; do
	keep=$(deb "$p")
	for f in "$cache/debs/$p"_*.deb; do [ "$f" = "$keep" ] || rm -f "$f"; done
done
printf '%s\n' "$want_stamp" >"$cache/.stamp"
