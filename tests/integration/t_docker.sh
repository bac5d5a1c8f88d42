#!/usr/bin/env bash
# Docker (Debian's docker.io 20.10) with ubinfmt-runtime as an OCI runtime, and no seccomp
# profile written by anyone: dockerd hands runc's bundle (with Docker's default profile, or none
# with seccomp=unconfined) to the shim, which sends execve/execveat to ubinfmtd.  The image is
# the arm64 busybox fixture (plus a native busybox in /n), loaded with `docker load`, no qemu
# inside, no binfmt_misc.
#
#  1. `dockerd --add-runtime ubinfmt=SHIM --default-runtime ubinfmt`: `docker run` of the arm64
#     image runs a nested foreign pipeline beside a native program and returns its exit status;
#     seccomp=unconfined works too; `docker run -d` + `docker exec` (output, exit status, 128+N
#     for a signal, a second listener in the container's sandbox); the sandbox goes
#     with the container; a classic `docker build` (DOCKER_BUILDKIT=0) whose RUN steps run arm64
#     code, and a failing RUN step's status; a runtime.conf the shim cannot use (an unknown key,
#     no real runtime) and ubinfmtd stopped or killed: `docker run` fails with one line naming the
#     cause and the fix (`docker exec` into a running container: one line naming the socket); with
#     `fallback = native` the container runs without emulation; ubinfmtd back, both work again.
#  2. `dockerd --add-runtime ubinfmt=SHIM` only: `docker run --runtime ubinfmt` prints aarch64,
#     `docker exec` works; the default runtime (runc) is left alone: the same image fails there
#     with "exec format error", and ubinfmtd never hears of that container.
#  3. Stopping both daemons leaves no mount, shim or containerized task behind.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=SCRIPTDIR/oci_lib.sh
source "$(dirname "$0")/oci_lib.sh"
# shellcheck source=SCRIPTDIR/engine_lib.sh
source "$(dirname "$0")/engine_lib.sh"

need_oci_base
need_docker

IMG=ubinfmt-test/busybox-arm64:1
R=$(make_twin_rootfs) || skip "cannot copy the arm64 rootfs"

start_daemon
runtime_conf "$T/runtime.conf"
containerd_start UBINFMT_RUNTIME_CONFIG="$T/runtime.conf"

# run_split CMD…: like run, with stdout in $out and stderr in $err (docker run prints a platform
# warning on stderr for an arm64 image).
err=
run_split() {
	"$@" >"$T/out" 2>"$T/err"
	status=$?
	out=$(cat "$T/out")
	err=$(cat "$T/err")
	[ "${UBINFMT_VERBOSE:-0}" = 1 ] && { echo "  \$ $*"; lib_show "$out"$'\n'"$err"; }
	return 0
}

# served ID: whether ubinfmtd's log shows it served container ID's listener.
served() {
	grep -q "container '$1' (creating" "$OCI_LOG"
}

# What every container of the image runs: a foreign shell, a nested foreign shell, a native
# busybox beside them, exit status 7.
SCRIPT='uname -m; sh -c "uname -m; exit 3"; echo $?; /n/busybox uname -m; exit 7'
WANT=$'aarch64\naarch64\n3\nx86_64'

# ---- 1. ubinfmt as dockerd's default runtime ------------------------------------------------------

dockerd_start --env UBINFMT_RUNTIME_CONFIG="$T/runtime.conf" \
	--add-runtime ubinfmt="$UBINFMT_RUNTIME" --default-runtime ubinfmt
if ! image_from_rootfs "$IMG" "$R" arm64; then
	fail "docker load of the arm64 image" "$(tail -n 20 "$DOCKERD_LOG")"
	finish
fi
expect_eq "the image is arm64" linux/arm64 "$(dk image inspect --format '{{.Os}}/{{.Architecture}}' "$IMG" 2>&1)"

rm -f "$T/cid"
run_split dk run --rm --cidfile "$T/cid" --network none "$IMG" /bin/sh -c "$SCRIPT"
expect_eq "docker run: arm64 pipeline, nested execs, a native program beside them" "$WANT" "$out" \
	"stderr: $err"
expect_eq "docker run: the container's exit status (7)" 7 "$status" "stderr: $err"
if served "$(cat "$T/cid" 2>/dev/null)"; then
	pass "docker run: ubinfmtd served the container, no seccomp profile written by the user"
else
	fail "docker run: ubinfmtd served the container, no seccomp profile written by the user" \
		"container id: $(cat "$T/cid" 2>/dev/null)"$'\n'"$(tail -n 20 "$OCI_LOG")"
fi

run_split dk run --rm --network none --security-opt seccomp=unconfined "$IMG" /bin/sh -c "$SCRIPT"
expect_eq "docker run --security-opt seccomp=unconfined: the shim adds a filter of its own" \
	"$WANT"$'\n'"status 7" "$out"$'\n'"status $status" "stderr: $err"

name=ubinfmt-$TEST_NAME-$$
run_split dk run -d --name "$name" --network none "$IMG" /bin/sleep 120
id=$out
if [ "$status" -eq 0 ] && [[ $id =~ ^[0-9a-f]{64}$ ]]; then
	pass "docker run -d: long-running container starts"
	if wait_field "$id" emulated 1 30; then
		pass "docker run -d: a sandbox named by the container id, its first exec emulated"
	else
		fail "docker run -d: a sandbox named by the container id, its first exec emulated" \
			"emulated: $field_value"$'\n'"$("$UBINFMT" status --control "$OCI_CONTROL" 2>&1)"
	fi
	run_split dk exec "$name" /bin/sh -c 'uname -m; /bin/basename /x/docker-exec; /n/busybox uname -m'
	expect_eq "docker exec: foreign and native commands in the running container" \
		$'aarch64\ndocker-exec\nx86_64' "$out" "exit status $status; stderr: $err"
	expect_status "docker exec: exit status comes back (5)" 5 dk exec "$name" /bin/sh -c 'exit 5'
	expect_status "docker exec: a foreign process killed by SIGKILL gives 137" 137 \
		dk exec "$name" /bin/sh -c 'kill -9 $$'
	# Long enough to be seen whatever the load: docker rm ends it.
	run dk exec -d "$name" /bin/sleep 600
	if [ "$status" -ne 0 ]; then
		fail "docker exec -d: starts" "exit status $status"$'\n'"$out"
	elif wait_field "$id" listeners 2 30; then
		pass "docker exec -d: its listener joins the container's sandbox (2 listeners)"
	else
		fail "docker exec -d: its listener joins the container's sandbox (2 listeners)" \
			"listeners: $field_value"$'\n'"$("$UBINFMT" status --control "$OCI_CONTROL" 2>&1)"
	fi
	expect_eq "status: no failed execs in the container" 0 "$(sandbox_field "$id" failed)"
	check "docker rm -f" dk rm -f "$name"
	if wait_field "$id" emulated none 30; then
		pass "docker rm: the sandbox goes with the container"
	else
		fail "docker rm: the sandbox goes with the container" "$("$UBINFMT" status --control "$OCI_CONTROL" 2>&1)"
	fi
else
	fail "docker run -d: long-running container starts" "exit status $status"$'\n'"$out"$'\n'"$err"
fi

# The classic builder runs each RUN step as a container of the default runtime.
mkdir -p "$T/ctx"
cat >"$T/ctx/Dockerfile" <<EOF
FROM $IMG
RUN uname -m >/arch && sh -c 'exit 0'
RUN ["/bin/sh", "-c", "/n/busybox uname -m >/native; cat /arch"]
EOF
n_before=$(grep -c "(creating" "$OCI_LOG")
DOCKER_BUILDKIT=0 run dk build --network none -t ubinfmt-test/built:classic "$T/ctx"
if [ "$status" -eq 0 ] && grep -qx aarch64 <<<"$out"; then
	pass "docker build (classic): RUN steps run arm64 code"
else
	fail "docker build (classic): RUN steps run arm64 code" "exit status $status"$'\n'"$out"
fi
expect_eq "docker build (classic): ubinfmtd served both RUN steps" 2 \
	"$(($(grep -c "(creating" "$OCI_LOG") - n_before))"
run_split dk run --rm --network none ubinfmt-test/built:classic /bin/cat /arch /native
expect_eq "docker build (classic): the image holds what its RUN steps wrote" $'aarch64\nx86_64' "$out" \
	"exit status $status; stderr: $err"
printf 'FROM %s\nRUN sh -c "exit 3"\n' "$IMG" >"$T/ctx/Dockerfile"
DOCKER_BUILDKIT=0 run dk build --network none "$T/ctx"
expect_match "docker build (classic): a failing RUN step's exit status (3)" \
	"returned a non-zero code: 3" "$out" "exit status $status"

# expect_error_line NAME WORD…: the last command failed, and docker's "Error response" line
# (on stderr; for docker exec, its "OCI runtime exec failed" line, on stdout) holds every WORD.
expect_error_line() {
	local name=$1 w ok=1
	shift
	line=$(grep -m1 -E 'Error response from daemon|OCI runtime exec failed' <<<"$err"$'\n'"$out")
	[ "$status" -ne 0 ] && [ -n "$line" ] || ok=0
	for w in "$@"; do
		[[ $line == *"$w"* ]] || ok=0
	done
	if [ "$ok" = 1 ]; then
		pass "$name"
		echo "    | $line"
	else
		fail "$name" "exit status $status"$'\n'"stdout: $out"$'\n'"stderr: $err"
	fi
}

# A configuration the shim cannot use: it refuses to start the container, naming the file.
runtime_conf "$T/runtime.conf" sokcet=/run/x.sock
run_split dk run --rm --network none "$IMG" /bin/true
expect_error_line "runtime.conf with an unknown key: docker run fails with one line naming the file" \
	"$T/runtime.conf" sokcet
runtime_conf "$T/runtime.conf" runtime=/nonexistent/runc
run_split dk run --rm --network none "$IMG" /bin/true
expect_error_line "runtime.conf naming no real runtime: docker run fails with one line naming it and the fix" \
	/nonexistent/runc "$T/runtime.conf"
runtime_conf "$T/runtime.conf"

# ubinfmtd down: the shim refuses to start a container, and says why and what to do; an exec
# into a container started before fails too (runc's own words, naming the socket).
run_split dk run -d --name "$name-3" --network none "$IMG" /bin/sleep 120
kill "$OCI_DAEMON_PID" 2>/dev/null
wait "$OCI_DAEMON_PID" 2>/dev/null
OCI_DAEMON_PID=
run_split dk run --rm --network none "$IMG" /bin/true
expect_error_line "ubinfmtd down: docker run fails with one line naming the socket and the fix" "$OCI_SOCK" ubinfmtd
run_split dk exec "$name-3" /bin/uname -m
expect_error_line "ubinfmtd down: docker exec fails with one line naming the socket" "$OCI_SOCK"
# Killed, it leaves its socket behind with nobody listening: the same line.
start_daemon
kill -KILL "$OCI_DAEMON_PID" 2>/dev/null
{ wait "$OCI_DAEMON_PID"; } 2>/dev/null
OCI_DAEMON_PID=
run_split dk run --rm --network none "$IMG" /bin/true
expect_error_line "ubinfmtd killed (stale socket): docker run fails with one line naming the socket and the fix" \
	"$OCI_SOCK" ubinfmtd
# fallback = native: the container starts unmodified, its native programs run, foreign ones
# get the kernel's answer.
runtime_conf "$T/runtime.conf" fallback=native
run_split dk run --rm --network none "$IMG" /bin/sh -c '/n/busybox echo native runs; /n/busybox uname -m'
if [ "$status" -ne 0 ] && [[ $err == *"exec format error"* ]]; then
	pass "ubinfmtd down, fallback = native: the container starts without emulation (exec format error)"
else
	fail "ubinfmtd down, fallback = native: the container starts without emulation (exec format error)" \
		"exit status $status"$'\n'"stdout: $out"$'\n'"stderr: $err"
fi
run_split dk run --rm --network none --entrypoint /n/busybox "$IMG" uname -m
expect_eq "ubinfmtd down, fallback = native: a native program runs" "x86_64 0" "$out $status" "stderr: $err"
runtime_conf "$T/runtime.conf"
start_daemon
run_split dk run --rm --network none "$IMG" /bin/uname -m
expect_eq "ubinfmtd back: docker run works again, dockerd untouched" "aarch64 0" "$out $status" "stderr: $err"
run_split dk exec "$name-3" /bin/uname -m
expect_eq "ubinfmtd back: docker exec into the container started before works again" "aarch64 0" \
	"$out $status" "stderr: $err"
check "docker rm -f" dk rm -f "$name-3"

# ---- 2. ubinfmt as an extra runtime only ---------------------------------------------------------

dockerd_stop
dockerd_start --env UBINFMT_RUNTIME_CONFIG="$T/runtime.conf" --add-runtime ubinfmt="$UBINFMT_RUNTIME"
run_split dk run --rm --runtime ubinfmt --network none "$IMG" uname -m
expect_eq "docker run --runtime ubinfmt: aarch64" "aarch64 0" "$out $status" "stderr: $err"

rm -f "$T/cid"
run_split dk run --rm --cidfile "$T/cid" --network none "$IMG" uname -m
if [ "$status" -ne 0 ] && [[ $err == *"exec format error"* ]]; then
	pass "docker run (default runtime runc): untouched, the arm64 image fails with exec format error"
else
	fail "docker run (default runtime runc): untouched, the arm64 image fails with exec format error" \
		"exit status $status"$'\n'"stdout: $out"$'\n'"stderr: $err"
fi
if served "$(cat "$T/cid" 2>/dev/null)"; then
	fail "docker run (default runtime runc): ubinfmtd never hears of it" "$(tail -n 20 "$OCI_LOG")"
else
	pass "docker run (default runtime runc): ubinfmtd never hears of it"
fi

run_split dk run -d --runtime ubinfmt --name "$name-2" --network none "$IMG" /bin/sleep 120
if [ "$status" -eq 0 ]; then
	run_split dk exec "$name-2" /bin/sh -c 'uname -m; sh -c "exit 4"'
	expect_eq "docker exec into a --runtime ubinfmt container: output and exit status" \
		"aarch64 4" "$out $status" "stderr: $err"
	check "docker rm -f" dk rm -f "$name-2"
else
	fail "docker run -d --runtime ubinfmt: starts" "exit status $status"$'\n'"$out"$'\n'"$err"
fi

daemon_alive "ubinfmtd still running"
engines_stop_check
finish
