#!/usr/bin/env bash
# Builds (once) and prints the path of a foreign Debian bookworm rootfs for the conformance
# harness.
#
# Usage: tests/conformance/rootfs.sh [--force] ARCH PROFILE
#   ARCH      a Debian architecture (arm64, armhf, s390x, …)
#   PROFILE   python  python3 and libpython3.11-testsuite (CPython's own tests): what CI runs
#             full    python plus gcc, make and libc6-dev (the toolchain case) and busybox
#                     (its own testsuite runs against it)
#   --force   build again even when the cached tree is ready
#   UBINFMT                     the ubinfmt binary (default: build/bin/ubinfmt)
#   UBINFMT_CONFORMANCE_CACHE   cache directory (default: <repo>/.cache/conformance)
#
# debootstrap's first stage runs here on the host (download and unpack, no foreign code); its
# second stage (every package's maintainer scripts: dpkg, perl, python3 byte-compiling, all
# foreign code) runs under `ubinfmt run --rootfs`, which is thus itself a test of ubinfmt: a
# failure there fails the build.  The .debs are kept under CACHE/debs/ARCH, the tree under
# CACHE/rootfs/ARCH-PROFILE, and ARCH-PROFILE.info records how long each stage took (the
# report prints it).  A stamp holds the hash of the recipe (suite, variant, package list and
# RECIPE below, raised when the way a tree is made changes), so a changed list rebuilds the
# tree and an edit elsewhere in this script does not.  Prints only the path on stdout; progress goes to CACHE/logs/.
set -euo pipefail
umask 022
export LC_ALL=C

prog=rootfs.sh
script=$(readlink -f "${BASH_SOURCE[0]}")
repo=$(cd "$(dirname "$script")/../.." && pwd)
cache=${UBINFMT_CONFORMANCE_CACHE:-$repo/.cache/conformance}
UBINFMT=${UBINFMT:-$repo/build/bin/ubinfmt}
mirror=http://deb.debian.org/debian
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

die() {
	printf '%s: %s\n' "$prog" "$*" >&2
	exit 1
}

force=false
args=()
for a in "$@"; do
	case $a in
	--force) force=true ;;
	-h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$script"; exit 0 ;;
	-*) die "unknown option '$a'" ;;
	*) args+=("$a") ;;
	esac
done
[ ${#args[@]} -eq 2 ] || die "usage: $0 [--force] ARCH PROFILE"
arch=${args[0]} profile=${args[1]}

case $profile in
python) include=python3,libpython3.11-testsuite ;;
full) include=python3,libpython3.11-testsuite,gcc,make,libc6-dev,busybox ;;
*) die "unknown profile '$profile' (python or full)" ;;
esac

name=$arch-$profile
root=$cache/rootfs/$name
stamp_file=$cache/rootfs/$name.stamp
info=$cache/rootfs/$name.info
RECIPE=1
want_stamp=$(printf 'recipe %s bookworm minbase %s %s\n' "$RECIPE" "$arch" "$include" | sha256sum)
want_stamp=${want_stamp%% *}

ready() {
	local have=
	[ -f "$stamp_file" ] && read -r have <"$stamp_file" || return 1
	[ "$have" = "$want_stamp" ] && [ -x "$root/usr/bin/python3" ] && [ -f "$info" ]
}

if ! $force && ready; then
	echo "$root"
	exit 0
fi

for tool in debootstrap flock sha256sum; do
	command -v "$tool" >/dev/null || die "needs $tool; run tools/deps.sh"
done
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap's first stage makes device nodes and chowns)"
[ -x "$UBINFMT" ] || die "no ubinfmt at $UBINFMT (build it, or set UBINFMT)"
[ -r "$keyring" ] || die "cannot read $keyring; install debian-archive-keyring"

mkdir -p "$cache/rootfs" "$cache/debs/$arch" "$cache/logs"
exec 9>"$cache/rootfs/$name.lock"
flock 9 || die "cannot lock $cache/rootfs/$name.lock"
if ! $force && ready; then
	echo "$root"
	exit 0
fi
rm -f "$stamp_file"

new=$root.new
log=$cache/logs/rootfs-$name.log
rm -rf "$new"
: >"$log"
t0=$(date +%s.%N)
debootstrap --foreign --arch="$arch" --variant=minbase --keyring="$keyring" \
	--cache-dir="$cache/debs/$arch" --include="$include" \
	bookworm "$new" "$mirror" >>"$log" 2>&1 ||
	die "debootstrap first stage for $arch failed: $(grep -E '^E:' "$log" | tail -n 3 | paste -sd ';') (log: $log)"
t1=$(date +%s.%N)
# The second stage runs every maintainer script of the foreign packages: ubinfmt is what runs
# them.  The host's environment stays out (a foreign dpkg has no use for it).
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C TERM=dumb \
	"$UBINFMT" run --rootfs "$new" -- /debootstrap/debootstrap --second-stage >>"$log" 2>&1 ||
	die "debootstrap second stage for $arch under ubinfmt run --rootfs failed (log: $log)"
t2=$(date +%s.%N)
[ -x "$new/usr/bin/python3" ] || die "$new has no usr/bin/python3 after debootstrap (log: $log)"
# The harness bind-mounts its per-run output directory here; tests write nowhere else in the
# tree but their own /tmp (a tmpfs of the sandbox).
mkdir -p "$new/conformance"
rm -rf "$new/var/cache/apt/archives/"*.deb
if [ -d "$root" ]; then
	rm -rf "$root"
fi
mv "$new" "$root"
{
	awk -v a="$t0" -v b="$t1" -v c="$t2" \
		'BEGIN { printf "first_stage_s %.1f\nsecond_stage_s %.1f\n", b - a, c - b }'
	printf 'size_mb %s\n' "$(du -sm "$root" | cut -f1)"
	printf 'packages %s\n' "$(grep -c '^Package:' "$root/var/lib/dpkg/status")"
	printf 'built %s\n' "$(date -u +%FT%TZ)"
} >"$info"
echo "$want_stamp" >"$stamp_file"
echo "$root"
