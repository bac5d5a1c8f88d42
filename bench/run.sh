#!/usr/bin/env bash
# ubinfmt's benchmark: every scenario side by side, in interleaved rounds (A,B,C,A,B,C…), so that
# a change in the machine's load hits every variant alike.  Reports medians with min–max over the
# rounds, and ratios computed per round (B_r/A_r) then summarised the same way.
#
# Usage: bench/run.sh [--quick] [--with-debootstrap] [--rounds N] [--only LIST]
#                     [--build-dir DIR] [--no-build] [--no-install]
#   --quick             few rounds and small counts: a smoke run (under 2 minutes)
#   --with-debootstrap  also scenario 5 (long; needs real root and network, and registers qemu
#                       in the HOST's binfmt_misc instance for the length of one run: run it
#                       only when nothing else uses this machine)
#   --rounds N          rounds for every scenario (default, scenarios 1/2/3/4/5/6: 9/7/5/5/1/5;
#                       --quick 3/3/2/2/1/2)
#   --only LIST         scenarios to run, comma-separated: 1,2,3,4,6 (default all) and 5
#   --build-dir DIR     build ubinfmt there (default bench/results/build, Release)
#   --no-build          use the binaries already in DIR/bin
#   --no-install        do not apt-get install what is missing (hyperfine, proot, gnuplot-nox…)
#
# Scenarios:
#   1 native exec tax: N× fork+execve+wait of /bin/true, and N× vfork+execve+wait of a tiny
#     static program, bare, under the null supervisor (ubinfmt-null: the same filter and
#     io_uring readiness path, every exec answered CONTINUE: the floor) and under `ubinfmt
#     run`; plus a traced run whose `usec` fields give the supervisor's own time per native exec
#   2 one foreign exec (arm64 busybox `true`), N× inside one session: qemu-aarch64-static
#     invoked directly, `ubinfmt run`, binfmt_misc (in a user namespace), `proot -q`; and
#     (2s) the same as whole commands, start-up included (hyperfine)
#   3 a configure-like arm64 busybox shell script (bench/workload.sh, ~400 execs) in an arm64
#     rootfs: `ubinfmt run --rootfs`, binfmt_misc + chroot in namespaces, `proot -q -r`
#   4 storm: 256 sandboxes of one ubinfmtd (ubinfmt-init), each N× vfork+exec, against the same
#     load bare and as 256 concurrent `ubinfmt run`; the daemon's p50/p99, failures, RSS (also
#     while every sandbox is held), fds;
#     and one sandbox alone (the daemon's latency without contention)
#   5 (optional) debootstrap --second-stage of an arm64 minbase, ubinfmt against binfmt_misc
#   6 Docker: the same 100-exec arm64 loop in `docker run --runtime ubinfmt` (a private dockerd
#     20.10 with ubinfmt-runtime; docker.io is installed for it), `ubinfmt run --rootfs` and
#     binfmt_misc (in a user namespace)
#
# Output: bench/results/results.json, results.csv, ratios.png, table.txt (and raw/ with every
# measurement); the rows that have a goal, and a few more, are printed as a compact table.
# binfmt_misc of the host is never mounted; the scenario-2/3 baseline gets a private instance
# in a throwaway user namespace (bench/binfmt-env.sh).  See bench/README.md for the method.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
results=$here/results
raw=$results/raw

die() {
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

note() {
	printf 'bench: %s\n' "$*" >&2
}

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

# ---- options ------------------------------------------------------------------------------------

quick=false
with_debootstrap=false
rounds=
only=1,2,3,4,6
build_dir=$results/build
do_build=true
do_install=true
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=true ;;
	--with-debootstrap) with_debootstrap=true ;;
	--rounds) rounds=${2:?--rounds needs a number}; shift ;;
	--rounds=*) rounds=${1#*=} ;;
	--only) only=${2:?--only needs a list}; shift ;;
	--only=*) only=${1#*=} ;;
	--build-dir) build_dir=${2:?--build-dir needs a directory}; shift ;;
	--build-dir=*) build_dir=${1#*=} ;;
	--no-build) do_build=false ;;
	--no-install) do_install=false ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done
if [ -n "$rounds" ] && ! [[ $rounds =~ ^[1-9][0-9]{0,2}$ ]]; then
	die "--rounds '$rounds': want a number from 1 to 999"
fi
$with_debootstrap && only+=,5

if $quick; then
	R1=${rounds:-3} N1=300           # native: rounds, execs per run
	R2=${rounds:-3} N2=8 K2=3        # foreign: rounds, execs per run, hyperfine runs per round
	R3=${rounds:-2} ITER3=10         # workload: rounds, loop iterations (10 execs each)
	R4=${rounds:-2} N4=50 S4=256     # storm: rounds, execs per sandbox, sandboxes
	R5=${rounds:-1}
	R6=${rounds:-2} N6=100           # docker: rounds, execs per loop
	mode=quick
else
	R1=${rounds:-9} N1=2000
	R2=${rounds:-7} N2=30 K2=10
	R3=${rounds:-5} ITER3=40
	R4=${rounds:-5} N4=200 S4=256
	R5=${rounds:-1}
	R6=${rounds:-5} N6=100
	mode=default
fi

wants() {
	[[ ,$only, == *,$1,* ]]
}

# ---- what the benchmark needs -------------------------------------------------------------------

install_deps() {
	local pkgs=() c
	declare -A pkg_of=([hyperfine]=hyperfine [proot]=proot [gnuplot]=gnuplot-nox [gcc]=gcc
		[cmake]=cmake [qemu-aarch64-static]=qemu-user-static [unshare]=util-linux)
	$with_debootstrap && pkg_of[debootstrap]=debootstrap
	for c in "${!pkg_of[@]}"; do
		command -v "$c" >/dev/null 2>&1 || pkgs+=("${pkg_of[$c]}")
	done
	if wants 6 && ! command -v dockerd >/dev/null 2>&1; then
		# docker.io, the project's way (its services are not started by the install)
		$do_install || die "missing: docker.io for scenario 6 (and --no-install was given; or --only without 6)"
		note "installing docker.io (tools/deps.sh UBINFMT_ENGINES=1)"
		UBINFMT_ENGINES=1 bash "$repo/tools/deps.sh" >>"$raw/apt.log" 2>&1 ||
			die "installing docker.io failed: see $raw/apt.log"
	fi
	[ ${#pkgs[@]} -eq 0 ] && return 0
	$do_install || die "missing: ${pkgs[*]} (and --no-install was given)"
	[ "$(id -u)" -eq 0 ] || die "missing: ${pkgs[*]}; run as root to install them"
	note "installing ${pkgs[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y --no-install-recommends "${pkgs[@]}" >"$raw/apt.log" 2>&1; then
		apt-get update >>"$raw/apt.log" 2>&1 || true
		apt-get install -y --no-install-recommends "${pkgs[@]}" >>"$raw/apt.log" 2>&1 ||
			die "apt-get install ${pkgs[*]} failed: see $raw/apt.log"
	fi
}

build_all() {
	local cflags=(-std=gnu11 -O2 -static -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
		-Wformat=2 -Wvla)
	if $do_build; then
		note "building ubinfmt (Release) in $build_dir"
		{ cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release &&
			cmake --build "$build_dir" -j"$(nproc)"; } >"$raw/build.log" 2>&1 ||
			die "building ubinfmt failed: see $raw/build.log"
	fi
	ubinfmt=$build_dir/bin/ubinfmt
	ubinfmtd=$build_dir/bin/ubinfmtd
	ubinfmt_init=$build_dir/bin/ubinfmt-init
	ubinfmt_null=$build_dir/bin/ubinfmt-null
	for b in "$ubinfmt" "$ubinfmtd" "$ubinfmt_init" "$ubinfmt_null"; do
		[ -x "$b" ] || die "no $b"
	done
	mkdir -p "$results/bin"
	execbench=$results/bin/execbench
	tiny=$results/bin/tiny
	gcc "${cflags[@]}" -o "$execbench" "$here/execbench.c" >>"$raw/build.log" 2>&1 ||
		die "building execbench failed: see $raw/build.log"
	gcc -O2 -static -nostdlib -fno-stack-protector -Wall -Wextra -o "$tiny" "$here/tiny.c" \
		>>"$raw/build.log" 2>&1 || die "building tiny failed: see $raw/build.log"
}

prepare_fixtures() {
	local fx=$repo/.cache/fixtures
	if [ ! -x "$fx/busybox/arm64/busybox" ] || [ ! -d "$fx/rootfs/busybox-arm64/bin" ]; then
		note "fetching fixtures (tools/fixtures.sh)"
		bash "$repo/tools/fixtures.sh" || die "tools/fixtures.sh failed"
	fi
	bb_arm64=$fx/busybox/arm64/busybox
	# A private copy of the rootfs, so that the workload script can live in it.
	rootfs=$results/rootfs-arm64
	rm -rf --one-file-system "$rootfs"
	cp -a "$fx/rootfs/busybox-arm64" "$rootfs"
	mkdir -p "$rootfs/bench"
	cp "$here/workload.sh" "$here/execloop.sh" "$rootfs/bench/"
	qemu=$(command -v qemu-aarch64-static) || die "no qemu-aarch64-static"
	local f=/usr/share/binfmts/qemu-aarch64 magic mask offset
	if [ -r "$f" ]; then
		magic=$(sed -n 's/^magic //p' "$f")
		mask=$(sed -n 's/^mask //p' "$f")
		offset=$(sed -n 's/^offset //p' "$f")
	else
		# qemu's own (scripts/qemu-binfmt-conf.sh)
		magic='\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
		mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
		offset=0
	fi
	export BENCH_BINFMT_REG=":ubinfmt-bench-aarch64:M:${offset:-0}:$magic:$mask:$qemu:FPO"
	binfmt_ok=false
	if out=$(bash "$here/binfmt-env.sh" -- "$bb_arm64" echo binfmt-ok 2>&1) && [ "$out" = binfmt-ok ]; then
		binfmt_ok=true
	else
		note "no private binfmt_misc in a user namespace here (Linux >= 6.7 needed); binfmt_misc columns skipped"
		note "  $out"
	fi
}

# ---- recording ----------------------------------------------------------------------------------

# record SCENARIO VARIANT ROUND KEY=VALUE…: one measurement, for bench/report.py.
record() {
	local s=$1 v=$2 r=$3
	shift 3
	printf '%s\t%s\t%s\t%s\n' "$s" "$v" "$r" "$*" >>"$raw/records.tsv"
}

# execbench_run SCENARIO VARIANT ROUND CMD…: runs CMD (which ends in an execbench run) and
# records execbench's line, CMD's exit status, the CPU time of CMD's whole process tree
# (supervisor, PRoot, qemu included: an outer execbench -n 1 reads it from wait4), and any
# KEY=VALUE in $extra.
extra=
execbench_run() {
	local s=$1 v=$2 r=$3 out st=0 line tree
	shift 3
	out=$("$execbench" -n 1 -w 0 --label tree -- "$@" 2>>"$raw/stderr.log") || st=$?
	line=$(grep -m1 '^mode=' <<<"$out" || true)
	[ -n "$line" ] || line="error=no-report"
	tree=$(grep -m1 '^label=tree ' <<<"$out" | sed -n 's/.* cpu_us=\([0-9.]*\).*/tree_cpu_us=\1/p')
	record "$s" "$v" "$r" "status=$st $line $tree $extra"
	[ "$st" -eq 0 ] || note "$s/$v round $r: exit status $st (see $raw/stderr.log)"
}

# A command line for hyperfine -N (which splits it like a shell).
shq() {
	printf '%q ' "$@"
}

quiet() {
	"$@" >/dev/null 2>>"$raw/stderr.log" || true
}

# ---- 1: native exec tax -------------------------------------------------------------------------

scenario1() {
	local r t
	note "1: native exec tax: $R1 rounds of $N1 execs"
	quiet "$ubinfmt" run -- "$execbench" -n 50 -- /bin/true
	quiet "$ubinfmt" run -- "$execbench" --vfork -n 50 -- "$tiny"
	quiet "$ubinfmt_null" "$execbench" --vfork -n 50 -- "$tiny"
	for ((r = 1; r <= R1; r++)); do
		execbench_run 1 fork-bare "$r" "$execbench" -n "$N1" -- /bin/true
		execbench_run 1 fork-null "$r" "$ubinfmt_null" "$execbench" -n "$N1" -- /bin/true
		execbench_run 1 fork-ubinfmt "$r" "$ubinfmt" run -- "$execbench" -n "$N1" -- /bin/true
		execbench_run 1 vfork-bare "$r" "$execbench" --vfork -n "$N1" -- "$tiny"
		execbench_run 1 vfork-null "$r" "$ubinfmt_null" "$execbench" --vfork -n "$N1" -- "$tiny"
		execbench_run 1 vfork-ubinfmt "$r" "$ubinfmt" run -- "$execbench" --vfork -n "$N1" -- "$tiny"
		# The supervisor's own time per exec, from its trace (the trace costs a write per exec).
		t=$raw/s1-trace-fork-$r.jsonl
		extra="trace=$t" execbench_run 1 fork-ubinfmt-traced "$r" \
			"$ubinfmt" run --trace="$t" --json -- "$execbench" -n "$N1" -- /bin/true
		t=$raw/s1-trace-vfork-$r.jsonl
		extra="trace=$t" execbench_run 1 vfork-ubinfmt-traced "$r" \
			"$ubinfmt" run --trace="$t" --json -- "$execbench" --vfork -n "$N1" -- "$tiny"
	done
}

# ---- 2: one foreign exec ------------------------------------------------------------------------

scenario2() {
	local r variants=(qemu ubinfmt binfmt proot) v
	note "2: one foreign exec: $R2 rounds of $N2 execs, and of $K2 whole commands"
	$binfmt_ok || variants=(qemu ubinfmt proot)
	for v in "${variants[@]}"; do
		s2_cmd "$v" 2
		quiet "${cmd[@]}"
	done
	for ((r = 1; r <= R2; r++)); do
		for v in "${variants[@]}"; do
			s2_cmd "$v" "$N2"
			execbench_run 2 "$v" "$r" "${cmd[@]}"
		done
		s2_startup "$r"
	done
}

# s2_cmd VARIANT N: sets cmd to N execs of the arm64 busybox `true` in VARIANT's setting.
cmd=()
s2_cmd() {
	local eb=("$execbench" -n "$2" --)
	case $1 in
	qemu) cmd=("${eb[@]}" "$qemu" "$bb_arm64" true) ;;
	ubinfmt) cmd=("$ubinfmt" run -- "${eb[@]}" "$bb_arm64" true) ;;
	binfmt) cmd=(bash "$here/binfmt-env.sh" -- "${eb[@]}" "$bb_arm64" true) ;;
	proot) cmd=(proot -q "$qemu" "${eb[@]}" "$bb_arm64" true) ;;
	esac
}

# Whole commands, start-up included: what a one-off `ubinfmt run` costs.
s2_startup() {
	local r=$1 j=$raw/s2-startup-$1.json
	hyperfine -N -i --style none --runs "$K2" --export-json "$j" \
		--command-name native-bare "$(shq /bin/true)" \
		--command-name native-ubinfmt "$(shq "$ubinfmt" run -- /bin/true)" \
		--command-name foreign-qemu "$(shq "$qemu" "$bb_arm64" true)" \
		--command-name foreign-ubinfmt "$(shq "$ubinfmt" run -- "$bb_arm64" true)" \
		--command-name foreign-proot "$(shq proot -q "$qemu" "$bb_arm64" true)" \
		>/dev/null 2>>"$raw/stderr.log" || note "2s: hyperfine failed in round $r"
	record 2s all "$r" "hyperfine=$j"
}

# ---- 3: the foreign shell workload --------------------------------------------------------------

scenario3() {
	local r v variants=(ubinfmt binfmt proot) t=$raw/s3-verify-trace.jsonl
	note "3: arm64 shell workload ($((5 + 10 * ITER3)) execs): $R3 rounds"
	$binfmt_ok || variants=(ubinfmt proot)
	# Untimed: count the execs (one trace line each) and warm the page cache.
	"$ubinfmt" run --rootfs "$rootfs" --trace="$t" --json -- /bin/sh /bench/workload.sh "$ITER3" \
		>"$raw/s3-verify.out" 2>>"$raw/stderr.log" || note "3: the verification run failed"
	record 3 verify 0 "trace=$t out=$raw/s3-verify.out expected_execs=$((5 + 10 * ITER3))"
	for ((r = 1; r <= R3; r++)); do
		for v in "${variants[@]}"; do
			s3_one "$v" "$r"
		done
	done
}

s3_one() {
	local v=$1 r=$2 out=$raw/s3-$1-$2.out j=$raw/s3-$1-$2.json tmp=
	local c=()
	case $v in
	ubinfmt) c=("$ubinfmt" run --rootfs "$rootfs" --) ;;
	binfmt) c=(bash "$here/binfmt-env.sh" --rootfs "$rootfs" --) ;;
	proot)
		# /dev/shm: a tmpfs, as the others' /tmp, without mounting anything
		tmp=$(mktemp -d /dev/shm/ubinfmt-bench.XXXXXX)
		proot_tmp=$tmp
		c=(proot -q "$qemu" -r "$rootfs" -b /proc -b /dev -b "$tmp:/tmp" -w /)
		;;
	esac
	hyperfine -N -i --style none --runs 1 --output "$out" --export-json "$j" --command-name "$v" \
		"$(shq "${c[@]}" /bin/sh /bench/workload.sh "$ITER3")" \
		>/dev/null 2>>"$raw/stderr.log" || note "3: hyperfine failed for $v in round $r"
	[ -n "$tmp" ] && rm -rf "$tmp"
	proot_tmp=
	record 3 "$v" "$r" "hyperfine=$j out=$out"
}

# ---- 4: the storm -------------------------------------------------------------------------------

daemon_pid=
storm_pids=()
sock=
proot_tmp=

cleanup() {
	local p
	for p in "${storm_pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	if [ -n "$daemon_pid" ]; then
		kill -TERM "$daemon_pid" 2>/dev/null || true
		wait "$daemon_pid" 2>/dev/null || true
		daemon_pid=
	fi
	[ -n "$sock" ] && rm -rf "$sock"
	[ -n "$proot_tmp" ] && rm -rf "$proot_tmp"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

daemon_mem() {
	local fds=() rss
	[[ $1 == held-* ]] || sleep 0.2 # the daemon frees a sandbox after its last task is gone
	fds=(/proc/"$daemon_pid"/fd/*)
	rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$daemon_pid/status")
	record 4 daemon-mem "$1" "rss_kib=$rss fds=${#fds[@]}"
}

scenario4() {
	local r i
	note "4: storm: $R4 rounds of $S4 sandboxes × $N4 execs"
	sock=$(mktemp -d /tmp/ubinfmt-bench.XXXXXX)
	"$ubinfmtd" --socket "$sock/agent.sock" --oci-socket "$sock/oci.sock" --control "$sock/control.sock" \
		2>>"$raw/ubinfmtd.log" &
	daemon_pid=$!
	for ((i = 0; i < 100; i++)); do
		[ -S "$sock/control.sock" ] && break
		sleep 0.05
	done
	[ -S "$sock/control.sock" ] || die "ubinfmtd did not start: see $raw/ubinfmtd.log"
	daemon_mem start
	storm daemon 0 # warm-up (round 0: not reported)
	daemon_mem warm
	for ((r = 1; r <= R4; r++)); do
		storm bare "$r"
		storm daemon "$r"
		storm runs "$r"
		storm solo "$r"
	done
	daemon_mem end
	kill -TERM "$daemon_pid"
	wait "$daemon_pid" || note "4: ubinfmtd exited with status $?"
	daemon_pid=
}

# storm VARIANT ROUND: S4 concurrent execbench runs, bare, as ubinfmtd sandboxes (held alive
# until their status is read), or as separate `ubinfmt run`s; "solo" is one ubinfmtd sandbox
# alone, for the daemon's own latency without contention.
storm() {
	local v=$1 r=$2 d=$raw/s4-$1-$2 i p st fail=0 t0 t1='' done_n n_sb=$S4
	local eb=("$execbench" --vfork -n "$N4")
	[ "$v" = solo ] && n_sb=1
	local cpu0=0 cpu1=0
	mkdir -p "$d"
	storm_pids=()
	# ubinfmtd's CPU time (ns, /proc/PID/schedstat) across the round: its cost per exec
	[ "$v" = bare ] || [ "$v" = runs ] || cpu0=$(daemon_cpu_ns)
	t0=$EPOCHREALTIME
	for ((i = 0; i < n_sb; i++)); do
		case $v in
		bare) "${eb[@]}" --raw "$d/lat-$i" -- "$tiny" >"$d/out-$i" 2>>"$raw/stderr.log" & ;;
		daemon | solo)
			"$ubinfmt_init" -s --socket "$sock/agent.sock" --id "storm-$r-$i" -- \
				"${eb[@]}" --raw "$d/lat-$i" --hold "$d/go" -- "$tiny" >"$d/out-$i" 2>>"$raw/stderr.log" &
			;;
		runs) "$ubinfmt" run -- "${eb[@]}" --raw "$d/lat-$i" -- "$tiny" >"$d/out-$i" 2>>"$raw/stderr.log" & ;;
		esac
		storm_pids+=($!)
	done
	if [ "$v" = daemon ] || [ "$v" = solo ]; then
		# Every sandbox has reported (or died): read the daemon's view while they all exist.
		for ((i = 0; i < 60000; i++)); do
			done_n=0
			for ((p = 0; p < n_sb; p++)); do
				if grep -qs '^mode=' "$d/out-$p" || ! kill -0 "${storm_pids[$p]}" 2>/dev/null; then
					done_n=$((done_n + 1))
				fi
			done
			[ "$done_n" -eq "$n_sb" ] && break
			sleep 0.01
		done
		t1=$EPOCHREALTIME
		"$ubinfmt" status --json --control "$sock/control.sock" >"$d/status.json" 2>>"$raw/stderr.log" ||
			note "4: ubinfmt status failed in round $r"
		# the daemon's memory with every sandbox still there
		[ "$v" = daemon ] && daemon_mem "held-$r"
		: >"$d/go"
	fi
	for p in "${storm_pids[@]}"; do
		st=0
		wait "$p" || st=$?
		[ "$st" -eq 0 ] || fail=$((fail + 1))
	done
	storm_pids=()
	[ -n "${t1:-}" ] || t1=$EPOCHREALTIME
	[ "$v" = bare ] || [ "$v" = runs ] || cpu1=$(daemon_cpu_ns)
	record 4 "$v" "$r" "dir=$d sandboxes=$n_sb n=$N4 nonzero_exits=$fail wall_us=$(usec_between "$t0" "$t1")" \
		"daemon_cpu_ns=$((cpu1 - cpu0))"
	[ "$fail" -eq 0 ] || note "4: $v round $r: $fail of $n_sb sandboxes exited non-zero"
}

# ubinfmtd's CPU time so far, in ns: the sum over its threads (io_uring workers included while
# they live) of /proc/…/schedstat's first field.
daemon_cpu_ns() {
	local f ns sum=0
	for f in /proc/"$daemon_pid"/task/*/schedstat; do
		read -r ns _ <"$f" || continue
		sum=$((sum + ns))
	done
	echo "$sum"
}

usec_between() {
	local a=$1 b=$2
	echo $(((${b%.*} - ${a%.*}) * 1000000 + 10#${b#*.} - 10#${a#*.}))
}

# ---- 5: debootstrap (optional) ------------------------------------------------------------------

scenario5() {
	local dir=$results/debootstrap stage1 r v variants
	read -r -a variants <<<"${BENCH_DEBOOTSTRAP_VARIANTS:-ubinfmt binfmt}"
	[ "$(id -u)" -eq 0 ] || die "5: debootstrap needs real root"
	read -r _ outer _ </proc/self/uid_map
	[ "$outer" = 0 ] || die "5: debootstrap needs real root (this is a user namespace)"
	command -v debootstrap >/dev/null || die "5: debootstrap is not installed"
	mkdir -p "$dir"
	stage1=$dir/stage1-arm64-bookworm.tar
	if [ ! -s "$stage1" ]; then
		note "5: debootstrap --foreign (first stage, downloads ~40 MB)"
		rm -rf --one-file-system "$dir/stage1"
		debootstrap --foreign --arch=arm64 --variant=minbase bookworm "$dir/stage1" \
			http://deb.debian.org/debian >"$raw/s5-stage1.log" 2>&1 ||
			die "5: first stage failed: see $raw/s5-stage1.log"
		tar -C "$dir/stage1" -cf "$stage1.tmp" . && mv "$stage1.tmp" "$stage1"
		rm -rf --one-file-system "$dir/stage1"
	fi
	note "5: debootstrap --second-stage: $R5 rounds of ${variants[*]} (about 2 minutes each)"
	for ((r = 1; r <= R5; r++)); do
		for v in "${variants[@]}"; do
			s5_one "$v" "$r" "$dir" "$stage1"
		done
	done
	rm -rf --one-file-system "$dir/target"
}

s5_one() {
	local v=$1 r=$2 dir=$3 stage1=$4 t=$3/target out=$raw/s5-$1-$2.out j=$raw/s5-$1-$2.json c=()
	rm -rf --one-file-system "$t"
	mkdir -p "$t"
	tar -C "$t" -xpf "$stage1"
	case $v in
	ubinfmt) c=(unshare -m --propagation private "$ubinfmt" run -- chroot "$t" /debootstrap/debootstrap --second-stage) ;;
	binfmt) c=(bash "$here/binfmt-env.sh" --host-instance -- chroot "$t" /debootstrap/debootstrap --second-stage) ;;
	*) die "5: unknown variant '$v'" ;;
	esac
	hyperfine -N -i --style none --runs 1 --output "$out" --export-json "$j" --command-name "$v" \
		"$(shq "${c[@]}")" >/dev/null 2>>"$raw/stderr.log" || note "5: hyperfine failed for $v"
	if grep -q 'Base system installed successfully' "$out"; then
		record 5 "$v" "$r" "hyperfine=$j out=$out ok=1"
	else
		record 5 "$v" "$r" "hyperfine=$j out=$out ok=0"
		note "5: $v round $r did not finish: see $out"
	fi
}

# ---- 6: Docker ----------------------------------------------------------------------------------

# docker-loop.sh does the rounds: it brings up containerd, dockerd and ubinfmtd of its own
# (the integration tests' harness) and takes them down, whatever happens to it.
scenario6() {
	local st=0 log=$raw/s6.log
	note "6: docker run vs ubinfmt run vs binfmt_misc, a $N6-exec arm64 loop: $R6 rounds"
	UBINFMT=$ubinfmt UBINFMTD=$ubinfmtd UBINFMT_RUNTIME=$build_dir/bin/ubinfmt-runtime \
		BENCH_RECORDS=$raw/records.tsv BENCH_RAW=$raw BENCH_BINFMT=$($binfmt_ok && echo 1 || echo 0) \
		bash "$here/docker-loop.sh" "$rootfs" "$R6" "$N6" >"$log" 2>&1 || st=$?
	if [ "$st" -eq 77 ]; then
		note "6: skipped: $(grep -m1 '^SKIP' "$log")"
	elif [ "$st" -ne 0 ]; then
		note "6: docker-loop.sh exited with status $st: see $log"
	fi
}

# ---- main ---------------------------------------------------------------------------------------

main() {
	local started
	mkdir -p "$results"
	rm -rf --one-file-system "$raw"
	mkdir -p "$raw"
	install_deps
	build_all
	prepare_fixtures
	started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	{
		echo "mode=$mode"
		echo "started=$started"
		echo "kernel=$(uname -r)"
		echo "cpus=$(nproc)"
		echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
		echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
		echo "commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
		echo "dirty=$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null | wc -l)"
		echo "qemu=$("$qemu" --version | head -n1)"
		echo "proot=$(proot --version 2>&1 | grep -m1 -o 'v[0-9][0-9.]*' || echo unknown)"
		echo "binfmt_userns=$binfmt_ok"
		echo "params=R1=$R1 N1=$N1 R2=$R2 N2=$N2 K2=$K2 R3=$R3 ITER3=$ITER3 R4=$R4 N4=$N4 S4=$S4 R5=$R5 R6=$R6 N6=$N6"
	} >"$raw/meta.txt"
	wants 1 && scenario1
	wants 2 && scenario2
	wants 3 && scenario3
	wants 4 && scenario4
	wants 5 && scenario5
	wants 6 && scenario6
	echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$raw/meta.txt"
	echo "finished=$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$raw/meta.txt"
	python3 "$here/report.py" "$results"
}

main
