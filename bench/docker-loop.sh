#!/usr/bin/env bash
# Scenario 6 of bench/run.sh: the same 100-exec arm64 loop (bench/execloop.sh) as
#   docker:  `docker run --runtime ubinfmt` on a private dockerd 20.10 (Debian's docker.io) with
#            ubinfmt-runtime added as a runtime, serving an image made from ROOTFS;
#   ubinfmt: `ubinfmt run --rootfs ROOTFS`;
#   binfmt:  bench/binfmt-env.sh --rootfs ROOTFS (binfmt_misc in a throwaway user namespace),
# in interleaved rounds, each run timed whole by hyperfine, the loop's own time printed by it.
#
#   docker-loop.sh ROOTFS ROUNDS EXECS
#
# Called by run.sh with UBINFMT, UBINFMTD, UBINFMT_RUNTIME (its build), BENCH_RECORDS (the
# records file), BENCH_RAW (where to put each run's files), BENCH_BINFMT (1: the binfmt_misc
# baseline works here) and BENCH_BINFMT_REG.  The engines come from the integration tests'
# harness (tests/integration/engine_lib.sh): containerd, dockerd and ubinfmtd are private to this
# run, under a temporary directory, and gone when it ends.  Exit status 77: the host lacks
# something (printed).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rootfs=${1:?rootfs} rounds=${2:?rounds} execs=${3:?execs}
tests=$here/../tests/integration

# shellcheck source=SCRIPTDIR/../tests/integration/lib.sh
source "$tests/lib.sh"
# shellcheck source=SCRIPTDIR/../tests/integration/oci_lib.sh
source "$tests/oci_lib.sh"
# shellcheck source=SCRIPTDIR/../tests/integration/engine_lib.sh
source "$tests/engine_lib.sh"

need_root
need_docker
need_cmd hyperfine

start_daemon
runtime_conf "$T/runtime.conf"
containerd_start UBINFMT_RUNTIME_CONFIG="$T/runtime.conf"
dockerd_start --env UBINFMT_RUNTIME_CONFIG="$T/runtime.conf" --add-runtime ubinfmt="$UBINFMT_RUNTIME"
image=ubinfmt-bench/arm64:1
image_from_rootfs "$image" "$rootfs" arm64 || { echo "bench: docker load failed" >&2; exit 1; }

# hyperfine runs commands itself (-N): the docker client's settings go through the environment.
export DOCKER_HOST=unix://$DOCKER_SOCK DOCKER_CONFIG=$T/docker-cli
variants=(docker ubinfmt)
[ "${BENCH_BINFMT:-0}" = 1 ] && variants+=(binfmt)

cmd=()
loop_cmd() {
	case $1 in
	docker) cmd=("$DOCKER_CLI" run --rm --runtime ubinfmt --platform linux/arm64 --network none "$image") ;;
	ubinfmt) cmd=("$UBINFMT" run --rootfs "$rootfs" --) ;;
	binfmt) cmd=(bash "$here/binfmt-env.sh" --rootfs "$rootfs" --) ;;
	esac
	cmd+=(/bin/sh /bench/execloop.sh "$execs")
}

for v in "${variants[@]}"; do # warm-up: page cache, the image's first container
	loop_cmd "$v"
	"${cmd[@]}" >/dev/null 2>&1
done
for ((r = 1; r <= rounds; r++)); do
	for v in "${variants[@]}"; do
		loop_cmd "$v"
		out=$BENCH_RAW/s6-$v-$r.out j=$BENCH_RAW/s6-$v-$r.json
		hyperfine -N -i --style none --runs 1 --output "$out" --export-json "$j" --command-name "$v" \
			"$(printf '%q ' "${cmd[@]}")" >/dev/null 2>>"$BENCH_RAW/stderr.log" ||
			echo "bench: 6: hyperfine failed for $v in round $r" >&2
		printf '6\t%s\t%s\thyperfine=%s out=%s execs=%s\n' "$v" "$r" "$j" "$out" "$execs" >>"$BENCH_RECORDS"
	done
done
cp "$OCI_LOG" "$BENCH_RAW/s6-ubinfmtd.log"
engines_stop_check >&2
finish >&2
