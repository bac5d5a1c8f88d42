#!/usr/bin/env bash
# The binfmt_misc baseline: runs CMD with qemu registered in the kernel's binfmt_misc, inside a
# throwaway user namespace, whose binfmt_misc instance is its own (Linux ≥ 6.7): the host's
# binfmt_misc is neither mounted nor touched.
#
#   binfmt-env.sh [--rootfs DIR] -- CMD [ARG…]
#   binfmt-env.sh --host-instance -- CMD [ARG…]
#   BENCH_BINFMT_REG=':ubinfmt-bench-aarch64:M:0:MAGIC:MASK:/usr/bin/qemu-aarch64-static:FPO'
#
# The registration line comes from the caller (bench/run.sh computes it once), so that the timed
# part holds no parsing.  Flags F (qemu opened now, so it need not exist in DIR), P (argv[0]
# preserved: qemu sees it in AT_FLAGS) and O (the binary passed as an fd).
#
# With --rootfs: the same sandbox as `ubinfmt run --rootfs` (new mount and pid namespaces; /proc,
# a minimal /dev and a tmpfs /tmp in DIR; chroot), kept lean: a handful of mount calls.  CMD is
# a child of this script, which then removes the entry and unmounts before exiting with CMD's
# status.  tests/integration/binfmt-baseline.sh is the test suite's fuller version (it registers
# every architecture, which costs tens of milliseconds of set-up).
#
# --host-instance (debootstrap, which needs mknod and so real root): no user namespace, only a
# private mount namespace; the instance is then the HOST's, so the entry is live for every
# process on the machine until CMD ends.  It refuses to run when an entry of that name exists,
# and removes its own on any exit.  Run it only when nothing else uses the machine.
set -euo pipefail

bm=/proc/sys/fs/binfmt_misc

inner() {
	local where=$1 rootfs=$2 entry rc n
	shift 2
	entry=${BENCH_BINFMT_REG#:}
	entry=$bm/${entry%%:*}
	mount -t binfmt_misc binfmt_misc "$bm"
	if [ "$where" = host ]; then
		# The init user namespace's instance is the host's: never touch an entry we did not make.
		if [ -e "$entry" ]; then
			umount "$bm"
			echo "binfmt-env.sh: $entry exists already; not touching it" >&2
			exit 125
		fi
		trap 'echo -1 >"$entry" 2>/dev/null; umount "$bm" 2>/dev/null' EXIT
		trap 'exit 130' INT
		trap 'exit 143' TERM
	fi
	echo "$BENCH_BINFMT_REG" >"$bm/register"
	set +e
	if [ -z "$rootfs" ]; then
		"$@"
		rc=$?
	else
		mount -t proc proc "$rootfs/proc"
		mount -t tmpfs -o mode=755,size=1m dev "$rootfs/dev"
		for n in null zero full random urandom tty; do
			: >"$rootfs/dev/$n"
			mount --bind "/dev/$n" "$rootfs/dev/$n"
		done
		ln -s /proc/self/fd "$rootfs/dev/fd"
		mount -t tmpfs tmp "$rootfs/tmp"
		chroot "$rootfs" "$@"
		rc=$?
	fi
	echo -1 >"$entry"
	umount "$bm"
	trap - EXIT
	exit "$rc"
}

if [ "${1:-}" = __inner ]; then
	shift
	inner "$@"
fi

[ -n "${BENCH_BINFMT_REG:-}" ] || { echo "binfmt-env.sh: BENCH_BINFMT_REG is not set" >&2; exit 2; }
rootfs=
host=false
while [ $# -gt 0 ]; do
	case $1 in
	--rootfs) rootfs=$(cd "$2" && pwd); shift 2 ;;
	--host-instance) host=true; shift ;;
	--) shift; break ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "binfmt-env.sh: no command" >&2; exit 2; }
if $host; then
	# Real root, a private mount namespace only: the entry is live host-wide until removed.
	[ -z "$rootfs" ] || { echo "binfmt-env.sh: --host-instance takes no --rootfs" >&2; exit 2; }
	exec unshare --mount --propagation private bash "$0" __inner host "" "$@"
fi
if [ -n "$rootfs" ]; then
	exec unshare --user --map-root-user --mount --propagation private --pid --fork \
		bash "$0" __inner userns "$rootfs" "$@"
fi
exec unshare --user --map-root-user --mount --propagation private bash "$0" __inner userns "" "$@"
