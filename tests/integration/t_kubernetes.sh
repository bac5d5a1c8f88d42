#!/usr/bin/env bash
# deploy/kubernetes (issue 10, item 4): the manifests validated against the Kubernetes API's
# schemas and linted (tools/k8s-validate.sh, pinned packages from the npm registry), and the
# validator shown to catch what it should (a misspelt field, a wrong type, a duplicate key,
# capabilities that differ from the systemd unit's, a pairing the API server refuses); the
# containerd handler snippet is what `ubinfmt setup containerd` appends to a `containerd config
# default` file, and a private containerd 1.6 loads it (config dump, CRI plugin ok); the CRI-O
# snippet parses as TOML with the handler; ubinfmtd under the DaemonSet's capability set (as its
# bounding set) serves an arm64 exec with its emulators read-only, and warns without
# CAP_SYS_ADMIN; the DaemonSet's install script, run in a bare
# rootfs laid out as the image is, installs the shim and the configuration on the "node" and
# keeps a node's own configuration on a second run.
# shellcheck source=tests/integration/lib.sh disable=SC2154 # status and out come from lib.sh's run
. "$(dirname "$0")/lib.sh"

need_root
need_real_ubinfmt
K=$REPO/deploy/kubernetes
UNIT=$REPO/deploy/systemd/ubinfmtd.service.in
BUILD=$(cd "$(dirname "$UBINFMT")/.." && pwd)
version=$(sed -n 's/^project(ubinfmt VERSION \([0-9.]*\) .*/\1/p' "$REPO/CMakeLists.txt")

# ---- schema validation and lint ---------------------------------------------------------------

validate() { bash "$REPO/tools/k8s-validate.sh" "$1" "$version" "$UNIT"; }
run validate "$K"
if [ "$status" = 3 ]; then
	skip_check "the manifests against the API's schemas" "the validator cannot be installed here: $out"
else
	expect_eq "deploy/kubernetes: valid against the API's schemas, and the lint finds nothing" \
		"0 5 documents checked, 0 findings" "$status $(tail -n 1 <<<"$out")" "$out"

	# mutant NAME FINDING-REGEX PYTHON: a copy of the manifests changed by PYTHON (s is
	# daemonset.yaml's text), which the validator must refuse with FINDING.
	mutant() {
		local d=$T/mutant-$1
		cp -r "$K" "$d"
		python3 -c 'import sys; p = sys.argv[1]; s = open(p).read(); exec(sys.argv[2]); open(p, "w").write(s)' \
			"$d/daemonset.yaml" "$3"
		run validate "$d"
		expect_match "the validator refuses $1" "$2" "$out"
		expect_eq "  with exit status 1" 1 "$status"
	}
	mutant "a misspelt field (hostPid)" 'spec/template/spec/hostPid is not a field of the API' \
		's = s.replace("hostPID: true", "hostPid: true")'
	mutant "a wrong type (a string for an integer)" 'schema: /spec/template/spec/terminationGracePeriodSeconds must be integer' \
		's = s.replace("terminationGracePeriodSeconds: 30", "terminationGracePeriodSeconds: \"30\"")'
	mutant "a duplicate key" 'YAML: Map keys must be unique' \
		's = s.replace("hostPID: true", "hostPID: true\n      hostPID: false")'
	mutant "capabilities other than the unit's" 'ubinfmtd needs exactly DAC_OVERRIDE DAC_READ_SEARCH KILL SETPCAP SYS_ADMIN SYS_NICE SYS_PTRACE' \
		's = s.replace(", \"SETPCAP\"]", "]")'
	mutant "allowPrivilegeEscalation: false with CAP_SYS_ADMIN" 'the API server refuses that' \
		's = s.replace("            runAsUser: 0\n            readOnlyRootFilesystem: true\n", "            runAsUser: 0\n            allowPrivilegeEscalation: false\n            readOnlyRootFilesystem: true\n")'
	mutant "an image of another version" "image localhost/ubinfmt:9.9.9: this is ubinfmt $version" \
		"s = s.replace('image: localhost/ubinfmt:$version', 'image: localhost/ubinfmt:9.9.9', 1)"
fi

# ---- ubinfmtd with the DaemonSet's capabilities ------------------------------------------------

# The container's capability sets are the DaemonSet's list: so is the bounding set here (root's
# effective and permitted sets follow it).  With them ubinfmtd opens its emulators read-only,
# serves an arm64 exec, and says nothing is missing; without CAP_SYS_ADMIN it warns.
if [ -x "$UBINFMTD" ] && [ -x "$UBINFMT_INIT" ] && [ -x "$(busybox arm64)" ] && command -v setpriv >/dev/null 2>&1 &&
	{ command -v qemu-aarch64-static || command -v qemu-aarch64; } >/dev/null 2>&1; then
	caps=$(sed -n 's/^ *add: \[\(.*"SYS_PTRACE".*\)\]$/\1/p' "$K/daemonset.yaml" | tr -d '" ' | tr '[:upper:]' '[:lower:]')
	# capped_daemon NAME CAPS: ubinfmtd with the bounding set CAPS, an arm64 uname -m through it.
	capped_daemon() {
		local d=$T/capped-$1 pid i
		mkdir -p "$d"
		setpriv --bounding-set "-all,+${2//,/,+}" --inh-caps=-all "$UBINFMTD" --socket "$d/agent.sock" \
			--oci-socket "$d/oci.sock" --control "$d/control.sock" >"$d/log" 2>&1 &
		pid=$!
		track_pid "$pid"
		for ((i = 0; i < 100; i++)); do
			"$UBINFMT" status --control "$d/control.sock" >/dev/null 2>&1 && break
			sleep 0.1
		done
		run timeout -k 5 60 "$UBINFMT_INIT" --socket "$d/agent.sock" -- "$(busybox arm64)" uname -m
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		log=$(cat "$d/log")
	}
	capped_daemon daemonset "$caps"
	expect_eq "ubinfmtd with the DaemonSet's capabilities ($caps) serves an arm64 exec" "0 aarch64" "$status $out" "$log"
	expect_eq "  and warns of nothing (emulators on a read-only mount)" "" "$(grep -E 'warn|error' <<<"$log")"
	capped_daemon no-sys-admin "${caps/,sys_admin/}"
	expect_match "without CAP_SYS_ADMIN it warns that the emulators are writable" "emulators are not on a read-only mount" "$log"
else
	skip_check "ubinfmtd with the DaemonSet's capabilities" "needs ubinfmtd, ubinfmt-init, setpriv, the arm64 busybox fixture and qemu-aarch64"
fi

# ---- the containerd handler --------------------------------------------------------------------

if command -v containerd >/dev/null 2>&1 && command -v ctr >/dev/null 2>&1; then
	# A node configured the usual way (containerd config default) gets exactly the snippet.
	N=$T/node
	mkdir -p "$N/etc/containerd" "$N/var/lib"
	containerd config default >"$N/etc/containerd/config.toml" 2>/dev/null
	cp "$N/etc/containerd/config.toml" "$T/default.toml"
	"$UBINFMT" setup containerd --root "$N" --runtime-path /opt/ubinfmt/bin/ubinfmt-runtime >/dev/null 2>&1
	expect_eq "containerd.toml is what ubinfmt setup appends to a 'containerd config default' file" \
		"$(cat "$T/default.toml"; echo; cat "$K/containerd.toml")" "$(cat "$N/etc/containerd/config.toml")"
	# The same handler as docs/containerd.md's, which t_containerd runs CRI pods on.
	expect_eq "containerd.toml's handler is docs/containerd.md's (t_containerd runs pods on it), at /opt/ubinfmt" \
		"$(sed -n '/^```toml$/,/^```$/{p;/^```$/q}' "$REPO/docs/containerd.md" | sed '1d;$d' |
			sed 's|/usr/bin/ubinfmt-runtime|/opt/ubinfmt/bin/ubinfmt-runtime|')" \
		"$(grep -v '^#' "$K/containerd.toml")"
	cat "$T/default.toml" "$K/containerd.toml" >"$T/appended.toml"
	dump=$(containerd --config "$T/appended.toml" config dump 2>&1)
	expect_match "containerd 1.6 reads the snippet: the handler ubinfmt runs /opt/ubinfmt/bin/ubinfmt-runtime" \
		'runtimes\.ubinfmt\.options\][^[]*BinaryName = "/opt/ubinfmt/bin/ubinfmt-runtime"' "$dump"
	# A running containerd (its own root, state and sockets) with the snippet: CRI plugin ok.
	C=$T/ctd
	mkdir -p "$C"
	{
		cat <<EOF
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = ["io.containerd.internal.v1.opt"]
[grpc]
  address = "$C/containerd.sock"
[ttrpc]
  address = "$C/containerd.sock.ttrpc"
[debug]
  address = "$C/debug.sock"
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
EOF
		cat "$K/containerd.toml"
	} >"$C/config.toml"
	had_run_containerd=0
	[ -e /run/containerd ] && had_run_containerd=1
	unshare --mount --propagation private containerd --config "$C/config.toml" >"$T/containerd.log" 2>&1 &
	ctd=$!
	track_pid "$ctd"
	for ((i = 0; i < 100; i++)); do
		[ -S "$C/containerd.sock" ] && ctr --address "$C/containerd.sock" version >/dev/null 2>&1 && break
		sleep 0.1
	done
	expect_match "a private containerd 1.6 with the snippet: its CRI plugin is ok" \
		'io\.containerd\.grpc\.v1[[:space:]]+cri[[:space:]]+linux/[a-z0-9]+[[:space:]]+ok' \
		"$(ctr --address "$C/containerd.sock" plugins ls 2>&1)" "$(grep -i cri "$T/containerd.log" | tail -5)"
	kill "$ctd" 2>/dev/null
	wait "$ctd" 2>/dev/null
	[ "$had_run_containerd" = 0 ] && rmdir /run/containerd/s /run/containerd 2>/dev/null
else
	skip_check "containerd loads the handler snippet" "no containerd and ctr here (tools/deps.sh installs containerd)"
fi

# ---- the CRI-O handler -------------------------------------------------------------------------

run python3 -c '
import sys, tomllib
c = tomllib.load(open(sys.argv[1], "rb"))
h = c["crio"]["runtime"]["runtimes"]["ubinfmt"]
print(h["runtime_path"], h["runtime_type"], h["runtime_root"])' "$K/crio.conf"
expect_eq "crio.conf: TOML with the handler ubinfmt running the node's shim" \
	"/opt/ubinfmt/bin/ubinfmt-runtime oci /run/runc" "$out"

# ---- the DaemonSet's install script ------------------------------------------------------------

if command -v shellcheck >/dev/null 2>&1; then
	check "install-node passes shellcheck" shellcheck -s sh "$K/install-node"
fi
if [ ! -x "$(busybox amd64)" ]; then
	skip_check "install-node in a rootfs laid out as the image" "no amd64 busybox fixture (bash tools/fixtures.sh)"
	finish
fi
# The image's layout, with busybox for the shell and tools; the node's directories at /host.
I=$T/image
mkdir -p "$I/bin" "$I/usr/bin" "$I/usr/lib/ubinfmt" "$I/etc/ubinfmt" "$I/host/opt/ubinfmt" "$I/host/etc/ubinfmt"
cp "$(busybox amd64)" "$I/bin/busybox"
for a in sh cp chmod mv ln mkdir echo head; do ln -s busybox "$I/bin/$a"; done
cp "$K/install-node" "$I/usr/lib/ubinfmt/install-node"
cp "$REPO/deploy/ubinfmt/runtime.conf" "$I/etc/ubinfmt/runtime.conf"
shim=$BUILD/bin/ubinfmt-runtime
[ -x "$shim" ] || shim=$BUILD/bin/ubinfmt-init # a stand-in program until this tree has the shim
cp "$shim" "$I/usr/bin/ubinfmt-runtime"
# The image's static copy for nodes (deploy/CMakeLists.txt), when this build has one.
node_shim=$I/usr/bin/ubinfmt-runtime
if [ -x "$BUILD/node/ubinfmt-runtime" ]; then
	mkdir -p "$I/usr/lib/ubinfmt/node"
	cp "$BUILD/node/ubinfmt-runtime" "$I/usr/lib/ubinfmt/node/ubinfmt-runtime"
	node_shim=$I/usr/lib/ubinfmt/node/ubinfmt-runtime
fi
run chroot "$I" /usr/lib/ubinfmt/install-node /host/opt/ubinfmt /host/etc/ubinfmt
expect_eq "install-node: exit status 0" 0 "$status" "$out"
check "  the node has the image's ubinfmt-runtime in /opt/ubinfmt/bin (the static one if any)" \
	cmp "$node_shim" "$I/host/opt/ubinfmt/bin/ubinfmt-runtime"
expect_eq "  executable by all, writable by root only" 755 "$(stat -c %a "$I/host/opt/ubinfmt/bin/ubinfmt-runtime")"
expect_eq "  and its runc name for BuildKit" ../../bin/ubinfmt-runtime "$(readlink "$I/host/opt/ubinfmt/libexec/ubinfmt/runc")"
check "  and /etc/ubinfmt/runtime.conf" cmp "$I/etc/ubinfmt/runtime.conf" "$I/host/etc/ubinfmt/runtime.conf"
echo "mode = auto" >>"$I/host/etc/ubinfmt/runtime.conf"
run chroot "$I" /usr/lib/ubinfmt/install-node /host/opt/ubinfmt /host/etc/ubinfmt
expect_match "install-node again: keeps the node's runtime.conf, and says so" "keeping the node's /etc/ubinfmt/runtime.conf" "$out"
expect_eq "  the node's change is still there" "mode = auto" "$(tail -n 1 "$I/host/etc/ubinfmt/runtime.conf")"
expect_eq "  no temporary file is left" "" "$(find "$I/host" -name '.*.new')"

finish
