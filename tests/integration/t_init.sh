#!/usr/bin/env bash
# ubinfmt-init under ubinfmtd, with the arm64 busybox on the host's filesystem as CMD (every
# applet a nested foreign exec): exit codes (0, 3, nested, 128+N, 127), signal forwarding to a
# foreign shell's traps (TERM INT HUP USR1), -g (the process group, a grandchild included),
# zombie reaping and orphans re-parented to the init with -s and as PID 1 of a new pid
# namespace, the EBUSY message under another listener holder (`ubinfmt run`), an unreachable
# daemon (125, or CMD without emulation with --fallback=native), a sandbox id already served,
# --no-new-privs as root and as an unprivileged user, the fds it was started with (none kept
# once CMD runs), and --option: sandbox options that reach the daemon (an emulators list that
# leaves arm64 unemulated, a JSON trace, the HELLO trace flag and an option that wins over it)
# or are refused with a reason (unknown key, an emulator path, bad values, set twice, too many).
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_root
need_daemon
need_fixtures
need_busybox arm64 armhf
need_qemu arm64 armhf
need_cmd unshare setpriv env python3

# Everything an unprivileged CMD needs must be reachable through $T.
chmod 711 "$T"
H=$T/h
mkdir -p "$H"
chmod 755 "$H"
cp "$(busybox arm64)" "$H/busybox"
BB=$H/busybox
export BB

daemon_start d || skip "ubinfmtd does not start"
A=$(agent_sock d)

# init ARG…: ubinfmt-init on daemon d, in the foreground with a time limit.
init() {
	timeout -k 5 "$UBINFMT_TIMEOUT" "$UBINFMT_INIT" --socket "$A" "$@"
}

# ---- exit codes ------------------------------------------------------------------------------

run init -- "$BB" uname -m
expect_eq "CMD is a foreign program, emulated" aarch64 "$out"
# The daemon names emulated processes after their programs, once it has dropped its capabilities
# too (t_comm covers the exec forms under `ubinfmt run`).
run init -- "$BB" sh -c "cat /proc/\$\$/comm; $BB cat /proc/self/comm"
expect_eq "an emulated program is named after itself under the daemon" $'busybox\nbusybox' "$out"
expect_status "exit 0" 0 init -- "$BB" sh -c 'exit 0'
expect_status "exit 3" 3 init -- "$BB" sh -c 'exit 3'
expect_status "a nested foreign exec's status" 5 init -- "$BB" sh -c "$BB sh -c 'exit 5'"
expect_status "CMD killed by SIGTERM: 143" 143 init -- "$BB" sh -c 'kill -TERM $$'
expect_status "CMD killed by SIGKILL: 137" 137 init -- "$BB" sh -c 'kill -KILL $$'
expect_status "CMD killed by SIGUSR1: 138" 138 init -- "$BB" sh -c 'kill -USR1 $$'
expect_status "missing CMD: 127" 127 init -- "$H/does-not-exist"

# CMD killed from outside (SIGKILL, which CMD cannot catch): 137.
init_bg "$T/kill.log" --socket "$A" -- "$BB" sh -c "echo \$\$ >$T/kill.pid; while :; do $BB sleep 0.2; done"
if wait_file "$T/kill.pid" 30 1; then
	kill -KILL "$(cat "$T/kill.pid")"
	wait_exit "$INIT_PID" 30
	expect_eq "CMD SIGKILLed from outside: 137" 137 "$status" "$(cat "$T/kill.log")"
else
	fail "CMD SIGKILLed from outside: 137" "CMD never started: $(cat "$T/kill.log")"
fi

# Inherited fds: the init keeps none of those it was started with once CMD runs (CMD has its
# own).  A FIFO's write end given as fd 9: its reader sees EOF once CMD closes fd 9, while the
# init still runs (an init that kept its copy would hold the reader until the container ends).
mkfifo "$T/fifo"
(cat "$T/fifo" >/dev/null; echo eof >"$T/fifo.eof") &
track_pid $!
init_bg "$T/fds.log" --socket "$A" -- "$BB" sh -c \
	"[ -e /proc/self/fd/9 ] && echo had-9 >$T/fds.cmd; exec 9>&-; while [ ! -e $T/fds.stop ]; do $BB sleep 0.1; done" \
	9>"$T/fifo"
if wait_file "$T/fifo.eof" 20; then
	expect_eq "a pipe the init was given reaches EOF once CMD closes it, the init still running" \
		"had-9 alive" "$(cat "$T/fds.cmd" 2>/dev/null) $(lib_alive "$INIT_PID" && echo alive)" "$(cat "$T/fds.log")"
else
	fail "a pipe the init was given reaches EOF once CMD closes it, the init still running" \
		"no EOF after 20 s; the init's fds:"$'\n'"$(ls -l "/proc/$INIT_PID/fd" 2>&1)"$'\n'"$(cat "$T/fds.log")"
fi
touch "$T/fds.stop"
wait_exit "$INIT_PID" 30
expect_eq "... and CMD ends normally" 0 "$status" "$(cat "$T/fds.log")"

# A container-like CMD: chrooted into the arm64 busybox rootfs (no qemu inside), as PID 1 of new
# pid and mount namespaces; the daemon resolves every exec in the task's own root.
if [ -d "$FIXTURES/rootfs/busybox-arm64" ]; then
	R=$(make_rootfs busybox-arm64)
	entries=$(find "$R" -mindepth 1 -maxdepth 1 | wc -l)
	run timeout -k 5 "$UBINFMT_TIMEOUT" unshare -pf --mount-proc="$R/proc" "$UBINFMT_INIT" --socket "$A" -- \
		chroot "$R" /bin/sh -c 'uname -m; ls / | wc -l; sh -c "exit 3"; echo $?; exit 5'
	expect_eq "rootfs: pipeline in the chroot, exit 5" $'aarch64\n'"$entries"$'\n3 5' \
		"$(printf '%s\n' "$out" | tr -d ' ') $status"
else
	skip_check "rootfs" "no rootfs fixture busybox-arm64"
fi

# ---- signal forwarding -----------------------------------------------------------------------

# sig.sh FILE READY: a foreign shell that notes every signal it traps in FILE and exits 7 on
# SIGUSR2; it runs a foreign `sleep` in a loop meanwhile (a trap runs when the sleep is over).
cat >"$H/sig.sh" <<'EOF'
F=$1
trap 'echo TERM >>"$F"' TERM
trap 'echo INT >>"$F"' INT
trap 'echo HUP >>"$F"' HUP
trap 'echo USR1 >>"$F"' USR1
trap 'echo USR2 >>"$F"; exit 7' USR2
echo $$ >"$2"
i=0
while [ $i -lt 600 ]; do
	$BB sleep 0.1
	i=$((i + 1))
done
exit 9
EOF

# signals LABEL INIT_PID FILE READY LOG [WAIT_PID]: sends TERM INT HUP USR1 to the init, each
# once its predecessor arrived, then USR2, which makes CMD exit 7: the status of WAIT_PID (our
# child that passes the init's status on; the init itself by default).
signals() {
	local label=$1 pid=$2 f=$3 ready=$4 log=$5 wpid=${6:-$2} s
	if ! wait_file "$ready" 30 1; then
		fail "$label: CMD starts" "$(cat "$log")"
		return
	fi
	for s in TERM INT HUP USR1; do
		kill -s "$s" "$pid"
		if wait_file "$f" 20 0 && timeout 20 bash -c "until grep -qx $s '$f'; do sleep 0.1; done"; then
			pass "$label: SIG$s reaches CMD's trap"
		else
			fail "$label: SIG$s reaches CMD's trap" "trapped so far: $(cat "$f" 2>/dev/null)"$'\n'"$(cat "$log")"
		fi
	done
	kill -s USR2 "$pid"
	wait_exit "$wpid" 30
	expect_eq "$label: CMD's exit status after its trap (7)" 7 "$status" "$(cat "$log")"
}

init_bg "$T/sig1.log" --socket "$A" -- "$BB" sh "$H/sig.sh" "$T/sig1" "$T/sig1.ready"
signals "forwarding" "$INIT_PID" "$T/sig1" "$T/sig1.ready" "$T/sig1.log"

# The init as PID 1 of a new pid namespace (signals come from the parent namespace).
# pidns_init UNSHARE_PID: the init's pid (in our namespace) once unshare's child runs it.
pidns_init() {
	local i c
	for ((i = 0; i < 100; i++)); do
		c=$(cat "/proc/$1/task/$1/children" 2>/dev/null)
		c=${c%% *}
		if [ -n "$c" ] && [ "$(readlink "/proc/$c/exe")" = "$(readlink -f "$UBINFMT_INIT")" ]; then
			echo "$c"
			return 0
		fi
		sleep 0.1
	done
	return 1
}
env --default-signal=INT,QUIT unshare -pf --mount-proc="$R/proc" "$UBINFMT_INIT" --socket "$A" -- \
	"$BB" sh "$H/sig.sh" "$T/sig2" "$T/sig2.ready" >"$T/sig2.log" 2>&1 &
upid=$!
track_pid "$upid"
if ipid=$(pidns_init "$upid"); then
	track_pid "$ipid"
	expect_eq "PID 1: the init is PID 1 in its namespace" 1 "$(sed -n 's/^NSpid:.*[[:space:]]\([0-9]*\)$/\1/p' "/proc/$ipid/status")"
	signals "PID 1" "$ipid" "$T/sig2" "$T/sig2.ready" "$T/sig2.log" "$upid"
else
	fail "PID 1: unshare -pf runs ubinfmt-init" "$(cat "$T/sig2.log")"
fi

# ---- -g: the whole process group -------------------------------------------------------------

# grp.sh FILE DIR: CMD traps TERM and starts a grandchild (gc.sh) in its own process group,
# then waits for it; the grandchild notes a TERM and exits.  Both note their pids and groups.
cat >"$H/gc.sh" <<'EOF'
trap 'echo GC-TERM >>"$1"; exit 0' TERM
echo $$ >"$2/gc.pid"
i=0
while [ $i -lt 300 ]; do
	$BB sleep 0.1
	i=$((i + 1))
done
exit 9
EOF
cat >"$H/grp.sh" <<'EOF'
trap 'echo CMD-TERM >>"$1"' TERM
$BB sh "$(dirname "$0")/gc.sh" "$1" "$2" &
gc=$!
echo $$ >"$2/cmd.pid"
wait $gc
st=$?
# `wait` returns early (>128) when a trap ran: wait for the grandchild itself.
while [ $st -gt 128 ] && [ -d /proc/$gc ]; do
	wait $gc
	st=$?
done
exit 0
EOF

# group LABEL FLAGS…: runs grp.sh under the init with FLAGS, sends SIGTERM to the init.
group() {
	local label=$1 d
	shift
	d=$T/$label
	mkdir -p "$d"
	init_bg "$d/log" --socket "$A" "$@" -- "$BB" sh "$H/grp.sh" "$d/trapped" "$d"
	if ! wait_file "$d/gc.pid" 30 1 || ! wait_file "$d/cmd.pid" 30 1; then
		fail "$label: CMD and its grandchild start" "$(cat "$d/log")"
		return 1
	fi
	sleep 0.5 # the traps are set before the pid files are written; let the shells settle
	local cmd gc
	cmd=$(cat "$d/cmd.pid") gc=$(cat "$d/gc.pid")
	G_CMD_PGID=$(cut -d' ' -f5 <"/proc/$cmd/stat" 2>/dev/null)
	G_GC_PGID=$(cut -d' ' -f5 <"/proc/$gc/stat" 2>/dev/null)
	G_INIT_PGID=$(cut -d' ' -f5 <"/proc/$INIT_PID/stat" 2>/dev/null)
	G_CMD=$cmd G_GC=$gc G_DIR=$d
	kill -TERM "$INIT_PID"
	wait_file "$d/trapped" 20 1
	return 0
}

if group g -g; then
	expect_eq "-g: CMD leads its own process group" "$G_CMD" "$G_CMD_PGID"
	expect_eq "-g: the grandchild is in CMD's group" "$G_CMD" "$G_GC_PGID"
	wait_exit "$INIT_PID" 30
	expect_eq "-g: the init exits with CMD's status (0)" 0 "$status" "$(cat "$G_DIR/log")"
	expect_eq "-g: SIGTERM reached CMD and the grandchild" $'CMD-TERM\nGC-TERM' \
		"$(sort "$G_DIR/trapped")" "$(cat "$G_DIR/log")"
fi
if group nog; then
	expect_eq "no -g: CMD stays in the init's process group" "$G_INIT_PGID" "$G_CMD_PGID"
	sleep 2
	expect_eq "no -g: SIGTERM reached CMD only" CMD-TERM "$(cat "$G_DIR/trapped")" "$(cat "$G_DIR/log")"
	kill -TERM "$G_GC" # let the grandchild go, then CMD exits
	wait_exit "$INIT_PID" 30
	expect_eq "no -g: the init exits with CMD's status (0)" 0 "$status" "$(cat "$G_DIR/log")"
fi

# ---- orphans and zombies ---------------------------------------------------------------------

# orphans.sh DIR: five foreign `sleep 4` orphans (their parent shell exits at once) and five
# foreign `true` orphans that exit at once; notes each sleeping orphan's pid and its PPid once
# its parent is gone (in CMD's own pid namespace) and CMD's parent, then waits on a FIFO until
# the test releases it.
cat >"$H/orphans.sh" <<'EOF'
D=$1
i=0
while [ $i -lt 5 ]; do
	p=$($BB sh -c '$BB sleep 4 >/dev/null & echo $!')
	echo "$p $($BB sed -n 's/^PPid:[[:space:]]*//p' /proc/$p/status)" >>"$D/ppids"
	$BB sh -c '$BB true &'
	i=$((i + 1))
done
echo $PPID >"$D/parent"
read x <"$D/release"
exit 0
EOF

# reaping LABEL DIR INIT_PID: checks what orphans.sh (running under INIT_PID) saw and left.
reaping() {
	local label=$1 d=$2 ipid=$3 parent kids zombies i bad
	if ! wait_file "$d/parent" 90 1; then
		fail "$label: CMD spawns its orphans" "$(cat "$d/log" 2>/dev/null)"
		return
	fi
	parent=$(cat "$d/parent")
	bad=$(awk -v p="$parent" '$2 != p' "$d/ppids")
	if [ "$(wc -l <"$d/ppids")" -eq 5 ] && [ -z "$bad" ]; then
		pass "$label: orphans are re-parented to the init (PPid $parent)"
	else
		fail "$label: orphans are re-parented to the init (PPid $parent)" "orphan PPid:"$'\n'"$(cat "$d/ppids")"
	fi
	# When every orphan is gone, only CMD may be left under the init, and no zombie.
	for ((i = 0; i < 150; i++)); do
		kids=$(children_of "$ipid")
		[ "$(printf '%s\n' "$kids" | grep -c .)" -le 1 ] && break
		sleep 0.1
	done
	zombies=$(printf '%s\n' "$kids" | awk '$2 == "Z"')
	if [ -z "$zombies" ] && [ "$(printf '%s\n' "$kids" | grep -c .)" -eq 1 ]; then
		pass "$label: no zombies under the init once the orphans exited"
	else
		fail "$label: no zombies under the init once the orphans exited" "children of $ipid (pid state name):"$'\n'"$kids"
	fi
}

mkdir -p "$T/sub"
mkfifo "$T/sub/release"
init_bg "$T/sub/log" --socket "$A" -s -- "$BB" sh "$H/orphans.sh" "$T/sub"
reaping "-s" "$T/sub" "$INIT_PID"
expect_eq "-s: CMD's parent is the init" "$INIT_PID" "$(cat "$T/sub/parent" 2>/dev/null)"
echo go >"$T/sub/release" &
wait_exit "$INIT_PID" 30
expect_eq "-s: exit status 0" 0 "$status" "$(cat "$T/sub/log")"

mkdir -p "$T/pid1"
mkfifo "$T/pid1/release"
unshare -pf --mount-proc "$UBINFMT_INIT" --socket "$A" -- "$BB" sh "$H/orphans.sh" "$T/pid1" >"$T/pid1/log" 2>&1 &
upid=$!
track_pid "$upid"
if ipid=$(pidns_init "$upid"); then
	track_pid "$ipid"
	reaping "PID 1" "$T/pid1" "$ipid"
	echo go >"$T/pid1/release" &
	wait_exit "$upid" 30
	expect_eq "PID 1: exit status 0" 0 "$status" "$(cat "$T/pid1/log")"
else
	fail "PID 1: unshare -pf runs ubinfmt-init" "$(cat "$T/pid1/log")"
fi

# Neither PID 1 nor -s: the orphans go elsewhere, and the init says so.
run init -v -- "$BB" true
expect_match "not PID 1, no -s: says orphans are not reaped here" "not PID 1 and no -s" "$out"

# ---- another listener holder: EBUSY ----------------------------------------------------------

run timeout -k 5 "$UBINFMT_TIMEOUT" "$UBINFMT" run -- "$UBINFMT_INIT" --socket "$A" -- "$BB" uname -m
expect_eq "under 'ubinfmt run': exit 125" 125 "$status" "$out"
expect_match "under 'ubinfmt run': says a listener is already there" "already has a seccomp listener" "$out"
run timeout -k 5 "$UBINFMT_TIMEOUT" "$UBINFMT" run -- "$UBINFMT_INIT" --socket "$A" --fallback=native -- "$BB" uname -m
expect_eq "under 'ubinfmt run', --fallback=native: CMD runs (exit 0)" 0 "$status" "$out"
expect_match "under 'ubinfmt run', --fallback=native: CMD's output (emulated by the outer ubinfmt)" \
	$'(^|\n)aarch64($|\n)' "$out"
expect_match "under 'ubinfmt run', --fallback=native: says it runs without emulation" "without emulation" "$out"

# ---- the daemon unreachable ------------------------------------------------------------------

run init --socket "$T/nowhere.sock" -- "$BB" true
expect_eq "no daemon: exit 125" 125 "$status" "$out"
expect_match "no daemon: names the socket and the way out" "cannot reach ubinfmtd at '$T/nowhere.sock'.*--fallback=native" "$out"
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind(sys.argv[1])' "$T/stale.sock"
run init --socket "$T/stale.sock" -- "$BB" true
expect_eq "stale socket (nobody listens): exit 125" 125 "$status" "$out"
expect_match "stale socket: says so" "cannot reach ubinfmtd at '$T/stale.sock': Connection refused" "$out"
# Native fallback: CMD runs without any filter, so a foreign exec gets the kernel's own answer.
run init --socket "$T/nowhere.sock" --fallback=native -- bash -c "$BB uname -m; echo status=\$?; /bin/uname -m"
expect_eq "no daemon, --fallback=native: CMD runs (exit 0)" 0 "$status" "$out"
expect_match "no daemon, --fallback=native: the kernel refuses the foreign exec" \
	"Exec format error"$'\n'"status=126"$'\n'"x86_64" "$out"
run init --socket "$T/nowhere.sock" --fallback=native -- "$BB" uname -m
echo "info: no daemon, --fallback=native, a foreign CMD itself: exit status $status (execvp hands an ENOEXEC file to /bin/sh):"
lib_show "$out"

# ---- one sandbox per id ----------------------------------------------------------------------

mkfifo "$T/dup.release"
init_bg "$T/dup.log" --socket "$A" --id dup -- "$BB" sh -c "read x <$T/dup.release"
sleep 1
run init --id dup -- "$BB" true
expect_eq "an id already served: exit 125" 125 "$status" "$out"
expect_match "an id already served: says so" "refused the sandbox.*(already|exists)" "$out"
echo go >"$T/dup.release"
wait_exit "$INIT_PID" 30
expect_eq "the first sandbox of that id is unaffected" 0 "$status" "$(cat "$T/dup.log")"

# ---- sandbox options (--option) --------------------------------------------------------------

# They reach the daemon in HELLO and change what it does for this sandbox only.
mkdir -p "$H/armhf"
ARMHF=$H/armhf/busybox
cp "$(busybox armhf)" "$ARMHF"
run init --option emulators=arm -- bash -c "$ARMHF uname -m; $BB uname -m; echo status=\$?"
expect_eq "--option emulators=arm: exit 0" 0 "$status" "$out"
expect_match "--option emulators=arm: armhf is emulated, arm64 is not (the kernel's ENOEXEC)" \
	$'^armv7l\n.*Exec format error\nstatus=126$' "$out"
expect_match "--option emulators=arm: the daemon says the sandbox's settings exclude aarch64" \
	"may not emulate aarch64 \(its settings exclude it\)" "$(cat "$T/d.log")"
run init -- bash -c "$ARMHF uname -m; $BB uname -m"
expect_eq "no --option: both emulated (the other sandboxes keep the daemon's emulators)" $'armv7l\naarch64' "$out"

# trace: JSON lines on the daemon's stderr (it has no --trace of its own), for this sandbox only.
mkdir -p "$H/traced"
cp "$BB" "$H/traced/busybox"
run init --option trace=json -- "$H/traced/busybox" true
expect_eq "--option trace=json: exit 0" 0 "$status" "$out"
line=$(grep -F "$H/traced/busybox" "$T/d.log" | tail -n 1)
if python3 -c 'import json, sys; r = json.loads(sys.argv[1]); assert r["decision"] == "emulate", r' "$line" 2>/dev/null; then
	pass "--option trace=json: the daemon traces the exec as a JSON line"
else
	fail "--option trace=json: the daemon traces the exec as a JSON line" "$(tail -n 20 "$T/d.log")"
fi
# --trace (the HELLO flag every ubinfmtd reads) is trace=true; an --option trace wins over it.
cp "$BB" "$H/traced/busybox2"
run init --trace --option trace=false -- "$H/traced/busybox2" true
expect_eq "--trace --option trace=false: exit 0" 0 "$status" "$out"
cp "$BB" "$H/traced/busybox3"
run init --trace -- "$H/traced/busybox3" true
expect_match "--trace: a text trace line on the daemon's stderr" "$H/traced/busybox3" "$(cat "$T/d.log")"
if grep -qF "$H/traced/busybox2" "$T/d.log"; then
	fail "--trace --option trace=false: no trace line" "$(grep -F "$H/traced/busybox2" "$T/d.log")"
else
	pass "--trace --option trace=false: no trace line"
fi

# Refused options: the daemon answers HELLO with why; the init says it and exits 125.
refused() {
	local label=$1 want=$2
	shift 2
	run init "$@" -- "$BB" true
	expect_eq "$label: exit 125" 125 "$status" "$out"
	expect_match "$label: says why" "refused the sandbox: $want" "$out"
}
refused "unknown key" "option: unknown key 'emulater' \(known: emulators, emulator.ARCH, trace\)" \
	--option emulater=all
refused "an emulator path from a container" "option emulator.aarch64: emulator paths are only accepted" \
	--option emulator.aarch64=/bin/true
refused "a bad trace value" "option trace: 'yes' is not true, false or json" --option trace=yes
refused "an unknown architecture" "option emulators: unknown architecture 'vax'" --option emulators=arm,vax
refused "set twice" "option emulators: set twice" --option emulators=all --option emulators=none
run init --option emulators -- "$BB" true
expect_eq "--option without '=': exit 2" 2 "$status" "$out"
expect_match "--option without '=': says what it expects" "expected KEY=VALUE" "$out"
many=()
for ((i = 0; i < 33; i++)); do many+=(--option trace=true); done
run init "${many[@]}" -- "$BB" true
expect_eq "33 --option: exit 2" 2 "$status" "$out"
expect_match "33 --option: says the limit" "at most 32" "$out"

# ---- no_new_privs ----------------------------------------------------------------------------

nnp=("$BB" grep NoNewPrivs /proc/self/status)
run init -- "${nnp[@]}"
expect_match "root, auto: no_new_privs stays off" $'NoNewPrivs:\t0$' "$out"
run init --no-new-privs=never -- "${nnp[@]}"
expect_match "root, never: no_new_privs off" $'NoNewPrivs:\t0$' "$out"
run init --no-new-privs=always -- "${nnp[@]}"
expect_match "root, always: no_new_privs on" $'NoNewPrivs:\t1$' "$out"
expect_eq "root, always: exit 0" 0 "$status" "$out"

nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
run "${nobody[@]}" grep CapEff /proc/self/status
expect_match "setpriv: the unprivileged user has no capabilities" $'CapEff:\t0+$' "$out"
run timeout -k 5 "$UBINFMT_TIMEOUT" "${nobody[@]}" "$UBINFMT_INIT" --socket "$A" -- sh -c "${nnp[*]}; id -u; $BB uname -m"
expect_eq "unprivileged, auto: exit 0" 0 "$status" "$out"
expect_match "unprivileged, auto: no_new_privs on, CMD runs as 65534, foreign exec works" \
	$'NoNewPrivs:\t1\n65534\naarch64$' "$out"
expect_match "unprivileged, auto: says it set no_new_privs (setuid disabled)" "no_new_privs.*setuid" "$out"
run timeout -k 5 "$UBINFMT_TIMEOUT" "${nobody[@]}" "$UBINFMT_INIT" --socket "$A" --no-new-privs=never -- "$BB" true
expect_eq "unprivileged, never: exit 125" 125 "$status" "$out"
expect_match "unprivileged, never: says why" "without CAP_SYS_ADMIN" "$out"

daemon_stop d
expect_eq "ubinfmtd exits 0 on SIGTERM" 0 "$daemon_status" "$(cat "$T/d.log")"
finish
