#!/usr/bin/env bash
# The whole conformance harness (README "Conformance"): for each architecture, builds or reuses
# a foreign Debian bookworm rootfs (tests/conformance/rootfs.sh), runs the upstream suites in it
# under `ubinfmt run --rootfs` and under binfmt_misc in a throwaway user namespace, compares the
# per-test outcomes and prints one report.  Needs root, Linux 6.7 or later (binfmt_misc per user
# namespace) and, for a cold cache, deb.debian.org.
#
# Usage: tools/conformance.sh [OPTION…]
#   --arch LIST      comma-separated Debian architectures (arm64,armhf,s390x)
#   --suites LIST    cpython,toolchain,busybox (all three)
#   --modules LIST   CPython test modules (test_subprocess,test_os,test_posix,test_shutil,test_sys)
#   --out DIR        where the logs and the report go (.cache/conformance/reports/<UTC time>)
#   UBINFMT          the ubinfmt binary (default: build/bin/ubinfmt)
#
# Writes DIR/report.txt (printed too) and, per architecture, DIR/ARCH/report.{txt,json} beside
# every suite's logs.  Exit status 1 when some test passes under binfmt_misc but not under
# ubinfmt, on any architecture.
set -euo pipefail
export LC_ALL=C
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export UBINFMT=${UBINFMT:-$repo/build/bin/ubinfmt}

arches=arm64,armhf,s390x suites=cpython,toolchain,busybox out=
modules=test_subprocess,test_os,test_posix,test_shutil,test_sys
while [ $# -gt 0 ]; do
	case $1 in
	--arch) arches=$2; shift 2 ;;
	--suites) suites=$2; shift 2 ;;
	--modules) modules=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) echo "conformance.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "conformance.sh: needs root" >&2; exit 2; }
out=${out:-$repo/.cache/conformance/reports/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"

rc=0
t_start=$(date +%s)
{
	echo "ubinfmt conformance report, $(date -u +%FT%TZ)"
	echo "ubinfmt: $UBINFMT, source $(git -C "$repo" describe --always --dirty 2>/dev/null || echo '?')"
	echo "host: $(uname -r), $(nproc) CPUs, $(qemu-aarch64-static --version | head -n 1)"
} >"$out/report.txt"
for a in ${arches//,/ }; do
	# The rootfs first, timed on its own: cached, this is a second or two.
	t0=$(date +%s)
	if ! bash "$repo/tests/conformance/rootfs.sh" "$a" full >/dev/null; then
		echo "== conformance: $a: the rootfs could not be built (see .cache/conformance/logs)" >>"$out/report.txt"
		rc=1
		continue
	fi
	t1=$(date +%s)
	r=0
	bash "$repo/tests/conformance/run.sh" --arch "$a" --profile full --suites "$suites" \
		--modules "$modules" --out "$out/$a" >/dev/null || r=$?
	t2=$(date +%s)
	if [ -f "$out/$a/report.txt" ]; then
		cat "$out/$a/report.txt" >>"$out/report.txt"
	else
		echo "== conformance: $a: no report (run.sh exited $r)" >>"$out/report.txt"
	fi
	echo "($a: rootfs ready in $((t1 - t0)) s this run, suites $((t2 - t1)) s)" >>"$out/report.txt"
	[ "$r" -eq 0 ] || rc=1
done
echo "total: $(($(date +%s) - t_start)) s; logs in $out" >>"$out/report.txt"
cat "$out/report.txt"
exit "$rc"
