#!/usr/bin/env bash
# What ubinfmt-runtime adds to a container's start: `create` + `start` of a native busybox
# bundle (Docker 20.10's default seccomp profile, /bin/true) measured with hyperfine, three ways:
#
#   runc            the bundle as the engine wrote it, straight to runc (no ubinfmt at all)
#   runc+agent      the same bundle already rewritten (listenerPath = ubinfmtd), straight to runc:
#                   what ubinfmtd's seccomp agent costs, with no shim
#   shim            the engine's bundle through ubinfmt-runtime, restored before every run: the
#                   shim's rewrite (parse, merge, write, fsync, rename) plus the agent
#
# shim - runc+agent is the shim's own cost, measured alone first (the real runtime replaced by
# /bin/true), then in container starts interleaved round by round.  Needs root, runc, the build (build/bin) and the
# fixtures; installs hyperfine from Debian when missing.  Everything lives in a temporary
# directory, removed at exit, with ubinfmtd on its own sockets there.
#
#   sudo bash bench/runtime_start.sh [RUNS]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-40}
bin=${UBINFMT_BIN:-$repo/build/bin}
fixtures=${UBINFMT_FIXTURES:-$repo/.cache/fixtures}
profile=$repo/tests/unit/data/runtime/docker-20.10-default.json

die() { echo "runtime_start.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (runc)"
{ [ -x "$bin/ubinfmt-runtime" ] && [ -x "$bin/ubinfmtd" ]; } || die "build first: no $bin/ubinfmt-runtime or ubinfmtd"
[ -d "$fixtures/rootfs/busybox-amd64" ] || die "no fixtures at $fixtures (bash tools/fixtures.sh)"
command -v runc >/dev/null || die "runc is not installed (bash tools/deps.sh)"
if ! command -v hyperfine >/dev/null; then
	echo "runtime_start.sh: installing hyperfine" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends hyperfine >/dev/null
fi

T=$(mktemp -d /tmp/ubinfmt-bench-runtime.XXXXXX)
dpid=
cleanup() {
	runc --root "$T/state" delete -f bench >/dev/null 2>&1 || true
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	rm -rf --one-file-system "$T"
}
trap cleanup EXIT

"$bin/ubinfmtd" --socket "$T/agent.sock" --oci-socket "$T/oci.sock" --control "$T/control.sock" \
	>"$T/daemon.log" 2>&1 &
dpid=$!
for _ in $(seq 50); do [ -S "$T/control.sock" ] && break; sleep 0.1; done

cp -a "$fixtures/rootfs/busybox-amd64" "$T/rootfs"
mkdir -p "$T/b"
runc spec --bundle "$T/b"
python3 - "$T/b/config.json" "$T/rootfs" "$profile" <<'PY'
import json, sys
p, rootfs, prof = sys.argv[1:]
c = json.load(open(p))
c["root"]["path"] = rootfs
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["linux"]["seccomp"] = json.load(open(prof))["linux"]["seccomp"]
json.dump(c, open(p, "w"), indent=1)
PY
cp "$T/b/config.json" "$T/engine.json"
printf 'socket = %s\n' "$T/oci.sock" >"$T/runtime.conf"
UBINFMT_RUNTIME_CONFIG=$T/runtime.conf "$bin/ubinfmt-runtime" --root "$T/state" create --bundle "$T/b" bench </dev/null
runc --root "$T/state" delete -f bench
cp "$T/b/config.json" "$T/rewritten.json"

export UBINFMT_RUNTIME_CONFIG=$T/runtime.conf

# 1. The shim alone: its whole run up to the exec of the real runtime, which is /bin/true here
#    (UBINFMT_RUNTIME_REAL), on the engine's bundle restored before each run; against /bin/true.
hyperfine -N --style basic --warmup 5 --runs "$((runs * 5))" --export-json "$T/alone.json" \
	--prepare "cp $T/engine.json $T/b/config.json" \
	--command-name "true" "/bin/true create --bundle $T/b bench" \
	--command-name "shim, real runtime /bin/true" \
	"env UBINFMT_RUNTIME_REAL=/bin/true $bin/ubinfmt-runtime --root $T/state create --bundle $T/b bench" \
	>"$T/alone.txt"

# 2. Container start, the three ways interleaved round by round (this machine's timing drifts
#    with its neighbours' load; a variant measured in one block would carry that drift).
python3 - "$T" "$bin/ubinfmt-runtime" "$runs" <<'PY'
import json, shutil, statistics, subprocess, sys, time
T, shim, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
rt = ["--root", T + "/state"]
variants = [("runc", "runc", T + "/engine.json"), ("runc+agent", "runc", T + "/rewritten.json"),
            ("shim", shim, T + "/engine.json")]
samples = {v[0]: [] for v in variants}
for r in range(runs + 3):
    for i in range(len(variants)):
        name, prog, config = variants[(i + r) % len(variants)]
        subprocess.run(["runc", *rt, "delete", "-f", "bench"], stderr=subprocess.DEVNULL)
        shutil.copy(config, T + "/b/config.json")
        t0 = time.perf_counter()
        subprocess.run([prog, *rt, "create", "--bundle", T + "/b", "bench"], stdin=subprocess.DEVNULL, check=True)
        subprocess.run([prog, *rt, "start", "bench"], check=True)
        dt = time.perf_counter() - t0
        if r >= 3:
            samples[name].append(dt * 1000)
subprocess.run(["runc", *rt, "delete", "-f", "bench"], stderr=subprocess.DEVNULL)
a = json.load(open(T + "/alone.json"))["results"]
alone = (a[1]["median"] - a[0]["median"]) * 1000
med = {k: statistics.median(v) for k, v in samples.items()}
q = {k: statistics.quantiles(v, n=4) for k, v in samples.items()}
print("the shim alone (parse, merge, write, fsync, rename, exec): %.2f ms (median; /bin/true %.2f ms, "
      "shim+true %.2f ms)" % (alone, a[0]["median"] * 1000, a[1]["median"] * 1000))
for k in med:
    print("create+start %-10s median %6.1f ms  (quartiles %.1f-%.1f, %d runs)" % (k, med[k], q[k][0], q[k][2], len(samples[k])))
print("shim vs runc+agent: %+.1f ms (%.3fx); shim vs plain runc: %+.1f ms (%.3fx)" %
      (med["shim"] - med["runc+agent"], med["shim"] / med["runc+agent"], med["shim"] - med["runc"],
       med["shim"] / med["runc"]))
PY
