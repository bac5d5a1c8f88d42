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
#   UBINFMTD          the daemon (default: beside $UBINFMT, build/bin/ubinfmtd)
#   UBINFMT_INIT      the in-container agent (default: beside $UBINFMT, build/bin/ubinfmt-init)
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
UBINFMTD=${UBINFMTD:-$(dirname "$UBINFMT")/ubinfmtd}
UBINFMT_INIT=${UBINFMT_INIT:-$(dirname "$UBINFMT")/ubinfmt-init}
UBINFMT_TIMEOUT=${UBINFMT_TIMEOUT:-120}
TEST_NAME=$(basename "$0" .sh)

n_pass=0
n_fail=0
n_skip=0

# What the last `run` left: the command's output (stdout and stderr) and its exit status.
out=''
status=0

# The per-test scratch directory; everything a test creates lives here.
T=$(mktemp -d "${TMPDIR:-/tmp}/ubinfmt-$TEST_NAME.XXXXXX") || exit 1

# Background processes a test started (track_pid), each with its start time so that a pid
# reused by someone else is never signalled.  They get SIGTERM, then SIGKILL, at exit.
LIB_PIDS=()
lib_start_time() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	# shellcheck disable=SC2086 # split into fields on purpose
	set -- $stat
	echo "${20}"
}
track_pid() {
	local t
	t=$(lib_start_time "$1") && LIB_PIDS+=("$1:$t")
	return 0
}
lib_alive() {
	local state
	state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}
lib_kill_tracked() {
	local e pid t i
	for e in "${LIB_PIDS[@]}"; do
		pid=${e%%:*} t=${e#*:}
		[ "$(lib_start_time "$pid")" = "$t" ] && kill -TERM "$pid" 2>/dev/null
	done
	for ((i = 0; i < 30; i++)); do
		local left=0
		for e in "${LIB_PIDS[@]}"; do
			pid=${e%%:*} t=${e#*:}
			[ "$(lib_start_time "$pid")" = "$t" ] && lib_alive "$pid" && left=1
		done
		[ "$left" = 0 ] && break
		sleep 0.1
	done
	for e in "${LIB_PIDS[@]}"; do
		pid=${e%%:*} t=${e#*:}
		[ "$(lib_start_time "$pid")" = "$t" ] && lib_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	done
	LIB_PIDS=()
	return 0
}
# The state directories that runtimes make under /run whatever --root says (podman's runc, a
# crun asked for its version, BuildKit's runc): those a test found missing are removed at exit
# if they are still empty, so that nothing is left behind on the host.
LIB_RUN_DIRS=()
for d in /run/runc /run/crun /run/containerd /run/docker; do
	[ -e "$d" ] || LIB_RUN_DIRS+=("$d")
done
lib_cleanup() {
	local d
	[ "${#LIB_PIDS[@]}" -gt 0 ] && lib_kill_tracked
	# Mounts only ever happen in namespaces that are gone by now; never cross into one anyway.
	[ -n "${T:-}" ] && [ -d "$T" ] && rm -rf --one-file-system "$T"
	for d in "${LIB_RUN_DIRS[@]}"; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null
	done
	return 0
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

# What every hostile-sandbox test needs: root, the real ubinfmt, exectest, the arm64 busybox
# rootfs, busybox for both architectures and qemu for arm64.
need_hostile_sandbox() {
	need_root
	need_real_ubinfmt
	need_twin_sandbox
}

# What a test of the arm64 busybox rootfs with native twins needs (make_twin_rootfs): ubinfmt
# (or the baseline), exectest, the rootfs, busybox for both architectures and qemu for arm64.
need_twin_sandbox() {
	need_ubinfmt
	need_exectest
	need_fixtures
	need_rootfs busybox-arm64
	need_busybox amd64 arm64
	need_qemu arm64
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

# make_twin_rootfs: the arm64 busybox rootfs (make_rootfs) with a native busybox in /n, the
# foreign one in /f and a native shell as /e/sh, for tests whose foreign cases must end as
# their native twins do; prints its path.
make_twin_rootfs() {
	local r
	r=$(make_rootfs busybox-arm64) || return 1
	mkdir -p "$r/n" "$r/f" "$r/e"
	cp "$(busybox amd64)" "$r/n/busybox" &&
		cp "$(busybox arm64)" "$r/f/busybox" &&
		cp "$(busybox amd64)" "$r/e/sh" || return 1
	echo "$r"
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

# ---- ubinfmtd and ubinfmt-init --------------------------------------------------------------

need_daemon() {
	need_real_ubinfmt
	[ -x "$UBINFMTD" ] || skip "no ubinfmtd at $UBINFMTD (build it first)"
	[ -x "$UBINFMT_INIT" ] || skip "no ubinfmt-init at $UBINFMT_INIT (build it first)"
}

# A daemon is known by a NAME: its sockets are $T/d-NAME/{agent,oci,control}.sock and its
# stdout and stderr go to $T/NAME.log (appended, across restarts).
declare -A DAEMON_PID=() DAEMON_WRAPPER=()
daemon_dir() { echo "$T/d-$1"; }
agent_sock() { echo "$T/d-$1/agent.sock"; }
control_sock() { echo "$T/d-$1/control.sock"; }

# daemon_start NAME [ARG…]: starts ubinfmtd on NAME's sockets and waits (10 s at most) until its
# control socket answers; prints the log and returns 1 when it does not come up.
daemon_start() {
	local name=$1 dir i
	shift
	dir=$(daemon_dir "$name")
	mkdir -p "$dir"
	chmod 755 "$dir" # agents may run as another user
	rm -f "$dir/pid" "$dir/status"
	# A subshell waits for the daemon and notes its status, so that the shell's own "Killed"
	# notice lands in the daemon's log, not in the test's output.
	(
		"$UBINFMTD" --socket "$dir/agent.sock" --oci-socket "$dir/oci.sock" --control "$dir/control.sock" "$@" &
		echo $! >"$dir/pid"
		wait $!
		echo $? >"$dir/status"
	) >>"$T/$name.log" 2>&1 &
	DAEMON_WRAPPER[$name]=$!
	for ((i = 0; i < 50; i++)); do
		[ -s "$dir/pid" ] && break
		sleep 0.02
	done
	DAEMON_PID[$name]=$(cat "$dir/pid" 2>/dev/null)
	track_pid "${DAEMON_PID[$name]}"
	for ((i = 0; i < 100; i++)); do
		"$UBINFMT" status --control "$dir/control.sock" >/dev/null 2>&1 && return 0
		lib_alive "${DAEMON_PID[$name]}" || break
		sleep 0.1
	done
	echo "ubinfmtd '$name' did not come up; its log:"
	cat "$T/$name.log"
	return 1
}

# daemon_stop NAME [SIGNAL]: sends SIGNAL (default TERM), waits for the daemon to exit (SIGKILL
# after 10 s) and reaps it; its exit status is left in $daemon_status.
# shellcheck disable=SC2034 # daemon_status is for the tests
daemon_stop() {
	local pid=${DAEMON_PID[$1]} i
	daemon_status=
	kill -"${2:-TERM}" "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		lib_alive "$pid" || break
		sleep 0.1
	done
	lib_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	wait "${DAEMON_WRAPPER[$1]}" 2>/dev/null
	daemon_status=$(cat "$(daemon_dir "$1")/status" 2>/dev/null)
	return 0
}

# init_bg LOG ARG…: starts `ubinfmt-init ARG…` in the background, stdout and stderr into LOG, and
# sets INIT_PID.  SIGINT and SIGQUIT are reset to their defaults first: a non-interactive
# shell's `&` ignores them, and CMD would inherit that (an ignored signal cannot be trapped).
init_bg() {
	local log=$1
	shift
	env --default-signal=INT,QUIT "$UBINFMT_INIT" "$@" >"$log" 2>&1 &
	INIT_PID=$!
	track_pid "$INIT_PID"
}

# wait_exit PID [SECS]: waits (60 s at most) for a background child of this shell to exit and
# leaves its exit status in $status; 124 when it is still running after SECS.
wait_exit() {
	local pid=$1 secs=${2:-60} i
	for ((i = 0; i < secs * 10; i++)); do
		lib_alive "$pid" || break
		sleep 0.1
	done
	if lib_alive "$pid"; then
		status=124
		return 0
	fi
	wait "$pid"
	status=$?
	return 0
}

# wait_file FILE [SECS] [LINES]: waits (30 s at most) until FILE exists with at least LINES lines.
wait_file() {
	local f=$1 secs=${2:-30} lines=${3:-0} i
	for ((i = 0; i < secs * 10; i++)); do
		if [ -e "$f" ] && [ "$(wc -l <"$f")" -ge "$lines" ]; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# is_asan_build FILE: whether FILE is linked with ASan.  (Not `ldd | grep -q`: under pipefail,
# grep leaving early makes ldd die of SIGPIPE, and the pipeline fails at random.)
is_asan_build() {
	case "$(ldd "$1" 2>/dev/null)" in
	*libasan*) return 0 ;;
	*) return 1 ;;
	esac
}

# trace_start FILE ARG…: `ubinfmt trace ARG…` in the background, its lines into FILE and its
# stderr into FILE.err; returns once it says it is tracing (every exec decided from then on is
# in FILE), 1 if it has not after 30 s.  Sets TRACE_PID.
trace_start() {
	local f=$1 i
	shift
	"$UBINFMT" trace "$@" >"$f" 2>"$f.err" &
	TRACE_PID=$!
	track_pid "$TRACE_PID"
	for ((i = 0; i < 300; i++)); do
		grep -q '^ubinfmt: tracing ' "$f.err" 2>/dev/null && return 0
		lib_alive "$TRACE_PID" || break
		sleep 0.1
	done
	echo "ubinfmt trace $* did not start tracing: $(cat "$f.err" 2>/dev/null)"
	return 1
}

# children_of PID: one line "pid state name" per process whose /proc/*/status says PPid: PID.
children_of() {
	local f key val pid state name ppid
	for f in /proc/[0-9]*/status; do
		pid='' state='' name='' ppid=''
		while read -r key val; do
			case $key in
			Name:) name=$val ;;
			State:) state=${val%% *} ;;
			Pid:) pid=$val ;;
			PPid:) ppid=$val && break ;;
			esac
		done 2>/dev/null <"$f"
		[ "$ppid" = "$1" ] && echo "$pid $state $name"
	done
	return 0
}

# status_field PID FIELD: a field of /proc/PID/status ("PPid", "NoNewPrivs"…).
status_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null
}

# ---- known gaps ------------------------------------------------------------------------------

# known_bug NAME EVIDENCE: a check that fails because of a known, reported gap (listed in
# SECURITY.md, "Known gaps").  It shows the evidence and counts as skipped, so that the suite
# stays usable until the fix lands; UBINFMT_STRICT=1 makes it a failure.
known_bug() {
	if [ "${UBINFMT_STRICT:-0}" = 1 ]; then
		fail "$1 (known gap)" "$2"
	else
		skip_check "$1" "KNOWN GAP (SECURITY.md); UBINFMT_STRICT=1 makes it fail"
		lib_show "$2"
	fi
}
