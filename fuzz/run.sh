#!/usr/bin/env bash
# Builds every libFuzzer target with clang in its own build directory and runs each for
# SECONDS (default 60), one after the other; prints one line per target and exits 1 if any
# crashed (the reproducer and the sanitizer report are named on its line).
#
#   bash fuzz/run.sh [SECONDS] [TARGET…]
#
# Environment:
#   UBINFMT_FUZZ_BUILD  build directory (default: build-fuzz in the repository)
#   UBINFMT_FUZZ_JOBS   targets run at the same time (default 1)
#
# The seeds in fuzz/corpus/<target>/ are read, never written: inputs that find new coverage go
# to $UBINFMT_FUZZ_BUILD/corpus/<target>/ and are kept between runs; crashes to
# $UBINFMT_FUZZ_BUILD/crashes/.  Reproduce one with: $UBINFMT_FUZZ_BUILD/fuzz/fuzz_X CRASHFILE
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
shift || true
build=${UBINFMT_FUZZ_BUILD:-$repo/build-fuzz}
jobs=${UBINFMT_FUZZ_JOBS:-1}

case $secs in '' | *[!0-9]*) echo "run.sh: SECONDS must be a number, not '$secs'" >&2; exit 2 ;; esac
if ! command -v clang >/dev/null 2>&1; then
	echo "run.sh: needs clang (Debian: apt-get install clang)" >&2
	exit 2
fi

# target  max_len: bytes that matter (classify ignores everything past 256, so 512 shows that)
declare -A max_len=(
	[fuzz_proto]=65600
	[fuzz_oci]=16384
	[fuzz_classify]=512
	[fuzz_hostbinfmt]=2048
	[fuzz_perm]=8192
	[fuzz_rewrite]=4096
	[fuzz_trace]=4096
	[fuzz_runtime]=32768
)
if [ $# -gt 0 ]; then
	targets=("$@")
else
	targets=(fuzz_proto fuzz_oci fuzz_classify fuzz_hostbinfmt fuzz_perm fuzz_rewrite fuzz_trace fuzz_runtime)
fi

cmake -S "$repo" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DUBINFMT_FUZZ=ON -DBUILD_TESTING=OFF >"$build.configure.log" 2>&1 ||
	{ cat "$build.configure.log" >&2; exit 2; }
cmake --build "$build" --target fuzzers -j"$(nproc)" >"$build.build.log" 2>&1 ||
	{ tail -n 40 "$build.build.log" >&2; exit 2; }
rm -f "$build.configure.log" "$build.build.log"

mkdir -p "$build/crashes" "$build/logs"

# run_one TARGET: runs it, leaves its log in $build/logs/TARGET.log and its status in .status.
run_one() {
	local t=$1 name=${1#fuzz_} seeds corpus dict=() log=$build/logs/$1.log
	seeds=$repo/fuzz/corpus/${1#fuzz_}
	corpus=$build/corpus/$name
	mkdir -p "$corpus"
	[ -f "$repo/fuzz/$name.dict" ] && dict=(-dict="$repo/fuzz/$name.dict")
	local dirs=("$corpus")
	[ -d "$seeds" ] && dirs+=("$seeds")
	set +e
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
		"$build/fuzz/$t" -max_total_time="$secs" -max_len="${max_len[$t]:-4096}" -timeout=10 \
		-print_final_stats=1 -artifact_prefix="$build/crashes/$t-" "${dict[@]}" "${dirs[@]}" \
		>"$log" 2>&1
	echo $? >"$log.status"
	set -e
}

pids=()
for t in "${targets[@]}"; do
	[ -x "$build/fuzz/$t" ] || { echo "run.sh: no target $t" >&2; exit 2; }
	run_one "$t" &
	pids+=($!)
	if [ "${#pids[@]}" -ge "$jobs" ]; then
		wait "${pids[0]}"
		pids=("${pids[@]:1}")
	fi
done
for p in "${pids[@]}"; do wait "$p"; done

failed=0
printf '%-16s %10s %8s %8s %6s  %s\n' target runs exec/s corpus cov result
for t in "${targets[@]}"; do
	log=$build/logs/$t.log
	st=$(cat "$log.status")
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	units=$(find "$build/corpus/${t#fuzz_}" -type f | wc -l)
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
	if [ "$st" -eq 0 ]; then
		result=ok
	else
		failed=1
		art=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -n 1 | cut -d' ' -f5)
		result="CRASH (exit $st) ${art:-no reproducer} log: $log"
	fi
	printf '%-16s %10s %8s %8s %6s  %s\n' "$t" "${runs:-?}" "${rate:-?}" "$units" "${cov:-?}" "$result"
	if [ "$st" -ne 0 ]; then
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -n 5 | sed 's/^/    | /'
	fi
done
exit "$failed"
