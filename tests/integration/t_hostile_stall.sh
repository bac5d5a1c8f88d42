#!/usr/bin/env bash
# Hostile sandbox, exec targets that would stall a careless reader: a FIFO (no writer), a
# character device, a directory, a FIFO as a #! interpreter, and a file that grows and shrinks
# while it is read (truncated and rewritten in a loop).  Each must give the kernel's answer (the
# same command without ubinfmt), and while a process keeps exec'ing them, the supervisor must
# keep serving: other processes of the same sandbox, and, under one ubinfmtd, another sandbox,
# get their foreign execs done within a deadline.
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
# reading the path itself waits); the foreground runs a foreign program.  The supervisor gives
# up on the stuck decision after its deadline (1 s), hands that exec to the kernel (where it
# waits, as it would without ubinfmt) and serves the foreground on a fresh thread: "served"
# comes long before the release.  The run itself ends only after the release, since the hung
# process is still in it.
F=$T/fuse
mkdir -p "$F"
BB=$(busybox arm64)
fuse_hang() { # $1: the deadline ubinfmt should report; $2: lookup or memory; the rest: options of ubinfmt run
	local ms=$1 what=$2 served_ms released_ms stuck label
	shift 2
	case $what in
	lookup) stuck="$EXECTEST errno $F/hang" label="FUSE lookup" ;;
	memory) stuck="$EXECTEST execmem $F/mem" label="FUSE read under the exec path" ;;
	esac
	run timeout -k 5 120 unshare -m --propagation private "$EXECTEST" fusehang --release-after 10 "$F" \
		"$UBINFMT" run --trace="$T/fuse.trace" "$@" -- /bin/sh -c \
		"s=\$(date +%s%3N); ($stuck >/dev/null 2>&1 &); sleep 0.5; $BB echo served;
		 echo served-after \$((\$(date +%s%3N) - s)); $BB echo served-again"
	served_ms=$(sed -n 's/^served-after //p' <<<"$out")
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
	expect_match "the stuck decision is reported ($what, $ms ms)" "took longer than $ms ms" "$out"
	expect_eq "the run ends normally once the FUSE server is gone ($what, $ms ms)" 0 "$status" "$out"
}
fuse_hang 1000 lookup
fuse_hang 200 lookup --decision-timeout=200
fuse_hang 1000 memory

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

finish
