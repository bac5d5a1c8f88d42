#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a foreign pipeline: installs what is needed
# (tools/deps.sh), fetches the arm64 test rootfs (tools/fixtures.sh), builds ubinfmt into
# build/, and runs an arm64 busybox shell pipeline through `ubinfmt run`. No binfmt_misc.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

bash tools/deps.sh
bash tools/fixtures.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

rootfs=${UBINFMT_FIXTURES:-$repo/.cache/fixtures}/rootfs/busybox-arm64
echo "+ ubinfmt run --rootfs $rootfs -- /bin/sh -c '…'" >&2
exec build/bin/ubinfmt run --rootfs "$rootfs" -- /bin/sh -c '
	echo "machine: $(uname -m)"
	echo "files in /bin: $(ls /bin | wc -l)"
	echo "hello from arm64" | tr a-z A-Z | sed "s/ARM64/arm64/"
	sh -c "exit 3"; echo "nested shell exited with $?"'
