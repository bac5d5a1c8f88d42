#!/usr/bin/env bash
# The .deb for nodes (issue 10, item 3), built by cpack from this very build: what it holds and
# with which owners and modes, its control fields and conffiles; installed into a throwaway
# root by the real dpkg, maintainer scripts included (chrootless: they act on that root only,
# DPKG_ROOT), with the socket units enabled there, an admin's disable kept across a reinstall,
# a changed conffile kept, the prerm's word about engines still set up, and nothing left after
# a purge; the units verified by systemd-analyze; the man pages rendered without a warning and
# naming every option their program's --help names; the static ubinfmt-init running an arm64
# program in a bare rootfs (nothing in it but the init and busybox) under the package's
# ubinfmtd.  The host's dpkg database and systemd configuration are never touched.
# shellcheck source=tests/integration/lib.sh disable=SC2154 # status and out come from lib.sh's run
. "$(dirname "$0")/lib.sh"

need_root
need_real_ubinfmt
need_cmd cpack dpkg dpkg-deb dpkg-query readelf man
BUILD=$(cd "$(dirname "$UBINFMT")/.." && pwd)
[ -f "$BUILD/CPackConfig.cmake" ] || skip "no CPackConfig.cmake in $BUILD (a build configured by cmake)"

version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$BUILD/CPackConfig.cmake")
arch=$(dpkg --print-architecture)
has_runtime=0
[ -x "$BUILD/bin/ubinfmt-runtime" ] && has_runtime=1
# A SANITIZE build has no static programs but the init (the sanitizer runtimes do not link so).
sanitized=$(sed -n 's/^SANITIZE:STRING=//p' "$BUILD/CMakeCache.txt")

# ---- build ------------------------------------------------------------------------------------

# Into $T: the package and cpack's staging tree stay out of the build directory.
check "cpack -G DEB builds the package" cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$T/cpack"
deb=$T/cpack/ubinfmt_${version}_${arch}.deb
[ -f "$deb" ] || { fail "the package is named ubinfmt_${version}_${arch}.deb" "$(ls -l "$T/cpack")"; finish; }
pass "the package is named ubinfmt_${version}_${arch}.deb"

# ---- contents ---------------------------------------------------------------------------------

# "MODE OWNER PATH" per entry, directories without their trailing slash.
listing=$(dpkg-deb -c "$deb" | awk '{ p = $6; for (i = 7; i <= NF; i++) p = p " " $i; sub(/^\.\//, "/", p); sub(/\/$/, "", p); print $1, $2, p }')
have() { # have MODE PATH [LINK-TARGET]
	local want="$1 root/root $2"
	[ -n "${3:-}" ] && want+=" -> $3"
	if grep -qxF -- "$want" <<<"$listing"; then
		pass "contains $2${3:+ -> $3} ($1)"
	else
		fail "contains $2${3:+ -> $3} ($1)" "$(grep -F -- "$2" <<<"$listing" || echo "(absent)")"
	fi
}
have -rwxr-xr-x /usr/bin/ubinfmt
have -rwxr-xr-x /usr/sbin/ubinfmtd
have -rwxr-xr-x /usr/bin/ubinfmt-init
have -rw-r--r-- /usr/lib/systemd/system/ubinfmtd.service
have -rw-r--r-- /usr/lib/systemd/system/ubinfmtd.socket
have -rw-r--r-- /usr/lib/systemd/system/ubinfmtd-agent.socket
have -rw-r--r-- /usr/lib/systemd/system/ubinfmtd-control.socket
have -rw-r--r-- /etc/ubinfmt/runtime.conf
have -rw-r--r-- /usr/share/man/man1/ubinfmt.1.gz
have -rw-r--r-- /usr/share/man/man8/ubinfmtd.8.gz
have -rw-r--r-- /usr/share/man/man1/ubinfmt-init.1.gz
have -rw-r--r-- /usr/share/doc/ubinfmt/copyright
have -rw-r--r-- /usr/share/doc/ubinfmt/README.md
have -rwxr-xr-x /usr/lib/ubinfmt/install-node
for f in daemonset.yaml runtimeclass.yaml namespace.yaml kustomization.yaml containerd.toml crio.conf Dockerfile; do
	have -rw-r--r-- "/usr/share/ubinfmt/kubernetes/$f"
done
have -rw-r--r-- /usr/share/ubinfmt/docker/daemon.json
have -rw-r--r-- /usr/share/ubinfmt/docker/docker.service.d/ubinfmt.conf
have -rw-r--r-- /usr/share/ubinfmt/podman/containers.conf.d/ubinfmt.conf
have -rw-r--r-- /usr/share/ubinfmt/containerd/config.toml
if [ "$has_runtime" = 1 ]; then
	have -rwxr-xr-x /usr/bin/ubinfmt-runtime
	have lrwxrwxrwx /usr/libexec/ubinfmt/runc ../../bin/ubinfmt-runtime
	have -rw-r--r-- /usr/share/man/man8/ubinfmt-runtime.8.gz
	if [ -z "$sanitized" ]; then
		have -rwxr-xr-x /usr/lib/ubinfmt/node/ubinfmt-runtime
	else
		skip_check "contains /usr/lib/ubinfmt/node/ubinfmt-runtime" "a SANITIZE=$sanitized build has no static shim"
	fi
else
	skip_check "contains /usr/bin/ubinfmt-runtime and /usr/libexec/ubinfmt/runc" \
		"this tree has no ubinfmt-runtime yet (no $BUILD/bin/ubinfmt-runtime)"
fi
expect_eq "everything is under /usr or /etc, owned by root" "" \
	"$(awk '$2 != "root/root" || ($3 !~ /^\/(usr|etc)(\/|$)/ && $3 != "")' <<<"$listing")"
expect_eq "nothing is writable by group or others" "" "$(awk 'substr($1, 1, 1) != "l" && $1 ~ /^.....w|^........w/' <<<"$listing")"

# ---- control fields ---------------------------------------------------------------------------

field() { dpkg-deb -f "$deb" "$1"; }
expect_eq "Package: ubinfmt" ubinfmt "$(field Package)"
expect_eq "Version: the project's ($version)" "$version" "$(field Version)"
expect_eq "Architecture: this machine's ($arch)" "$arch" "$(field Architecture)"
expect_match "Depends: qemu-user-static (the emulators ubinfmtd hands to containers)" \
	'(^|, )qemu-user-static(,|$)' "$(field Depends)"
expect_match "Depends: the shared libraries, from dpkg-shlibdeps" \
	'libseccomp2 \(>= [^)]+\).*liburing2 \(>= [^)]+\)|liburing2.*libseccomp2' "$(field Depends)"
expect_match "Recommends: a real OCI runtime" 'runc \| crun' "$(field Recommends)"
expect_match "Maintainer: a name and an address" '^[^<]+ <[^>]+@[^>]+>$' "$(field Maintainer)"
expect_match "Description: a summary line and a long description" $'^[^\n]+\n .+' "$(field Description)"

dpkg-deb -e "$deb" "$T/control"
expect_eq "conffiles: /etc/ubinfmt/runtime.conf" /etc/ubinfmt/runtime.conf "$(cat "$T/control/conffiles" 2>&1)"
for s in postinst prerm postrm; do
	check "$s is a valid sh script" sh -n "$T/control/$s"
	if command -v shellcheck >/dev/null 2>&1; then
		check "$s passes shellcheck" shellcheck -s sh "$T/control/$s"
	fi
done

# ---- install, reinstall, remove, purge in a throwaway root -------------------------------------

R=$T/root
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates"
: >"$R/var/lib/dpkg/status"
# The maintainer scripts run on this machine with DPKG_ROOT=$R (no chroot: the root has no
# shell); the dependencies are this machine's, not the root's.
rdpkg() { dpkg --root="$R" --force-script-chrootless --force-depends --log=/dev/null "$@"; }
host_systemd() { find /etc/systemd/system /var/lib/systemd/deb-systemd-helper-enabled 2>/dev/null | sort; }
host_before=$(host_systemd)
host_dpkg() { dpkg-query -W -f='${Status} ${Version}' ubinfmt 2>&1; }
host_dpkg_before=$(host_dpkg)

check "dpkg --root installs it (maintainer scripts run)" rdpkg -i "$deb"
expect_eq "dpkg says it is installed" "install ok installed" \
	"$(dpkg-query --root="$R" -W -f='${Status}' ubinfmt 2>&1)"
expect_eq "dpkg -L lists every file of the package" \
	"$(awk '$1 !~ /^d/ { print $3 }' <<<"$listing" | sed 's/ -> .*//' | sort)" \
	"$(dpkg-query --root="$R" -L ubinfmt | while read -r f; do [ -d "$R$f" ] && [ ! -L "$R$f" ] || echo "$f"; done | sort)"
expect_match "dpkg records the conffile with its checksum" '/etc/ubinfmt/runtime.conf [0-9a-f]{32}' \
	"$(dpkg-query --root="$R" -W -f='${Conffiles}' ubinfmt)"

wants=$R/etc/systemd/system/sockets.target.wants
for u in ubinfmtd.socket ubinfmtd-agent.socket ubinfmtd-control.socket; do
	expect_eq "postinst enabled $u (in the root)" "/usr/lib/systemd/system/$u" "$(readlink "$wants/$u")"
done
expect_eq "the service itself is not enabled: its sockets start it" "" \
	"$(find "$R/etc/systemd" -name ubinfmtd.service)"
expect_match "the service runs the installed ubinfmtd" '^ExecStart=/usr/sbin/ubinfmtd$' \
	"$(grep '^ExecStart=' "$R/usr/lib/systemd/system/ubinfmtd.service")"

if command -v systemd-analyze >/dev/null 2>&1 && [ -d /usr/lib/systemd/system ]; then
	# systemd-analyze resolves the units' dependencies (sockets.target…) inside the root: a
	# copy of it, with this machine's targets and slices added.
	cp -a "$R" "$T/vroot"
	cp -n /usr/lib/systemd/system/*.target /usr/lib/systemd/system/*.slice "$T/vroot/usr/lib/systemd/system/" 2>/dev/null
	units=(/usr/lib/systemd/system/ubinfmtd.service /usr/lib/systemd/system/ubinfmtd.socket
		/usr/lib/systemd/system/ubinfmtd-agent.socket /usr/lib/systemd/system/ubinfmtd-control.socket)
	run env SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --root="$T/vroot" "${units[@]}"
	expect_eq "systemd-analyze verify: the units are clean" "0:" "$status:$out"
else
	skip_check "systemd-analyze verify" "no systemd-analyze or systemd units on this machine"
fi

# An admin disables one socket and changes the conffile; a reinstall (as an upgrade would) keeps both.
systemctl --root="$R" disable ubinfmtd-agent.socket >/dev/null 2>&1 ||
	rm -f "$wants/ubinfmtd-agent.socket"
echo "mode = auto" >>"$R/etc/ubinfmt/runtime.conf"
check "dpkg --root reinstalls it" rdpkg -i "$deb"
expect_eq "a socket the admin disabled stays disabled" "" "$(readlink "$wants/ubinfmtd-agent.socket")"
expect_eq "the others stay enabled" /usr/lib/systemd/system/ubinfmtd.socket "$(readlink "$wants/ubinfmtd.socket")"
expect_eq "the admin's change to runtime.conf is kept" "mode = auto" "$(tail -n 1 "$R/etc/ubinfmt/runtime.conf")"

# Removal while `ubinfmt setup` still points an engine at the shim: the prerm says how to undo it.
mkdir -p "$R/var/lib/ubinfmt/setup/docker"
run rdpkg -r ubinfmt
expect_eq "dpkg --root removes it" 0 "$status" "$out"
expect_match "prerm names the engine still set up and the command that undoes it" \
	'ubinfmt: docker is still set up to use ubinfmt-runtime; undo it with: ubinfmt setup docker --undo' "$out"
expect_eq "the programs are gone" "" "$(ls "$R/usr/bin" "$R/usr/sbin" 2>/dev/null)"
expect_eq "the conffile stays until purge" "mode = auto" "$(tail -n 1 "$R/etc/ubinfmt/runtime.conf" 2>&1)"

check "dpkg --root purges it" rdpkg -P ubinfmt
expect_eq "after the purge no file or link is left but dpkg's database" "" \
	"$(cd "$R" && find . -not -path './var/lib/dpkg/*' \( -type f -o -type l \) | sed 's/^\.//' | sort)"
check "setup's undo records are kept (the engines' original files)" test -d "$R/var/lib/ubinfmt/setup/docker"
expect_eq "this machine's systemd configuration is untouched" "$host_before" "$(host_systemd)"
expect_eq "this machine's dpkg database knows nothing new of ubinfmt" "$host_dpkg_before" "$(host_dpkg)"

# ---- man pages --------------------------------------------------------------------------------

X=$T/x
dpkg-deb -x "$deb" "$X"
# man_page PAGE PROGRAM…: renders without a warning and names every --option of PROGRAM --help.
man_page() {
	local page=$1 rendered opt missing=
	shift
	rendered=$(LC_ALL=C.UTF-8 MANWIDTH=1000 man --warnings -l "$X$page" 2>"$T/man.err")
	expect_eq "$(basename "$page"): renders without warnings" "" "$(cat "$T/man.err")"
	expect_match "$(basename "$page"): NAME, SYNOPSIS, DESCRIPTION, SEE ALSO" \
		$'NAME\n.*SYNOPSIS\n.*DESCRIPTION\n.*SEE ALSO' "$rendered"
	for opt in $("$@" --help 2>&1 | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
		grep -qF -- "$opt" <<<"$rendered" || missing+=" $opt"
	done
	expect_eq "$(basename "$page"): says every option that '$(basename "$1") --help' says" "" "$missing"
}
man_page /usr/share/man/man1/ubinfmt.1.gz "$X/usr/bin/ubinfmt"
man_page /usr/share/man/man8/ubinfmtd.8.gz "$X/usr/sbin/ubinfmtd"
man_page /usr/share/man/man1/ubinfmt-init.1.gz "$X/usr/bin/ubinfmt-init"
if [ "$has_runtime" = 1 ]; then
	man_page /usr/share/man/man8/ubinfmt-runtime.8.gz "$X/usr/bin/ubinfmt-runtime"
fi

# ---- the shim for Kubernetes nodes --------------------------------------------------------------

if [ "$has_runtime" = 1 ] && [ -z "$sanitized" ]; then
	node_shim=$X/usr/lib/ubinfmt/node/ubinfmt-runtime
	expect_eq "the nodes' ubinfmt-runtime has no program interpreter (static)" "" \
		"$(readelf -lW "$node_shim" 2>&1 | grep -i 'program interpreter')"
	expect_eq "  and needs no shared library" "" "$(readelf -dW "$node_shim" 2>&1 | grep NEEDED)"
	expect_eq "  and is the same program: the same --help" "$("$X/usr/bin/ubinfmt-runtime" --help 2>&1)" \
		"$("$node_shim" --help 2>&1)"
fi

# ---- the static init --------------------------------------------------------------------------

init=$X/usr/bin/ubinfmt-init
expect_eq "ubinfmt-init has no program interpreter (static)" "" \
	"$(readelf -lW "$init" | grep -i 'program interpreter')"
expect_eq "ubinfmt-init needs no shared library" "" "$(readelf -dW "$init" | grep NEEDED)"

if [ ! -x "$(busybox arm64)" ] || ! command -v qemu-aarch64-static >/dev/null 2>&1; then
	skip_check "the static init in a bare rootfs" "needs the arm64 busybox fixture and qemu-aarch64-static"
	finish
fi
bare=$T/bare
mkdir -p "$bare/bin" "$bare/run/ubinfmt"
cp "$init" "$bare/ubinfmt-init"
cp "$(busybox arm64)" "$bare/bin/busybox"
# The package's ubinfmtd, its agent socket inside the bare rootfs (so no mount is needed).
"$X/usr/sbin/ubinfmtd" --socket "$bare/run/ubinfmt/agent.sock" --oci-socket "$T/oci.sock" \
	--control "$T/control.sock" >"$T/daemon.log" 2>&1 &
daemon=$!
track_pid "$daemon"
for ((i = 0; i < 100; i++)); do
	"$UBINFMT" status --control "$T/control.sock" >/dev/null 2>&1 && break
	sleep 0.1
done
expect_eq "the bare rootfs holds only the init, busybox and the socket" \
	"/bin/busybox /run/ubinfmt/agent.sock /ubinfmt-init" \
	"$(cd "$bare" && find . \( -type f -o -type s \) | sed 's/^\.//' | sort | xargs)"
run timeout -k 5 60 chroot "$bare" /ubinfmt-init -- /bin/busybox sh -c 'uname -m; exit 3'
expect_eq "ubinfmt-init runs an arm64 shell in the bare rootfs: uname -m, exit status" "aarch64 3" \
	"$(head -n 1 <<<"$out") $status" "$out"$'\n'"daemon log:"$'\n'"$(cat "$T/daemon.log")"
kill "$daemon" 2>/dev/null
wait "$daemon" 2>/dev/null

finish
