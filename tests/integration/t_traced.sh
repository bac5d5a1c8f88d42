#!/usr/bin/env bash
# A caller that is already traced (strace -f) execs a foreign program.  ubinfmt cannot
# PTRACE_SEIZE a traced task: a single-threaded caller must still work (fork + execve of the
# foreign busybox, with the pid, memory and status checks of exectest spawn); a multithreaded
# one gets ENOEXEC, and ubinfmt says why on stderr.  The checks run under two tracers: strace
# itself, and `exectest ptrace`, the small tracer that stands in for strace in the emulated arm64
# machine (tests/arm64/suite.sh), proven here against the x86-64 stub path.  strace is a host
# program, so these run on the host's filesystem (no --rootfs).
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_ubinfmt
need_exectest
need_fixtures
need_busybox arm64
need_qemu arm64

H=$T/host
mkdir -p "$H"
cp "$(busybox arm64)" "$H/busybox"

# traced_checks NAME TRACER…: the checks, each command run under TRACER….
traced_checks() {
	local name=$1 reason
	shift

	run urun -- "$@" "$EXECTEST" spawn fork --status 7 "$H/busybox" sh -c 'echo $$; exit 7'
	if [ "$status" -eq 0 ] && grep -qx "ok fork" <<<"$out"; then
		pass "$name: traced single-threaded caller: fork + execve of a foreign program"
	else
		fail "$name: traced single-threaded caller: fork + execve of a foreign program" \
			"exit status $status"$'\n'"$out"
	fi

	run urun -- "$@" "$EXECTEST" errno "$H/busybox" echo traced-direct-ok
	expect_eq "$name: traced single-threaded caller: execve in place" traced-direct-ok "$out" \
		"exit status $status"

	# The same with 1000 supplementary groups: the stub's probe looks for Threads: in
	# /proc/PID/status, which comes after a Groups: line of ~5 KB (it read only the first 4 KiB
	# and took the caller for a multithreaded one: ENOEXEC).
	if command -v setpriv >/dev/null 2>&1; then
		run urun -- setpriv --groups "$(seq -s, 1000 1999)" "$@" "$EXECTEST" errno "$H/busybox" \
			echo traced-groups-ok
		expect_eq "$name: traced single-threaded caller with 1000 groups: execve in place" traced-groups-ok \
			"$out" "exit status $status"
	else
		skip_check "$name: traced caller with 1000 groups" "no setpriv"
	fi

	run urun -- "$@" "$EXECTEST" spawn thread --status 7 "$H/busybox" sh -c 'echo $$; exit 7'
	echo "info: $name: traced caller, execve from a non-main thread: exit status $status," \
		"$(grep -E '^(ok thread|status|errno)' <<<"$out" | paste -sd' ')"

	# Multithreaded: a second thread is alive when the main thread execs.
	if is_baseline; then
		skip_check "$name: traced multithreaded caller gets ENOEXEC" "the binfmt_misc baseline has no such limit"
		return
	fi
	urun -- "$@" "$EXECTEST" errno --thread "$H/busybox" echo mt-ran >"$T/mt.out" 2>"$T/mt.err"
	status=$?
	expect_eq "$name: traced multithreaded caller gets ENOEXEC" "errno ENOEXEC" "$(head -n 1 "$T/mt.out")" \
		"exit status $status; stderr:"$'\n'"$(cat "$T/mt.err")"
	# Something other than exectest's own lines must explain it, naming tracing or ptrace.
	reason=$(grep -v '^exectest:' "$T/mt.err" | grep -iE 'trac|ptrace' || true)
	if [ -n "$reason" ]; then
		pass "$name: ubinfmt logs why on stderr ($(head -n 1 <<<"$reason"))"
	else
		fail "$name: ubinfmt logs why on stderr" "stderr:"$'\n'"$(cat "$T/mt.err")"
	fi
}

# exectest ptrace: PTRACE_TRACEME, then follows forks, clones and execs like strace -f.
traced_checks "exectest ptrace" "$EXECTEST" ptrace

# strace itself, where it is installed and may trace (no ptrace restrictions, e.g. Yama scope 3).
if ! command -v strace >/dev/null 2>&1; then
	skip_check "strace -f: the traced-caller checks" "strace is not installed"
elif ! strace -f -o /dev/null /bin/true 2>/dev/null; then
	skip_check "strace -f: the traced-caller checks" "strace cannot trace on this host"
else
	traced_checks "strace -f" strace -f -o /dev/null
fi

# The same multithreaded caller, not traced, works.
run urun -- "$EXECTEST" errno --thread "$H/busybox" echo mt-untraced-ok
expect_eq "untraced multithreaded caller works" mt-untraced-ok "$out" "exit status $status"

finish
