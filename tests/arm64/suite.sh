#!/bin/sh
# The host-port tests, inside the emulated arm64 machine (tools/arm64-vm.sh puts this file into
# its initramfs as /suite.sh and runs it from /init).  busybox sh only: the machine has arm64
# busybox, the arm64 build in /opt/ubinfmt, Debian's arm64 qemu-user-static in /usr/bin and the
# foreign busyboxes in /fixtures/ARCH/busybox.  Every check prints one "UBT: PASS|FAIL|SKIP NAME"
# line on the console, which the script on the build machine reads back; failures are followed
# by "UBT:| " lines with what was seen.

B=/opt/ubinfmt/bin
UB=$B/ubinfmt
ET=$B/exectest
FX=/fixtures
T=/tmp/ubt
npass=0
nfail=0
mkdir -p $T

pass() {
	npass=$((npass + 1))
	echo "UBT: PASS $1"
}
fail() {
	nfail=$((nfail + 1))
	echo "UBT: FAIL $1"
	[ -z "$2" ] || printf '%s\n' "$2" | head -n 30 | sed 's/^/UBT:| /'
}
# expect NAME WANT CMD...: CMD's stdout (stderr to a log) must be WANT exactly.
expect() {
	name=$1 want=$2
	shift 2
	got=$(timeout 120 "$@" 2>$T/err)
	st=$?
	if [ "$got" = "$want" ]; then
		pass "$name"
	else
		fail "$name" "exit status $st; want:
$want
got:
$got
stderr:
$(cat $T/err)"
	fi
}
# expect_lines NAME STATUS PATTERN... -- CMD...: CMD exits STATUS and prints a line matching
# each grep -x PATTERN.
expect_lines() {
	name=$1 want_st=$2
	shift 2
	pats=
	while [ "$1" != -- ]; do
		pats="$pats
$1"
		shift
	done
	shift
	out=$(timeout 300 "$@" 2>$T/err)
	st=$?
	ok=1
	[ "$st" = "$want_st" ] || ok=0
	echo "$pats" | while IFS= read -r p; do
		[ -z "$p" ] || printf '%s\n' "$out" | grep -qx -- "$p" || echo "missing: $p"
	done >$T/missing
	[ -s $T/missing ] && ok=0
	if [ $ok = 1 ]; then
		pass "$name"
	else
		fail "$name" "exit status $st (want $want_st)
$(cat $T/missing)
$out
stderr:
$(cat $T/err)"
	fi
}

echo "UBT: INFO kernel $(uname -r) $(uname -m), $(grep -c ^processor /proc/cpuinfo) CPUs"

# ---- unit tests (cmocka), the same as on every host ------------------------------------------
for t in $B/test_*; do
	out=$($t 2>&1)
	if [ $? = 0 ]; then pass "unit ${t##*/test_}"; else fail "unit ${t##*/test_}" "$out"; fi
done

# ---- the native probe: what the host runs by itself ------------------------------------------
# An arm64 kernel may run AArch32 programs itself (CONFIG_COMPAT and a CPU with AArch32 at
# EL0), or not; the engine serves them through qemu-arm either way (supervisor/host/aarch64.c).
if $FX/armhf/busybox true 2>/dev/null; then aarch32=yes; else aarch32=no; fi
echo "UBT: INFO this kernel runs armhf natively: $aarch32"
$UB detect $FX/amd64/busybox $FX/armhf/busybox $FX/riscv64/busybox /bin/busybox 2>&1 | sed 's/^/UBT: INFO detect: /'
expect "detect: arm64 is native, amd64 emulated by qemu-x86_64" "native
emulate" sh -c "$UB detect /bin/busybox $FX/amd64/busybox | sed -n 's/.* \\(native\\|emulate\\).*/\\1/p'"

# ---- a foreign pipeline with nested execs, in a --rootfs sandbox ------------------------------
R=$T/rootfs-amd64
cp -a $FX/rootfs-amd64 $R
entries=$(ls $R | wc -l)
expect "amd64 pipeline in --rootfs (uname, ls | wc, nested sh, exit status)" "x86_64
$entries
3" $UB run --rootfs $R -- /bin/sh -c 'uname -m; ls / | wc -l; sh -c "exit 3"; echo $?'
timeout 120 $UB run --rootfs $R -- /bin/sh -c 'exit 5' 2>$T/err
st=$?
if [ $st = 5 ]; then pass "amd64 exit status 5 comes back"; else fail "amd64 exit status 5 comes back" "got $st"; fi
echo "UBT: INFO amd64 pipeline on $(uname -m): $($UB run -- $FX/amd64/busybox sh -c \
	"uname -m; echo hello from amd64 busybox | $FX/amd64/busybox tr a-z A-Z" 2>&1 | tr '\n' ' ')"
expect "amd64 busybox pipeline on the host's filesystem" "HELLO ARM64" \
	$UB run -- $FX/amd64/busybox sh -c "echo hello arm64 | $FX/amd64/busybox tr a-z A-Z"

# Mixed architectures in one tree: amd64 sh runs armhf, riscv64 and the host's own busybox.
expect "mixed: amd64 sh -> armhf, riscv64, native arm64, nested amd64" "armv7l
riscv64
aarch64
x86_64" $UB run -- $FX/amd64/busybox sh -c \
	"$FX/armhf/busybox uname -m; $FX/riscv64/busybox uname -m; /bin/busybox uname -m; $FX/amd64/busybox sh -c 'uname -m'"
expect "native arm64 sh -> amd64 -> riscv64 -> armhf" "armv7l" \
	$UB run -- /bin/busybox sh -c "$FX/amd64/busybox sh -c '$FX/riscv64/busybox sh -c \"$FX/armhf/busybox uname -m\"'"

# ---- argv[0] ------------------------------------------------------------------------------------
# busybox picks its applet by argv[0]: the emulated program must see the caller's argv[0].
expect "argv[0] reaches the foreign program (execve)" "argv0-ok" \
	$UB run -- $ET errno $FX/amd64/busybox echo argv0-ok
expect "argv[0] of a nested exec (sh exec -a: busybox runs the applet it names)" "nested-argv0" \
	$UB run -- $FX/amd64/busybox sh -c "exec -a echo $FX/amd64/busybox nested-argv0"

# ---- #! -------------------------------------------------------------------------------------------
printf '#!%s sh\necho "shebang $0 $1"\n' $FX/amd64/busybox >$T/script
chmod 755 $T/script
expect "#! with a foreign interpreter" "shebang $T/script arg1" $UB run -- $T/script arg1
printf '#!%s\necho "nested $0"\n' $T/script >$T/script2
chmod 755 $T/script2
expect "#! whose interpreter is a #! script" "shebang $T/script $T/script2" $UB run -- $T/script2

# ---- execveat / fexecve / memfd -----------------------------------------------------------------
expect "execveat(dirfd, name)" "via-dirfd" $UB run -- $ET execveat-dirfd $FX/amd64 busybox echo via-dirfd
expect "fexecve" "via-fexecve" $UB run -- $ET fexecve $FX/amd64/busybox echo via-fexecve
expect "fexecve of an O_PATH fd" "via-opath" $UB run -- $ET fexecve --opath $FX/amd64/busybox echo via-opath
expect "memfd" "via-memfd" $UB run -- $ET memfd $FX/amd64/busybox echo via-memfd

# ---- vfork / posix_spawn / fork / thread callers: the caller's memory unchanged ----------------
for m in posix_spawn vfork fork thread; do
	expect_lines "spawn $m: amd64 child, caller's memory unchanged" 0 "ok memory unchanged" "ok $m" "status 7" -- \
		$UB run -- $ET spawn $m --status 7 $FX/amd64/busybox sh -c 'echo $$; exit 7'
done

# ---- traced callers (as under strace -f): the code stub ------------------------------------------
# ubinfmt cannot PTRACE_SEIZE a task another tracer holds: a single-threaded caller's exec is
# rewritten with a code stub (host_stub_code: movz/movk into x0-x4 and x8, svc #0) written over
# its code after the `svc`; a multithreaded one gets ENOEXEC and a reason on stderr.  The machine
# has no strace: exectest ptrace traces as strace -f does (PTRACE_TRACEME, follows forks, clones
# and execs); t_traced.sh runs the same checks under both on x86-64.
expect_lines "traced caller: fork + execve of amd64 busybox (pid, memory, status)" 0 "ok pid" "ok memory unchanged" \
	"status 7" "ok fork" -- $UB run -- $ET ptrace $ET spawn fork --status 7 $FX/amd64/busybox sh -c 'echo $$; exit 7'
got=$(timeout 120 $UB run -vv -- $ET ptrace $ET errno $FX/amd64/busybox echo traced-direct-ok 2>$T/err)
st=$?
if [ "$got" = traced-direct-ok ] && grep -q 'rewrote its exec with a code stub' $T/err; then
	pass "traced caller: execve in place, through the code stub"
else
	fail "traced caller: execve in place, through the code stub" "exit status $st; got: $got
$(grep -iE 'stub|trac|error|warn' $T/err)"
fi
echo "UBT: INFO traced caller, execve from a non-main thread: $(timeout 120 $UB run -- $ET ptrace $ET spawn thread \
	--status 7 $FX/amd64/busybox sh -c 'echo $$; exit 7' 2>/dev/null | grep -E '^(ok thread|status|errno)' | tr '\n' ' ')"
got=$(timeout 120 $UB run -- $ET ptrace $ET errno --thread $FX/amd64/busybox echo mt-ran 2>$T/err | head -n 1)
reason=$(grep -v '^exectest:' $T/err | grep -iE 'trac|ptrace' | head -n 1)
if [ "$got" = "errno ENOEXEC" ] && [ -n "$reason" ]; then
	pass "traced multithreaded caller gets ENOEXEC, and ubinfmt says why"
	echo "UBT: INFO traced multithreaded caller: $reason"
else
	fail "traced multithreaded caller gets ENOEXEC, and ubinfmt says why" "got: $got
stderr:
$(cat $T/err)"
fi
expect "untraced multithreaded caller works" "mt-untraced-ok" $UB run -- $ET errno --thread $FX/amd64/busybox echo mt-untraced-ok

# ---- errno conformance: the kernel's own answers, with and without ubinfmt ---------------------
printf 'not a program\n' >$T/noexec
chmod 644 $T/noexec
cp $FX/amd64/busybox $T/bb-nox
chmod 644 $T/bb-nox
printf '\177ELF\002\001\001' >$T/trunc
chmod 755 $T/trunc
mkdir -p $T/dir
for c in "$T/missing" "$T/noexec" "$T/bb-nox" "$T/dir" "$T/trunc" "$T/noexec/x"; do
	want=$($ET errno "$c" 2>/dev/null | head -n 1)
	got=$($UB run -- $ET errno "$c" 2>/dev/null | head -n 1)
	if [ -n "$want" ] && [ "$got" = "$want" ]; then pass "errno ${c##*/}: $want"; else fail "errno ${c##*/}" "native: $want; ubinfmt: $got"; fi
done
expect "errno from a foreign caller (amd64 sh execs a non-executable file)" "status 126" \
	$UB run -- $FX/amd64/busybox sh -c "$T/bb-nox 2>/dev/null; echo status \$?"

# ---- a signal storm during foreign execs ---------------------------------------------------------
# As on x86-64 (t_storm.sh), eintr and fdleak are reported, not failures: a handler without
# SA_RESTART may interrupt a notification not yet received.
expect_lines "signal storm: 32 amd64 execs under signals" 0 "ok 32/32" -- \
	$UB run -- $ET storm 32 $FX/amd64/busybox echo

# ---- 64 concurrent execs -------------------------------------------------------------------------
expect_lines "64 concurrent amd64 execs" 0 "ok 64/64" -- $UB run -- $ET concurrent 64 $FX/amd64/busybox echo
expect_lines "64 concurrent armhf execs" 0 "ok 64/64" -- $UB run -- $ET concurrent 64 $FX/armhf/busybox echo

echo "UBT: DONE pass=$npass fail=$nfail"
