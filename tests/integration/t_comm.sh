#!/usr/bin/env bash
# The name an emulated process goes by (/proc/PID/comm: what ps, top, pidof, pkill and killall
# match): the name the kernel gives the same exec of a native program, from the exec's own path
# (its last component, cut to 15 bytes) or, for an fd's own file (fexecve), from the file's
# directory entry.  Every check runs the same exec of a native busybox (the twin) and of the
# arm64 one and compares.  Without ubinfmt's named copies of qemu (emu_names.c) every emulated
# process would be called "qemu-aarch64-st" and `pidof sleep` would miss it (busybox's own
# test suite, pidof.tests, found it: tests/conformance).
#
# binfmt_misc names an fexecve'd program after qemu (the kernel takes the name of the file it
# ends up running, the interpreter), and cannot run a program named through a close-on-exec fd
# (ENOENT): those checks report that as a skip under the baseline.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_twin_sandbox

R=$(make_twin_rootfs) || skip "cannot copy the rootfs"
for d in n f; do
	for applet in cat sleep pidof killall; do
		ln -s busybox "$R/$d/$applet"
	done
	ln "$R/$d/busybox" "$R/$d/a-rather-long-program-name"
	printf '#!/%s/busybox sh\ncat /proc/$$/comm\n' "$d" >"$R/$d/myscript"
	chmod 755 "$R/$d/myscript"
done
X=/bin/exectest

# same LABEL CMD… (with @ for the twin's directory, n or f): the comm the foreign exec prints
# must be the native one's.  Random parts of temporary names are normalised.
same() {
	local label=$1 native foreign
	shift
	run plain_run "$R" "${@//@/n}"
	if [ "$status" -ne 0 ]; then
		fail "$label" "the native twin failed (status $status): $out"
		return
	fi
	native=$(sed 's/exectest-[A-Za-z0-9]\{6\}/exectest-XXXXXX/' <<<"$out")
	run urun --rootfs "$R" -- "${@//@/f}"
	foreign=$(sed 's/exectest-[A-Za-z0-9]\{6\}/exectest-XXXXXX/' <<<"$out")
	if is_baseline && [[ $label == *"(fexecve)"* ]] && [ "$foreign" != "$native" ]; then
		skip_check "$label" "binfmt_misc names it after the interpreter or cannot: $(head -n 1 <<<"$foreign")"
		return
	fi
	if is_baseline && [[ $label == *"(cloexec)"* ]] && [ "$foreign" != "$native" ]; then
		skip_check "$label" "binfmt_misc baseline cannot: $(head -n 1 <<<"$foreign")"
		return
	fi
	if [ -z "$native" ] || [[ $native == *qemu* ]]; then
		fail "$label" "the native twin printed no name: $native"
		return
	fi
	expect_eq "$label" "$native" "$foreign"
}

same "execve(path): the path's last component" /@/cat /proc/self/comm
same "execve(path) of the file itself" /@/busybox cat /proc/self/comm
same "a name over 15 bytes is cut as the kernel cuts it" \
	"$X" execveat-dirfd --keep-fd /@ a-rather-long-program-name cat /proc/self/comm
same "execve of a relative path" /@/busybox sh -c 'cd /@ && ./cat /proc/self/comm'
same "execveat(dirfd, name) of a close-on-exec dirfd (cloexec)" "$X" execveat-dirfd /@ cat cat /proc/self/comm
same "execve(/proc/self/fd/N): the fd number" "$X" fdexec --keep-fd /@/cat cat /proc/self/comm
same "execve(/proc/self/fd/N) of a close-on-exec fd (cloexec)" "$X" fdexec /@/cat cat /proc/self/comm
same "execve(/proc/self/fd/N/NAME) through a close-on-exec directory fd (cloexec)" "$X" fdexec --name cat /@ cat /proc/self/comm
same "execveat(fd, \"\") of a kept fd: the file's entry (fexecve)" \
	"$X" fdexec --keep-fd --via fexecve /@/busybox cat /proc/self/comm
same "execveat(fd, \"\") of a close-on-exec fd (fexecve)" "$X" fdexec --via fexecve /@/busybox cat /proc/self/comm
same "execveat(fd, \"\") of an O_PATH fd (fexecve)" "$X" fdexec --opath --via fexecve /@/busybox cat /proc/self/comm
same "execveat(fd, \"\") of a memfd: memfd:NAME (fexecve)" "$X" fdexec --memfd --via fexecve /@/busybox cat /proc/self/comm
same "execveat(fd, \"\") of a deleted file (fexecve)" "$X" fdexec --unlink --via fexecve /@/busybox cat /proc/self/comm
same "a #! script: the script's name" /@/myscript

# What users meet: pidof and killall by name, from inside the sandbox, of a foreign program.
find_by_name='/DIR/sleep 30 & p=$!
for i in $(seq 100); do [ "$(/DIR/pidof sleep)" = "$p" ] && break; sleep 0.1; done
echo "pidof: $(/DIR/pidof sleep | sed "s/$p/PID/")"
/DIR/killall sleep; wait $p; echo "status after killall: $?"'
# (Whether the shell reports the killed job as "Terminated" depends on when it reaps it.)
run plain_run "$R" /n/busybox sh -c "${find_by_name//DIR/n}"
native=$(grep -v '^Terminated' <<<"$out")
run urun --rootfs "$R" -- /f/busybox sh -c "${find_by_name//DIR/f}"
expect_eq "pidof and killall find a foreign program by its name" "$native" "$(grep -v '^Terminated' <<<"$out")"
expect_eq "(the native twin finds its own)" $'pidof: PID\nstatus after killall: 143' "$native"
# The same on a 32-bit and a big-endian architecture (the conformance harness's other two).
for arch in armhf s390x; do
	if [ ! -x "$(busybox "$arch")" ] || ! need_qemu "$arch" >/dev/null 2>&1; then
		skip_check "pidof and killall, $arch" "no $arch busybox or qemu here"
		continue
	fi
	mkdir -p "$R/$arch"
	cp "$(busybox "$arch")" "$R/$arch/busybox"
	for applet in sleep pidof killall; do ln -s busybox "$R/$arch/$applet"; done
	run urun --rootfs "$R" -- "/$arch/busybox" sh -c "${find_by_name//DIR/$arch}"
	expect_eq "pidof and killall find a foreign program by its name ($arch)" "$native" "$(grep -v '^Terminated' <<<"$out")"
done

if ! is_baseline; then
	# The emulator's copy is read-only from the sandbox, like the emulator itself, and leads to
	# nothing else: its fd is a file's, no directory of names behind it (other sandboxes').
	run urun --rootfs "$R" -- /n/busybox sh -c '/f/sleep 30 & p=$!
		for i in $(seq 100); do [ "$(cat /proc/$p/comm)" = sleep ] && break; sleep 0.1; done
		(echo x >>/proc/$p/exe) 2>/dev/null && echo WROTE; ls /proc/$p/exe/ 2>/dev/null && echo LISTED
		kill $p; echo done'
	expect_eq "the named copy cannot be written or listed from the sandbox" "done" "$out"

	# More names than the daemon keeps (emu_names.h: 512) and than its tmpfs has inodes (1024):
	# the oldest are unlinked, the newest still get their names.
	# Each name a hard link of one foreign script, which prints its comm when asked.
	printf '#!/f/busybox sh\n[ "$1" = show ] && cat /proc/$$/comm\nexit 0\n' >"$R/f/named"
	chmod 755 "$R/f/named"
	run urun --rootfs "$R" -- /f/busybox sh -c 'cd /f && for i in $(seq 1100); do
			ln named n$i && ./n$i || exit 1; done
		./n1100 show; ln named n1101; ./n1101 show; ./n1 show'
	expect_eq "1100 names: the last ones and a recycled one are still right" $'n1100\nn1101\nn1' "$out"
fi

finish
