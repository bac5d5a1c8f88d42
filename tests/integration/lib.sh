# shellcheck shell=bash
# Harness for the integration tests, sourced by every t_*.sh.
#
# A test is a list of checks; each prints one line ("ok", "FAIL" with the evidence indented,
# "skip" with its reason), and `finish` prints "N passed, N failed[, N skipped]" and exits
# 0 (all passed), 1 (something failed) or 77 (nothing could run: ctest's SKIP_RETURN_CODE).
#
# Environment (ctest sets the first three; the defaults fit a build in ./build):
#   UBINFMT           the ubinfmt binary
#   EXECTEST          the static exectest helper
#   UBINFMT_FIXTURES  the fixtures cache (tools/fixtures.sh)
#   UBINFMT_TIMEOUT   seconds one `ubinfmt run` may take (default 120)
#   UBINFMT_VERBOSE=1 print every check's output, not only a failing one's
#
# UBINFMT may also name tests/integration/binfmt-baseline.sh, which provides the same `run`
# command on top of the kernel's binfmt_misc in a throwaway user namespace: the tests then show
# what the kernel itself does (checks of ubinfmt-only features skip).

set -u
set -o pipefail

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$LIB_DIR/../.." && pwd)
UBINFMT=${UBINFMT:-$REPO/build/bin/ubinfmt}
EXECTEST=${EXECTEST:-$REPO/build/tests/integration/exectest}
FIXTURES=${UBINFMT_FIXTURES:-$REPO/.cache/fixtures}
UBINFMT_TIMEOUT=${UBINFMT_TIMEOUT:-120}
TEST_NAME=$(basename "$0" .sh)

n_pass=0
n_fail=0
n_skip=0

# The per-test scratch directory; everything a test creates lives here.
T=$(mktemp -d "${TMPDIR:-/tmp}/ubinfmt-$TEST_NAME.XXXXXX") || exit 1
lib_cleanup() {
	# Mounts only ever happen in namespaces that are gone by now; never cross into one anyway.
	[ -n "${T:-}" ] && [ -d "$T" ] && rm -rf --one-file-system "$T"
}
trap lib_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- reporting ------------------------------------------------------------------------------

# Indents a block of evidence under a result line (at most 60 lines of it).
lib_show() {
	local text=$1 n
	[ -z "$text" ] && return 0
	n=$(printf '%s\n' "$text" | wc -l)
	printf '%s\n' "$text" | head -n 60 | sed 's/^/    | /'
	[ "$n" -gt 60 ] && echo "    | … ($((n - 60)) more lines)"
	return 0
}

pass() {
	n_pass=$((n_pass + 1))
	echo "ok   $1"
}

# fail NAME [EVIDENCE]
fail() {
	n_fail=$((n_fail + 1))
	echo "FAIL $1"
	lib_show "${2:-}"
}

# skip_check NAME REASON: this one check cannot run here.
skip_check() {
	n_skip=$((n_skip + 1))
	echo "skip $1: $2"
}

# skip REASON: the rest of this test cannot run here.
skip() {
	echo "SKIP: $1"
	n_skip=$((n_skip + 1))
	finish
}

finish() {
	local line="$n_pass passed, $n_fail failed"
	[ "$n_skip" -gt 0 ] && line+=", $n_skip skipped"
	echo "$line"
	if [ "$n_fail" -gt 0 ]; then
		exit 1
	elif [ "$n_pass" -eq 0 ] && [ "$n_skip" -gt 0 ]; then
		exit 77
	fi
	exit 0
}

# ---- checks ---------------------------------------------------------------------------------

# Runs CMD… with stdout and stderr into $T/out, leaving its status in $status and output in $out.
status=0
out=
run() {
	"$@" >"$T/out" 2>&1
	status=$?
	out=$(cat "$T/out")
	[ "${UBINFMT_VERBOSE:-0}" = 1 ] && { echo "  \$ $*"; lib_show "$out"; }
	return 0
}

# check NAME CMD…: passes when CMD exits 0.
check() {
	local name=$1
	shift
	run "$@"
	if [ "$status" -eq 0 ]; then
		pass "$name"
	else
		fail "$name" "\$ $*"$'\n'"exit status $status"$'\n'"$out"
	fi
}

# expect_status NAME WANT CMD…: passes when CMD exits with WANT.
expect_status() {
	local name=$1 want=$2
	shift 2
	run "$@"
	if [ "$status" -eq "$want" ]; then
		pass "$name"
	else
		fail "$name" "\$ $*"$'\n'"exit status $status, want $want"$'\n'"$out"
	fi
}

# expect_eq NAME WANT GOT [CONTEXT]
expect_eq() {
	if [ "$2" == "$3" ]; then
		pass "$1"
	else
		fail "$1" "want: $(printf '%q' "$2")"$'\n'"got:  $(printf '%q' "$3")${4:+$'\n'$4}"
	fi
}

# expect_match NAME REGEX GOT [CONTEXT]: GOT matches the extended regular expression.
expect_match() {
	if [[ $3 =~ $2 ]]; then
		pass "$1"
	else
		fail "$1" "want match: $2"$'\n'"got: $3${4:+$'\n'$4}"
	fi
}

# expect_ne NAME UNWANTED GOT [CONTEXT]
expect_ne() {
	if [ "$2" != "$3" ]; then
		pass "$1"
	else
		fail "$1" "must differ from: $(printf '%q' "$2")${4:+$'\n'$4}"
	fi
}

# ---- requirements ---------------------------------------------------------------------------

need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "'$c' is not installed"
	done
}

need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (namespaces, mounts and chroot for the baselines)"
}

is_baseline() {
	[ "$(basename "$UBINFMT")" = binfmt-baseline.sh ]
}

need_ubinfmt() {
	[ -x "$UBINFMT" ] || skip "no ubinfmt binary at $UBINFMT (build it first)"
}

# A feature only ubinfmt has (trace, detect, its own log lines): skip under the kernel baseline.
need_real_ubinfmt() {
	need_ubinfmt
	is_baseline && skip "checks ubinfmt itself; $UBINFMT is the binfmt_misc baseline"
	return 0
}

need_exectest() {
	[ -x "$EXECTEST" ] || skip "no exectest helper at $EXECTEST (build the tests first)"
}

need_fixtures() {
	[ -d "$FIXTURES" ] || skip "no fixtures at $FIXTURES (run: bash tools/fixtures.sh)"
}

# busybox ARCH: the cached foreign (or native amd64) static busybox.
busybox() {
	echo "$FIXTURES/busybox/$1/busybox"
}

need_busybox() {
	local a
	for a in "$@"; do
		[ -x "$(busybox "$a")" ] || skip "no busybox fixture for $a at $(busybox "$a") (run: bash tools/fixtures.sh)"
	done
}

need_rootfs() {
	local r
	for r in "$@"; do
		[ -d "$FIXTURES/rootfs/$r" ] || skip "no rootfs fixture $r at $FIXTURES/rootfs/$r (run: bash tools/fixtures.sh)"
	done
}

# The qemu-user emulator name for a Debian architecture (empty for amd64, which runs natively).
qemu_name() {
	case $1 in
	amd64) echo "" ;;
	arm64) echo aarch64 ;;
	armhf | armel) echo arm ;;
	i386) echo i386 ;;
	s390x) echo s390x ;;
	ppc64el) echo ppc64le ;;
	mips64el) echo mips64el ;;
	mipsel) echo mipsel ;;
	riscv64) echo riscv64 ;;
	*) echo "$1" ;;
	esac
}

need_qemu() {
	local a q
	for a in "$@"; do
		q=$(qemu_name "$a")
		[ -z "$q" ] && continue
		command -v "qemu-$q-static" >/dev/null 2>&1 || command -v "qemu-$q" >/dev/null 2>&1 ||
			skip "no qemu-$q(-static) on PATH for $a (install qemu-user-static)"
	done
}

# ---- rootfs copies --------------------------------------------------------------------------

# make_rootfs NAME: copies the cached rootfs NAME to $T/NAME (the cache itself is never
# modified), puts exectest in its bin/ when it exists, and prints the copy's path.
make_rootfs() {
	local src=$FIXTURES/rootfs/$1 dst=$T/$1
	[ -d "$src" ] || { echo "make_rootfs: no $src" >&2; return 1; }
	rm -rf --one-file-system "$dst"
	cp -a "$src" "$dst" || return 1
	mkdir -p "$dst/bin" "$dst/proc" "$dst/dev" "$dst/tmp"
	[ -x "$EXECTEST" ] && cp "$EXECTEST" "$dst/bin/exectest"
	echo "$dst"
}

# ---- running --------------------------------------------------------------------------------

# urun ARGS…: `ubinfmt run ARGS…` with a time limit, so a hang fails one check, not the test.
urun() {
	timeout -k 10 "$UBINFMT_TIMEOUT" "$UBINFMT" run "$@"
}

# The same command without ubinfmt, for the kernel's own answer: chrooted into ROOTFS with the
# /proc, /dev and /tmp that `ubinfmt run --rootfs` provides, in throwaway namespaces (nothing
# leaks), or directly on the host when ROOTFS is empty.
# plain_run ROOTFS CMD…
plain_run() {
	local root=$1
	shift
	if [ -n "$root" ]; then
		timeout -k 10 "$UBINFMT_TIMEOUT" bash "$LIB_DIR/binfmt-baseline.sh" plain --rootfs "$root" -- "$@"
	else
		timeout -k 10 "$UBINFMT_TIMEOUT" "$@"
	fi
}

# ---- architectures --------------------------------------------------------------------------

# The foreign architectures of the fixtures (Debian names).  i386 may run natively on an x86-64
# host or not (ubinfmt measures it at start-up), so checks accept either for it.
# shellcheck disable=SC2034 # used by the scripts that source this file
FOREIGN_ARCHS=(arm64 armhf armel riscv64 s390x ppc64el mips64el mipsel i386)

# A regular expression for what `uname -m` prints for a Debian architecture: qemu-user's answer
# for the emulated ones (qemu-arm's default CPU is a v7 for armel too), the kernel's for amd64.
uname_re() {
	case $1 in
	amd64) echo '^x86_64$' ;;
	arm64) echo '^aarch64$' ;;
	armhf | armel) echo '^armv7l$' ;;
	i386) echo '^(i686|x86_64)$' ;;
	s390x) echo '^s390x$' ;;
	ppc64el) echo '^ppc64le$' ;;
	mips64el) echo '^mips64$' ;;
	mipsel) echo '^mips$' ;;
	riscv64) echo '^riscv64$' ;;
	*) echo "^$1\$" ;;
	esac
}

# A name for an architecture in ubinfmt's own output (trace, detect): Debian's or the kernel's.
arch_re() {
	case $1 in
	amd64) echo '(amd64|x86_64|x86-64)' ;;
	arm64) echo '(arm64|aarch64)' ;;
	armhf | armel) echo "($1|arm|armv7|armv5|arm32)" ;;
	i386) echo '(i386|i686|x86|ia32)' ;;
	s390x) echo 's390x' ;;
	ppc64el) echo '(ppc64el|ppc64le)' ;;
	mips64el) echo 'mips64el' ;;
	mipsel) echo '(mipsel|mips)' ;;
	riscv64) echo 'riscv64' ;;
	*) echo "$1" ;;
	esac
}
