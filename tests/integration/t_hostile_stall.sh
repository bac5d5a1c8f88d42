#!/usr/bin/env bash
# Hostile sandbox, exec targets that would stall a careless reader: a FIFO (no writer), a
# character device, a directory, a FIFO as a #! interpreter, and a file that grows and shrinks
# while it is read (truncated and rewritten in a loop).  Each must give the kernel's answer (the
# same command without ubinfmt), and while a process keeps exec'ing them, the supervisor must
# keep serving: other processes of the same sandbox, and, under one ubinfmtd, another sandbox,
# get their foreign execs done within a deadline.  The same with a FUSE file system that never
# answers: under a lookup, under the exec path, under the stack pointer of a foreign exec (the
# rewrite's scratch write), for a caller traced by strace, under its stack pointer or its
# syscall's return address (the code stub's accesses), and as the file of an exec in another
# thread of the caller's process (which holds the exec lock that the rewrite's PTRACE_SEIZE
# waits for).
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_hostile_sandbox
need_cmd mkfifo mknod

R=$(make_rootfs busybox-arm64) || skip "cannot copy the rootfs"
E=$R/e
mkdir -p "$E/dir"
cp "$(busybox amd64)" "$E/sh"
cp "$(busybox arm64)" "$E/busybox"
mkfifo -m 755 "$E/fifo"
mknod -m 755 "$E/zero" c 1 5
printf '#!/e/fifo\n' >"$E/fifo-script"
printf '#!/e/zero -x\n' >"$E/dev-script"
chmod 755 "$E/dir" "$E/fifo-script" "$E/dev-script"
: >"$E/grow"
chmod 755 "$E/grow"

# ---- the kernel's answers -----------------------------------------------------------------------

targets=(/e/fifo /e/zero /e/dir /e/fifo-script /e/dev-script)
errdriver='for p in "$@"; do /bin/exectest errno "$p" 2>/dev/null | head -n 1; done'
plain=$(plain_run "$R" /e/sh -c "$errdriver" sh "${targets[@]}" 2>&1)
run urun --rootfs "$R" -- /e/sh -c "$errdriver" sh "${targets[@]}"
mapfile -t p <<<"$plain"
mapfile -t u <<<"$out"
i=0
for t in "${targets[@]}"; do
	if [ "${p[$i]:-}" != "errno EACCES" ]; then
		fail "$t: the kernel says EACCES" "got: ${p[$i]:-<nothing>}"
	else
		expect_eq "$t: the kernel's EACCES, at once" "errno EACCES" "${u[$i]:-<nothing>}"
	fi
	i=$((i + 1))
done

# ---- the same sandbox keeps being served ----------------------------------------------------------

# A background hammer execs every stall target and the changing file in a loop (the file is
# truncated and rewritten by a second loop); the foreground runs 20 foreign execs, each of which
# must print its own line, and the whole thing must finish well within the deadline.  The
# writer truncates with `true >file`, not `: >file`: the truncation fails with ETXTBSY while the
# kernel execs the file, and a failed redirection of the special builtin `:` ends the shell.
N=20
hammer='
	while :; do { true >/e/grow; cat /e/busybox >>/e/grow; } 2>/dev/null; done &
	w=$!
	( while :; do for t in /e/fifo /e/zero /e/dir /e/fifo-script /e/dev-script /e/grow; do
		/bin/exectest errno $t >/dev/null 2>&1; done; done ) &
	h=$!
	i=0; ok=0
	while [ $i -lt '"$N"' ]; do
		[ "$(/e/busybox echo "fg-$i")" = "fg-$i" ] && ok=$((ok + 1))
		i=$((i + 1))
	done
	echo "served $ok/'"$N"'"
	kill $h $w 2>/dev/null; wait $h $w 2>/dev/null
	/e/busybox echo after-the-hammer'
start=$(date +%s)
run timeout -k 5 120 "$UBINFMT" run --rootfs "$R" -- /e/sh -c "$hammer"
secs=$(($(date +%s) - start))
expect_eq "one sandbox: foreign execs served while another process execs stall targets" \
	$'served 20/20\nafter-the-hammer' "$out" "exit status $status after ${secs}s"
if [ "$status" -ne 124 ] && [ "$secs" -lt 100 ]; then
	pass "one sandbox: no stall (${secs}s for $N foreign execs beside the hammer)"
else
	fail "one sandbox: no stall" "took ${secs}s, status $status"
fi

# The changing file alone: every exec of it ends and the supervisor is never stuck on it.  The
# outcomes: ran; ENOEXEC (empty or cut short when read); ETXTBSY (open for writing: the kernel's
# answer for a file it execs itself, i.e. when the supervisor found no foreign ELF); killed or
# silent (an emulated run whose file was truncated under it: SIGBUS, SIGSEGV).
run timeout -k 5 120 "$UBINFMT" run --rootfs "$R" -- /e/sh -c '
	while :; do { true >/e/grow; cat /e/busybox >>/e/grow; } 2>/dev/null; done &
	w=$!
	i=0
	while [ $i -lt 60 ]; do
		r=$({ /bin/exectest errno /e/grow echo ran | head -n 1; } 2>/dev/null)
		echo "${r:-killed-or-silent}"
		i=$((i + 1))
	done | sort | uniq -c | sed "s/^ *//"
	kill $w 2>/dev/null; wait $w 2>/dev/null
	echo end'
outcomes=$(grep -v '^end$' <<<"$out" | paste -sd, -)
if [ "$status" -eq 0 ] && [ "$(tail -n 1 <<<"$out")" = end ] &&
	! grep -vqE '^[0-9]+ (ran|errno (ENOEXEC|ETXTBSY|EACCES)|killed-or-silent)$' <<<"$(grep -v '^end$' <<<"$out")"; then
	pass "a file rewritten during its execs: each ends ($outcomes)"
else
	fail "a file rewritten during its execs: each ends" "exit status $status"$'\n'"$out"
fi

# ---- a FUSE file whose lookup or read never returns ----------------------------------------------

# A sandbox that can mount FUSE (root in it, or root of its own user namespace) can make any
# lookup or read inside its mount wait forever, and no signal ends that wait.  exectest fusehang
# serves such a file system on $F (in a private mount namespace, gone with the test) and aborts
# it after 10 s: $F/hang never answers its lookup, $F/mem opens but never answers a read.  A
# background process execs $F/hang, or execs a path that lies in a mapped page of $F/mem (so
# reading the path itself waits), or execs a foreign program with its stack pointer on such a
# page (exectest fusestack: the rewrite's scratch write below the stack pointer waits), or does
# the same under strace -f (the rewrite is then a code stub, whose writes below the stack
# pointer, or whose read of the code at the syscall's return address with --code, wait).  The
# supervisor gives up on the stuck decision or access after its deadline (1 s), and serves the
# others on a fresh thread: the foreground's foreign program, and a burst of six foreign execs
# started beside the stuck one (rewrites in flight when the loop's thread gets stuck must not be
# stranded with it), all long before the release.  The stuck task waits meanwhile, in the
# kernel's exec or in its own notification or ptrace stop; once the server lets go it gets what
# it would have got: its exec runs (a stack on FUSE: the rewrite starts over), fails with
# ENOEXEC (a code stub that could not be written), or the task dies of SIGBUS on its own code
# page.  The run itself ends only after the release: its command waits for the hung process
# (and the supervisor stops serving once its command is gone).
F=$T/fuse
mkdir -p "$F"
BB=$(busybox arm64)
STRACE=$(command -v strace || true)
fuse_hang() { # $1: the deadline ubinfmt should report; $2: what hangs; the rest: options of ubinfmt run
	local ms=$1 what=$2 served_ms released_ms burst_ms stuck label after='' i missing=''
	shift 2
	case $what in
	lookup) stuck="$EXECTEST errno $F/hang" label="FUSE lookup" ;;
	memory) stuck="$EXECTEST execmem $F/mem" label="FUSE read under the exec path" ;;
	stack)
		stuck="$EXECTEST fusestack $F/mem $BB echo stack-ran" after=stack-ran
		label="FUSE page under the stack pointer (scratch write)"
		;;
	stub-stack)
		stuck="$STRACE -f -o /dev/null $EXECTEST fusestack $F/mem $BB echo stub-ran" after="errno ENOEXEC"
		label="FUSE page under a traced caller's stack pointer (code stub)"
		;;
	stub-code)
		stuck="$STRACE -f -o /dev/null $EXECTEST fusestack --code $F/mem $BB echo stub-ran" after="status 135"
		label="FUSE page at a traced caller's return address (code stub)"
		;;
	esac
	case $what in stack | stub-*)
		if [ "$(uname -m)" != x86_64 ]; then
			skip_check "a hanging $label does not stall the supervisor" "exectest fusestack is x86-64 only"
			return
		fi
		;;
	esac
	if [[ $what == stub-* ]] && [ -z "$STRACE" ]; then
		skip_check "a hanging $label does not stall the supervisor" "no strace"
		return
	fi
	rm -f "$T"/burst-*.out "$T/stuck.out"
	run timeout -k 5 120 unshare -m --propagation private "$EXECTEST" fusehang --release-after 10 "$F" \
		"$UBINFMT" run --trace="$T/fuse.trace" "$@" -- /bin/sh -c \
		"s=\$(date +%s%3N); ($stuck; echo status \$?) >$T/stuck.out 2>&1 & stuck=\$!
		 b=''; for i in 1 2 3 4 5 6; do $BB echo burst-\$i >$T/burst-\$i.out 2>&1 & b=\"\$b \$!\"; done
		 sleep 0.5; $BB echo served; echo served-after \$((\$(date +%s%3N) - s))
		 wait \$b; echo burst-after \$((\$(date +%s%3N) - s)); $BB echo served-again
		 wait \$stuck"
	served_ms=$(sed -n 's/^served-after //p' <<<"$out")
	burst_ms=$(sed -n 's/^burst-after //p' <<<"$out")
	released_ms=$(sed -n 's/^released-at //p' <<<"$out")
	if grep -q '^skip' <<<"$out"; then
		skip_check "a hanging $label does not stall the supervisor ($ms ms)" "$(grep '^skip' <<<"$out")"
		return
	fi
	if grep -qx served <<<"$out" && grep -qx served-again <<<"$out" && [ -n "$served_ms" ] &&
		{ [ "$released_ms" = never ] || [ "$served_ms" -lt "$released_ms" ]; }; then
		pass "a hanging $label does not stall the supervisor (deadline $ms ms: served after ${served_ms} ms, FUSE released at ${released_ms} ms)"
	else
		fail "a hanging $label does not stall the supervisor ($ms ms)" \
			"$out"$'\n'"trace:"$'\n'"$(cut -c1-200 "$T/fuse.trace")"
	fi
	for i in 1 2 3 4 5 6; do
		[ "$(cat "$T/burst-$i.out" 2>/dev/null)" = "burst-$i" ] || missing+=" $i"
	done
	if [ -z "$missing" ] && [ -n "$burst_ms" ] && { [ "$released_ms" = never ] || [ "$burst_ms" -lt "$released_ms" ]; }; then
		pass "$what: six foreign execs started beside the stuck one all ran before the release (${burst_ms} ms)"
	else
		fail "$what: six foreign execs started beside the stuck one all ran before the release" \
			"missing:${missing:- none}, done after ${burst_ms:-?} ms, released at ${released_ms:-?} ms"$'\n'"$out"
	fi
	expect_match "the stuck decision is reported ($what, $ms ms)" "took longer than $ms ms" "$out"
	expect_eq "the run ends normally once the FUSE server is gone ($what, $ms ms)" 0 "$status" "$out"
	if [ -n "$after" ]; then
		expect_match "$what: once released, the stuck exec gets its own outcome ($after)" "(^|"$'\n'")$after("$'\n'"|$)" \
			"$(cat "$T/stuck.out" 2>/dev/null)"
	fi
}
fuse_hang 1000 lookup
fuse_hang 200 lookup --decision-timeout=200
fuse_hang 1000 memory
fuse_hang 1000 stack
fuse_hang 1000 stub-stack
fuse_hang 1000 stub-code

# The seize alone (seizetest drives the engine's own code, no sandbox): one thread of a process
# is in the middle of an exec of $F/exe, whose first read never comes, and holds its process's
# exec lock until the release.  The engine's look for such a thread finds it, and a
# PTRACE_SEIZE of the process's main thread, which waits for that lock, is aborted after its
# timeout (300 ms) and leaves the process untraced; the tracer thread, which made the seize,
# then serves the next one (a child of seizetest), and lets it go when it stops.
SEIZETEST=${SEIZETEST:-$(dirname "$EXECTEST")/seizetest}
if [ ! -x "$SEIZETEST" ]; then
	skip_check "a seize that waits for another thread's exec is aborted" "no seizetest at $SEIZETEST (build it first)"
else
	# The seize waits for the FUSE server's first unanswered read: before it, the exec may still
	# be in its open (the lookup), which comes before the lock.
	rm -f "$T/read-hung"
	run timeout -k 5 60 unshare -m --propagation private "$EXECTEST" fusehang --release-after 8 \
		--mark-read "$T/read-hung" "$F" /bin/sh -c "
		$EXECTEST threadexec $F/exe 60000 /bin/true & te=\$!
		for i in \$(seq 100); do [ -e $T/read-hung ] && break; sleep 0.05; done
		$SEIZETEST \$te 300; kill -9 \$te; wait \$te 2>/dev/null"
	if grep -q '^skip' <<<"$out"; then
		skip_check "a seize that waits for another thread's exec is aborted" "$(grep '^skip' <<<"$out")"
	else
		waited=$(sed -n 's/^waited //p' <<<"$out")
		got=$(grep -E '^(under-way|seize|pid-traced|child-)' <<<"$out")
		expect_eq "a seize that waits for another thread's exec is aborted after its timeout, the tracer goes on" \
			$'under-way yes\nseize ETIMEDOUT\npid-traced 0\nchild-seize ok\nchild-traced yes\nchild-released yes' \
			"$got" "$out"
		if [ -n "$waited" ] && [ "$waited" -ge 300 ] && [ "$waited" -lt 5000 ]; then
			pass "the aborted seize waited its timeout (${waited} ms of 300)"
		else
			fail "the aborted seize waited its timeout (300 ms)" "$out"
		fi
	fi
fi

# ---- another sandbox of the same ubinfmtd -------------------------------------------------------

if [ ! -x "$UBINFMTD" ] || [ ! -x "$UBINFMT_INIT" ] || ! declare -F daemon_start >/dev/null; then
	skip_check "two sandboxes of one ubinfmtd" "no ubinfmtd/ubinfmt-init next to $UBINFMT"
	finish
fi
H=$T/h
mkdir -p "$H/dir"
cp "$(busybox arm64)" "$H/busybox"
cp "$(busybox amd64)" "$H/sh"
mkfifo -m 755 "$H/fifo"
mknod -m 755 "$H/zero" c 1 5
printf '#!%s\n' "$H/fifo" >"$H/fifo-script"
: >"$H/grow"
chmod 755 "$H/fifo-script" "$H/grow" "$H/dir"
if daemon_start d >/dev/null; then
	A=$(agent_sock d)
	# Sandbox a: the hammer, until told to stop.
	init_bg "$T/a.log" --socket "$A" --id hammer -- "$H/sh" -c "
		while [ ! -e $T/stop ]; do { true >$H/grow; cat $H/busybox >>$H/grow; } 2>/dev/null; done &
		while [ ! -e $T/stop ]; do
			for t in $H/fifo $H/zero $H/dir $H/fifo-script $H/grow; do $EXECTEST errno \$t >/dev/null 2>&1; done
			touch $T/hammering
		done
		wait"
	a_pid=$INIT_PID
	wait_file "$T/hammering" 30 || true
	start=$(date +%s)
	run timeout -k 5 120 "$UBINFMT_INIT" --socket "$A" --id served -- "$H/sh" -c "
		i=0; ok=0
		while [ \$i -lt $N ]; do [ \"\$($H/busybox echo b-\$i)\" = b-\$i ] && ok=\$((ok + 1)); i=\$((i + 1)); done
		echo served \$ok/$N"
	secs=$(($(date +%s) - start))
	touch "$T/stop"
	expect_eq "two sandboxes: b's foreign execs served while a hammers stall targets" "served $N/$N" "$out" \
		"exit status $status after ${secs}s"
	[ "$secs" -lt 100 ] && pass "two sandboxes: no stall (${secs}s)" || fail "two sandboxes: no stall" "${secs}s"
	wait_exit "$a_pid" 60
	expect_eq "two sandboxes: the hammering sandbox ends normally" 0 "$status" "$(cat "$T/a.log")"
	if lib_alive "${DAEMON_PID[d]}"; then
		pass "two sandboxes: ubinfmtd is still alive"
	else
		fail "two sandboxes: ubinfmtd is still alive" "$(cat "$T/d.log")"
	fi
	daemon_stop d
else
	fail "two sandboxes: ubinfmtd starts" "$(cat "$T/d.log" 2>/dev/null)"
fi

# The FUSE hang under ubinfmtd: the sandbox keeps being served, and `ubinfmt status` counts the
# decision it gave up (the STUCK column, "abandoned" in JSON).
if daemon_start f --decision-timeout=300 >/dev/null; then
	A=$(agent_sock f)
	C=$(control_sock f)
	run timeout -k 5 120 unshare -m --propagation private "$EXECTEST" fusehang --release-after 8 "$F" \
		"$UBINFMT_INIT" --socket "$A" --id fusehang -- /bin/sh -c \
		"($EXECTEST errno $F/hang >/dev/null 2>&1 &); sleep 1; $BB echo served;
		 $UBINFMT status --json --control $C"
	abandoned=$(grep '^\[' <<<"$out" | python3 -c '
import json, sys
for s in json.load(sys.stdin):
    if s["id"] == "fusehang":
        print(s.get("abandoned"))' 2>/dev/null)
	if grep -q '^skip' <<<"$out"; then
		skip_check "ubinfmtd: a hanging FUSE lookup" "$(grep '^skip' <<<"$out")"
	else
		expect_match "ubinfmtd: the sandbox is served beside its hung FUSE lookup" $'(^|\n)served\n' "$out"
		expect_eq "ubinfmtd: status counts the abandoned decision" 1 "$abandoned" "$out"
	fi
	daemon_stop f
else
	fail "ubinfmtd --decision-timeout starts" "$(cat "$T/f.log" 2>/dev/null)"
fi

# The FUSE stack under ubinfmtd: in sandbox "stack" (in the FUSE server's mount namespace), a
# process execs a foreign program with its stack pointer on $F/mem; meanwhile sandbox "other"
# runs N foreign execs, started once that process sits in the daemon's ptrace stop (its write is
# under way): they must all be served before the server lets go, the first one after about one
# deadline (the stuck write costs the loop that much, then it goes on without it).  Then four more such
# processes: a sandbox gets at most four stuck sections, so the fifth exec fails at once with
# ENOEXEC without touching its memory, and `ubinfmt status` counts four abandoned.  Once
# released, the four start over and run (or, should their sandbox still count stuck ones at that
# moment, fail with ENOEXEC), "stack" ends normally, and no task is left traced by the daemon.
traced_by() { # PID: the tasks whose tracer is one of PID's threads
	local f tracer t
	for f in /proc/[0-9]*/status; do
		tracer=$(sed -n 's/^TracerPid:[[:space:]]*//p' "$f" 2>/dev/null)
		[ -n "$tracer" ] && [ "$tracer" != 0 ] || continue
		for t in /proc/"$1"/task/*; do
			[ "${t##*/}" = "$tracer" ] && echo "${f#/proc/}" | cut -d/ -f1
		done
	done
	return 0
}
if [ "$(uname -m)" != x86_64 ]; then
	skip_check "ubinfmtd: a FUSE stack in one sandbox" "exectest fusestack is x86-64 only"
elif daemon_start g --decision-timeout=1000 >/dev/null; then
	A=$(agent_sock g)
	C=$(control_sock g)
	rm -f "$T"/stack-*.out "$T"/stack-go*
	stuck_one="($EXECTEST fusestack $F/mem $BB echo stack-ran; echo status \$?) >$T/stack-\$i.out 2>&1 &"
	timeout -k 5 120 unshare -m --propagation private "$EXECTEST" fusehang --release-after 15 "$F" \
		"$UBINFMT_INIT" --socket "$A" --id stack -- /bin/sh -c "
		i=1; $stuck_one
		touch $T/stack-go1
		while [ ! -e $T/stack-go2 ]; do sleep 0.1; done
		for i in 2 3 4 5; do $stuck_one done
		wait" >"$T/stack.log" 2>&1 &
	stack_pid=$!
	track_pid "$stack_pid"
	if ! wait_file "$T/stack-go1" 30 || grep -q '^skip' "$T/stack.log"; then
		skip_check "ubinfmtd: a FUSE stack in one sandbox" "$(grep '^skip' "$T/stack.log" || echo "sandbox 'stack' did not start")"
		touch "$T/stack-go2"
	else
		# The first one in a ptrace stop ("t"): the daemon's write below its stack pointer is under way.
		for ((i = 0; i < 100; i++)); do
			grep -q '^[0-9]* (exectest) t' /proc/[0-9]*/stat 2>/dev/null && break
			sleep 0.05
		done
		t0=$(date +%s%3N)
		run timeout -k 5 120 "$UBINFMT_INIT" --socket "$A" --id other -- /bin/sh -c "
			i=0; ok=0; max=0
			while [ \$i -lt $N ]; do
				s=\$(date +%s%3N)
				[ \"\$($H/busybox echo o-\$i)\" = o-\$i ] && ok=\$((ok + 1))
				d=\$((\$(date +%s%3N) - s)); [ \$d -gt \$max ] && max=\$d
				[ \$i = 0 ] && echo first-done \$(date +%s%3N)
				i=\$((i + 1))
			done
			echo served \$ok/$N; echo slowest \$max"
		first=$(($(sed -n 's/^first-done //p' <<<"$out") - t0))
		slowest=$(sed -n 's/^slowest //p' <<<"$out")
		early=$(grep -c '^released-at' "$T/stack.log")
		if [ "$early" = 0 ] && grep -qx "served $N/$N" <<<"$out"; then
			pass "ubinfmtd: 'other' served while a process of 'stack' waits on its FUSE stack (first foreign exec done ${first} ms after its start, slowest ${slowest} ms; deadline 1000 ms)"
		else
			fail "ubinfmtd: 'other' served while a process of 'stack' waits on its FUSE stack" \
				"exit status $status"$'\n'"$out"$'\n'"$(cat "$T/stack.log")"
		fi
		touch "$T/stack-go2"
		# Four abandoned and the fifth refused, all before the release (generous bound: 12 s).
		abandoned='' refused=0
		for ((i = 0; i < 120; i++)); do
			abandoned=$("$UBINFMT" status --json --control "$C" 2>/dev/null | python3 -c '
import json, sys
for s in json.load(sys.stdin):
    if s["id"] == "stack":
        print(s.get("abandoned"))' 2>/dev/null)
			refused=$(grep -lx 'errno ENOEXEC' "$T"/stack-*.out 2>/dev/null | wc -l)
			[ "$abandoned" = 4 ] && [ "$refused" = 1 ] && break
			grep -q '^released-at' "$T/stack.log" && break
			sleep 0.1
		done
		early=$(grep -c '^released-at' "$T/stack.log")
		expect_eq "ubinfmtd: status counts four stuck rewrites of 'stack' (its cap), before the release" "4 0" \
			"${abandoned:-none} $early"
		expect_eq "ubinfmtd: the fifth exec of 'stack' fails at once with ENOEXEC" "1 0" "$refused $early" \
			"$(head -n 5 "$T"/stack-*.out)"
	fi
	wait "$stack_pid"
	status=$?
	if ! grep -q '^skip' "$T/stack.log"; then
		expect_eq "ubinfmtd: 'stack' ends normally once the FUSE server lets go" 0 "$status" "$(cat "$T/stack.log")"
		outcomes=$(cat "$T"/stack-*.out | grep -v '^status' | sort | uniq -c | sed 's/^ *//' | paste -sd, -)
		if ! cat "$T"/stack-*.out | grep -v '^status' | grep -vxE 'stack-ran|errno ENOEXEC' >/dev/null &&
			[ "$(grep -lx stack-ran "$T"/stack-*.out | wc -l)" -ge 1 ]; then
			pass "ubinfmtd: once released, the stuck execs start over ($outcomes)"
		else
			fail "ubinfmtd: once released, the stuck execs start over" "$(head -n 20 "$T"/stack-*.out)"
		fi
		left=$(traced_by "${DAEMON_PID[g]}")
		expect_eq "ubinfmtd: no task is left traced by the daemon" "" "$left" "$(cat "$T/g.log")"
		if lib_alive "${DAEMON_PID[g]}"; then
			pass "ubinfmtd: alive after the FUSE stack"
		else
			fail "ubinfmtd: alive after the FUSE stack" "$(cat "$T/g.log")"
		fi
	fi
	daemon_stop g
else
	fail "ubinfmtd --decision-timeout starts" "$(cat "$T/g.log" 2>/dev/null)"
fi


# An exec of another thread under way: in sandbox "lock" (in the FUSE server's mount namespace),
# thread A of a process execs a FUSE file, and the kernel's exec of it waits for its first read,
# which never comes, while it holds its process's exec lock (cred_guard_mutex): $F/exe, whose
# reads never come for anyone (the decision of A is given up after the deadline, then the
# kernel gets the exec), or $F/sly, a #! script whose reads are answered to the daemon but not
# to the sandbox (the decision of A ends normally, with nothing given up).  1.5 s later the main
# thread of that process execs a foreign program: PTRACE_SEIZE, the rewrite's first step, waits
# for that lock, and the daemon must not wait with it.  Once the main thread's exec is under
# way, sandbox "beside" runs N foreign execs: all must be served before the server lets go (the
# first one about as fast as ever: nothing in the daemon waits).  The main thread's exec goes
# to the kernel, which makes it wait for the lock as it would without ubinfmt, then (A's exec
# failed at the release) answers ENOEXEC: no binfmt_misc.  Everything ends once the server lets
# go; no task is left traced by the daemon, which says why it left that exec to the kernel.
exec_lock() { # $1: exe or sly
	local what=$1 label="another thread's exec of FUSE '$1' under way" main='' tid='' nr first early i
	if ! daemon_start "lock-$what" --decision-timeout=300 -v -v >/dev/null; then
		fail "ubinfmtd --decision-timeout starts" "$(cat "$T/lock-$what.log" 2>/dev/null)"
		return
	fi
	A=$(agent_sock "lock-$what")
	timeout -k 5 120 unshare -m --propagation private "$EXECTEST" fusehang --release-after 12 "$F" \
		"$UBINFMT_INIT" --socket "$A" --id lock -- "$EXECTEST" threadexec "$F/$what" 1500 "$H/busybox" echo main-ran \
		>"$T/lock.out" 2>&1 &
	lock_pid=$!
	track_pid "$lock_pid"
	# The main thread in its exec: the process whose thread printed "tid".
	for ((i = 0; i < 200; i++)); do
		tid=$(sed -n 's/^tid //p' "$T/lock.out")
		grep -q '^skip' "$T/lock.out" && break
		if [ -n "$tid" ] && [ -z "$main" ]; then
			main=$(sed -n 's/^Tgid:[[:space:]]*//p' "/proc/$tid/status" 2>/dev/null)
		fi
		if [ -n "$main" ] && read -r nr _ <"/proc/$main/syscall" 2>/dev/null && [ "$nr" = 59 ]; then
			break
		fi
		sleep 0.05
	done
	if grep -q '^skip' "$T/lock.out"; then
		skip_check "ubinfmtd: a foreign exec beside $label" "$(grep '^skip' "$T/lock.out")"
	elif [ -z "$main" ]; then
		fail "ubinfmtd: a foreign exec beside $label" "no main thread in exec"$'\n'"$(cat "$T/lock.out")"
	else
		sleep 0.3 # the daemon has its notification by now
		t0=$(date +%s%3N)
		run timeout -k 5 120 "$UBINFMT_INIT" --socket "$A" --id beside -- /bin/sh -c "
			i=0; ok=0
			while [ \$i -lt $N ]; do
				[ \"\$($H/busybox echo o-\$i)\" = o-\$i ] && ok=\$((ok + 1))
				[ \$i = 0 ] && echo first-done \$(date +%s%3N)
				i=\$((i + 1))
			done
			echo served \$ok/$N"
		first=$(($(sed -n 's/^first-done //p' <<<"$out") - t0))
		early=$(grep -c '^released-at' "$T/lock.out")
		if [ "$early" = 0 ] && grep -qx "served $N/$N" <<<"$out"; then
			pass "ubinfmtd: 'beside' served while a process of 'lock' execs beside $label (first foreign exec done ${first} ms after its start; deadline 300 ms)"
		else
			fail "ubinfmtd: 'beside' served while a process of 'lock' execs beside $label" \
				"exit status $status, released before: $early"$'\n'"$out"$'\n'"$(cat "$T/lock.out")"
		fi
	fi
	wait "$lock_pid"
	status=$?
	if ! grep -q '^skip' "$T/lock.out"; then
		expect_eq "ubinfmtd: 'lock' ends once the FUSE server lets go ($what)" 0 "$status" "$(cat "$T/lock.out")"
		expect_match "ubinfmtd: its main thread's exec got the kernel's answer after the release ($what)" \
			$'released-at [0-9]+\n(.*\n)*errno ENOEXEC' "$(cat "$T/lock.out")"
		left=$(traced_by "${DAEMON_PID[lock-$what]}")
		expect_eq "ubinfmtd: no task is left traced by the daemon ($what)" "" "$left" "$(tail -n 30 "$T/lock-$what.log")"
		# exe: the decision of A was given up; sly: it was not, the daemon read the script at once.
		expect_eq "ubinfmtd: decisions given up in 'lock' ($what)" "$([ "$what" = exe ] && echo 1 || echo 0)" \
			"$(grep -c "deciding its exec took longer" "$T/lock-$what.log")" "$(cat "$T/lock-$what.log")"
		expect_match "ubinfmtd: the daemon says why it did not seize the main thread ($what)" \
			"thread [0-9]+ of its process is in the middle of an exec" "$(cat "$T/lock-$what.log")"
		if lib_alive "${DAEMON_PID[lock-$what]}"; then
			pass "ubinfmtd: alive after the exec beside $label"
		else
			fail "ubinfmtd: alive after the exec beside $label" "$(cat "$T/lock-$what.log")"
		fi
	fi
	daemon_stop "lock-$what"
}
exec_lock exe
exec_lock sly

finish
