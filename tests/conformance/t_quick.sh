#!/usr/bin/env bash
# conformance.quick, the reduced form of the conformance harness that the test suite (and so CI)
# runs: CPython's test_posix in a small arm64 Debian rootfs (python3 and its test package,
# built once by rootfs.sh and cached under .cache/conformance), under `ubinfmt run --rootfs` and
# under binfmt_misc in a throwaway user namespace; fails when a test that passes under
# binfmt_misc does not pass under ubinfmt.  tools/conformance.sh runs the whole harness.
#
# Environment: UBINFMT (the binary under test), UBINFMT_CONFORMANCE_MODULES (the CPython
# modules, comma-separated; test_posix), UBINFMT_CONFORMANCE_CACHE (see rootfs.sh).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (debootstrap, mount namespaces)"
	exit 77
fi
for tool in debootstrap unshare qemu-aarch64-static; do
	if ! command -v "$tool" >/dev/null; then
		echo "SKIP: no $tool on this machine (tools/deps.sh installs it)"
		exit 77
	fi
done
# The baseline needs a binfmt_misc instance of a user namespace's own (Linux 6.7 and later).
if ! unshare --user --map-root-user --mount --propagation private \
	sh -c 'mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc' 2>/dev/null; then
	echo "SKIP: this kernel ($(uname -r)) has no binfmt_misc per user namespace: no baseline to compare with"
	exit 77
fi

out=$(mktemp -d "${TMPDIR:-/tmp}/ubinfmt-conformance-quick.XXXXXX")
trap 'rm -rf "$out"' EXIT
rc=0
bash "$here/run.sh" --arch arm64 --profile python --suites cpython \
	--modules "${UBINFMT_CONFORMANCE_MODULES:-test_posix}" --out "$out" --timeout 900 || rc=$?
if [ "$rc" -ne 0 ]; then
	# The logs of the failing run, for the CI log: they go with the temp dir.
	for f in "$out"/*/cpython/*.log; do
		echo "---- ${f#"$out"/} (last 40 lines)"
		tail -n 40 "$f"
	done
fi
exit "$rc"
