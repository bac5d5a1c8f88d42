#!/usr/bin/env bash
# Runs upstream test suites in a foreign Debian rootfs twice, under `ubinfmt run --rootfs` and
# under the kernel's binfmt_misc in a throwaway user namespace
# (tests/integration/binfmt-baseline.sh), compares the per-test outcomes and prints the report
# (compare.py).  Exit status: 0 when every test that passes under binfmt_misc passes under
# ubinfmt, 1 when one does not, 2 on a usage or set-up error.
#
# Usage: tests/conformance/run.sh [OPTION…]
#   --arch ARCH        Debian architecture of the rootfs (arm64)
#   --profile NAME     rootfs profile, see rootfs.sh (full)
#   --suites LIST      comma-separated: cpython, toolchain, busybox (cpython,toolchain,busybox)
#   --modules LIST     CPython test modules (test_subprocess,test_os,test_posix,test_shutil,test_sys)
#   --out DIR          where logs, results and the report go (a new temp dir)
#   --timeout S        seconds one suite run may take under one runner (1800)
#   UBINFMT            the ubinfmt binary (default: build/bin/ubinfmt)
#
# Each CPython module is its own `python3 -m test --junit-xml` process under each runner, so a
# crash loses one module, not the run; the runners alternate module by module so that a change
# in the machine's load hits both alike.  The rootfs cache is not written to: each run's files go
# to a directory bind-mounted on the rootfs's /conformance in a private mount namespace, and the
# tests' own scratch files to the sandbox's tmpfs /tmp.
set -euo pipefail
export LC_ALL=C

prog=run.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
UBINFMT=${UBINFMT:-$repo/build/bin/ubinfmt}
baseline=$repo/tests/integration/binfmt-baseline.sh

die() {
	printf '%s: %s\n' "$prog" "$*" >&2
	exit 2
}

arch=arm64 profile=full suites=cpython,toolchain,busybox timeout_s=1800 out=
modules=test_subprocess,test_os,test_posix,test_shutil,test_sys
while [ $# -gt 0 ]; do
	case $1 in
	--arch) arch=$2; shift 2 ;;
	--profile) profile=$2; shift 2 ;;
	--suites) suites=$2; shift 2 ;;
	--modules) modules=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) die "unknown argument '$1'" ;;
	esac
done
[ "$(id -u)" -eq 0 ] || die "needs root (mount namespaces, the rootfs build)"
[ -x "$UBINFMT" ] || die "no ubinfmt at $UBINFMT (build it, or set UBINFMT)"
if [ -z "$out" ]; then
	out=$(mktemp -d "${TMPDIR:-/tmp}/ubinfmt-conformance.XXXXXX")
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

root=$(UBINFMT=$UBINFMT bash "$here/rootfs.sh" "$arch" "$profile") || die "no $arch rootfs"

# timed RUNNER SUB NAME LIMIT CMD…: CMD in the rootfs under RUNNER (ubinfmt or binfmt) with
# OUT/RUNNER bind-mounted on its /conformance and a clean environment; CMD's output goes to
# OUT/RUNNER/SUB/NAME.log, its status to NAME.rc and its wall time in seconds to NAME.wall.  After
# LIMIT seconds timeout's TERM reaches `ubinfmt run` (which passes it on to CMD) or the
# baseline's unshare.
timed() {
	local runner=$1 dir=$out/$1/$2 name=$3 limit=$4 t0 t1 rc=0
	shift 4
	local -a cmd
	case $runner in
	ubinfmt) cmd=("$UBINFMT" run --rootfs "$root" --) ;;
	binfmt) cmd=(bash "$baseline" run --rootfs "$root" --) ;;
	esac
	mkdir -p "$dir"
	t0=$(date +%s.%N)
	# shellcheck disable=SC2016 # the inner shell expands them
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 TERM=dumb TMPDIR=/tmp \
		timeout -k 30 "$limit" unshare --mount --propagation private -- \
		bash -c 'mount --bind "$1" "$2/conformance" && shift 2 && exec "$@"' _ \
		"$out/$runner" "$root" "${cmd[@]}" "$@" >"$dir/$name.log" 2>&1 </dev/null || rc=$?
	t1=$(date +%s.%N)
	echo "$rc" >"$dir/$name.rc"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }' >"$dir/$name.wall"
}

runners=(binfmt ubinfmt)
for r in "${runners[@]}"; do
	mkdir -p "$out/$r"
done

# CPython's own tests from libpython3.11-testsuite, one module per process.  --timeout makes
# regrtest end a test stuck for that long (faulthandler prints where) instead of the whole run.
suite_cpython() {
	local m i=0 r order
	for r in "${runners[@]}"; do
		mkdir -p "$out/$r/cpython"
	done
	for m in ${modules//,/ }; do
		# Alternate which runner goes first, so that neither always runs on a warmer cache.
		if ((i++ % 2)); then order="ubinfmt binfmt"; else order="binfmt ubinfmt"; fi
		for r in $order; do
			printf '%s: %s %s under %s…\n' "$prog" "$arch" "$m" "$r" >&2
			timed "$r" cpython "$m" "$timeout_s" \
				/usr/bin/python3 -m test --timeout 600 --junit-xml "/conformance/cpython/$m.xml" "$m"
		done
	done
}

# A small C project (tests/conformance/toolchain) built in the rootfs with its own gcc and
# `make -j2`: make, gcc, cc1, as, collect2, ld and ar are each a foreign exec started through
# vfork or posix_spawn.  The program then runs and must print the expected line.
suite_toolchain() {
	local r d want
	if [ ! -x "$root/usr/bin/gcc" ]; then
		die "the toolchain suite needs the full profile (no gcc in $root)"
	fi
	want="crc32=$(python3 -c 'import sys, zlib; print("%08x" % zlib.crc32(open(sys.argv[1], "rb").read()))' \
		"$here/toolchain/main.c") words=$(wc -w <"$here/toolchain/main.c") machine=$(arch_machine)"
	for r in "${runners[@]}"; do
		d=$out/$r/toolchain
		rm -rf "$d"
		mkdir -p "$d"
		cp -r "$here/toolchain" "$d/src"
		printf '%s: %s toolchain under %s…\n' "$prog" "$arch" "$r" >&2
		timed "$r" toolchain build "$timeout_s" /usr/bin/make -C /conformance/toolchain/src -j2
		timed "$r" toolchain run 120 /conformance/toolchain/src/wc32 /conformance/toolchain/src/main.c
		{
			printf 'toolchain.make_j2\t%s\n' "$( [ "$(cat "$d/build.rc")" = 0 ] && echo pass || echo fail)"
			printf 'toolchain.run\t%s\n' "$( [ "$(cat "$d/run.rc")" = 0 ] && [ "$(cat "$d/run.log")" = "$want" ] && echo pass || echo fail)"
		} >"$d/results.tsv"
		printf 'toolchain.make_j2 %s\ntoolchain.run %s\n' "$(cat "$d/build.wall")" "$(cat "$d/run.wall")" >"$d/walls.txt"
	done
}

# busybox's own testsuite (testsuite/runtest from Debian's busybox source package, Debian's
# patches applied) against the rootfs's busybox, with the .config it was built from
# (debian/config/pkg/deb) and the environment debian/rules runs it in at build time, mdev.tests
# left out as debian/rules does.  Hundreds of shell-level tests: pipelines, find -exec, xargs,
# ash's own, each applet started through a symlink to busybox.
suite_busybox() {
	local r d bbsrc
	[ -x "$root/bin/busybox" ] || die "the busybox suite needs the full profile (no busybox in $root)"
	bbsrc=$(bash "$here/source.sh" busybox) || die "cannot fetch busybox's source package"
	for r in "${runners[@]}"; do
		d=$out/$r/busybox
		rm -rf "$d"
		mkdir -p "$d/bin"
		cp -r "$bbsrc/testsuite" "$d/testsuite"
		rm -f "$d/testsuite/mdev.tests"
		cp "$bbsrc/debian/config/pkg/deb" "$d/bin/.config"
		ln -s /bin/busybox "$d/bin/busybox"
		printf '%s: %s busybox testsuite under %s…\n' "$prog" "$arch" "$r" >&2
		timed "$r" busybox runtest "$timeout_s" /bin/sh -c 'cd /conformance/busybox/testsuite &&
			exec env SKIP_KNOWN_BUGS=y LANG=C.UTF-8 LC_ALL=C.UTF-8 SKIP_INTERNET_TESTS=y \
			SHELL=/bin/sh ECHO=/bin/echo bindir=/conformance/busybox/bin ./runtest'
		# "PASS: name" lines; a name seen again gets #2, #3… so that both runs line up, and a tab
		# in a name (sed's tests have one) is written \t.
		awk '/^(PASS|FAIL|SKIPPED|UNTESTED): / {
			o = $1; sub(/:$/, "", o); n = substr($0, length($1) + 2); gsub(/\t/, "\\t", n)
			k = "busybox." n; if (seen[k]++) k = k "#" seen[k]
			print k "\t" (o == "PASS" ? "pass" : o == "FAIL" ? "fail" : "skip") }' \
			"$d/runtest.log" >"$d/results.tsv"
		printf 'busybox.runtest %s\n' "$(cat "$d/runtest.wall")" >"$d/walls.txt"
		rm -rf "${d:?}/testsuite" "${d:?}/bin"
	done
}

# What uname -m says for a Debian architecture under qemu-user.
arch_machine() {
	case $arch in
	arm64) echo aarch64 ;;
	armhf | armel) echo armv7l ;;
	i386) echo i686 ;;
	ppc64el) echo ppc64le ;;
	*) echo "$arch" ;;
	esac
}

for s in ${suites//,/ }; do
	case $s in
	cpython) suite_cpython ;;
	toolchain) suite_toolchain ;;
	busybox) suite_busybox ;;
	*) die "unknown suite '$s'" ;;
	esac
done

cp "$(dirname "$root")/$(basename "$root").info" "$out/rootfs.info"
rc=0
python3 "$here/compare.py" --arch "$arch" --out "$out" --suites "$suites" --modules "$modules" || rc=$?
exit "$rc"
