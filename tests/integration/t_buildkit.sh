#!/usr/bin/env bash
# BuildKit inside dockerd (Debian's docker.io 20.10, `DOCKER_BUILDKIT=1 docker build`) through
# ubinfmt-runtime.  BuildKit ignores dockerd's runtimes and runs `runc` from dockerd's PATH, so
# the shim goes first on that PATH under the name `runc`, as installed (/usr/libexec/ubinfmt/runc,
# a symbolic link to /usr/bin/ubinfmt-runtime) and as deploy/docker's drop-in for docker.service
# sets dockerd's PATH, with no `runtime` in its configuration: it must find the real runc
# further down PATH, never itself.
#
#  1. Installed as `runc` first on PATH, the shim passes `runc --version` to the real runc.
#  2. `DOCKER_BUILDKIT=1 docker build --platform linux/arm64` of a Dockerfile FROM the arm64
#     busybox image (loaded with `docker load`, no registry): its RUN steps run arm64 code
#     (nested shells, a native busybox beside them), each one a container ubinfmtd served, and
#     the image holds what they wrote; a failing RUN step's exit status comes back.
#  3. With ubinfmtd stopped, the build fails with one line naming the socket and how to start
#     the daemon; started again, the build works.
#  4. Control: the same dockerd without the shim on its PATH: the same RUN step fails with
#     "exec format error" (this host has no binfmt_misc entry for arm64), so the shim is what
#     made it work.
#  5. Stopping both daemons leaves no mount, shim or containerized task behind.
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
# No `runtime` key: the shim looks `runc` up on PATH, where it comes first itself.
runtime_conf "$T/runtime.conf"
containerd_start UBINFMT_RUNTIME_CONFIG="$T/runtime.conf"

# As installed: PREFIX/bin/ubinfmt-runtime, and PREFIX/libexec/ubinfmt/runc a symbolic link to it.
mkdir -p "$T/usr/bin" "$T/usr/libexec/ubinfmt"
cp "$UBINFMT_RUNTIME" "$T/usr/bin/ubinfmt-runtime"
ln -s ../../bin/ubinfmt-runtime "$T/usr/libexec/ubinfmt/runc"
UBINFMT_RUNTIME=$T/usr/bin/ubinfmt-runtime
SYS_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# dockerd's environment from the drop-in `ubinfmt setup docker --default` installs for
# docker.service, its /usr/libexec/ubinfmt moved under $T.  (Docker 20.10 does not read
# DOCKER_BUILDKIT_RUNC_COMMAND; it is passed on as the drop-in sets it.)
dropin=$REPO/deploy/docker/docker.service.d/ubinfmt.conf
dropin_env() {
	sed -n "s/^Environment=\"$1=\(.*\)\"\$/\1/p" "$dropin" 2>/dev/null | sed "s|/usr/libexec/ubinfmt|$T/usr/libexec/ubinfmt|g"
}
SHIM_PATH=$(dropin_env PATH)
RUNC_COMMAND=$(dropin_env DOCKER_BUILDKIT_RUNC_COMMAND)
expect_match "deploy's docker.service drop-in puts the shim's directory first on dockerd's PATH" \
	"^$T/usr/libexec/ubinfmt:.*/usr/sbin" "$SHIM_PATH" "$(cat "$dropin" 2>&1)"
[ -n "$SHIM_PATH" ] || finish

# ---- 1. the shim as `runc` first on PATH ---------------------------------------------------------

run env PATH="$SHIM_PATH" UBINFMT_RUNTIME_CONFIG="$T/runtime.conf" timeout 20 runc --version
want=$("$ENGINE_REAL_RUNC" --version 2>&1)
expect_eq "the shim as runc first on PATH: runc --version is the real runc's" "$want" "$out" \
	"exit status $status"

# ---- 2. BuildKit's RUN steps through the shim ------------------------------------------------------

dockerd_start --env PATH="$SHIM_PATH" ${RUNC_COMMAND:+--env DOCKER_BUILDKIT_RUNC_COMMAND="$RUNC_COMMAND"} \
	--env UBINFMT_RUNTIME_CONFIG="$T/runtime.conf" --add-runtime ubinfmt="$UBINFMT_RUNTIME"
if ! image_from_rootfs "$IMG" "$R" arm64; then
	fail "docker load of the arm64 image" "$(tail -n 20 "$DOCKERD_LOG")"
	finish
fi

mkdir -p "$T/ctx" "$T/ctx-fail"
cat >"$T/ctx/Dockerfile" <<EOF
FROM $IMG
RUN uname -m && sh -c 'uname -m >/arch; exit 0'
RUN /n/busybox uname -m >/native && cat /arch
EOF
printf 'FROM %s\nRUN sh -c "exit 3"\n' "$IMG" >"$T/ctx-fail/Dockerfile"

# bk_build DIR [ARG…]: a BuildKit build of DIR for linux/arm64, no cache (the control below
# must run the steps again), plain progress output.  No network: dockerd has no bridge.
bk_build() {
	local dir=$1
	shift
	DOCKER_BUILDKIT=1 run dk build --platform linux/arm64 --network none --no-cache --progress plain "$@" "$dir"
}

n_before=$(grep -c "(creating" "$OCI_LOG")
bk_build "$T/ctx" -t ubinfmt-test/built:buildkit
# A RUN step's output shows as "#N 0.123 aarch64".
if [ "$status" -eq 0 ] && [ "$(grep -cE '^#[0-9]+ [0-9.]+ aarch64$' <<<"$out")" -eq 2 ]; then
	pass "BuildKit: RUN steps run arm64 code (nested shells, a native program beside them)"
else
	fail "BuildKit: RUN steps run arm64 code (nested shells, a native program beside them)" \
		"exit status $status"$'\n'"$out"
fi
expect_eq "BuildKit: ubinfmtd served both RUN steps" 2 "$(($(grep -c "(creating" "$OCI_LOG") - n_before))"
run dk run --rm --runtime ubinfmt --platform linux/arm64 --network none ubinfmt-test/built:buildkit /bin/cat /arch /native
expect_eq "BuildKit: the image holds what its RUN steps wrote" $'aarch64\nx86_64' "$out" "exit status $status"

bk_build "$T/ctx-fail"
expect_match "BuildKit: a failing RUN step's exit status (3)" "exit code: 3" "$out" "exit status $status"

# ---- 3. ubinfmtd down ------------------------------------------------------------------------------

kill "$OCI_DAEMON_PID" 2>/dev/null
wait "$OCI_DAEMON_PID" 2>/dev/null
OCI_DAEMON_PID=
bk_build "$T/ctx"
line=$(grep -m1 -F "$OCI_SOCK" <<<"$out")
if [ "$status" -ne 0 ] && [[ $line == *ubinfmtd* ]]; then
	pass "ubinfmtd down: the build fails with one line naming the socket and the fix"
	echo "    | $line"
else
	fail "ubinfmtd down: the build fails with one line naming the socket and the fix" \
		"exit status $status"$'\n'"$out"
fi
start_daemon
bk_build "$T/ctx"
expect_eq "ubinfmtd back: the build works again, dockerd untouched" 0 "$status" "$out"

# ---- 4. control: no shim on dockerd's PATH ----------------------------------------------------------

dockerd_stop
dockerd_start --env PATH="$SYS_PATH" --env UBINFMT_RUNTIME_CONFIG="$T/runtime.conf"
n_before=$(grep -c "(creating" "$OCI_LOG")
bk_build "$T/ctx"
if [ "$status" -ne 0 ] && [[ $out == *"exec format error"* ]]; then
	pass "control: without the shim on dockerd's PATH, the arm64 RUN step fails (exec format error)"
else
	fail "control: without the shim on dockerd's PATH, the arm64 RUN step fails (exec format error)" \
		"exit status $status"$'\n'"$out"
fi
expect_eq "control: ubinfmtd served nothing" 0 "$(($(grep -c "(creating" "$OCI_LOG") - n_before))"

daemon_alive "ubinfmtd still running"
engines_stop_check
finish
