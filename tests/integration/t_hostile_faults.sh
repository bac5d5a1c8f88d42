#!/usr/bin/env bash
# Faults around the supervisor:
#   - the emulator binary (a copy passed with --emulator) is deleted while the sandbox runs:
#     ubinfmt keeps the fd it opened at start, so foreign execs keep working; that fd cannot be
#     reopened for writing (read-only mount); the inode truncated in place through another
#     name, foreign execs keep working from ubinfmt's private copy of it (emu_names.c: taken
#     at the first foreign exec, to name emulated processes after their programs);
#   - the supervisor out of fds: `prlimit --nofile=64` on `ubinfmt run` with 64 foreign execs
#     at once; then its limit squeezed to exactly the fds it holds while a sandbox execs: native
#     execs still run (the kernel decides), foreign ones fail with ENOEXEC, ubinfmt says why on
#     stderr, and once the limit is back everything works again, with no fd lost;
#   - a soak: UBINFMT_SOAK_N execs (default 5000: native ones, every 50th foreign, every 25th a
#     missing file) after a warm-up; the supervisor's fd count must not change and its VmRSS not
#     grow by more than UBINFMT_SOAK_RSS_KB (default 512).
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_hostile_sandbox
need_cmd prlimit

SOAK_N=${UBINFMT_SOAK_N:-5000}
SOAK_RSS_KB=${UBINFMT_SOAK_RSS_KB:-512}
QEMU=$(command -v qemu-aarch64-static || command -v qemu-aarch64)

R=$(make_twin_rootfs) || skip "cannot copy the rootfs"
NSH=/n/busybox

# bg_run LOG ARG…: `ubinfmt ARG…` in the background (its pid in $UPID, no wrapper in between).
bg_run() {
	local log=$1
	shift
	"$UBINFMT" "$@" >"$log" 2>&1 &
	UPID=$!
	track_pid "$UPID"
}

# step NAME: waits until the sandbox created /e/NAME (60 s at most).
step() {
	wait_file "$R/e/$1" 60
}

fds_of() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
# fds_settled PID: the fewest fds of 5 looks 50 ms apart: the sandbox keeps exec'ing, and each
# exec in flight holds an fd or two for a moment; a leaked fd shows in every look.
fds_settled() {
	local i n least=
	for i in 1 2 3 4 5; do
		n=$(fds_of "$1")
		[ -z "$least" ] || [ "$n" -lt "$least" ] && least=$n
		sleep 0.05
	done
	echo "$least"
}
lowest_free_fd() {
	local n=0
	while [ -e "/proc/$1/fd/$n" ]; do n=$((n + 1)); done
	echo "$n"
}
rss_of() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }

# ---- the emulator deleted, then truncated, while the sandbox runs -------------------------------

cp "$QEMU" "$T/qemu-a64"
rm -f "$R"/e/*
bg_run "$T/emu.log" run --emulator "aarch64=$T/qemu-a64" --rootfs "$R" -- $NSH sh -c '
	/f/busybox echo before; touch /e/before
	while [ ! -e /e/deleted ]; do /n/busybox usleep 20000; done
	/f/busybox echo after-delete; touch /e/checked
	while [ ! -e /e/truncated ]; do /n/busybox usleep 20000; done
	/bin/exectest errno /f/busybox echo after-truncate'
if step before; then
	# A second name for the inode, to change it in place afterwards (as a package upgrade that
	# rewrites the file would); the name ubinfmt was given is removed.
	ln "$T/qemu-a64" "$T/qemu-a64.other-name"
	rm -f "$T/qemu-a64"
	touch "$R/e/deleted"
	step checked || true
	# ubinfmt's own fd reaches it only through a read-only mount.
	emu_fd=
	ino=$(stat -c %d:%i "$T/qemu-a64.other-name")
	for f in /proc/"$UPID"/fd/*; do
		[ "$(stat -L -c %d:%i "$f" 2>/dev/null)" = "$ino" ] && emu_fd=$f && break
	done
	if [ -n "$emu_fd" ] && ! (: >>"$emu_fd") 2>/dev/null; then
		pass "the emulator fd ubinfmt holds cannot be opened for writing (read-only mount)"
	elif [ -n "$emu_fd" ]; then
		known_bug "the emulator fd ubinfmt holds cannot be opened for writing (read-only mount)" \
			"$emu_fd opens for writing"
	else
		fail "ubinfmt holds the emulator open" "$(ls -l "/proc/$UPID/fd" 2>&1)"
	fi
	truncate -s 0 "$T/qemu-a64.other-name"
	touch "$R/e/truncated"
fi
wait_exit "$UPID" 60
out=$(cat "$T/emu.log")
expect_eq "emulator deleted: foreign execs keep working from ubinfmt's fd" $'before\nafter-delete' \
	"$(grep -E '^(before|after-delete)$' <<<"$out")" "$out"
expect_eq "emulator truncated in place: foreign execs keep working from ubinfmt's copy" \
	after-truncate "$(grep -E '^(errno|after-truncate)' <<<"$out")" "$out"

# ---- out of fds -------------------------------------------------------------------------------

# The soft limit only, and the sandbox raises its own back (exectest needs a pipe per child).
run timeout -k 10 "$UBINFMT_TIMEOUT" prlimit --nofile=64: "$UBINFMT" run --rootfs "$R" -- \
	$NSH sh -c 'ulimit -S -n "$(ulimit -H -n)" && exec /bin/exectest concurrent 64 /f/busybox echo'
expect_eq "RLIMIT_NOFILE 64: 64 foreign execs at once all work" "ok 64/64" "$(grep '^ok' <<<"$out")" "$out"

rm -f "$R"/e/*
bg_run "$T/fd.log" run --rootfs "$R" -- $NSH sh -c '
	/f/busybox echo warm >/dev/null; touch /e/warm
	while [ ! -e /e/squeezed ]; do /n/busybox usleep 20000; done
	/n/busybox echo native-while-squeezed
	/bin/exectest errno /f/busybox echo foreign-while-squeezed
	touch /e/tried
	while [ ! -e /e/released ]; do /n/busybox usleep 20000; done
	/f/busybox echo foreign-after-release; touch /e/recovered
	while [ ! -e /e/end ]; do /n/busybox usleep 20000; done'
if step warm; then
	before=$(fds_settled "$UPID")
	# The limit is the lowest free fd number: every further open fails with EMFILE.
	free=$(lowest_free_fd "$UPID")
	prlimit --pid "$UPID" --nofile="$free:"
	touch "$R/e/squeezed"
	step tried || true
	prlimit --pid "$UPID" --nofile=1024:
	touch "$R/e/released"
	step recovered || true
	after=$(fds_settled "$UPID")
	touch "$R/e/end"
fi
wait_exit "$UPID" 60
out=$(cat "$T/fd.log")
expect_eq "out of fds: native execs still run" native-while-squeezed \
	"$(grep -x native-while-squeezed <<<"$out")" "$out"
expect_eq "out of fds: a foreign exec fails with ENOEXEC" "errno ENOEXEC" "$(grep '^errno' <<<"$out")" "$out"
if grep -qiE 'too many open files|EMFILE|file descriptors' <<<"$out"; then
	pass "out of fds: ubinfmt says so on stderr"
else
	fail "out of fds: ubinfmt says so on stderr" "$out"
fi
expect_eq "out of fds: recovered once the limit is back" foreign-after-release \
	"$(grep -x foreign-after-release <<<"$out")" "$out"
expect_eq "out of fds: no fd lost or leaked" "${before:-?}" "${after:-??}"

# ---- soak -------------------------------------------------------------------------------------

rm -f "$R"/e/*
printf '#!/n/busybox sh\nexit 0\n' >"$R/n/script"
chmod 755 "$R/n/script"
start=$(date +%s)
bg_run "$T/soak.log" run --rootfs "$R" -- $NSH sh -c '
	soak() { i=0; while [ $i -lt $1 ]; do
		case $((i % 50)) in
		0) /f/busybox true ;;
		25) /e/missing 2>/dev/null ;;
		10) /n/script ;;
		*) /n/busybox true ;;
		esac
		i=$((i + 1)); done; }
	soak 500; touch /e/warm
	while [ ! -e /e/go ]; do /n/busybox usleep 20000; done
	soak '"$SOAK_N"'; touch /e/done
	while [ ! -e /e/end ]; do /n/busybox usleep 20000; done
	echo soaked'
if step warm; then
	fd0=$(fds_settled "$UPID") rss0=$(rss_of "$UPID")
	touch "$R/e/go"
	wait_file "$R/e/done" $((60 + SOAK_N / 20)) || true
	fd1=$(fds_settled "$UPID") rss1=$(rss_of "$UPID")
	touch "$R/e/end"
fi
wait_exit "$UPID" 60
secs=$(($(date +%s) - start))
echo "info: soak of $SOAK_N execs in ${secs}s: supervisor fds ${fd0:-?} -> ${fd1:-?}, VmRSS ${rss0:-?} -> ${rss1:-?} kB"
expect_eq "soak: the sandbox ran to the end" "soaked 0" "$(tail -n 1 "$T/soak.log") $status" "$(tail "$T/soak.log")"
expect_eq "soak: no fd growth after $SOAK_N execs" "${fd0:-?}" "${fd1:-??}"
if is_asan_build "$UBINFMT"; then
	# ASan keeps freed memory in quarantine (256 MB by default): RSS says nothing here.
	skip_check "soak: VmRSS growth at most $SOAK_RSS_KB kB" "an ASan build ($((rss1 - rss0)) kB)"
elif [ -n "${rss0:-}" ] && [ -n "${rss1:-}" ] && [ $((rss1 - rss0)) -le "$SOAK_RSS_KB" ]; then
	pass "soak: VmRSS grew by $((rss1 - rss0)) kB (at most $SOAK_RSS_KB)"
else
	fail "soak: VmRSS growth at most $SOAK_RSS_KB kB" "${rss0:-?} -> ${rss1:-?} kB"
fi

finish
