# shellcheck shell=bash
# shellcheck disable=SC2154 # status and out are set by lib.sh's run
# A private containerd (1.6 in Debian 12) for the tests, sourced after lib.sh and oci_lib.sh.
#
# Everything it owns lives under $CTD ($T/ctd): its config, root, state, gRPC and ttrpc sockets,
# the FIFOs of `ctr`, the CRI plugin's pod logs.  It runs in a mount namespace of its own
# (`unshare -m --propagation private`) with a tmpfs on /run, so the mounts it and its shims make
# (image snapshots, container root filesystems, pod /dev/shm) and what they put in /run whatever
# the configuration says (shim sockets in /run/containerd/s, runc's state in
# /run/containerd/runc) never reach the host, and go with the last of its processes.  The CRI plugin is loaded with host-network pods only (no CNI), its
# streaming server on a port of the kernel's choice on 127.0.0.1, and the settings this host
# needs (restrict_oom_score_adj: root here lacks CAP_SYS_RESOURCE).
#
# The exit trap removes the CRI pods, kills and deletes the tasks and containers of every
# namespace the test used, stops containerd and then any shim of it still running (by pid, found
# by this containerd's own socket path in their command line), and removes the cgroups the test
# named, before oci_lib.sh's own clean-up.
#
#   ctd_start [TOML]       starts it (TOML: more configuration, appended) and waits until it answers
#   ctd_stop               stops it (the exit trap does too)
#   ctd_ctr ARG…           `ctr` on its socket, in namespace $CTD_NS, with a time limit
#   cri ARG…               tests/integration/cri.py on its socket (the CRI API over gRPC)
#   make_oci_archive ROOTFS ARCH REF OUT [CMD_JSON]
#                          an OCI image archive (one layer) of a directory tree, for `ctr import`
#   make_oci_index IN REF OUT
#                          the same image with an index (a one-platform list) as its top

CTD=$T/ctd
CTD_SOCK=$CTD/containerd.sock
CTD_LOG=$CTD/containerd.log
CTD_NS=ubinfmt-$TEST_NAME-$$
CTD_PID=
# The CRI's pod sandbox ("pause") image: never pulled, ctd_import_pause imports it.
CTD_PAUSE_IMAGE=localhost/ubinfmt-pause:test
CTD_NAMESPACES=("$CTD_NS")
CRI_PY=$LIB_DIR/cri.py
# Debian's python3, whose dist-packages have python3-grpcio, even when another python3 is first
# on PATH.
CRI_PYTHON=/usr/bin/python3
[ -x "$CRI_PYTHON" ] || CRI_PYTHON=python3

need_containerd() {
	need_cmd containerd ctr containerd-shim-runc-v2 unshare
}

# Whether the CRI API can be driven from here (python3-grpcio); says why not on stderr.
have_cri_client() {
	"$CRI_PYTHON" -c 'import grpc' 2>/dev/null && return 0
	echo "no python3-grpcio for $CRI_PYTHON (tools/deps.sh installs it)" >&2
	return 1
}

ctd_ctr() {
	timeout -k 5 "$UBINFMT_OCI_TIMEOUT" ctr --address "$CTD_SOCK" --namespace "$CTD_NS" "$@"
}

cri() {
	timeout -k 5 "$UBINFMT_OCI_TIMEOUT" "$CRI_PYTHON" "$CRI_PY" "$CTD_SOCK" "$@"
}

# The shims of this containerd: they outlive it when a task was not deleted, and are known by the
# socket they were told to call back.
ctd_shim_pids() {
	local f pid
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		tr '\0' ' ' 2>/dev/null <"$f" | grep -- "containerd-shim.* -address $CTD_SOCK " >/dev/null && echo "$pid"
	done
	return 0
}

ctd_stop() {
	local i pid
	[ -n "$CTD_PID" ] || return 0
	kill "$CTD_PID" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		lib_alive "$CTD_PID" || break
		sleep 0.1
	done
	lib_alive "$CTD_PID" && kill -KILL "$CTD_PID" 2>/dev/null
	wait "$CTD_PID" 2>/dev/null
	CTD_PID=
	for pid in $(ctd_shim_pids); do
		kill -KILL "$pid" 2>/dev/null
	done
	return 0
}

ctd_cleanup() {
	local ns id
	if [ -n "$CTD_PID" ] && lib_alive "$CTD_PID"; then
		[ -S "$CTD_SOCK" ] && cri rmp-all >/dev/null 2>&1
		for ns in "${CTD_NAMESPACES[@]}"; do
			for id in $(CTD_NS=$ns ctd_ctr tasks ls -q 2>/dev/null); do
				CTD_NS=$ns ctd_ctr tasks kill -s KILL "$id" >/dev/null 2>&1
				CTD_NS=$ns ctd_ctr tasks delete -f "$id" >/dev/null 2>&1
			done
			for id in $(CTD_NS=$ns ctd_ctr containers ls -q 2>/dev/null); do
				CTD_NS=$ns ctd_ctr containers delete "$id" >/dev/null 2>&1
			done
		done
	fi
	ctd_stop
	oci_cleanup
}
trap ctd_cleanup EXIT

# ctd_start [TOML]: containerd on $CTD_SOCK with the environment of this shell (so a runtime shim
# named in TOML sees UBINFMT_RUNTIME_CONFIG); waits (30 s at most) until `ctr version` answers.
# The CRI's default runtime, runc, is declared unless CTD_DECLARE_RUNC=0.
# Fails the test, with containerd's log, when it does not come up.
ctd_start() {
	local i
	mkdir -p "$CTD/root" "$CTD/state" "$CTD/fifo" "$CTD/cni" "$CTD/opt"
	cat >"$CTD/config.toml" <<EOF
version = 2
root = "$CTD/root"
state = "$CTD/state"
disabled_plugins = ["io.containerd.internal.v1.tracing", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = "$CTD_SOCK"

[ttrpc]
  address = "$CTD_SOCK.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "$CTD/opt"

[plugins."io.containerd.grpc.v1.cri"]
  restrict_oom_score_adj = true
  sandbox_image = "$CTD_PAUSE_IMAGE"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CTD/cni"
    conf_dir = "$CTD/cni"
$([ "${CTD_DECLARE_RUNC:-1}" = 1 ] && printf '%s\n' \
		'  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]' \
		'    runtime_type = "io.containerd.runc.v2"')
${1:-}
EOF
	# A tmpfs on /run in its own mount namespace: its shims put their sockets in
	# /run/containerd/s and the runc state in /run/containerd/runc, whatever the configuration
	# says; the host's /run never sees them.
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -m --propagation private sh -c 'mount -t tmpfs -o mode=0755 ubinfmt-containerd /run &&
		exec containerd --config "$0"' "$CTD/config.toml" >"$CTD_LOG" 2>&1 &
	CTD_PID=$!
	for ((i = 0; i < 300; i++)); do
		ctr --address "$CTD_SOCK" version >/dev/null 2>&1 && return 0
		lib_alive "$CTD_PID" || break
		sleep 0.1
	done
	fail "containerd starts" "$(tail -n 40 "$CTD_LOG")"
	finish
}

# make_oci_archive ROOTFS ARCH REF OUT [CMD_JSON]: writes OUT, an OCI image layout in a tar
# (what `ctr image import` reads), of one uncompressed layer holding the tree ROOTFS (owners
# root, modes, symlinks and hard links kept), a config saying linux/ARCH with CMD_JSON (a JSON
# array) as its Cmd, and index.json naming it REF (io.containerd.image.name).  The image is one
# manifest, not an index: see docs/containerd.md for why that matters to the CRI of 1.6.
make_oci_archive() {
	python3 - "$@" <<'PY'
import hashlib, io, json, os, sys, tarfile

rootfs, arch, ref, out = sys.argv[1:5]
cmd = json.loads(sys.argv[5]) if len(sys.argv) > 5 else ["/bin/sh"]

def entries(top):
    yield "."
    for d, dirs, files in os.walk(top):
        dirs.sort()
        for n in sorted(dirs + files):
            yield os.path.relpath(os.path.join(d, n), top)

layer = io.BytesIO()
with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as t:
    for rel in entries(rootfs):
        info = t.gettarinfo(os.path.join(rootfs, rel), arcname=rel)
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mtime = 0
        if info.isreg():
            with open(os.path.join(rootfs, rel), "rb") as f:
                t.addfile(info, f)
        else:
            t.addfile(info)
layer = layer.getvalue()

blobs = {}
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    blobs[d] = data
    return "sha256:" + d

layer_digest = blob(layer)
config = json.dumps({
    "architecture": arch, "os": "linux",
    "config": {"Cmd": cmd, "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
    "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
}).encode()
config_digest = blob(config)
manifest = json.dumps({
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest,
               "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest,
                "size": len(layer)}],
}).encode()
manifest_digest = blob(manifest)
index = json.dumps({
    "schemaVersion": 2,
    "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest,
                   "size": len(manifest), "platform": {"architecture": arch, "os": "linux"},
                   "annotations": {"io.containerd.image.name": ref,
                                   "org.opencontainers.image.ref.name": ref.rsplit(":", 1)[-1]}}],
}).encode()

with tarfile.open(out, "w") as t:
    def add(name, data):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    add("oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
    add("index.json", index)
    for d, data in blobs.items():
        add("blobs/sha256/" + d, data)
PY
}

# make_oci_index IN REF OUT: OUT is the image of archive IN (make_oci_archive) as an index that
# lists its one manifest with its platform, named REF: the shape of a registry's multi-platform
# image that has no entry for the host.
make_oci_index() {
	python3 - "$@" <<'PY'
import hashlib, io, json, sys, tarfile

src, ref, out = sys.argv[1:4]
with tarfile.open(src) as t:
    files = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
top = json.loads(files["index.json"])
entry = top["manifests"][0]
inner = json.dumps({
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [{k: entry[k] for k in ("mediaType", "digest", "size", "platform")}],
}).encode()
digest = hashlib.sha256(inner).hexdigest()
files["blobs/sha256/" + digest] = inner
top["manifests"] = [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + digest,
                     "size": len(inner), "annotations": {"io.containerd.image.name": ref}}]
files["index.json"] = json.dumps(top).encode()
with tarfile.open(out, "w") as t:
    for name, data in files.items():
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
PY
}
