#!/usr/bin/env bash
# Execs that do not name the program by a plain path, from a native caller (exectest):
# execveat with an O_PATH directory fd and a relative name, fexecve on an O_RDONLY or O_PATH fd,
# fexecve on a memfd copy of the foreign binary, and execve through the i386 `int $0x80` ABI.
# The fds are close-on-exec by default (the hard case: the path handed to qemu must still name
# the file after the exec) and kept open with --keep-fd.
#
# binfmt_misc cannot do the close-on-exec cases (the kernel answers ENOENT, "path inaccessible"):
# under the baseline those checks are reported as skipped with what the kernel said.
source "$(dirname "$0")/lib.sh"

need_ubinfmt
need_exectest
need_fixtures
need_rootfs busybox-arm64
need_busybox amd64 arm64
need_qemu arm64

# want LABEL EXPECTED CMD…: runs `ubinfmt run CMD…` and compares the output.
# A label containing "(cloexec)" is one binfmt_misc cannot do.
want() {
	local label=$1 expected=$2
	shift 2
	run urun "$@"
	if is_baseline && [[ $label == *"(cloexec)"* ]] && [ "$out" != "$expected" ]; then
		skip_check "$label" "binfmt_misc baseline cannot: $(head -n 1 <<<"$out")"
		return
	fi
	expect_eq "$label" "$expected" "$out" "exit status $status"
}

R=$(make_rootfs busybox-arm64) || skip "cannot copy the rootfs"
mkdir -p "$R/native" "$R/decoy" "$R/t"
cp "$(busybox amd64)" "$R/native/busybox"
# A native busybox under the same name in the caller's cwd: resolving NAME against the cwd
# instead of the dirfd would run it and print x86_64.
cp "$(busybox amd64)" "$R/decoy/busybox"
printf '#!/bin/sh\necho "script $0 $*"\n' >"$R/t/foreign-interp.sh"
printf '#!/native/busybox sh\necho "script $0 $*"\n' >"$R/t/native-interp.sh"
chmod 755 "$R/t/"*.sh
X=/bin/exectest

want "execveat(dirfd, name) (cloexec)" aarch64 \
	--rootfs "$R" -- /bin/sh -c "cd /decoy && $X execveat-dirfd /bin busybox uname -m"
want "execveat(dirfd, name) --keep-fd" aarch64 \
	--rootfs "$R" -- /bin/sh -c "cd /decoy && $X execveat-dirfd --keep-fd /bin busybox uname -m"
want "execveat(dirfd, dir/name) (cloexec)" dirfd-ok \
	--rootfs "$R" -- /bin/sh -c "cd /decoy && $X execveat-dirfd / bin/busybox echo dirfd-ok"
want "execveat(dirfd, name) with a relative dir (cloexec)" dirfd-rel-ok \
	--rootfs "$R" -- /bin/sh -c "cd /usr && $X execveat-dirfd ../bin busybox echo dirfd-rel-ok"
want "execveat(dirfd) of a native program" x86_64 \
	--rootfs "$R" -- "$X" execveat-dirfd /native busybox uname -m

want "fexecve O_RDONLY (cloexec)" fexecve-ok --rootfs "$R" -- "$X" fexecve /bin/busybox echo fexecve-ok
want "fexecve O_RDONLY --keep-fd" fexecve-keep-ok \
	--rootfs "$R" -- "$X" fexecve --keep-fd /bin/busybox echo fexecve-keep-ok
want "fexecve O_PATH (cloexec)" opath-ok --rootfs "$R" -- "$X" fexecve --opath /bin/busybox echo opath-ok
want "fexecve O_PATH --keep-fd" opath-keep-ok \
	--rootfs "$R" -- "$X" fexecve --opath --keep-fd /bin/busybox echo opath-keep-ok
want "fexecve argv[0] is kept (cloexec)" "sh" \
	--rootfs "$R" -- "$X" fexecve /bin/busybox sh -c 'echo $0'

want "memfd copy (cloexec)" memfd-ok --rootfs "$R" -- "$X" memfd /bin/busybox echo memfd-ok
want "memfd copy --keep-fd" memfd-keep-ok --rootfs "$R" -- "$X" memfd --keep-fd /bin/busybox echo memfd-keep-ok
want "memfd copy runs the arm64 code (cloexec)" aarch64 --rootfs "$R" -- "$X" memfd /bin/busybox uname -m

# A #! script through a close-on-exec fd: the kernel refuses it (ENOENT) for a native
# interpreter, since the interpreter could not open /dev/fd/N; a foreign one must get the same.
run plain_run "$R" "$X" fexecve /t/native-interp.sh native-interp.sh arg
native_answer=$(head -n 1 <<<"$out")
run urun --rootfs "$R" -- "$X" fexecve /t/foreign-interp.sh foreign-interp.sh arg
expect_eq "fexecve of a #! script (cloexec) answers like the kernel" "$native_answer" "$(head -n 1 <<<"$out")"
run plain_run "$R" "$X" fexecve --keep-fd /t/native-interp.sh native-interp.sh arg
native_answer=$(sed 's#/dev/fd/[0-9]*#/dev/fd/N#; s/native-interp/X/' <<<"$out")
run urun --rootfs "$R" -- "$X" fexecve --keep-fd /t/foreign-interp.sh foreign-interp.sh arg
expect_eq "fexecve of a #! script --keep-fd runs like the kernel" "$native_answer" \
	"$(sed 's#/dev/fd/[0-9]*#/dev/fd/N#; s/foreign-interp/X/' <<<"$out")"

# The i386 syscall ABI from a 64-bit task: other syscall numbers, other registers.
run plain_run "$R" "$X" int80 /native/busybox echo int80-native
if [ "$status" -eq 77 ]; then
	skip_check "int 0x80 execve" "${out#skip: }"
else
	expect_eq "int 0x80 execve of a native program, without ubinfmt" int80-native "$out"
	want "int 0x80 execve of a native program" int80-native --rootfs "$R" -- "$X" int80 /native/busybox echo int80-native
	want "int 0x80 execve of a foreign program" int80-ok --rootfs "$R" -- "$X" int80 /bin/busybox echo int80-ok
	want "int 0x80 execve: the arm64 code runs" aarch64 --rootfs "$R" -- "$X" int80 /bin/busybox uname -m
fi

# Host filesystem.
H=$T/host
mkdir -p "$H/bin" "$H/decoy"
cp "$(busybox arm64)" "$H/bin/busybox"
cp "$(busybox amd64)" "$H/decoy/busybox"
want "host fs: execveat(dirfd, name) (cloexec)" aarch64 \
	-- bash -c 'cd "$1" && exec "$2" execveat-dirfd "$3" busybox uname -m' _ "$H/decoy" "$EXECTEST" "$H/bin"
want "host fs: fexecve (cloexec)" fexecve-ok -- "$EXECTEST" fexecve "$H/bin/busybox" echo fexecve-ok
want "host fs: memfd copy (cloexec)" memfd-ok -- "$EXECTEST" memfd "$H/bin/busybox" echo memfd-ok
want "host fs: int 0x80 execve" int80-ok -- "$EXECTEST" int80 "$H/bin/busybox" echo int80-ok

finish
