#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is needed, fetches the
# foreign fixtures, builds with -Werror, runs the cmocka unit tests and the integration tests
# (real kernel, real qemu-user-static, real foreign binaries). Needs root.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

if [ "$(id -u)" -ne 0 ]; then
	echo "test.sh: the integration tests need root (namespaces, ptrace, mounts): run it with sudo" >&2
	exit 1
fi
# The engine tests (Docker, BuildKit) need docker.io: installed unless UBINFMT_ENGINES=0.
UBINFMT_ENGINES=${UBINFMT_ENGINES:-1} bash tools/deps.sh
bash tools/fixtures.sh
# The state directories runtimes make under /run whatever --root says.  Each test removes the
# ones it found missing (lib.sh), but tests run two at a time: a runc of one test can make one
# again after the other test removed it.  Those missing now are removed at the end if empty.
run_dirs=()
for d in /run/runc /run/crun /run/containerd /run/docker; do
	[ -e "$d" ] || run_dirs+=("$d")
done
remove_run_dirs() {
	local d
	for d in "${run_dirs[@]}"; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null
	done
	return 0
}
trap remove_run_dirs EXIT
build=${UBINFMT_BUILD:-build-test}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUBINFMT_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
ctest --test-dir "$build" --output-on-failure --timeout 600 "$@"
# integration.arm64 passes quietly under --output-on-failure: show what the arm64 machine ran
# (its kernel, and the amd64 busybox pipeline through ubinfmt run on it).
grep -h -e '^UBT: INFO kernel' -e '^UBT: INFO amd64 pipeline' -e '^UBT: DONE' \
	"$build/Testing/Temporary/LastTest.log" 2>/dev/null | sed 's/^UBT: \(INFO \)\{0,1\}/arm64 machine: /' || true

# Optional passes (CI turns them on in .ci/run):
#   UBINFMT_SANITIZE=1       the whole suite again, ubinfmt built with ASan and UBSan (leaks
#                            included); exectest stays static and unsanitized by design, and
#                            valgrind cannot run code that installs seccomp filters; the arm64 machine
#                            (integration.arm64) runs in the first pass only
#   UBINFMT_FUZZ_SECONDS=N   every libFuzzer target for N seconds (fuzz/run.sh; needs clang,
#                            which tools/deps.sh then installs)
if [ "${UBINFMT_SANITIZE:-0}" = 1 ]; then
	asan=${UBINFMT_ASAN_BUILD:-build-asan}
	echo "test.sh: the same suite with -fsanitize=address,undefined ($asan)" >&2
	cmake -S . -B "$asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUBINFMT_WERROR=ON \
		-DSANITIZE=address,undefined >/dev/null
	cmake --build "$asan" -j"$(nproc)" >/dev/null
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
		UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		ctest --test-dir "$asan" --output-on-failure --timeout 600 -LE arm64 "$@"
fi
if [ "${UBINFMT_FUZZ_SECONDS:-0}" != 0 ]; then
	echo "test.sh: every fuzz target for ${UBINFMT_FUZZ_SECONDS}s" >&2
	UBINFMT_FUZZ_BUILD=${UBINFMT_FUZZ_BUILD:-$PWD/build-fuzz} bash fuzz/run.sh "$UBINFMT_FUZZ_SECONDS"
fi
