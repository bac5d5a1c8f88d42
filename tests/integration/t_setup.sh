#!/usr/bin/env bash
# `ubinfmt setup docker|podman|containerd` (issue 10, item 3) on configuration files under a
# throwaway root (--root): on an empty root it writes exactly what deploy/ ships; on a root
# with an admin's files (daemon.json with other keys and mode 0600, Debian's config.toml, the
# host's /etc/containers) it merges, --dry-run changes nothing, a second run changes nothing,
# --undo gives back the tree byte for byte (contents, modes, owners, no directory or record
# left), a file changed since setup loses only ubinfmt's entries, and files it cannot edit
# safely are refused untouched.  What it writes is loaded by the real engines, each private to
# this test: containerd 1.6 (`config dump` and a running containerd whose CRI plugin loads with
# the handler), podman 4.3 (/etc/containers bind-mounted in a private mount namespace, `podman
# info` resolves the runtime) and dockerd 20.10 (`docker info` lists the runtime, and the
# default with --default).
# shellcheck source=tests/integration/lib.sh disable=SC2154 # status and out come from lib.sh's run
. "$(dirname "$0")/lib.sh"

need_root
need_real_ubinfmt
need_cmd python3 cmp md5sum
RT=/usr/bin/ubinfmt-runtime # the package's path: what the configurations name
DEPLOY=$REPO/deploy

# setup ARG…: `ubinfmt setup ARG…` (the caller gives --root).
setup() { "$UBINFMT" setup --runtime-path "$RT" "$@"; }

# snapshot DIR: every entry's path, mode, owner and size, and every file's checksum.
snapshot() {
	(cd "$1" && find . -printf '%p %M %U:%G %s %l\n' | sort && find . -type f -exec md5sum {} + | sort -k 2)
}

# json_get FILE EXPR: a Python expression on the JSON document d of FILE.
json_get() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>&1; }

# Debian 12's /etc/containerd/config.toml, as the containerd package ships it.
debian_containerd_toml() {
	cat <<'EOF'
version = 2

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "/etc/cni/net.d"
  [plugins."io.containerd.internal.v1.opt"]
    path = "/var/lib/containerd/opt"
EOF
}

# make_root DIR: a root as an admin's machine has it.
make_root() {
	local r=$1
	mkdir -p "$r/etc/docker" "$r/etc/containerd" "$r/var/lib"
	printf '{\n    "deprecated-key-path": "%s",\n    "log-level": "warn"\n}\n' "$T/docker-key.json" >"$r/etc/docker/daemon.json"
	chmod 600 "$r/etc/docker/daemon.json"
	debian_containerd_toml >"$r/etc/containerd/config.toml"
	if [ -d /etc/containers ]; then
		cp -a /etc/containers "$r/etc/containers"
	else
		mkdir -p "$r/etc/containers"
		echo '{"default": [{"type": "insecureAcceptAnything"}]}' >"$r/etc/containers/policy.json"
	fi
}

# ---- on an empty root: exactly what deploy/ ships ---------------------------------------------

E=$T/empty
mkdir -p "$E/var/lib"
check "setup docker on an empty root" setup docker --root "$E"
check "  daemon.json is deploy/docker/daemon.json" cmp "$DEPLOY/docker/daemon.json" "$E/etc/docker/daemon.json"
check "setup docker --default on an empty root" setup docker --default --root "$E"
check "  the BuildKit drop-in is deploy/docker/docker.service.d/ubinfmt.conf" \
	cmp "$DEPLOY/docker/docker.service.d/ubinfmt.conf" "$E/etc/systemd/system/docker.service.d/ubinfmt.conf"
check "setup podman on an empty root" setup podman --root "$E"
check "  the drop-in is deploy/podman/containers.conf.d/ubinfmt.conf" \
	cmp "$DEPLOY/podman/containers.conf.d/ubinfmt.conf" "$E/etc/containers/containers.conf.d/ubinfmt.conf"
check "setup containerd on an empty root" setup containerd --root "$E"
check "  config.toml is deploy/containerd/config.toml" cmp "$DEPLOY/containerd/config.toml" "$E/etc/containerd/config.toml"
for e in docker podman containerd; do
	setup "$e" --undo --root "$E" >/dev/null 2>&1
done
expect_eq "--undo of all three leaves the empty root as it was" "./var ./var/lib" \
	"$(cd "$E" && find . -mindepth 1 | sort | xargs)"

# ---- an admin's root: dry run, setup, again, undo ----------------------------------------------

R=$T/root
make_root "$R"
before=$(snapshot "$R")

# cycle ENGINE [--default]: the four steps every engine goes through.
# shellcheck disable=SC2086 # $opt: no word or one
cycle() {
	local e=$1 opt=${2:-} after label="$1${2:+ $2}"
	run setup "$e" $opt --dry-run --root "$R"
	expect_match "$label --dry-run: says what it would do" "--dry-run \\(nothing is changed.*\\):"$'\n'"  $R/etc/" "$out"
	expect_eq "$label --dry-run: changes nothing" "$before" "$(snapshot "$R")"
	run setup "$e" $opt --root "$R"
	expect_eq "$label: exit status 0" 0 "$status" "$out"
	expect_match "$label: prints how to undo it" "Undo it: ubinfmt setup $e --root $R --undo" "$out"
	after=$(snapshot "$R")
	run setup "$e" $opt --root "$R"
	expect_match "$label again: nothing to change" "nothing to change: $e is set up already" "$out"
	expect_eq "$label again: not a byte changed" "$after" "$(snapshot "$R")"
}
# uncycle ENGINE: --undo gives back the root as it was, byte for byte.
uncycle() {
	local e=$1 mid
	mid=$(snapshot "$R")
	run setup "$e" --undo --dry-run --root "$R"
	expect_eq "$e --undo --dry-run: changes nothing" "$mid" "$(snapshot "$R")"
	run setup "$e" --undo --root "$R"
	expect_match "$e --undo: says what it restored" "restored as it was before setup \\(byte for byte\\)|removed \\(there was none" "$out"
	expect_eq "$e --undo: the root is as it was, byte for byte (modes, owners, no record left)" "$before" \
		"$(snapshot "$R")" "$(diff <(echo "$before") <(snapshot "$R"))"
	run setup "$e" --undo --root "$R"
	expect_match "$e --undo again: nothing to undo" "nothing to undo" "$out"
}

# Docker: a merge into the admin's daemon.json.
cycle docker
d=$R/etc/docker/daemon.json
expect_eq "docker: runtimes.ubinfmt.path is the shim" "$RT" "$(json_get "$d" 'd["runtimes"]["ubinfmt"]["path"]')"
expect_eq "docker: the admin's keys stay" "warn $T/docker-key.json" \
	"$(json_get "$d" 'd["log-level"] + " " + d["deprecated-key-path"]')"
expect_eq "docker: no default runtime without --default" False "$(json_get "$d" '"default-runtime" in d')"
expect_eq "docker: daemon.json keeps its mode (0600)" 600 "$(stat -c %a "$d")"
run setup docker --default --root "$R"
expect_eq "docker --default: default-runtime is ubinfmt" ubinfmt "$(json_get "$d" 'd["default-runtime"]')"
dropin=$R/etc/systemd/system/docker.service.d/ubinfmt.conf
expect_match "docker --default: BuildKit's runc through the shim (drop-in)" \
	'Environment="PATH=/usr/libexec/ubinfmt:' "$(cat "$dropin" 2>&1)"
run setup docker --root "$R"
expect_eq "docker without --default again: the default goes" False "$(json_get "$d" '"default-runtime" in d')"
check "  and so does the drop-in (and its directories)" test ! -e "$R/etc/systemd"
uncycle docker
cycle docker --default
uncycle docker

# podman: a containers.conf.d drop-in.
cycle podman
expect_match "podman: the drop-in names the runtime" "ubinfmt = \\[\"$RT\"\\]" \
	"$(cat "$R/etc/containers/containers.conf.d/ubinfmt.conf" 2>&1)"
uncycle podman

# containerd: the handler block after Debian's file, which stays as it was.
cycle containerd
toml=$R/etc/containerd/config.toml
expect_eq "containerd: Debian's file is kept, byte for byte, before the block" "$(debian_containerd_toml)" \
	"$(sed -n '1,/^# BEGIN ubinfmt setup/p' "$toml" | sed '$d' | sed '$d')"
uncycle containerd

# ---- changed since setup: only ubinfmt's entries go ------------------------------------------

run setup docker --default --root "$R"
python3 -c 'import json, sys; p = sys.argv[1]; d = json.load(open(p)); d["debug"] = True; json.dump(d, open(p, "w"))' "$d"
echo '# the admin was here' >>"$dropin"
run setup docker --undo --root "$R"
expect_match "docker --undo after an edit: says the file changed since" "daemon.json: changed since setup" "$out"
expect_eq "  the admin's edit stays, ubinfmt's entries go" "True False False warn" \
	"$(json_get "$d" 'str(d["debug"]) + " " + str("runtimes" in d) + " " + str("default-runtime" in d) + " " + d["log-level"]')"
check "  the drop-in (ubinfmt's alone) goes" test ! -e "$dropin"
check "  no undo record is left" test ! -e "$R/var/lib/ubinfmt"
make_root "$T/fresh" && cp -a "$T/fresh/etc/docker/daemon.json" "$d"

run setup containerd --root "$R"
echo '# the admin was here' >>"$toml"
run setup containerd --undo --root "$R"
expect_eq "containerd --undo after an edit: Debian's file and the admin's line, no block" \
	"$(debian_containerd_toml)"$'\n'"# the admin was here" "$(cat "$toml")"
debian_containerd_toml >"$toml"
expect_eq "the root is as it was for what follows" "$before" "$(snapshot "$R")"

# ---- refused, untouched ----------------------------------------------------------------------

echo '{"log-level": "warn",}' >"$d"
bad=$(snapshot "$R")
run setup docker --root "$R"
expect_eq "an invalid daemon.json: exit status 1" 1 "$status" "$out"
expect_match "  the error names the file and the fault" "daemon.json: not JSON: .*nothing changed" "$out"
expect_eq "  nothing changed, no record made" "$bad" "$(snapshot "$R")"
cp -a "$T/fresh/etc/docker/daemon.json" "$d"
mv "$d" "$R/etc/docker/real.json" && ln -s real.json "$d"
bad=$(snapshot "$R")
run setup docker --root "$R"
expect_match "a symlinked daemon.json is refused" "a symlink or not a regular file.*nothing changed" "$out"
expect_eq "  nothing changed" "$bad" "$(snapshot "$R")"
rm "$d" && mv "$R/etc/docker/real.json" "$d"
printf '%s\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.ubinfmt]\n  runtime_type = "x"\n' \
	"$(debian_containerd_toml)" >"$toml"
run setup containerd --root "$R"
expect_match "a config.toml with its own handler \"ubinfmt\" is refused, naming the line" \
	'config.toml: line 10 already defines a runtime handler "ubinfmt"' "$out"
debian_containerd_toml >"$toml"
run setup containerd --default --root "$R"
expect_eq "containerd --default is refused (no default to set)" 2 "$status" "$out"
expect_eq "the root is untouched by the refusals" "$before" "$(snapshot "$R")"

# ---- loaded by the real engines --------------------------------------------------------------

# A root of its own, naming a runtime that exists on this machine (podman checks the path):
# the build's ubinfmt-runtime, or runc as its stand-in until this tree has it.
L=$T/load
make_root "$L"
LOADRT=$(dirname "$UBINFMT")/ubinfmt-runtime
[ -x "$LOADRT" ] || LOADRT=$(command -v runc || echo /usr/sbin/runc)
for e in containerd podman; do
	"$UBINFMT" setup "$e" --root "$L" --runtime-path "$LOADRT" >/dev/null 2>&1
done
"$UBINFMT" setup docker --default --root "$L" --runtime-path "$LOADRT" >/dev/null 2>&1

# containerd: what it reads of the file, then a running containerd with its CRI plugin.
if command -v containerd >/dev/null 2>&1 && command -v ctr >/dev/null 2>&1; then
	C=$T/ctd
	mkdir -p "$C"
	# root, state and sockets of its own under $T; the file setup wrote is imported as it is.
	# The opt plugin would make the file's /var/lib/containerd/opt on this machine: off.
	cat >"$C/config.toml" <<EOF
version = 2
root = "$C/root"
state = "$C/state"
imports = ["$L/etc/containerd/config.toml"]
disabled_plugins = ["io.containerd.internal.v1.opt"]
[grpc]
  address = "$C/containerd.sock"
[ttrpc]
  address = "$C/containerd.sock.ttrpc"
[debug]
  address = "$C/debug.sock"
[metrics]
  address = ""
EOF
	dump=$(containerd --config "$C/config.toml" config dump 2>&1)
	expect_match "containerd config dump: the handler ubinfmt runs the shim" \
		'\[plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.ubinfmt\.options\][^[]*BinaryName = "'"$LOADRT"'"' "$dump"
	expect_match "containerd config dump: runc, the default handler, is still there" \
		'\[plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.runc\]' "$dump"
	printf '[plugins.cri]\n  sandbox_image = "registry.k8s.io/pause:3.6"\n' >"$C/v1.toml"
	mkdir -p "$C/v1/etc/containerd" && cp "$C/v1.toml" "$C/v1/etc/containerd/config.toml"
	"$UBINFMT" setup containerd --root "$C/v1" --runtime-path "$LOADRT" >/dev/null 2>&1
	expect_match "containerd reads a version 1 file's handler (plugins.cri) as the CRI plugin's" \
		'runtimes\.ubinfmt\.options\][^[]*BinaryName = "'"$LOADRT"'"' \
		"$(containerd --config "$C/v1/etc/containerd/config.toml" config dump 2>&1)"
	# A private mount namespace: whatever containerd mounts goes with it.
	had_run_containerd=0
	[ -e /run/containerd ] && had_run_containerd=1
	unshare --mount --propagation private containerd --config "$C/config.toml" >"$T/containerd.log" 2>&1 &
	ctd=$!
	track_pid "$ctd"
	for ((i = 0; i < 100; i++)); do
		[ -S "$C/containerd.sock" ] && ctr --address "$C/containerd.sock" version >/dev/null 2>&1 && break
		sleep 0.1
	done
	expect_match "a private containerd 1.6 loads it: its CRI plugin is ok" \
		'io\.containerd\.grpc\.v1[[:space:]]+cri[[:space:]]+linux/[a-z0-9]+[[:space:]]+ok' \
		"$(ctr --address "$C/containerd.sock" plugins ls 2>&1)" "$(grep -i 'cri' "$T/containerd.log" | tail -5)"
	kill "$ctd" 2>/dev/null
	wait "$ctd" 2>/dev/null
	[ "$had_run_containerd" = 0 ] && rmdir /run/containerd/s /run/containerd 2>/dev/null
else
	skip_check "containerd loads the handler" "no containerd and ctr here (tools/deps.sh installs containerd)"
fi

# podman: /etc/containers of the root, bind-mounted over this machine's in a private namespace.
if command -v podman >/dev/null 2>&1; then
	pinfo() {
		mkdir -p "$T/podman"
		unshare --mount --propagation private sh -c 'mount --bind "$1/etc/containers" /etc/containers && shift &&
			exec podman --root "$0/root" --runroot "$0/run" --tmpdir "$0/tmp" --storage-driver vfs "$@"' \
			"$T/podman" "$L" "$@" info --format '{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Path}}' 2>&1
	}
	expect_eq "podman --runtime ubinfmt: podman finds the runtime in the drop-in" "ubinfmt $LOADRT" "$(pinfo --runtime ubinfmt)"
	expect_ne "podman without --runtime: its own default, without --default" "ubinfmt $LOADRT" "$(pinfo)"
	"$UBINFMT" setup podman --default --root "$L" --runtime-path "$LOADRT" >/dev/null 2>&1
	expect_eq "podman after setup --default: ubinfmt is the default runtime" "ubinfmt $LOADRT" "$(pinfo)"
else
	skip_check "podman loads the drop-in" "no podman here"
fi

# dockerd: its own data, exec root, socket and pid file under $T, on the private containerd
# above, in a private mount namespace; no bridge, no iptables.
if command -v dockerd >/dev/null 2>&1 && [ -n "${ctd:-}" ]; then
	DK=$T/dk
	mkdir -p "$DK"
	had_run_docker=0
	[ -e /run/docker ] && had_run_docker=1
	unshare --mount --propagation private containerd --config "$C/config.toml" >>"$T/containerd.log" 2>&1 &
	ctd=$!
	track_pid "$ctd"
	for ((i = 0; i < 100; i++)); do
		[ -S "$C/containerd.sock" ] && ctr --address "$C/containerd.sock" version >/dev/null 2>&1 && break
		sleep 0.1
	done
	unshare --mount --propagation private dockerd --config-file "$L/etc/docker/daemon.json" --data-root "$DK/data" \
		--exec-root "$DK/exec" --pidfile "$DK/dockerd.pid" --host "unix://$DK/docker.sock" \
		--containerd "$C/containerd.sock" --bridge none --iptables=false --ip6tables=false --ip-masq=false \
		--ip-forward=false --userland-proxy=false >"$T/dockerd.log" 2>&1 &
	dkd=$!
	track_pid "$dkd"
	docker_cli=$(command -v /usr/bin/docker docker | head -n 1)
	for ((i = 0; i < 300; i++)); do
		info=$(DOCKER_HOST=unix://$DK/docker.sock DOCKER_CONFIG=$T/docker-cli timeout 10 "$docker_cli" info \
			--format '{{json .Runtimes}} {{.DefaultRuntime}}' 2>&1) && break
		lib_alive "$dkd" || break
		sleep 0.1
	done
	expect_match "a private dockerd 20.10 loads daemon.json: the runtime ubinfmt runs the shim" \
		'"ubinfmt":\{"path":"'"$LOADRT"'"' "$info" "$(tail -n 5 "$T/dockerd.log")"
	expect_match "  and it is the default (--default)" ' ubinfmt$' "$info"
	kill "$dkd" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		lib_alive "$dkd" || break
		sleep 0.1
	done
	wait "$dkd" 2>/dev/null
	kill "$ctd" 2>/dev/null
	wait "$ctd" 2>/dev/null
	[ "$had_run_docker" = 0 ] && rmdir /run/docker/plugins /run/docker 2>/dev/null
	[ "$had_run_containerd" = 0 ] && rmdir /run/containerd/s /run/containerd 2>/dev/null
else
	skip_check "dockerd loads daemon.json" "no dockerd here (docker.io; tools/deps.sh with UBINFMT_ENGINES=1), or no containerd"
fi

finish
