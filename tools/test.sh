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
bash tools/deps.sh
bash tools/fixtures.sh
build=${UBINFMT_BUILD:-build-test}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUBINFMT_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
ctest --test-dir "$build" --output-on-failure --timeout 600 "$@"
