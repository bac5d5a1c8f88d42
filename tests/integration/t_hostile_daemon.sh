#!/usr/bin/env bash
# ubinfmtd as a hostile tenant finds it (issue 9, findings 1 to 4).  The clients are
# hostile_client (the real protocol, built from proto/), as an unprivileged user (uid 65534) and
# as a container's root (uid 0 without capabilities, in a pid namespace of its own), beside a
# bystander sandbox (ubinfmt-init running arm64 programs in a loop) that must keep being served:
#   - roles: the agent socket answers an agent's HELLO and LISTENER only (no ATTACH of a host
#     pid, no STATUS, STATS or TRACE_SUB), the control socket root with CAP_SYS_ADMIN only, even
#     when its mode lets anyone connect;
#   - the journal: a page naming a notification the agent received itself beside a victim's tid
#     (a task blocked in execve elsewhere) must not make the daemon touch the victim;
#   - ids: a HELLO without a listener leaves nothing; another user's squat of an id, or a
#     re-attach to it, neither blocks nor joins the owner's sandbox, and its trace lines say whose
#     they are; a flood of default ids (agent-PID) does not stop a default-id ubinfmt-init;
#   - quotas: thousands of HELLOs leave the daemon's memory where it was; 1100 idle connections
#     from one user are capped, and, with a low fd limit, the fd reserve keeps exec decisions
#     going; sandboxes per user and per container are capped, with a warning naming the cap;
#     the open file limit is raised; `ubinfmt status` of thousands of sandboxes to a slow reader
#     arrives whole.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=SCRIPTDIR/oci_lib.sh
source "$(dirname "$0")/oci_lib.sh"

need_hostile_sandbox
need_daemon
need_cmd setpriv unshare prlimit python3
HOSTILE_CLIENT=${HOSTILE_CLIENT:-$(dirname "$EXECTEST")/hostile_client}
[ -x "$HOSTILE_CLIENT" ] || skip "no hostile_client at $HOSTILE_CLIENT (build it first)"

# Everything an unprivileged user runs must be reachable by it.
chmod 755 "$T"
mkdir -p "$T/bin"
cp "$HOSTILE_CLIENT" "$T/bin/hc"
HC=$T/bin/hc
BB=$(busybox amd64)
BB_ARM=$(busybox arm64)
cp "$BB_ARM" "$T/bin/busybox-arm64"
cp "$BB" "$T/bin/busybox"
chmod 755 "$T/bin"/*

NOBODY=(setpriv --reuid 65534 --regid 65534 --clear-groups --)
# Root of a container without a user namespace: uid 0, no capabilities, its own pid namespace.
CROOT=(unshare --pid --fork --kill-child --mount --mount-proc setpriv --bounding-set -all --inh-caps -all --)

# wait_ready FILE: waits (60 s at most) until hostile_client said "ready" in FILE.
wait_ready() {
	local i
	for ((i = 0; i < 600; i++)); do
		grep -q '^ready' "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
rss_of() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
fds_of() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

daemon_start main -v || { fail "ubinfmtd starts"; finish; }
A=$(agent_sock main)
C=$(control_sock main)
D=${DAEMON_PID[main]}
LOG=$T/main.log

# A sandbox that keeps running arm64 programs: what every flood below must not stop.
init_bg "$T/bystander.log" --socket "$A" --id bystander -- "$BB" sh -c \
	"while :; do $T/bin/busybox-arm64 echo tick >>$T/ticks || echo FAILED >>$T/ticks; $BB sleep 0.1; done"
BYSTANDER=$INIT_PID
wait_file "$T/ticks" 30 1 || fail "the bystander sandbox runs" "$(cat "$T/bystander.log")"

# bystander_served LABEL: the bystander's arm64 execs still succeed, now (a second of them).
bystander_served() {
	local before after
	before=$(grep -c tick "$T/ticks")
	sleep 1.2
	after=$(grep -c tick "$T/ticks")
	if [ "$after" -gt "$before" ] && ! grep -q FAILED "$T/ticks"; then
		pass "$1: the bystander's arm64 execs keep being served ($before → $after)"
	else
		fail "$1: the bystander's arm64 execs keep being served" "ticks $before → $after; $(grep -c FAILED "$T/ticks") failed"
	fi
}

# json_sandboxes: `ubinfmt status --json` as "id owner origin listeners" lines.
json_sandboxes() {
	"$UBINFMT" status --json --control "$C" | python3 -c '
import json, sys
for s in json.load(sys.stdin):
    print(s["id"], s.get("owner_uid", "?"), s.get("origin", "?"), s["listeners"])'
}

# ---- 1. roles by socket -----------------------------------------------------------------------

run "${NOBODY[@]}" "$HC" ask "$A" cli status
expect_match "agent socket, uid 65534: a CLI's HELLO is refused" '^hello error EPERM' "$out"
for req in status stats trace "attach $BYSTANDER"; do
	# shellcheck disable=SC2086 # the request and its argument
	run "${NOBODY[@]}" "$HC" ask "$A" agent $req
	expect_match "agent socket, uid 65534: ${req%% *} is refused" $'\nreply error EPERM' "$out"
	# shellcheck disable=SC2086
	run "${CROOT[@]}" "$HC" ask "$A" agent $req
	expect_match "agent socket, container root: ${req%% *} is refused" $'\nreply error EPERM' "$out"
done
# The attach above must not have happened: the bystander's listener is served once.
expect_eq "no sandbox was attached" "" "$(json_sandboxes | grep '^attach-')" "$(json_sandboxes)"

# The control socket checks its peer, not only its file mode (a bind mount could hand it out).
chmod 666 "$C"
run "${NOBODY[@]}" "$HC" ask "$C" cli status
expect_match "control socket opened to all, uid 65534: refused" '^hello error EPERM' "$out"
run "${CROOT[@]}" "$HC" ask "$C" cli "attach" "$BYSTANDER"
expect_match "control socket opened to all, container root: refused" '^hello error EPERM' "$out"
chmod 600 "$C"
run "$HC" ask "$C" cli status
expect_match "control socket, root: status is answered" $'\nreply status [0-9]+' "$out"
bystander_served "after the role checks"

# ---- 2. the journal names a task that is not the agent's --------------------------------------

# forge_journal LABEL RUNNER…: a victim blocked in execve under a filter of its own; the
# attacker hands over a journal naming the victim's tid with a notification id of its own.
forge_journal() {
	local label=$1 vt
	shift
	"$HC" victim 6 >"$T/victim.out" 2>&1 &
	track_pid $!
	wait_file "$T/victim.out" 10 2
	vt=$(sed -n 's/^tid //p' "$T/victim.out")
	for mode in --reattach --fresh; do
		run "$@" "$HC" forge "$A" "$vt" "${mode#--reattach}"
		expect_match "$label ($mode): the forged page was handed over" $'listener served' "$out"
	done
	wait_file "$T/victim.out" 10 3
	sleep 5
	expect_eq "$label: the victim's exec was not restarted (one notification)" "notifications 1" \
		"$(grep '^notifications' "$T/victim.out")" "$(cat "$T/victim.out")"
	expect_eq "$label: the daemon never acted on the victim" "" \
		"$(grep "restarting the exec of pid $vt " "$LOG")" "$(tail -5 "$LOG")"
}
forge_journal "journal from root's agent" env
forge_journal "journal from uid 65534's agent" "${NOBODY[@]}"
expect_match "the refused entries are logged" "its journal names pid [0-9]+, which is not one of its agent's tasks" \
	"$(cat "$LOG")"

# ---- 3. ids ------------------------------------------------------------------------------------

run "${NOBODY[@]}" "$HC" hello "$A" agent ghost
expect_match "a HELLO is answered" '^hello ack ghost' "$out"
sleep 0.3
expect_eq "a HELLO without a listener leaves no sandbox" "" "$(json_sandboxes | grep '^ghost ')" "$(json_sandboxes)"

# Another user squats "web", HELLO only and with a real listener: root's --id web still starts.
"${NOBODY[@]}" "$HC" sandbox "$A" web >"$T/squat.out" 2>&1 &
SQUAT=$!
track_pid $SQUAT
wait_ready "$T/squat.out"
run "${NOBODY[@]}" "$HC" hello "$A" agent web
run timeout 60 "$UBINFMT_INIT" --socket "$A" --id web -- "$T/bin/busybox-arm64" uname -m
expect_eq "root's --id web starts beside uid 65534's squat of 'web'" "0 aarch64" "$status $(tail -n1 <<<"$out")" "$out"
kill "$SQUAT" 2>/dev/null
wait "$SQUAT" 2>/dev/null

# A re-attach by another user to a running 'web' must not join it, and its trace says whose.
init_bg "$T/web.log" --socket "$A" --id web -- "$BB" sh -c "while :; do $BB sleep 1; done"
WEB=$INIT_PID
for ((i = 0; i < 50; i++)); do json_sandboxes | grep '^web 0 agent' >/dev/null && break; sleep 0.1; done
trace_start "$T/web.trace" --control "$C" --sandbox web || fail "ubinfmt trace --sandbox web starts tracing"
cp "$BB" "$T/bin/marker" && chmod 755 "$T/bin/marker"
"${NOBODY[@]}" "$HC" sandbox "$A" web --reattach --run "$T/bin/marker" >"$T/join.out" 2>&1 &
JOIN=$!
track_pid $JOIN
wait_ready "$T/join.out"
sleep 1
expect_eq "uid 65534's re-attach to 'web' does not join root's (1 listener)" "web 0 agent 1" \
	"$(json_sandboxes | grep '^web 0 ')" "$(json_sandboxes; cat "$T/join.out")"
expect_match "its exec is traced as uid 65534's" "marker.* owner=agent:65534" "$(cat "$T/web.trace")"
expect_eq "no trace line passes its exec off as root's 'web'" "" \
	"$(grep marker "$T/web.trace" | grep -v 'owner=agent:65534')" "$(cat "$T/web.trace")"
kill "$JOIN" 2>/dev/null
kill "$WEB" 2>/dev/null
wait_exit "$WEB" 10

# Default ids: squat agent-N for the next few thousand pids; a default-id init still starts.
last=$(cat /proc/sys/kernel/ns_last_pid)
run "${NOBODY[@]}" "$HC" flood "$A" 3000 --ids "$((last + 1))"
run timeout 60 "$UBINFMT_INIT" --socket "$A" -- "$T/bin/busybox-arm64" uname -m
expect_eq "a default-id ubinfmt-init starts after agent-$((last + 1))… were squatted" "0 aarch64" \
	"$status $(tail -n1 <<<"$out")" "$out"

# An OCI container's id squatted on the agent socket: the container's own settings still rule.
if command -v runc >/dev/null 2>&1 && oci_rootfs=$(make_rootfs busybox-arm64); then
	mkdir -p "$oci_rootfs/n" && cp "$BB" "$oci_rootfs/n/busybox" && ln -s busybox "$oci_rootfs/n/sh"
	OCI_SOCK=$(daemon_dir main)/oci.sock
	make_bundle "$T/squat-bundle" "$oci_rootfs" '["/n/sh","-c","/bin/busybox uname -m; echo rc=$?"]' \
		'{}' 'io.ubinfmt.emulators=none' >/dev/null
	"${NOBODY[@]}" "$HC" sandbox "$A" squatted-ctr >"$T/ctrsquat.out" 2>&1 &
	CTRSQUAT=$!
	track_pid $CTRSQUAT
	wait_ready "$T/ctrsquat.out"
	OCI_CONTAINERS+=("rt_runc squatted-ctr")
	run rt_runc run --bundle "$T/squat-bundle" squatted-ctr </dev/null
	expect_match "a container with emulators=none whose id was squatted runs no arm64 program" \
		'rc=(126|127|1|2)' "$out"
	expect_ne "… and its settings were not the squatter's (no aarch64)" aarch64 "$(head -n1 <<<"$out")" "$out"
	kill "$CTRSQUAT" 2>/dev/null
else
	skip_check "an OCI container's id squatted" "no runc"
fi
bystander_served "after the id squatting"

# ---- 4. quotas and limits ---------------------------------------------------------------------

sleep 6 # the HELLO-only connections above are gone by their deadline
rss0=$(rss_of "$D")
# Each HELLO names a sandbox of its own (agent-1000000…): none may be left behind.
run "${NOBODY[@]}" "$HC" flood "$A" 5000 --ids 1000000
run "${CROOT[@]}" "$HC" flood "$A" 20000 --ids 2000000
rss1=$(rss_of "$D")
grow=$((rss1 - rss0))
if is_asan_build "$UBINFMTD"; then
	# ASan keeps freed memory in quarantine (256 MB by default): RSS says nothing here.
	skip_check "5000 + 20000 HELLOs leave the daemon's memory where it was" "an ASan build (VmRSS $rss0 → $rss1 kB)"
elif [ "$grow" -le 1024 ]; then
	pass "5000 HELLOs from uid 65534 and 20000 from a container's root: VmRSS $rss0 → $rss1 kB"
else
	fail "5000 + 20000 HELLOs leave the daemon's memory where it was" "VmRSS $rss0 → $rss1 kB"
fi

# 1100 idle connections from one user: capped per uid; everyone else keeps being served.
fd0=$(fds_of "$D")
"${NOBODY[@]}" "$HC" hold "$A" 1100 8 >"$T/hold.out" 2>&1 &
HOLD=$!
track_pid $HOLD
wait_file "$T/hold.out" 30 2
held=$(sed -n 's/^held \([0-9]*\).*/\1/p' "$T/hold.out")
fd1=$(fds_of "$D")
if [ -n "$held" ] && [ "$held" -le 128 ] && [ "$((fd1 - fd0))" -le 130 ]; then
	pass "1100 idle connections from uid 65534: $held kept (its cap), daemon fds $fd0 → $fd1"
else
	fail "1100 idle connections from uid 65534 are capped" "$(cat "$T/hold.out"); daemon fds $fd0 → $fd1"
fi
expect_match "the cap is logged with the uid" "uid 65534 (in pid namespace [0-9]+ )?holds [0-9]+ connections" "$(cat "$LOG")"
bystander_served "during 1100 idle connections"
run timeout 60 "$UBINFMT_INIT" --socket "$A" -- "$T/bin/busybox-arm64" uname -m
expect_eq "a new ubinfmt-init starts during them" "0 aarch64" "$status $(tail -n1 <<<"$out")" "$out"
wait_exit "$HOLD" 20
expect_match "idle connections are dropped after the greeting deadline" "dropped later $held" "$(cat "$T/hold.out")"
# The bystander keeps exec'ing arm64 programs, and a rewrite in flight holds fds of its own (its
# pidfd, the program's file): one count can land on one.  A leaked fd never leaves, so look
# until the count is back, for up to 10 s.
fd2=$(fds_of "$D")
for ((i = 0; i < 100 && fd2 != fd0; i++)); do
	sleep 0.1
	fd2=$(fds_of "$D")
done
expect_eq "the daemon's fds are back to $fd0" "$fd0" "$fd2"

# Sandboxes, each with a real listener: uid 65534 gets 16 per pid namespace and 64 in all (five
# user and pid namespaces of its own asking for 16 each); a container's root gets 16.
"${NOBODY[@]}" "$HC" sandbox "$A" many --count 20 >"$T/many.out" 2>&1 &
MANY=$!
track_pid $MANY
"${CROOT[@]}" "$HC" sandbox "$A" cmany --count 20 >"$T/cmany.out" 2>&1 &
CMANY=$!
track_pid $CMANY
wait_ready "$T/many.out"
wait_ready "$T/cmany.out"
expect_match "uid 65534 gets 16 sandboxes in one pid namespace" $'\nsandboxes 16\n' "$(cat "$T/many.out")"
expect_match "… and EDQUOT for the rest" 'hello error EDQUOT' "$(cat "$T/many.out")"
expect_match "a container's root gets 16" $'\nsandboxes 16\n' "$(cat "$T/cmany.out")"
expect_match "the per-container cap is logged with the uid" "uid 65534 in pid namespace [0-9]+ holds 16 sandboxes" "$(cat "$LOG")"
# unshare waits for its child whatever the signal; --kill-child takes the child along.
kill "$MANY" 2>/dev/null
kill -KILL "$CMANY" 2>/dev/null
wait "$MANY" "$CMANY" 2>/dev/null
NS_PIDS=()
for i in 1 2 3 4 5; do
	"${NOBODY[@]}" unshare --user --map-root-user --pid --fork --kill-child \
		"$HC" sandbox "$A" ns$i --count 16 >"$T/ns$i.out" 2>&1 &
	NS_PIDS+=($!)
	track_pid $!
	wait_ready "$T/ns$i.out"
done
total=0
for i in 1 2 3 4 5; do
	n=$(sed -n 's/^sandboxes //p' "$T/ns$i.out")
	total=$((total + ${n:-0}))
done
expect_eq "uid 65534 over five pid namespaces gets 64 sandboxes in all" 64 "$total" "$(grep -h '^sandboxes' "$T"/ns?.out)"
expect_match "the per-user cap is logged with the uid" "uid 65534 holds 64 sandboxes" "$(cat "$LOG")"
kill -KILL "${NS_PIDS[@]}" 2>/dev/null
wait "${NS_PIDS[@]}" 2>/dev/null

# `ubinfmt status` of more sandboxes than the socket buffers hold, read slowly: arrives whole.
limit=$(sed -n 's/^Max open files *\([0-9]*\).*/\1/p' "/proc/$D/limits")
N=2000
if [ "$limit" -gt $((3 * N)) ] && [ "$(ulimit -Hn)" -gt $((2 * N)) ]; then
	(ulimit -n "$(ulimit -Hn)"; exec "$HC" sandbox "$A" st --count "$N") >"$T/st.out" 2>&1 &
	ST=$!
	track_pid $ST
	wait_ready "$T/st.out"
	made=$(sed -n 's/^sandboxes //p' "$T/st.out")
	expect_eq "$N sandboxes are made" "$N" "$made" "$(tail -3 "$T/st.out")"
	run "$HC" status-slow "$C" 1500
	expect_match "status of $N+ sandboxes to a slow reader arrives whole" "^entries [0-9]+ messages [0-9]+ complete" "$out"
	run "$UBINFMT" status --control "$C"
	expect_eq "ubinfmt status lists every sandbox and exits 0" "0 $N" "$status $(grep -c '^st-' <<<"$out")" \
		"$(tail -3 <<<"$out")"
	kill "$ST" 2>/dev/null
	wait "$ST" 2>/dev/null
else
	skip_check "status of $N sandboxes" "the open file limit ($limit) is too low for $N listeners"
fi
bystander_served "after the quota checks"

# with_nofile SOFT HARD: a wrapper that starts ubinfmtd with those open file limits.
with_nofile() {
	printf '#!/bin/bash\nulimit -Sn %s && ulimit -Hn %s && exec %q "$@"\n' "$1" "$2" "$UBINFMTD" >"$T/bin/ubinfmtd-$1-$2"
	chmod 755 "$T/bin/ubinfmtd-$1-$2"
	echo "$T/bin/ubinfmtd-$1-$2"
}

# The fd reserve: a daemon with a hard limit of 1024 and no per-user cap to speak of.
UBINFMTD=$(with_nofile 1024 1024) daemon_start low -v --max-per-uid 100000 --max-per-container 100000 ||
	fail "ubinfmtd with a low fd limit starts"
init_bg "$T/lowby.log" --socket "$(agent_sock low)" --id lowby -- "$BB" sh -c \
	"while :; do $T/bin/busybox-arm64 echo tick >>$T/lowticks || echo FAILED >>$T/lowticks; $BB sleep 0.1; done"
wait_file "$T/lowticks" 30 1
"${NOBODY[@]}" "$HC" hold "$(agent_sock low)" 1100 4 >"$T/lowhold.out" 2>&1 &
track_pid $!
wait_file "$T/lowhold.out" 30 2
before=$(grep -c tick "$T/lowticks")
sleep 1.5
after=$(grep -c tick "$T/lowticks")
expect_match "a 1024-fd daemon holds no more than its limit less the reserve" '^held ([0-9]|[1-6][0-9]{2}|7[0-5][0-9]) ' \
	"$(cat "$T/lowhold.out")"
if [ "$after" -gt "$before" ] && ! grep -q FAILED "$T/lowticks"; then
	pass "its sandbox's arm64 execs keep being served meanwhile ($before → $after)"
else
	fail "its sandbox's arm64 execs keep being served meanwhile" "ticks $before → $after; $(tail -3 "$T/low.log")"
fi
run timeout 30 "$UBINFMT_INIT" --socket "$(agent_sock low)" -- "$T/bin/busybox-arm64" true
expect_match "a new ubinfmt-init is told why at once, not left hanging" "(short of file descriptors|^$)" \
	"$([ "$status" = 124 ] && echo HANG; grep -o 'short of file descriptors' <<<"$out")" "$status: $out"
daemon_stop low

# The open file limit is raised to the hard limit at start (systemd's default soft one is 1024).
UBINFMTD=$(with_nofile 1024 4096) daemon_start raised -v || fail "ubinfmtd with a soft fd limit of 1024 starts"
limits=$(sed -n 's/^Max open files *\([0-9]*\) *\([0-9]*\).*/\1 \2/p' "/proc/${DAEMON_PID[raised]:-0}/limits" 2>/dev/null)
expect_eq "ubinfmtd raises its soft fd limit (1024) to the hard one" "4096 4096" "$limits"
daemon_stop raised

finish
