#!/usr/bin/env bash
# A Go program's runtime during foreign execs (exectest sigurg).  runc init, a Go program, gets
# SIGURG every ~10 ms (async preemption: thread-directed, SA_RESTART handler on the thread's
# signal stack) while it sits in a raw execve.  Under a listener without WAIT_KILLABLE_RECV
# (runc's, crun's) such a signal withdraws the notification ubinfmtd holds, and the exec comes
# back with a new one after the handler.  That used to end in ENOEXEC ("exec format error") for
# 1-2% of container starts, and in a failed exec counted by `ubinfmt status`.
#
# Each child of exectest sigurg makes the raw execve of the arm64 busybox (`echo sigurg-<i>`)
# while a thread of its own tgkills it with SIGURG every $US µs; every one must print its own line
# and exit 0, and `ubinfmt status` must count exactly the execs that ran: the withdrawn attempts
# are neither failed nor emulated.
#  - runc with ubinfmtd as its seccomp agent (runc's own listener): the handler on an alternate
#    stack, as Go's; then on the thread's own stack, as a C program's, whose frames land where a
#    rewrite keeps its scratch block: now and then the signal wins over the CONTINUE that lets
#    the rewritten exec through, and that exec comes back with its block clobbered (it used to
#    be decided afresh and run qemu with no program: "qemu: no user program specified");
#  - `ubinfmt run` and ubinfmt-init (listeners with WAIT_KILLABLE_RECV, where a signal cannot
#    withdraw a received notification): a shorter run of the same load, which must pass as well.
#
# UBINFMT_SIGURG_N (execs per runc case, default 500), UBINFMT_SIGURG_US (default 50).
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=SCRIPTDIR/oci_lib.sh
source "$(dirname "$0")/oci_lib.sh"

need_oci_base
need_exectest
need_busybox arm64
need_cmd runc python3 timeout
[ -x "$UBINFMT_INIT" ] || skip "no ubinfmt-init at $UBINFMT_INIT (build it first)"

N=${UBINFMT_SIGURG_N:-500}
US=${UBINFMT_SIGURG_US:-50}
JOBS=2

# sigurg_ok LABEL COUNT: the last `run` printed "ok COUNT/COUNT" and exited 0.
sigurg_ok() {
	if [ "$status" = 0 ] && grep -qx "ok $2/$2" <<<"$out"; then
		pass "$1 ($(grep -E '^signals ' <<<"$out"))"
	else
		fail "$1" "exit status $status"$'\n'"$out"$'\n'"ubinfmtd's log (warnings):"$'\n'"$(grep -v ' debug: ' "$OCI_LOG" | sort -u | tail -n 10)"
	fi
}

oci_probe rt_runc
start_daemon -v

# runc_case LABEL NAME [OPTION…]: one container (NAME in its id) under runc, whose listener
# has no WAIT_KILLABLE_RECV.  Its shell (foreign) runs exectest sigurg OPTION… (native), whose N
# children exec the foreign busybox, then execs the foreign sleep: the sandbox must count N + 2
# emulated execs and no failed one.
runc_case() {
	local label=$1 id="ubinfmt-sigurg-$$-$2" b=$T/b-$2 R
	shift 2
	R=$(make_rootfs busybox-arm64) || { fail "$label: copy the rootfs"; return; }
	rm -f "$R/sigurg.out" "$R/sigurg.done"
	make_bundle "$b" "$R" "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' /bin/sh -c \
		"/bin/exectest sigurg --jobs $JOBS $* $N $US /bin/busybox echo >/sigurg.out 2>&1; echo \$? >/sigurg.done; exec /bin/sleep 600")" \
		>/dev/null || { fail "$label: write the bundle"; return; }
	# Writable: the results go to files in the rootfs (the container runs detached).
	python3 - "$b/config.json" <<'PY' || { fail "$label: edit the bundle"; return; }
import json, sys
c = json.load(open(sys.argv[1]))
c["root"]["readonly"] = False
json.dump(c, open(sys.argv[1], "w"), indent=1)
PY
	OCI_CONTAINERS+=("rt_runc $id")
	run rt_runc run -d --bundle "$b" "$id" </dev/null
	if [ "$status" -ne 0 ]; then
		fail "$label: the container starts" "exit status $status"$'\n'"$out"$'\n'"$(tail -n 20 "$OCI_LOG")"
		return
	fi
	# A liveness bound, not a timing check.
	wait_file "$R/sigurg.done" "$UBINFMT_OCI_TIMEOUT"
	out=$(cat "$R/sigurg.out" 2>&1)
	status=$(cat "$R/sigurg.done" 2>/dev/null || echo "(did not end)")
	sigurg_ok "$label: $N raw execs under SIGURG every $US µs, each prints its own line" "$N"
	wait_field "$id" emulated "$((N + 2))"
	expect_eq "$label: status counts each exec that ran as emulated ($N + the shell + sleep)" \
		"$((N + 2))" "$field_value"
	expect_eq "$label: status counts no failed exec" 0 "$(sandbox_field "$id" failed)" \
		"$(grep -E 'warning|error|failed|cannot' "$OCI_LOG" | tail -n 20)"
	rt_runc delete -f "$id" >/dev/null 2>&1
	rm -rf --one-file-system "$R"
}

runc_case "runc, handler on an alternate stack (Go's)" go
runc_case "runc, handler on the thread's stack (a C program's)" c --main-stack
# What the load is for: the debug log names each withdrawn notification.
withdrawn=$(grep -c -e "interrupted before the emulator could be handed over" \
	-e "the restart of its rewritten exec was interrupted" "$OCI_LOG")
expect_ne "runc: signals withdrew notifications ubinfmtd held (the case under test happened)" 0 "$withdrawn"
echo "info: $withdrawn notifications withdrawn, $(grep -c "came back after it was let through" "$OCI_LOG") rewritten execs taken back after their CONTINUE"
# A task left in a ptrace stop with no rewrite in flight is let go (inject_detach_stray), so its
# exec still runs; but the rewrite lost track of it, which is a bug to see, not to pass over.
expect_eq "runc: no task was found in a ptrace stop with no rewrite in flight" 0 \
	"$(grep -c "with no rewrite in flight: let go" "$OCI_LOG")"
daemon_alive "runc: ubinfmtd still runs"

# The same load, shorter, under the project's own listeners (WAIT_KILLABLE_RECV), with the handler
# on the thread's stack: each withdrawn restart's scratch block is put back.
H=$T/host
mkdir -p "$H"
cp "$(busybox arm64)" "$H/busybox"
N_OWN=$((N / 5 + 1))
run urun -- "$EXECTEST" sigurg --jobs "$JOBS" --main-stack "$N_OWN" "$US" "$H/busybox" echo
sigurg_ok "ubinfmt run: $N_OWN raw execs under SIGURG every $US µs" "$N_OWN"
run timeout -k 5 "$UBINFMT_TIMEOUT" "$UBINFMT_INIT" --socket "$OCI_AGENT" -- \
	"$EXECTEST" sigurg --jobs "$JOBS" --main-stack "$N_OWN" "$US" "$H/busybox" echo
sigurg_ok "ubinfmt-init under ubinfmtd: $N_OWN raw execs under SIGURG every $US µs" "$N_OWN"
daemon_alive "ubinfmtd still runs"

finish
