#!/usr/bin/env bash
# ubinfmtd is SIGKILLed during a storm of foreign execs and started again on the same sockets,
# several times, at random moments: the storm must complete with no failed exec.
#
# The sandbox is ubinfmt-init running an arm64 busybox shell (on the host's filesystem) that
# starts W workers in parallel; each worker runs N foreign `expr` commands, checks every
# status and output, and notes any mismatch (the exec, its status and its output, which holds
# the shell's error message) in a file.  The agent keeps the listener and the in-flight journal,
# reconnects to each new daemon, and the new daemon restarts the execs the killed one left
# unanswered.  UBINFMT_STORM="W N KILLS" and UBINFMT_SEED override the defaults.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_root
need_daemon
need_fixtures
need_busybox arm64
need_qemu arm64

read -r W N KILLS <<<"${UBINFMT_STORM:-4 100 5}"
SEED=${UBINFMT_SEED:-$$}
RANDOM=$SEED
echo "info: $W workers × $N foreign execs, $KILLS daemon kills, seed $SEED (UBINFMT_SEED)"

D=$T/storm
mkdir -p "$D"
cp "$(busybox arm64)" "$D/busybox"
BB=$D/busybox
export BB

# worker.sh W N DIR
cat >"$D/worker.sh" <<'EOF'
w=$1 n=$2 d=$3
i=0
while [ $i -lt $n ]; do
	i=$((i + 1))
	# The last exec waits for the test's go: every kill lands while the storm still runs,
	# however fast this machine is.
	if [ $i -eq $n ]; then
		while [ ! -e "$d/release" ]; do $BB usleep 20000; done
	fi
	out=$($BB expr $i + $w 2>&1)
	st=$?
	if [ $st -ne 0 ] || [ "$out" != $((i + w)) ]; then
		echo "worker $w exec $i ($BB expr $i + $w): status $st, output '$out'" >>"$d/fails"
	fi
	echo $i >"$d/progress.$w"
done
echo "worker $w done" >>"$d/done"
EOF
# storm.sh W N DIR: the workers, in parallel.
cat >"$D/storm.sh" <<'EOF'
w=1
while [ $w -le $1 ]; do
	$BB sh "$3/worker.sh" $w $2 "$3" &
	w=$((w + 1))
done
wait
EOF

progress() {
	local sum=0 w p
	for ((w = 1; w <= W; w++)); do
		p=$(cat "$D/progress.$w" 2>/dev/null)
		sum=$((sum + ${p:-0}))
	done
	echo "$sum"
}
total=$((W * N))

daemon_start r -v || skip "ubinfmtd does not start"
init_bg "$D/init.log" --socket "$(agent_sock r)" --id storm -v -- "$BB" sh "$D/storm.sh" "$W" "$N" "$D"
ipid=$INIT_PID

kills_done=0
missed_reattach=
for ((k = 1; k <= KILLS; k++)); do
	# Somewhere in the k-th slice of the storm, at a random point.
	target=$(((total * (k - 1) + RANDOM % total) / (KILLS + 1) + total / (KILLS + 1) / 2))
	for ((i = 0; i < 1200; i++)); do
		[ "$(progress)" -ge "$target" ] && break
		lib_alive "$ipid" || break
		sleep 0.1
	done
	lib_alive "$ipid" || break
	sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
	p0=$(progress)
	daemon_stop r KILL
	down=$((2 + RANDOM % 14))
	sleep "$((down / 10)).$((down % 10))"
	p1=$(progress)
	echo "info: kill $k at $p0/$total execs; down ${down}00 ms; $p1 done when it comes back"
	daemon_start r -v || {
		fail "ubinfmtd starts again on the same sockets (kill $k)" "$(tail -n 20 "$T/r.log")"
		break
	}
	kills_done=$k
	# The agent finds the new daemon by itself (it retries every 200 ms).
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c "re-attached to ubinfmtd" "$D/init.log")" -ge "$k" ] && break
		lib_alive "$ipid" || break
		sleep 0.1
	done
	n=$(grep -c "re-attached to ubinfmtd" "$D/init.log")
	[ "$n" -lt "$k" ] && missed_reattach+="kill $k: $n re-attaches after 10 s, progress $(progress)/$total, init alive: $(lib_alive "$ipid" && echo yes || echo no)"$'\n'
done
touch "$D/release"
expect_eq "ubinfmtd was SIGKILLed and restarted $KILLS times during the storm" "$KILLS" "$kills_done" \
	"the storm ended first at $(progress)/$total execs: make it longer (UBINFMT_STORM)"

wait_exit "$ipid" 300
expect_eq "the storm completes (ubinfmt-init exits 0)" 0 "$status" "$(tail -n 30 "$D/init.log")"
expect_eq "every worker finished" "$W" "$(grep -c "done$" "$D/done" 2>/dev/null)"
expect_eq "every exec ran ($total)" "$total" "$(progress)"
if [ -s "$D/fails" ]; then
	fail "no exec failed" "$(wc -l <"$D/fails") of $total failed:"$'\n'"$(cat "$D/fails")"$'\n'"daemon log (last 40 lines):"$'\n'"$(tail -n 40 "$T/r.log")"
else
	pass "no exec failed ($total foreign execs, $kills_done daemon kills)"
fi
n=$(grep -c "re-attached to ubinfmtd" "$D/init.log")
expect_eq "the agent re-attached after every restart" "$kills_done" "$n" "$missed_reattach$(grep -v '^$' "$D/init.log" | tail -n 20)"
echo "info: execs left unanswered by a killed daemon and restarted by the next one: $(grep -c "left unanswered" "$T/r.log")"
grep "left unanswered\|warning\|error" "$T/r.log" | head -n 20 | sed 's/^/    | /'
daemon_stop r
finish
