#!/usr/bin/env bash
# errno conformance: for each failing exec, a native and a foreign target give under ubinfmt the
# errno the kernel gives without it, and the kernel's answer is the expected one:
#   ENOENT   missing file; missing directory on the way
#   EACCES   no x bit (a foreign file without x must fail, not run); a noexec mount; a directory
#   ENOEXEC  garbage bytes with x; an ELF for a machine nobody emulates (IA-64)
#   ENOTDIR  a file used as a directory
#   ELOOP    a symlink loop
#   E2BIG    one argument longer than MAX_ARG_STRLEN
# The native caller is exectest (errno mode); a foreign caller (arm64 busybox sh) must also see
# "Permission denied" and status 126 for the foreign file without x.  In a --rootfs sandbox and
# on the host's filesystem; the noexec tmpfs is mounted in a private mount namespace around the
# whole run (with and without ubinfmt), so nothing outlives the test.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_root
need_twin_sandbox

# populate DIR: the targets, native (n-*) and foreign (f-*), under DIR/e.
populate() {
	local e=$1/e
	mkdir -p "$e/noexec" "$e/dir"
	cp "$(busybox amd64)" "$e/n-nox"
	cp "$(busybox arm64)" "$e/f-nox"
	chmod 644 "$e/n-nox" "$e/f-nox"
	cp "$(busybox amd64)" "$e/n-ok"
	cp "$(busybox arm64)" "$e/f-ok"
	printf 'garbage\001\002\003 not a program\n' >"$e/garbage"
	chmod 755 "$e/garbage"
	# arm64 busybox's ELF header with e_machine = 50 (IA-64): for no emulator at all.
	cp "$(busybox arm64)" "$e/f-ia64"
	printf '\062\000' | dd of="$e/f-ia64" bs=1 seek=18 conv=notrunc status=none
	ln -s loop2 "$e/loop1"
	ln -s loop1 "$e/loop2"
	ln -s does-not-exist "$e/dangling"
}

# The noexec tmpfs gets executable copies of both busybox builds.
mount_noexec='mount -t tmpfs -o noexec,mode=755 ubinfmt-test "$1/e/noexec" &&
	cp "$2" "$1/e/noexec/n-bin" && cp "$3" "$1/e/noexec/f-bin" && chmod 755 "$1/e/noexec/"* &&
	shift 3 && exec "$@"'
with_noexec() {
	local root=$1
	shift
	unshare -m --propagation private sh -c "$mount_noexec" sh "$root" \
		"$(busybox amd64)" "$(busybox arm64)" "$@"
}

# name|path (relative to the root)|expected errno|extra exectest options
cases=(
	"missing file|/e/missing|ENOENT|"
	"missing directory|/e/nodir/x|ENOENT|"
	"dangling symlink|/e/dangling|ENOENT|"
	"native, no x bit|/e/n-nox|EACCES|"
	"foreign, no x bit|/e/f-nox|EACCES|"
	"native on a noexec mount|/e/noexec/n-bin|EACCES|"
	"foreign on a noexec mount|/e/noexec/f-bin|EACCES|"
	"a directory|/e/dir|EACCES|"
	"garbage bytes|/e/garbage|ENOEXEC|"
	"ELF for a machine nobody emulates|/e/f-ia64|ENOEXEC|"
	"native file as a directory|/e/n-ok/x|ENOTDIR|"
	"foreign file as a directory|/e/f-ok/x|ENOTDIR|"
	"symlink loop|/e/loop1|ELOOP|"
	"native, one huge argument|/e/n-ok|E2BIG|--arg-bytes=200000"
	"foreign, one huge argument|/e/f-ok|E2BIG|--arg-bytes=200000"
)

# errnos ROOT(for paths) RUNNER…: one "errno NAME" line per case (or what ran instead).
errnos() {
	local prefix=$1 c name path want opt
	shift
	for c in "${cases[@]}"; do
		IFS='|' read -r name path want opt <<<"$c"
		echo "$("$@" errno ${opt:+"$opt"} "$prefix$path" 2>/dev/null | head -n 1)"
	done
}

compare() {
	local label=$1 plain=$2 under=$3 i=0 c name path want opt p u
	mapfile -t p <<<"$plain"
	mapfile -t u <<<"$under"
	for c in "${cases[@]}"; do
		IFS='|' read -r name path want opt <<<"$c"
		if [ "${p[$i]:-}" != "errno $want" ]; then
			fail "$label: $name: kernel without ubinfmt says $want" "got: ${p[$i]:-<nothing>}"
		else
			expect_eq "$label: $name: $want" "errno $want" "${u[$i]:-<nothing>}"
		fi
		i=$((i + 1))
	done
}

# --rootfs: exectest runs once per case inside one sandbox, driven by a native busybox shell.
R=$(make_rootfs busybox-arm64) || skip "cannot copy the rootfs"
populate "$R"
cp "$(busybox amd64)" "$R/e/sh"
driver='for c in "$@"; do /bin/exectest errno $c 2>/dev/null | head -n 1; done'
args=()
for c in "${cases[@]}"; do
	IFS='|' read -r name path want opt <<<"$c"
	args+=("${opt:+$opt }$path")
done
plain=$(with_noexec "$R" bash "$LIB_DIR/binfmt-baseline.sh" plain --rootfs "$R" -- \
	/e/sh -c "$driver" sh "${args[@]}" 2>&1)
under=$(with_noexec "$R" timeout -k 10 "$UBINFMT_TIMEOUT" "$UBINFMT" run --rootfs "$R" -- \
	/e/sh -c "$driver" sh "${args[@]}" 2>&1)
compare rootfs "$plain" "$under"

# A foreign shell as the caller, for the foreign file without x bit.
run plain_run "$R" /bin/exectest errno /e/sh sh -c '/e/f-nox; echo "status $?"'
native_shell=$out
run urun --rootfs "$R" -- /bin/exectest errno /bin/busybox sh -c '/e/f-nox; echo "status $?"'
expect_eq "rootfs: foreign shell runs a foreign file without x: as without ubinfmt" "$native_shell" "$out"
expect_match "rootfs: ... which is 'Permission denied', status 126" $'Permission denied\nstatus 126$' "$out"

# Host filesystem: the same cases under $T, exectest run directly.
H=$T/host
mkdir -p "$H"
populate "$H"
plain=$(with_noexec "$H" bash -c "$(declare -p cases); $(declare -f errnos); errnos \"\$@\"" _ "$H" "$EXECTEST" 2>&1)
under=$(with_noexec "$H" bash -c "$(declare -p cases); $(declare -f errnos); errnos \"\$@\"" _ "$H" \
	timeout -k 10 "$UBINFMT_TIMEOUT" "$UBINFMT" run -- "$EXECTEST" 2>&1)
compare "host fs" "$plain" "$under"

finish
