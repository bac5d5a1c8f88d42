#!/usr/bin/env bash
# The kernel's own answer, behind ubinfmt's command line: `binfmt-baseline.sh run [--rootfs DIR]
# -- CMD…` runs CMD with qemu-user registered in a *private* binfmt_misc instance (flags F, P, O)
# inside a throwaway user namespace (Linux ≥ 6.7), so the host's binfmt_misc is never touched.
# With --rootfs it mounts /proc, a small /dev and a tmpfs /tmp in DIR (in the private mount
# namespace only) and chroots there, as `ubinfmt run --rootfs` does.
#
# It exists to validate the integration tests against the kernel and to compare with ubinfmt:
#   UBINFMT=tests/integration/binfmt-baseline.sh bash tests/integration/t_pipeline.sh
# --emulator, --trace and --json are accepted and ignored.
#
# `binfmt-baseline.sh plain [--rootfs DIR] -- CMD…` builds the same sandbox without registering
# anything: the "without ubinfmt" answer the tests compare against (lib.sh's plain_run).
set -euo pipefail

# Debian's qemu-user-static has no binfmts entry for i386 (an amd64 host "runs it natively");
# this is qemu's own (scripts/qemu-binfmt-conf.sh).
I386_MAGIC='\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x03\x00'
I386_MASK='\xff\xff\xff\xff\xff\xfe\xfe\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'

register_all() {
	local f name magic mask offset q
	mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
	for f in /usr/share/binfmts/qemu-*; do
		name=$(basename "$f")
		q=$(command -v "$name-static" || command -v "$name" || true)
		[ -n "$q" ] || continue
		magic=$(sed -n 's/^magic //p' "$f")
		mask=$(sed -n 's/^mask //p' "$f")
		offset=$(sed -n 's/^offset //p' "$f")
		echo ":$name:M:${offset:-0}:$magic:$mask:$q:FPO" >/proc/sys/fs/binfmt_misc/register
	done
	q=$(command -v qemu-i386-static || command -v qemu-i386 || true)
	if [ -n "$q" ]; then
		echo ":qemu-i386:M:0:$I386_MAGIC:$I386_MASK:$q:FPO" >/proc/sys/fs/binfmt_misc/register
	fi
}

setup_rootfs() {
	local r=$1 n
	mount -t proc proc "$r/proc"
	mount -t tmpfs -o mode=755 dev "$r/dev"
	for n in null zero full random urandom tty; do
		touch "$r/dev/$n"
		mount --bind "/dev/$n" "$r/dev/$n"
	done
	ln -s /proc/self/fd "$r/dev/fd"
	ln -s /proc/self/fd/0 "$r/dev/stdin"
	ln -s /proc/self/fd/1 "$r/dev/stdout"
	ln -s /proc/self/fd/2 "$r/dev/stderr"
	mount -t tmpfs tmp "$r/tmp"
}

if [ "${1:-}" = __inner ]; then
	mode=$2
	rootfs=$3
	shift 3
	[ "$mode" = run ] && register_all
	if [ -z "$rootfs" ]; then
		exec "$@"
	fi
	setup_rootfs "$rootfs"
	# This shell stays pid 1 of the new pid namespace; CMD is its child, so CMD can die of a
	# signal it sends itself, and its status comes back as 128+N.
	set +e
	chroot "$rootfs" "$@"
	exit $?
fi

mode=${1:-}
if [ "$mode" != run ] && [ "$mode" != plain ]; then
	echo "binfmt-baseline.sh: only 'run' and 'plain' are provided" >&2
	exit 2
fi
shift
rootfs=
while [ $# -gt 0 ]; do
	case $1 in
	--rootfs) rootfs=$(cd "$2" && pwd); shift 2 ;;
	--rootfs=*) rootfs=$(cd "${1#*=}" && pwd); shift ;;
	--emulator) shift 2 ;;
	--emulator=* | --trace | --trace=* | --json) shift ;;
	--) shift; break ;;
	-*) echo "binfmt-baseline.sh: unknown option '$1'" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "binfmt-baseline.sh: no command" >&2; exit 2; }
if [ -n "$rootfs" ]; then
	exec unshare --user --map-root-user --mount --propagation private --pid --fork \
		bash "$0" __inner "$mode" "$rootfs" "$@"
fi
exec unshare --user --map-root-user --mount --propagation private bash "$0" __inner "$mode" "" "$@"
