#!/usr/bin/env bash
# Installs the Debian packages ubinfmt needs to build, test and demo.
# Safe to run again: apt-get skips what is already there.
set -euo pipefail

packages=(
	build-essential cmake pkg-config
	libseccomp-dev liburing-dev libcap-ng-dev libcmocka-dev libjson-c-dev
	qemu-user-static strace file python3
	# OCI runtimes for the container tests and docs/oci.md.  podman runs daemonless as root
	# with --runtime runc; none of its recommends (buildah, fuse-overlayfs, slirp4netns,
	# catatonit, uidmap…) is needed for that.
	runc crun podman
	# The man pages are generated from each program's --help at build time (deploy/man/).
	help2man
	# t_setup.sh loads the CRI runtime handler that `ubinfmt setup containerd` writes into a
	# private containerd 1.6 (its own root, state and socket under the test's directory; the
	# package's own service is not used).
	containerd
)

# t_kubernetes validates deploy/kubernetes with packages from the npm registry
# (tools/k8s-validate.sh): Debian's node and npm where the machine has no node of its own.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	packages+=(nodejs npm)
fi

# clang (libFuzzer) only when tools/test.sh is asked to fuzz.
if [ "${UBINFMT_FUZZ_SECONDS:-0}" != 0 ]; then
	packages+=(clang)
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: needs root to install packages (try: sudo $0)" >&2
	exit 1
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
