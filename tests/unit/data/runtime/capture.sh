#!/usr/bin/env bash
# How the engine captures in this folder were made (not run by the test suite): starts each
# engine privately with a logging runtime that records every command line it is called with
# (one JSON array per line, with the cwd) and copies config.json on `create` and `run`, then
# execs the real runc.  Everything lives under a temporary directory removed at exit; dockerd
# runs without iptables, bridge or NAT, podman and the runc states under the same directory.
#
#   bash tests/unit/data/runtime/capture.sh OUTDIR
#
# Needs root, docker.io, containerd, podman, runc (Debian 12) and the arm64 busybox fixture
# (tools/fixtures.sh).  strip.py then keeps of each config.json what the shim reads.
set -euo pipefail
out=$(realpath -m "${1:?usage: capture.sh OUTDIR}")
repo=$(cd "$(dirname "$0")/../../../.." && pwd)
fixtures=${UBINFMT_FIXTURES:-$repo/.cache/fixtures}
docker=/usr/bin/docker
mkdir -p "$out"
T=$(mktemp -d /tmp/ubinfmt-capture.XXXXXX)
dpid='' cg=ubinfmt-capture-$$

cleanup() {
	set +e
	if [ -n "$dpid" ]; then
		# shellcheck disable=SC2046 # one word per container id
		"$docker" -H "unix://$T/docker.sock" rm -f $("$docker" -H "unix://$T/docker.sock" ps -aq) >/dev/null 2>&1
		kill "$dpid"
		for _ in $(seq 50); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.2; done
	fi
	podman --root "$T/podman/root" --runroot "$T/podman/runroot" --storage-driver vfs rm -af >/dev/null 2>&1
	for d in /sys/fs/cgroup/*/"$cg" /sys/fs/cgroup/"$cg"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	grep -F " $T/" /proc/self/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l
	rm -rf --one-file-system "$T"
}
trap cleanup EXIT

# The logging runtime; also installed as "runc" first on dockerd's PATH for BuildKit.
mkdir -p "$T/bin"
cat >"$T/bin/logrt" <<PY
#!/usr/bin/python3
import json, os, shutil, sys
out = "$out"
args = sys.argv[1:]
with open(os.path.join(out, "argv.log"), "a") as f:
    f.write(json.dumps({"who": os.environ.get("CAPTURE_WHO", os.path.basename(sys.argv[0])),
                        "cwd": os.getcwd(), "argv": [sys.argv[0]] + args}) + "\n")
bundle = "."
i = 0
while i < len(args):
    a = args[i]
    if a in ("--bundle", "-b") and i + 1 < len(args):
        bundle = args[i + 1]
    elif a.startswith("--bundle="):
        bundle = a[9:]
    i += 1
if any(a in ("create", "run") for a in args):
    n = len([x for x in os.listdir(out) if x.startswith("config-")])
    try:
        shutil.copy(os.path.join(bundle, "config.json"), os.path.join(out, "config-%02d.json" % n))
    except OSError:
        pass
os.execv("/usr/sbin/runc", ["/usr/sbin/runc"] + args)
PY
chmod +x "$T/bin/logrt"
ln -s logrt "$T/bin/runc"

# An arm64 image from the busybox fixture (no registry here).
tar -C "$fixtures/rootfs/busybox-arm64" -cf "$T/arm64.tar" .
# and a native one, for containers that must keep running (exec).
tar -C "$fixtures/rootfs/busybox-amd64" -cf "$T/amd64.tar" .

# ---- dockerd 20.10 (and its containerd-shim-runc-v2) -------------------------------------
# dockerd 20.10 writes its trust key to /etc/docker/key.json unless told otherwise.
printf '{"deprecated-key-path": "%s"}\n' "$T/key.json" >"$T/daemon.json"
PATH="$T/bin:$PATH" CAPTURE_WHO=dockerd dockerd --config-file "$T/daemon.json" --data-root "$T/docker" --exec-root "$T/exec" \
	--pidfile "$T/docker.pid" -H "unix://$T/docker.sock" --iptables=false --ip-masq=false \
	--bridge=none --storage-driver vfs --cgroup-parent "/$cg" \
	--add-runtime logrt="$T/bin/logrt" >"$T/dockerd.log" 2>&1 &
dpid=$!
D() { "$docker" -H "unix://$T/docker.sock" "$@"; }
for _ in $(seq 100); do D info >/dev/null 2>&1 && break; sleep 0.2; done
D import --platform linux/arm64 "$T/arm64.tar" capture/arm64 >/dev/null
D import "$T/amd64.tar" capture/amd64 >/dev/null
D run --rm --network none --runtime logrt capture/arm64 /bin/true || echo "docker run (arm64, no binfmt): $?"
D run --rm --network none --runtime logrt --privileged capture/arm64 /bin/true || echo "docker run --privileged: $?"
D run -d --name c1 --network none --runtime logrt capture/amd64 /bin/sleep 60 || true
D exec c1 /bin/true || true
D rm -f c1 >/dev/null || true
# BuildKit inside dockerd: finds "runc" on dockerd's PATH.
mkdir -p "$T/ctx"
printf 'FROM capture/arm64\nRUN /bin/true\n' >"$T/ctx/Dockerfile"
DOCKER_BUILDKIT=1 D build --network none -t capture/built "$T/ctx" || echo "buildkit: $?"
DOCKER_BUILDKIT=0 D build --network none -t capture/built0 "$T/ctx" || echo "classic build: $?"
cp "$T/dockerd.log" "$out/dockerd.log"

# ---- podman 4.3 -------------------------------------------------------------------------------
mkdir -p "$T/rootfs" "$T/rootfs-amd64" && tar -C "$T/rootfs" -xf "$T/arm64.tar" &&
	tar -C "$T/rootfs-amd64" -xf "$T/amd64.tar"
P() {
	podman --root "$T/podman/root" --runroot "$T/podman/runroot" --tmpdir "$T/podman/tmp" \
		--storage-driver vfs --cgroup-manager cgroupfs --events-backend file \
		--runtime "$T/bin/logrt" "$@"
}
popts=(--network none --cgroups=no-conmon --cgroup-parent="/$cg" --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
CAPTURE_WHO=podman P run --rm "${popts[@]}" --rootfs "$T/rootfs" /bin/true || echo "podman run: $?"
CAPTURE_WHO=podman P run --rm "${popts[@]}" --privileged --rootfs "$T/rootfs" /bin/true || echo "podman --privileged: $?"
CAPTURE_WHO=podman P run -d --name p1 "${popts[@]}" --rootfs "$T/rootfs-amd64" /bin/sleep 60 || true
CAPTURE_WHO=podman P exec p1 /bin/true || true
CAPTURE_WHO=podman P rm -f -t 0 p1 >/dev/null || true
# podman passes --root, --log and --log-format json only to runtimes named in
# runtime_supports_json (runc, crun…): the same run with the logger installed as "runc".
CAPTURE_WHO=podman-as-runc P --runtime "$T/bin/runc" run --rm "${popts[@]}" --rootfs "$T/rootfs-amd64" /bin/true ||
	echo "podman as runc: $?"

# ---- runc spec ------------------------------------------------------------------------------
mkdir -p "$T/spec" && runc spec --bundle "$T/spec" && cp "$T/spec/config.json" "$out/runc-spec.json"
echo "captured into $out"
