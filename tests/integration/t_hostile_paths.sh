#!/usr/bin/env bash
# Hostile sandbox, path escapes: every exec target must be resolved in the sandbox's own view,
# never the supervisor's.  The same absolute path $X/$P (/usr/bin/true) exists twice: inside the
# rootfs (the arm64 busybox) and on the host (coreutils' x86-64 true; the supervisor's cwd is $X
# too).  (The host side cannot live in the test's scratch directory: the sandbox's /tmp is a
# tmpfs that would hide it.)  A sandboxed shell reaches the file through absolute symlinks, `..` past the
# root, /proc/self/root, /proc/PID/root, /proc/self/cwd, /dev/fd/N and /proc/self/fd/N (whose
# numbers are the supervisor's emulator fds, x86-64 files), execveat with a dirfd and `..`;
# `ubinfmt run --trace=FILE --json` says which file decided (its arch field): it must be
# aarch64 (and the program must print aarch64).  Paths the sandbox cannot resolve (an fd it
# does not have, a pid outside its namespace) must give the kernel's errno, not be served from
# the supervisor's fd table or pid namespace.
source "$(dirname "$0")/lib.sh"

need_hostile_sandbox
need_cmd python3 setpriv

X=/usr/bin
P=true
[ -f "$X/$P" ] && [ "$(head -c 4 "$X/$P" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] ||
	skip "the host has no ELF $X/$P"
R=$(make_rootfs busybox-arm64) || skip "cannot copy the rootfs"
mkdir -p "$R$X" "$R/e"
cp "$(busybox arm64)" "$R$X/$P"                            # the sandbox's file: arm64
cp "$(busybox amd64)" "$R/e/sh"                            # a native shell for the kernel's answers
ln -s "$X/$P" "$R/e/abs"                                   # absolute symlink to a "host" path
ln -s /e/abs "$R/e/abs2"                                   # ...through another absolute one
ln -s "../../../../../../../../..$X/$P" "$R/e/up"          # relative, climbing past the root
ln -s "/proc/self/root$X/$P" "$R/e/via-proc-self"          # magic link in a symlink target
ln -s "/proc/self/cwd/$P" "$R/e/via-self-cwd"
TRACE=$T/trace.json

# The supervisor's own cwd is $X: the host's x86-64 prog is ./prog for it.
cd "$X" || skip "cannot enter $X"

# The cases, one per line: LABEL|SET-UP|PATH.  Each runs `uname -m` through PATH after SET-UP.
cases=(
	"absolute symlink to a host path||/e/abs"
	"absolute symlink chain||/e/abs2"
	"relative symlink climbing past the root||/e/up"
	"'..' past the root||/../../../../../..$X/$P"
	"relative '..' past the root|cd /e|../../../../../..$X/$P"
	"/proc/self/root||/proc/self/root$X/$P"
	"/proc/thread-self/root||/proc/thread-self/root$X/$P"
	"/proc/\$\$/root (the sandbox's own pid)||/proc/\$\$/root$X/$P"
	"/proc/1/root||/proc/1/root$X/$P"
	"/proc/self/root/.. past the root||/proc/self/root/../../..$X/$P"
	"symlink to /proc/self/root/…||/e/via-proc-self"
	"relative path from the sandbox's cwd (the supervisor's holds an x86-64 $P)|cd $X|./$P"
	"/proc/self/cwd|cd $X|/proc/self/cwd/$P"
	"symlink to /proc/self/cwd/…|cd $X|/e/via-self-cwd"
	"/dev/fd/5 (the supervisor's fd 5 is qemu-aarch64, an x86-64 file)|exec 5<$X/$P|/dev/fd/5"
	"/proc/self/fd/3 (the supervisor's: qemu-x86_64)|exec 3<$X/$P|/proc/self/fd/3"
	"/dev/fd/9 through a dup|exec 8<$X/$P; exec 9<&8|/dev/fd/9"
	"/proc/self/fd/7/$P with 7 a directory fd|exec 7<$X|/proc/self/fd/7/$P"
)

driver=''
for c in "${cases[@]}"; do
	IFS='|' read -r label pre path <<<"$c"
	driver+="(${pre:+$pre; }exec -a uname $path -m) 2>&1; echo \"--\$?\"; "
done
run urun --trace="$TRACE" --json --rootfs "$R" -- /bin/sh -c "$driver"
mapfile -t lines <<<"$out"

# trace_of FILE PATH: "arch decision" of the last trace line for PATH ($$ matches any pid).
trace_of() {
	python3 - "$1" "$2" <<'PY'
import json, re, sys
want = re.escape(sys.argv[2]).replace(re.escape("$$"), "[0-9]+")
got = "no trace line"
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if re.fullmatch(want, r.get("path", "")):
        got = "%s %s" % (r.get("arch"), r.get("decision"))
print(got)
PY
}

i=0
for c in "${cases[@]}"; do
	IFS='|' read -r label pre path <<<"$c"
	got=${lines[$((2 * i))]:-}
	st=${lines[$((2 * i + 1))]:-}
	expect_eq "$label: the sandbox's arm64 file ran" "aarch64 --0" "$got $st" "${pre:+$pre; }exec $path"
	expect_eq "$label: ... and decided (trace: aarch64 emulate)" "aarch64 emulate" "$(trace_of "$TRACE" "$path")"
	i=$((i + 1))
done

# Names the sandbox cannot resolve: the kernel's errno, never the supervisor's objects.
# exectest errno: the native caller; compared with the same run without ubinfmt.
errno_cases=(
	"/dev/fd/20 (no such fd in the sandbox; the supervisor's is an emulator)|/dev/fd/20"
	"/proc/self/fd/40 (the supervisor's listener)|/proc/self/fd/40"
	"/proc/self/fd/5/x (an fd that is no directory)|/proc/self/fd/5/x"
	"/proc/999999/root (no such pid in the sandbox)|/proc/999999/root$X/$P"
	"symlink loop through /proc/self/root|/e/loop"
)
ln -s /proc/self/root/e/loop "$R/e/loop"
args=()
for c in "${errno_cases[@]}"; do
	args+=("${c#*|}")
done
errdriver='for p in "$@"; do /bin/exectest errno "$p" 2>/dev/null | head -n 1; done'
plain=$(plain_run "$R" /e/sh -c "exec 5<$X/$P; $errdriver" sh "${args[@]}" 2>&1)
run urun --trace="$TRACE.2" --json --rootfs "$R" -- /e/sh -c "exec 5<$X/$P; $errdriver" sh "${args[@]}"
mapfile -t p <<<"$plain"
mapfile -t u <<<"$out"
i=0
for c in "${errno_cases[@]}"; do
	expect_eq "${c%%|*}: the kernel's answer (${p[$i]:-?})" "${p[$i]:-<nothing>}" "${u[$i]:-<nothing>}"
	i=$((i + 1))
done
decided=
for a in "${args[@]}"; do
	decided+="$a: $(trace_of "$TRACE.2" "$a")"$'\n'
done
if grep -q ' native$' <<<"$decided"; then
	fail "none of these names was decided 'native' (from the supervisor's x86-64 fds)" "$decided"
else
	pass "none of these names was decided 'native' (from the supervisor's x86-64 fds)"
fi

# execveat(dirfd, "../../..$X/$P") from the sandbox's /e: `..` is clamped at its root.
run urun --trace="$TRACE.3" --json --rootfs "$R" -- /bin/exectest execveat-dirfd /e "../../../../..$X/$P" uname -m
expect_eq "execveat(dirfd, '../..' past the root)" aarch64 "$out" "exit status $status"
expect_eq "... decided on the sandbox's file" "aarch64 emulate" "$(trace_of "$TRACE.3" "../../../../..$X/$P")"

# The sandbox's cwd is not $X: a relative exec must not find the supervisor's ./prog.
mkdir -p "$R/elsewhere"
cp "$(busybox arm64)" "$R/elsewhere/$P"
run urun --rootfs "$R" -- /bin/sh -c "cd /elsewhere && exec -a uname ./$P -m"
expect_eq "relative exec, another sandbox cwd, the supervisor's cwd holding an x86-64 ./$P" aarch64 "$out" \
	"exit status $status"

# The emulator's inode is every emulated process's /proc/PID/exe.  A sandbox's root can open it
# while a foreign program runs and, once nothing executes it, reopen that fd for writing: the
# host's qemu rewritten from inside (CVE-2019-5736's trick).  ubinfmt opens its emulators
# through a private read-only mount, so that reopening says EROFS.  (A copy of qemu is the
# target here, never the host's own.)
QEMU=$(command -v qemu-aarch64-static || command -v qemu-aarch64)
cp "$QEMU" "$T/qemu-copy"
sum=$(md5sum <"$T/qemu-copy")
run urun --emulator "aarch64=$T/qemu-copy" --rootfs "$R" -- /e/sh -c '
	(exec -a sleep /usr/bin/true 1) & p=$!
	usleep 300000
	exec 9</proc/$p/exe || echo "cannot even read it"
	wait $p
	if (exec 8>>/proc/self/fd/9) 2>/dev/null; then echo writable; else echo read-only; fi'
expect_eq "the emulator binary cannot be reopened for writing from the sandbox" read-only "$out"
expect_eq "... and is unchanged" "$sum" "$(md5sum <"$T/qemu-copy")"

# A directory the caller may not search: the kernel says EACCES whatever lies inside.  The
# supervisor resolves with its own credentials, so it must not make a foreign program in there
# run (or fail in qemu) where the kernel refuses: that would also tell the caller what the file
# is.  On the host's filesystem, as uid 65534.
chmod 711 "$T"
mkdir -p "$T/secret"
cp "$(busybox arm64)" "$T/secret/busybox"
cp "$(busybox amd64)" "$T/secret/native"
chmod 755 "$T/secret/busybox" "$T/secret/native"
chmod 700 "$T/secret"
as_nobody=(setpriv --reuid 65534 --regid 65534 --clear-groups "$EXECTEST" errno)
run "${as_nobody[@]}" "$T/secret/native" echo hi
kernel=$(head -n 1 <<<"$out")
if [ "$kernel" != "errno EACCES" ]; then
	fail "unsearchable directory: the kernel says EACCES" "$out"
else
	run urun -- "${as_nobody[@]}" "$T/secret/native" echo hi
	expect_eq "unsearchable directory, native file: the kernel's EACCES" "errno EACCES" "$(head -n 1 <<<"$out")"
	run urun -- "${as_nobody[@]}" "$T/secret/busybox" echo hi
	expect_eq "unsearchable directory, foreign file: the kernel's EACCES" "errno EACCES" "$(head -n 1 <<<"$out")" \
		"exit status $status, output: ${out:-none}"
	# Reached through a relative path from a searchable cwd above it: the same answer.
	run urun -- sh -c "cd '$T' && exec ${as_nobody[*]} secret/busybox echo hi"
	expect_eq "unsearchable directory, relative path: the kernel's EACCES" "errno EACCES" "$(head -n 1 <<<"$out")" \
		"exit status $status, output: ${out:-none}"
	# The same directory crossed inside a symlink's target: the kernel still needs to search it.
	ln -s secret "$T/dirlink"
	ln -s secret/busybox "$T/filelink"
	ln -s "$T/secret/busybox" "$T/abslink"
	for p in dirlink/busybox filelink abslink; do
		run "${as_nobody[@]}" "$T/$p" echo hi
		kernel=$(head -n 1 <<<"$out")
		run urun -- "${as_nobody[@]}" "$T/$p" echo hi
		expect_eq "unsearchable directory inside a symlink ($p): the kernel's answer ($kernel)" "$kernel" \
			"$(head -n 1 <<<"$out")" "exit status $status, output: ${out:-none}"
	done
	chmod 711 "$T/secret"
	run urun -- "${as_nobody[@]}" "$T/secret/busybox" echo hi
	expect_match "search-only directory (711): the foreign file runs" '^hi$' "$out"
	run urun -- "${as_nobody[@]}" "$T/dirlink/busybox" echo hi
	expect_match "search-only directory (711) inside a symlink: the foreign file runs" '^hi$' "$out"
	chmod 700 "$T/secret"
	run urun -- "${as_nobody[@]}" "$T/secret/missing" echo hi
	expect_eq "unsearchable directory, missing file: the kernel's EACCES" "errno EACCES" "$(head -n 1 <<<"$out")"
fi

finish
