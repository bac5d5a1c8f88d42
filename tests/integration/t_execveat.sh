#!/usr/bin/env bash
# Execs that do not name the program by a plain path, from a native caller (exectest):
# execveat with an O_PATH directory fd and a relative name, fexecve on an O_RDONLY or O_PATH fd,
# fexecve on a memfd copy of the foreign binary, and execve through the i386 `int $0x80` ABI.
# The fds are close-on-exec by default (the hard case: the path handed to qemu must still name
# the file after the exec) and kept open with --keep-fd.
#
# binfmt_misc cannot do the close-on-exec cases (the kernel answers ENOENT, "path inaccessible"):
# under the baseline those checks are reported as skipped with what the kernel said.
#
# Issue 11: a program named by a path through a close-on-exec fd of the caller's own
# (/proc/self/fd/N, /dev/fd/N, /proc/PID/fd/N, /proc/thread-self/fd/N, /proc/self/fd/N/NAME of a
# directory fd; the fd of a file, an O_PATH fd, an MFD_CLOEXEC memfd, a file deleted after open):
# binfmt_misc with flag O hands qemu the file already open, so these run under the baseline too
# and are checked against it as they are.  CPython's test_fexecve (os.execve(fd, ...) in a forked
# child) natively, and a foreign caller doing what glibc's fexecve does (qemu 7.2 has no
# execveat: ENOSYS, then execve("/proc/self/fd/N"), what a foreign CPython's os.execve(fd)
# becomes), on a rootfs and on the host filesystem.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_twin_sandbox

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

# ---- named through a close-on-exec fd, by a path (issue 11) ----
for via in proc dev pid thread; do
	want "execve('$via' name of a close-on-exec fd)" "via-$via-ok" \
		--rootfs "$R" -- "$X" fdexec --via "$via" /bin/busybox echo "via-$via-ok"
done
want "execve(/proc/self/fd/N): the arm64 code runs" aarch64 --rootfs "$R" -- "$X" fdexec /bin/busybox uname -m
want "execve(/proc/self/fd/N): argv[0] is the caller's" sh \
	--rootfs "$R" -- "$X" fdexec /bin/busybox sh -c 'echo $0'
want "execve(/proc/self/fd/N): the arguments" "a b" \
	--rootfs "$R" -- "$X" fdexec /bin/busybox sh -c 'echo $0 $1' a b
want "execve(/dev/fd/N) of an O_PATH fd" opath-ok --rootfs "$R" -- "$X" fdexec --opath --via dev /bin/busybox echo opath-ok
want "execve(/proc/self/fd/N) of an MFD_CLOEXEC memfd" memfd-ok \
	--rootfs "$R" -- "$X" fdexec --memfd /bin/busybox echo memfd-ok
want "execve(/proc/self/fd/N) of a file deleted after open" deleted-ok \
	--rootfs "$R" -- "$X" fdexec --unlink /bin/busybox echo deleted-ok
want "execve(/proc/self/fd/N) of a deleted file, O_PATH" deleted-opath-ok \
	--rootfs "$R" -- "$X" fdexec --unlink --opath /bin/busybox echo deleted-opath-ok
want "execve(/proc/self/fd/N/NAME) through a close-on-exec directory fd" dir-ok \
	--rootfs "$R" -- /bin/sh -c "cd /decoy && $X fdexec --name busybox /bin busybox echo dir-ok"
want "execve(/dev/fd/N/NAME) through a close-on-exec O_PATH directory fd" dir-opath-ok \
	--rootfs "$R" -- /bin/sh -c "cd /decoy && $X fdexec --opath --via dev --name busybox /bin busybox echo dir-opath-ok"
want "execve(/proc/self/fd/N) of a native program" x86_64 --rootfs "$R" -- "$X" fdexec /native/busybox uname -m
want "execve(/proc/self/fd/N) of a kept fd" keep-ok --rootfs "$R" -- "$X" fdexec --keep-fd /bin/busybox echo keep-ok
# CPython's test_fexecve: fd = os.open(sys.executable) (close-on-exec), then in a forked child
# os.execve(fd, ...), which is glibc's fexecve: execveat(fd, "", AT_EMPTY_PATH).  The kernel
# refuses that for binfmt_misc (ENOENT); the same child naming the fd by path runs under both.
want "CPython's pattern: fork, fexecve of a close-on-exec fd (cloexec)" $'cpython-ok\nstatus 0' \
	--rootfs "$R" -- "$X" fdexec --fork --via fexecve /bin/busybox echo cpython-ok
want "CPython's pattern by path: fork, execve(/proc/self/fd/N)" $'cpython-path-ok\nstatus 0' \
	--rootfs "$R" -- "$X" fdexec --fork /bin/busybox echo cpython-path-ok
want "fork, execve(/proc/self/fd/N) with a status" "status 7" \
	--rootfs "$R" -- "$X" fdexec --fork /bin/busybox sh -c 'exit 7'

# The program starts with what binfmt_misc (O) leaves it: 0, 1, 2 and the directory ls reads;
# qemu 7.2 closes the file it loaded.  ubinfmt's rewrite keeps one fd more: the file it added
# for qemu to open, as /proc/self/fd/M (qemu takes the file only by name, or by AT_EXECFD,
# which only the kernel's binfmt_misc can set).  A kept fd is the caller's, under both.
fds_of() { # the fds an `ls -l /proc/self/fd` lists that are not 0, 1, 2 or ls's own directory
	grep -o ' [0-9]* -> .*' <<<"$out" | grep -v -e '^ [012] ->' -e '-> /proc/[0-9]*/fd$' | sed 's/^ [0-9]* -> //'
}
run urun --rootfs "$R" -- "$X" fdexec /bin/busybox ls -l /proc/self/fd
if is_baseline; then
	expect_eq "execve(/proc/self/fd/N): no fd left in the program (binfmt_misc)" "" "$(fds_of)" "$out"
else
	expect_eq "execve(/proc/self/fd/N): one fd left in the program, the program's file" /bin/busybox "$(fds_of)" "$out"
fi
run urun --rootfs "$R" -- "$X" fdexec --keep-fd /bin/busybox ls -l /proc/self/fd
expect_eq "execve(/proc/self/fd/N) of a kept fd: that fd only" /bin/busybox "$(fds_of)" "$out"
# /proc/self/exe as qemu shows it: qemu answers from the name it loaded.  Under binfmt_misc that
# name is the caller's /proc/self/fd/N, gone after the exec: qemu 7.2 fails the readlink.
run urun --rootfs "$R" -- "$X" fdexec /bin/busybox readlink /proc/self/exe
if is_baseline; then
	skip_check "execve(/proc/self/fd/N): /proc/self/exe" "under binfmt_misc qemu answers: ${out:-nothing} (status $status)"
else
	expect_eq "execve(/proc/self/fd/N): /proc/self/exe is the program" /bin/busybox "$out" "exit status $status"
fi

# A #! script by a path through a close-on-exec fd: the kernel execs its interpreter with the
# name /proc/self/fd/N, gone by then, for a native interpreter as for a foreign one (each
# shell's message starts with the name it was run by: /native/busybox sh says "sh:").
run plain_run "$R" "$X" fdexec /t/native-interp.sh native-interp.sh arg
native_answer=$(sed 's/^[^:]*: //' <<<"$out")
run urun --rootfs "$R" -- "$X" fdexec /t/foreign-interp.sh foreign-interp.sh arg
expect_eq "execve(/proc/self/fd/N) of a #! script answers like the kernel" "$native_answer" \
	"$(sed 's/^[^:]*: //' <<<"$out")"

# A foreign caller: a static arm64 program that does glibc's fexecve (afexecve PATH ARGV0 ARG…).
"$EXECTEST" arm64-fexecve >"$R/bin/afexecve" && chmod 755 "$R/bin/afexecve" || fail "write afexecve" ""
want "arm64 caller: fexecve of a close-on-exec fd" foreign-ok \
	--rootfs "$R" -- /bin/afexecve /bin/busybox echo foreign-ok
want "arm64 caller: fexecve, the arm64 code runs" aarch64 --rootfs "$R" -- /bin/afexecve /bin/busybox uname -m
want "arm64 caller: fexecve, argv[0] is the caller's" "a b" \
	--rootfs "$R" -- /bin/afexecve /bin/busybox sh -c 'echo $0 $1' a b
want "arm64 caller: fexecve of a native program" x86_64 --rootfs "$R" -- /bin/afexecve /native/busybox uname -m
# CPython's pattern from a foreign process: the arm64 shell forks, its child does the fexecve.
want "arm64 caller: fork, fexecve, status" "status 7" \
	--rootfs "$R" -- /bin/sh -c '/bin/afexecve /bin/busybox sh -c "exit 7"; echo status $?'

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
want "host fs: execve(/proc/self/fd/N)" host-proc-ok -- "$EXECTEST" fdexec "$H/bin/busybox" echo host-proc-ok
want "host fs: fork, execve(/dev/fd/N) of a memfd" $'host-memfd-ok\nstatus 0' \
	-- "$EXECTEST" fdexec --fork --memfd --via dev "$H/bin/busybox" echo host-memfd-ok
"$EXECTEST" arm64-fexecve >"$H/bin/afexecve" && chmod 755 "$H/bin/afexecve" || fail "write afexecve" ""
want "host fs: arm64 caller: fexecve" host-foreign-ok -- "$H/bin/afexecve" "$H/bin/busybox" echo host-foreign-ok

finish
