#!/usr/bin/env bash
# Hostile sandbox, races (exectest's race-path, kill-race and forkstorm modes):
#   - another thread keeps flipping the exec's path buffer between a foreign and a native
#     busybox of the same length while the exec is being decided: seccomp's CONTINUE is racy by
#     design, so any of "ran aarch64", "ran x86_64", ENOEXEC (decided on the native file, the
#     kernel then loaded the foreign one) or qemu refusing an x86-64 file (status 255: decided on
#     the foreign file, qemu then opened the native one) may come out; nothing
#     else, and the supervisor survives it;
#   - the exec'ing task is SIGKILLed at pseudo-random moments during foreign execs (the delays
#     sweep the seize, add-fd, interrupt, stop, rewrite and detach steps and qemu's start);
#   - fork storms: thousands of native execs and hundreds of foreign ones, many at once; every
#     one must succeed, as without ubinfmt.
# After each, in the same sandbox, a foreign exec still works, and `ubinfmt run` ends with the
# command's status, leaving no stopped or traced task behind.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_hostile_sandbox

RACES=${UBINFMT_HOSTILE_RACES:-200}
KILLS=${UBINFMT_HOSTILE_KILLS:-300}
NATIVE_STORM=${UBINFMT_HOSTILE_NATIVE_STORM:-3000}
FOREIGN_STORM=${UBINFMT_HOSTILE_FOREIGN_STORM:-300}

R=$(make_twin_rootfs) || skip "cannot copy the rootfs"

# alive LABEL: the same sandbox's last command was `/f/busybox echo alive`.
alive() {
	expect_eq "$1: afterwards a foreign exec still works, and ubinfmt exits 0" "alive 0" \
		"$(tail -n 1 <<<"$out") $status" "$out"
}

# ---- the path buffer rewritten during the exec ----------------------------------------------

run urun --rootfs "$R" -- /bin/sh -c "/bin/exectest race-path $RACES /f/busybox /n/busybox; /f/busybox echo alive"
tally=$(grep -v '^alive$' <<<"$out")
bad=$(grep -vE '^(ran (aarch64|x86_64)|errno ENOEXEC|status (1|255)) [0-9]+$' <<<"$tally")
if [ "$status" -eq 0 ] && [ -z "$bad" ] && [ -n "$tally" ]; then
	pass "path flipped by another thread: only the expected outcomes ($(paste -sd, <<<"$tally"))"
else
	fail "path flipped by another thread: only the expected outcomes" "exit status $status"$'\n'"$out"
fi
alive "path flipped"

# ---- SIGKILL at every step of a foreign exec ------------------------------------------------

# The debug log says where the kills landed: during the ptrace steps ("exited during a
# rewrite"), or while the supervisor was still seizing, adding fds or building the plan
# ("rewrite failed: No such process").
mid_rewrite=0
for range in 300 1500 3000 30000; do
	run env UBINFMT_LOG=debug timeout -k 10 "$UBINFMT_TIMEOUT" "$UBINFMT" run --rootfs "$R" -- \
		/bin/sh -c "/bin/exectest kill-race $KILLS $range /f/busybox true; /f/busybox echo alive"
	during=$(grep -c 'exited during a rewrite' <<<"$out")
	before=$(grep -c 'rewrite failed: No such process' <<<"$out")
	mid_rewrite=$((mid_rewrite + during + before))
	out=$(grep -v ' debug: ' <<<"$out")
	if grep -qx "killed [0-9]*" <<<"$out" && ! grep -q '^other' <<<"$out"; then
		pass "SIGKILL within 0..$range µs of $KILLS foreign execs: $(grep -E '^(killed|exited)' <<<"$out" | paste -sd, -); $during during the ptrace steps, $before while seizing or planning"
	else
		fail "SIGKILL within 0..$range µs of $KILLS foreign execs" "exit status $status"$'\n'"$out"
	fi
	alive "SIGKILL within 0..$range µs"
done
if [ "$mid_rewrite" -gt 0 ]; then
	pass "some SIGKILLs landed in the middle of a rewrite ($mid_rewrite)"
else
	fail "some SIGKILLs landed in the middle of a rewrite" "none: the sweep missed the injection steps"
fi

# ---- fork storms -------------------------------------------------------------------------------

run urun --rootfs "$R" -- /bin/sh -c "/bin/exectest forkstorm $NATIVE_STORM 64 /n/busybox true; /f/busybox echo alive"
expect_eq "fork storm: $NATIVE_STORM native execs, 64 at a time" "ok $NATIVE_STORM/$NATIVE_STORM" "$(head -n 1 <<<"$out")" "$out"
alive "native fork storm"
run urun --rootfs "$R" -- /bin/sh -c "/bin/exectest forkstorm $FOREIGN_STORM 32 /f/busybox true; /f/busybox echo alive"
expect_eq "fork storm: $FOREIGN_STORM foreign execs, 32 at a time" "ok $FOREIGN_STORM/$FOREIGN_STORM" "$(head -n 1 <<<"$out")" "$out"
alive "foreign fork storm"
run urun --rootfs "$R" -- /bin/sh -c "/bin/exectest forkstorm 1000 256 /n/busybox true & /bin/exectest forkstorm 200 64 /f/busybox true; wait; /f/busybox echo alive"
if [ "$(grep -c '^ok \(1000/1000\|200/200\)$' <<<"$out")" -eq 2 ]; then
	pass "fork storm: 1000 native (256 at a time) beside 200 foreign (64 at a time)"
else
	fail "fork storm: 1000 native beside 200 foreign" "$out"
fi
alive "mixed fork storm"

# Nothing of ours is left stopped or traced (a rewrite that lost its task must not keep it).
left=$(ps -eo stat=,args= | awk '$1 ~ /^t/ && /busybox|exectest|qemu/' || true)
expect_eq "no task left in a tracing stop" "" "$left"

finish
