#!/usr/bin/env bash
# ubinfmtd seen from the `ubinfmt` command, with sandboxes started by ubinfmt-init (the arm64
# busybox on the host's filesystem):
# - `ubinfmt trace [--sandbox ID] [--json]` streams the execs of a running sandbox (text lines
#   tagged with the sandbox id, JSON lines that parse), `ubinfmt status [--json]` counts them;
# - two sandboxes on one daemon (one with --trace) see only their own execs, in the trace
#   streams, the daemon's own trace output and the status counts;
# - `ubinfmt attach PID`: a sandbox whose daemon stopped (SIGTERM) is taken over by a second
#   daemon on other sockets; its waiting and new foreign execs go on, none fails.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_root
need_daemon
need_fixtures
need_busybox arm64
need_qemu arm64
need_cmd python3

daemon_start d || skip "ubinfmtd does not start"
A=$(agent_sock d)
C=$(control_sock d)

# trace_bg FILE ARG…: `ubinfmt trace ARG…` in the background into FILE, tracing once it returns;
# sets TRACE_PID.
trace_bg() {
	trace_start "$@" || fail "ubinfmt trace ${*:2} starts tracing"
}

# wait_lines FILE REGEX N: waits (10 s at most) until N lines of FILE match REGEX (grep -E).
wait_lines() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -Ec -- "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

# busybox_for NAME: a copy of the arm64 busybox at $T/NAME/busybox, so that its path in a trace
# line says which sandbox ran it.
busybox_for() {
	mkdir -p "$T/$1"
	cp "$(busybox arm64)" "$T/$1/busybox"
	echo "$T/$1/busybox"
}

# sandbox_bg ID N ARG…: ubinfmt-init --id ID ARG… runs N foreign execs of its own busybox,
# then writes $T/ID/ran and waits (no exec) until something is written to the FIFO
# $T/ID/release.  Sets INIT_PID; the log is $T/ID/log.
sandbox_bg() {
	local id=$1 n=$2 bb
	shift 2
	bb=$(busybox_for "$id")
	mkfifo "$T/$id/release"
	init_bg "$T/$id/log" --socket "$A" --id "$id" "$@" -- "$bb" sh -c \
		"i=0; while [ \$i -lt $n ]; do $bb true || echo fail >>$T/$id/fails; i=\$((i + 1)); done; echo ran >$T/$id/ran; read x <$T/$id/release"
}

# release ID: lets sandbox ID's CMD finish and waits for its init (status in $status).
release() {
	echo go >"$T/$1/release" &
	wait_exit "$2" 60
}

# json_status FILE ID FIELD: a field of sandbox ID in the `ubinfmt status --json` output in FILE.
json_status() {
	python3 -c 'import json, sys
for e in json.load(open(sys.argv[1])):
    if e["id"] == sys.argv[2]:
        print(e[sys.argv[3]])' "$@"
}

# text_status FILE ID COLUMN: a column (1-based, after the id) of sandbox ID in `ubinfmt status`.
text_status() {
	awk -v id="$2" -v c="$3" '$1 == id { print $(c + 1) }' "$1"
}

# ---- trace and status ------------------------------------------------------------------------

N=6
trace_bg "$T/trace.txt" --control "$C" --sandbox tr
t1=$TRACE_PID
trace_bg "$T/trace.json" --control "$C" --sandbox tr --json
t2=$TRACE_PID
trace_bg "$T/trace-all.txt" --control "$C"
t3=$TRACE_PID
sandbox_bg tr "$N"
tr_pid=$INIT_PID
if wait_file "$T/tr/ran" 60; then
	"$UBINFMT" status --control "$C" >"$T/status.txt" 2>&1
	"$UBINFMT" status --json --control "$C" >"$T/status.json" 2>&1
	cat "$T/status.txt"
	em=$(text_status "$T/status.txt" tr 4)
	if [[ $em =~ ^[0-9]+$ ]] && [ "$em" -ge "$N" ]; then
		pass "status: sandbox 'tr' counts at least $N emulated execs ($em)"
	else
		fail "status: sandbox 'tr' counts at least $N emulated execs" "$(cat "$T/status.txt")"
	fi
	expect_eq "status: init pid of 'tr'" "$tr_pid" "$(text_status "$T/status.txt" tr 1)" "$(cat "$T/status.txt")"
	check "status --json parses" python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$T/status.json"
	emj=$(json_status "$T/status.json" tr emulated 2>&1)
	expect_eq "status --json: the same emulated count" "$em" "$emj" "$(cat "$T/status.json")"
	expect_eq "status --json: failed 0" 0 "$(json_status "$T/status.json" tr failed 2>&1)" "$(cat "$T/status.json")"
else
	fail "sandbox 'tr' runs its execs" "$(cat "$T/tr/log")"
fi
release tr "$tr_pid"
expect_eq "sandbox 'tr': exit 0, no failed exec" "0 " "$status $(cat "$T/tr/fails" 2>/dev/null)" "$(cat "$T/tr/log")"
# The lines may still be on their way: wait for them (10 s at most) before stopping the readers.
wait_lines "$T/trace.txt" "path='$T/tr/busybox' .*decision=emulate" "$N"
wait_lines "$T/trace-all.txt" "path='$T/tr/busybox' .*decision=emulate" "$N"
wait_lines "$T/trace.json" "\"path\":\"$T/tr/busybox\".*\"decision\":\"emulate\"" "$N"
kill -TERM "$t1" "$t2" "$t3"
wait "$t1" "$t2" "$t3" 2>/dev/null

bbtr="$T/tr/busybox"
n=$(grep -c "^\[tr\] .* path='$bbtr' .*decision=emulate" "$T/trace.txt")
if [ "$n" -ge "$N" ]; then
	pass "trace --sandbox tr: $n emulated execs of $bbtr, tagged [tr]"
else
	fail "trace --sandbox tr: at least $N emulated execs of $bbtr, tagged [tr]" "$(cat "$T/trace.txt")"
fi
n=$(grep -c "^\[tr\] .* path='$bbtr' .*decision=emulate" "$T/trace-all.txt")
if [ "$n" -ge "$N" ]; then
	pass "trace (every sandbox): $n emulated execs of sandbox tr"
else
	fail "trace (every sandbox): at least $N emulated execs of sandbox tr" "$(cat "$T/trace-all.txt")"
fi
check "trace --json: every line parses, at least $N emulated execs of $bbtr" python3 - "$T/trace.json" "$bbtr" "$N" <<'PY'
import json, sys
path, bb, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = [l for l in open(path).read().splitlines() if l.strip()]
recs = [json.loads(l) for l in lines]
got = [r for r in recs if r.get("path") == bb and r.get("decision") == "emulate" and r.get("arch") == "aarch64"]
print(f"{len(recs)} lines, {len(got)} emulated execs of {bb}")
for r in recs:
    missing = {"time", "pid", "syscall", "path", "resolved", "arch", "decision", "emulator", "usec"} - set(r)
    assert not missing, f"missing {missing}: {r}"
assert len(got) >= n
PY
if grep -q '"sandbox"' "$T/trace.json"; then
	check "trace --json: lines name their sandbox" python3 -c '
import json, sys
for l in open(sys.argv[1]):
    if l.strip():
        assert json.loads(l)["sandbox"] == "tr", l' "$T/trace.json"
else
	fail "trace --json: lines name their sandbox" "no \"sandbox\" key (a JSON reader of an unfiltered trace cannot tell sandboxes apart):"$'\n'"$(head -n 2 "$T/trace.json")"
fi

# ---- two sandboxes on one daemon -------------------------------------------------------------

NA=3 NB=12
trace_bg "$T/trace-A.txt" --control "$C" --sandbox A
ta=$TRACE_PID
trace_bg "$T/trace-B.json" --control "$C" --sandbox B --json
tb=$TRACE_PID
log_before=$(wc -l <"$T/d.log")
sandbox_bg A "$NA"
pa=$INIT_PID
sandbox_bg B "$NB" --trace
pb=$INIT_PID
if wait_file "$T/A/ran" 60 && wait_file "$T/B/ran" 60; then
	"$UBINFMT" status --json --control "$C" >"$T/status2.json" 2>&1
	ea=$(json_status "$T/status2.json" A emulated 2>&1)
	eb=$(json_status "$T/status2.json" B emulated 2>&1)
	echo "status: A emulated $ea, B emulated $eb"
	if [[ $ea =~ ^[0-9]+$ && $eb =~ ^[0-9]+$ ]] && [ "$ea" -ge "$NA" ] && [ "$ea" -lt "$NB" ] && [ "$eb" -ge "$NB" ]; then
		pass "status: separate counts (A $ea ≥ $NA and < $NB, B $eb ≥ $NB)"
	else
		fail "status: separate counts (A ≥ $NA and < $NB, B ≥ $NB)" "$(cat "$T/status2.json")"
	fi
else
	fail "sandboxes A and B run their execs" "$(cat "$T/A/log" "$T/B/log")"
fi
release A "$pa"
expect_eq "sandbox A: exit 0, no failed exec" "0 " "$status $(cat "$T/A/fails" 2>/dev/null)" "$(cat "$T/A/log")"
release B "$pb"
expect_eq "sandbox B: exit 0, no failed exec" "0 " "$status $(cat "$T/B/fails" 2>/dev/null)" "$(cat "$T/B/log")"
wait_lines "$T/trace-A.txt" "path='$T/A/busybox'" "$NA"
wait_lines "$T/trace-B.json" "\"path\":\"$T/B/busybox\"" "$NB"
kill -TERM "$ta" "$tb"
wait "$ta" "$tb" 2>/dev/null

na=$(grep -c "path='$T/A/busybox'" "$T/trace-A.txt")
if [ "$na" -ge "$NA" ] && ! grep -q "/B/busybox\|^\[B\]" "$T/trace-A.txt"; then
	pass "trace --sandbox A: A's $na execs, none of B's"
else
	fail "trace --sandbox A: A's execs, none of B's" "$(cat "$T/trace-A.txt")"
fi
check "trace --sandbox B --json: B's execs, none of A's" python3 - "$T/trace-B.json" "$T" "$NB" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
t, n = sys.argv[2], int(sys.argv[3])
b = [r for r in recs if r["path"] == f"{t}/B/busybox"]
a = [r for r in recs if r["path"].startswith(f"{t}/A/")]
print(f"{len(recs)} lines: {len(b)} of B, {len(a)} of A")
assert len(b) >= n and not a
PY
# B asked for --trace: its execs (and only its) are in the daemon's own output.
new_log=$(tail -n +"$((log_before + 1))" "$T/d.log")
nb=$(grep -c "path='$T/B/busybox'" <<<"$new_log")
if [ "$nb" -ge "$NB" ] && ! grep -q "/A/busybox" <<<"$new_log"; then
	pass "ubinfmtd's trace output (--trace of B): B's $nb execs, none of A's"
else
	fail "ubinfmtd's trace output (--trace of B): B's execs, none of A's" "$new_log"
fi

# ---- attach ----------------------------------------------------------------------------------

# daemon_fd_kinds PID: how many seccomp listeners and in-flight journals PID holds ("L J").
daemon_fd_kinds() {
	local l=0 j=0 fd t
	for fd in /proc/"$1"/fd/*; do
		t=$(readlink "$fd" 2>/dev/null) || continue
		case $t in
		"anon_inode:seccomp notify") l=$((l + 1)) ;;
		/memfd:ubinfmt-journal*) j=$((j + 1)) ;;
		esac
	done
	echo "$l $j"
}

daemon_stop d
daemon_start d1 || skip "ubinfmtd does not start"
mkdir -p "$T/att"
bb=$(busybox_for att)
# A foreign loop: every round one foreign exec whose output is checked, the round number
# written by the shell itself (no exec).
cat >"$T/att/loop.sh" <<EOF
i=0
while [ \$i -lt 2000 ] && [ ! -e $T/att/stop ]; do
	out=\$($bb echo x\$i)
	[ "\$out" = "x\$i" ] || echo "round \$i: '\$out'" >>$T/att/fails
	echo \$i >$T/att/count
	i=\$((i + 1))
done
EOF
init_bg "$T/att/log" --socket "$(agent_sock d1)" --id att -v -- "$bb" sh "$T/att/loop.sh"
att_pid=$INIT_PID
# The loop's `echo $i >count` truncates the file before it writes: an empty read is that
# moment, not a round number; look again.
count() {
	local v='' _
	for _ in 1 2 3 4 5; do
		v=$(cat "$T/att/count" 2>/dev/null)
		[ -n "$v" ] && break
		sleep 0.02
	done
	echo "${v:-0}"
}
for ((i = 0; i < 300; i++)); do
	[ "$(count)" -ge 5 ] && break
	sleep 0.1
done
if [ "$(count)" -lt 5 ]; then
	fail "attach: the sandbox runs on daemon 1" "$(cat "$T/att/log")"
else
	daemon_stop d1
	expect_eq "attach: daemon 1 stops cleanly on SIGTERM" 0 "$daemon_status" "$(cat "$T/d1.log")"
	sleep 1
	c1=$(count)
	sleep 2
	c2=$(count)
	if lib_alive "$att_pid" && [ "$c2" -le "$((c1 + 1))" ]; then
		pass "attach: without a daemon the sandbox's execs wait (round $c1, then $c2)"
	else
		fail "attach: without a daemon the sandbox's execs wait" "rounds $c1 then $c2"$'\n'"$(cat "$T/att/log")"
	fi
	daemon_start d2 || fail "attach: daemon 2 starts"
	run "$UBINFMT" attach --control "$(control_sock d2)" "$att_pid"
	expect_eq "attach: ubinfmt attach exits 0" 0 "$status" "$out"
	expect_match "attach: names the sandbox" "attached: sandbox 'attach-$att_pid'" "$out"
	for ((i = 0; i < 300; i++)); do
		[ "$(count)" -ge "$((c2 + 20))" ] && break
		sleep 0.1
	done
	c3=$(count)
	if [ "$c3" -ge "$((c2 + 20))" ]; then
		pass "attach: the execs go on through daemon 2 (round $c2 → $c3)"
	else
		fail "attach: the execs go on through daemon 2" "round $c2 → $c3"$'\n'"$(cat "$T/att/log" "$T/d2.log")"
	fi
	run "$UBINFMT" status --json --control "$(control_sock d2)"
	ed2=$(python3 -c 'import json, sys
for e in json.loads(sys.argv[1]):
    if e["id"] == sys.argv[2]: print(e["emulated"], e["failed"], e["init_pid"])' "$out" "attach-$att_pid" 2>&1)
	if [[ $ed2 =~ ^([0-9]+)\ 0\ $att_pid$ ]] && [ "${BASH_REMATCH[1]}" -ge 20 ]; then
		pass "attach: daemon 2's status counts the sandbox's execs (emulated, failed, init pid: $ed2)"
	else
		fail "attach: daemon 2's status counts the sandbox's execs" "$out"
	fi
	run "$UBINFMT" attach --control "$(control_sock d2)" "$att_pid"
	expect_eq "attach: a second attach to the same pid fails (exit 1)" 1 "$status" "$out"
	expect_match "attach: … and says why" "cannot attach to pid $att_pid" "$out"
	run "$UBINFMT" attach --control "$(control_sock d2)" "$$"
	expect_eq "attach: a pid without a listener fails (exit 1)" 1 "$status" "$out"
	expect_match "attach: … and says why" "cannot attach to pid $$: No such file" "$out"
	# A refused attach has copied the agent's listener and journal already: it must give back
	# every fd (and, under ASan, the memory: a leak fails daemon 2's exit status below).
	d2_pid=${DAEMON_PID[d2]}
	fds_before=$(daemon_fd_kinds "$d2_pid")
	for ((i = 0; i < 20; i++)); do
		"$UBINFMT" attach --control "$(control_sock d2)" "$att_pid" >/dev/null 2>&1
	done
	expect_eq "attach: 20 refused attaches leave daemon 2 the listeners and journals it had" "$fds_before" \
		"$(daemon_fd_kinds "$d2_pid")"
	touch "$T/att/stop"
	wait_exit "$att_pid" 60
	expect_eq "attach: the sandbox's CMD exits 0" 0 "$status" "$(cat "$T/att/log")"
	expect_eq "attach: no failed exec" "" "$(cat "$T/att/fails" 2>/dev/null)"
	daemon_stop d2
	expect_eq "attach: daemon 2 stops cleanly on SIGTERM" 0 "$daemon_status" "$(tail -n 20 "$T/d2.log")"
fi

finish
