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
	# catatonit…) is needed for that.
	runc crun podman
	# The man pages are generated from each program's --help at build time (deploy/man/).
	help2man
	# containerd 1.6 for t_containerd.sh: `ctr run --runc-binary` and a CRI runtime handler,
	# in a private containerd of the test's own (the system-wide containerd.service, which
	# the package enables where systemd runs, is not used); t_setup.sh and t_kubernetes.sh load
	# the handler that `ubinfmt setup containerd` writes into one the same way.
	# python3-grpcio drives the CRI API as a kubelet would (tests/integration/cri.py): Debian
	# 12 has no crictl.
	containerd python3-grpcio
	# The conformance harness (tests/conformance/) builds its foreign Debian rootfs with
	# debootstrap (first stage here, second stage under ubinfmt run --rootfs).
	debootstrap
	# Rootless runs (t_rootless.sh): an ordinary user's `ubinfmt run` maps its subordinate ids
	# with newuidmap/newgidmap (uidmap), and mmdebstrap --mode=unshare builds an arm64 Debian
	# inside it (apt, dpkg and maintainer scripts as foreign execs; arch-test is how it finds out
	# that arm64 programs run).
	mmdebstrap uidmap arch-test
	# tools/lint.sh (ctest lint.shellcheck, lint.clang-format)
	shellcheck clang-format
	# arm64 hosts (integration.arm64, tools/arm64-vm.sh): the cross compiler for the arm64
	# build (cmake/aarch64-linux-gnu.cmake; its -dev libraries come from tools/sysroot.sh, not
	# from dpkg), and the emulated arm64 machine the arm64 build is tested in.
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm cpio
)

# Docker for the engine tests (t_docker, t_buildkit): docker.io, with tini and iptables, adds
# about 150 MB installed to the containerd above, so only when asked with UBINFMT_ENGINES=1.
# tools/test.sh asks by default (the README's test command runs every engine test; CI's too);
# the demo does not.  The tests start their own private daemons: the packages' services are
# not started by this install (see policy-rc.d below).
if [ "${UBINFMT_ENGINES:-0}" = 1 ]; then
	packages+=(docker.io)
fi

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

# A package's maintainer scripts start its services through invoke-rc.d/deb-systemd-invoke,
# which ask /usr/sbin/policy-rc.d first: exit 101 means "not now".  Without this, installing
# docker.io would start a system-wide dockerd (docker0 bridge, iptables rules) and containerd,
# which nothing here uses.  A policy already in place (container images ship one) is left as
# it is; ours is removed after the install.  Debian still enables the units for the next boot,
# as with any install of docker.io: `systemctl disable docker.service docker.socket
# containerd.service` if this machine should not run them.
policy=/usr/sbin/policy-rc.d
own_policy=0
remove_policy() {
	if [ "$own_policy" = 1 ]; then rm -f "$policy"; fi
	own_policy=0
}
trap remove_policy EXIT
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# written by ubinfmt tools/deps.sh for the length of one apt-get install\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	own_policy=1
fi

echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq -o DPkg::Lock::Timeout=600
apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
