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
# the supervisor's fd table or pid namespace.  procfs is read as the caller reads it: self and
# thread-self are its own ids there, so `..` after them stays in its procfs and task/N is
# numbered in its namespace (a host pid reached that way, with an arm64 file that exists only
# on the host, is the kernel's ENOENT); and another process's magic links are followed only for
# a caller that may ptrace-read that process (else the kernel's EACCES).
# shellcheck source=SCRIPTDIR/lib.sh
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
	# The caller's own ids as its procfs numbers them ($me: from its /proc/self/stat).
	"/proc/self/task/N/root (N: the caller's tid in its pid namespace)|read -r me _ </proc/self/stat|/proc/self/task/\$me/root$X/$P"
	"/proc/self/../N/root (N: the caller's pid)|read -r me _ </proc/self/stat|/proc/self/../\$me/root$X/$P"
	"/proc/thread-self/../../../\$\$/root (the parent shell)||/proc/thread-self/../../../\$\$/root$X/$P"
	"/proc/net/../root (procfs's own link to self/net)||/proc/net/../root$X/$P"
)

driver=''
for c in "${cases[@]}"; do
	IFS='|' read -r label pre path <<<"$c"
	driver+="(${pre:+$pre; }exec -a uname $path -m) 2>&1; echo \"--\$?\"; "
done
run urun --trace="$TRACE" --json --rootfs "$R" -- /bin/sh -c "$driver"
mapfile -t lines <<<"$out"

# trace_of FILE PATH: "arch decision" of the last trace line for PATH ($$ and $me match any pid).
trace_of() {
	python3 - "$1" "$2" <<'PY'
import json, re, sys
want = re.escape(sys.argv[2]).replace(re.escape("$$"), "[0-9]+").replace(re.escape("$me"), "[0-9]+")
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

# Out of the sandbox's procfs: `..` after self, thread-self, or a directory below them, to a pid
# that exists only on the host ($HP: this script's), whose root holds $HF, an arm64 program that
# exists only on the host.  The kernel's answer is ENOENT; the supervisor must not resolve the
# host's file, let alone emulate it (or hand it to the sandbox as an fd, for execveat).
HP=$$
HF=$T/hostonly/busybox
mkdir -p "$T/hostonly"
cp "$(busybox arm64)" "$HF"
ln -s "/proc/self/../$HP/root$HF" "$R/e/via-self-up"
up_cases=(
	"/proc/self/../HOSTPID/root|/proc/self/../$HP/root$HF"
	"/proc/thread-self/../../../HOSTPID/root|/proc/thread-self/../../../$HP/root$HF"
	"/proc/self/task/../../HOSTPID/root|/proc/self/task/../../$HP/root$HF"
	"/proc/self/fd/../../HOSTPID/root|/proc/self/fd/../../$HP/root$HF"
	"symlink to /proc/self/../HOSTPID/root…|/e/via-self-up"
)
args=()
for c in "${up_cases[@]}"; do
	args+=("${c#*|}")
done
# The first line says whether the sandbox happens to have a process numbered $HP.
updriver="if [ -d /proc/$HP ]; then echo 'pid present'; else echo 'pid absent'; fi; $errdriver"
plain=$(plain_run "$R" /e/sh -c "$updriver" sh "${args[@]}" 2>&1)
run urun --trace="$TRACE.4" --json --rootfs "$R" -- /e/sh -c "$updriver" sh "${args[@]}"
mapfile -t p <<<"$plain"
mapfile -t u <<<"$out"
if [ "${u[0]:-}" != "pid absent" ] || [ "${p[0]:-}" != "pid absent" ]; then
	skip_check "paths out of the sandbox's procfs" "the sandbox has a pid $HP too (${u[0]:-?}, ${p[0]:-?})"
else
	i=1
	for c in "${up_cases[@]}"; do
		expect_eq "${c%%|*} (a host pid): the kernel's answer (${p[$i]:-?}; ENOENT wanted)" \
			"errno ENOENT errno ENOENT" "${p[$i]:-<nothing>} ${u[$i]:-<nothing>}"
		expect_eq "... and left to the kernel, the host's arm64 file not even classified" "unknown kernel" \
			"$(trace_of "$TRACE.4" "${c#*|}")"
		i=$((i + 1))
	done
	# execveat(/, "proc/self/../HOSTPID/…"): an emulated ELF named through a dirfd is handed to
	# the caller as an fd, so this once gave the sandbox the host's file, readable.
	run urun --trace="$TRACE.5" --json --rootfs "$R" -- /bin/exectest execveat-dirfd / "proc/self/../$HP/root$HF" uname -m
	expect_eq "execveat(/, 'proc/self/../HOSTPID/root…'): the kernel's ENOENT" "errno ENOENT" \
		"$(head -n 1 <<<"$out")" "exit status $status, output: $out"
	expect_eq "... left to the kernel" "unknown kernel" "$(trace_of "$TRACE.5" "proc/self/../$HP/root$HF")"
fi

# execveat(dirfd, "../../..$X/$P") from the sandbox's /e: `..` is clamped at its root.
run urun --trace="$TRACE.3" --json --rootfs "$R" -- /bin/exectest execveat-dirfd /e "../../../../..$X/$P" uname -m
expect_eq "execveat(dirfd, '../..' past the root)" aarch64 "$out" "exit status $status"
expect_eq "... decided on the sandbox's file" "aarch64 emulate" "$(trace_of "$TRACE.3" "../../../../..$X/$P")"

# execveat(/proc, "self/root…"): self met without crossing a mount, from a dirfd in procfs.
run urun --trace="$TRACE.6" --json --rootfs "$R" -- /bin/exectest execveat-dirfd /proc "self/root$X/$P" uname -m
expect_eq "execveat(/proc, 'self/root…'): the sandbox's file" aarch64 "$out" "exit status $status"
expect_eq "... decided on the sandbox's file" "aarch64 emulate" "$(trace_of "$TRACE.6" "self/root$X/$P")"

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

# Another process's magic links (/proc/PID/root…) are the kernel's to follow only for a caller
# that may ptrace-read that process; the supervisor may read them all.  As uid 65534: a root
# process's root is the kernel's EACCES (and nothing about the file behind it may show), while
# a process of its own uid (dumpable, no capabilities) is followed, like its own /proc/self.
chmod 711 "$T"
mkdir -p "$T/pub"
cp "$(busybox arm64)" "$T/pub/busybox"
chmod 755 "$T/pub" "$T/pub/busybox"
sleep 1000 &
root_pid=$!
track_pid "$root_pid"
setpriv --reuid 65534 --regid 65534 --clear-groups sleep 1000 &
nobody_pid=$!
track_pid "$nobody_pid"
run "${as_nobody[@]}" "/proc/$root_pid/root$T/pub/busybox" echo hi
kernel=$(head -n 1 <<<"$out")
if [ "$kernel" != "errno EACCES" ]; then
	skip_check "a root process's /proc/PID/root as uid 65534" "the kernel here says '$kernel', not EACCES"
else
	run urun -- "${as_nobody[@]}" "/proc/$root_pid/root$T/pub/busybox" echo hi
	expect_eq "a root process's /proc/PID/root, as uid 65534: the kernel's EACCES" "errno EACCES" \
		"$(head -n 1 <<<"$out")" "exit status $status, output: ${out:-none}"
	run urun -- "${as_nobody[@]}" "/proc/$root_pid/cwd/../..$T/pub/busybox" echo hi
	expect_eq "a root process's /proc/PID/cwd, as uid 65534: the kernel's EACCES" "errno EACCES" \
		"$(head -n 1 <<<"$out")" "exit status $status, output: ${out:-none}"
fi
# Guards for the refusal above (they pass without it too): allowed links stay followed.
run urun -- "${as_nobody[@]}" "/proc/$nobody_pid/root$T/pub/busybox" echo hi
expect_eq "a uid 65534 process's /proc/PID/root, as uid 65534: the foreign file runs" hi "$out" "exit status $status"
run urun -- "${as_nobody[@]}" "/proc/self/root$T/pub/busybox" echo hi
expect_eq "its own /proc/self/root, as uid 65534: the foreign file runs" hi "$out" "exit status $status"

finish
