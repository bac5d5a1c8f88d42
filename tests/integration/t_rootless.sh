#!/usr/bin/env bash
# Rootless `ubinfmt run` (issue 11), as uid 65534 with subordinate ids: the test's own copies of
# /etc/subuid and /etc/subgid are bind-mounted in a private mount namespace (the host's /etc is
# never touched; newuidmap and newgidmap, setuid, read the copies).  Without --rootfs and with
# an arm64 rootfs the user owns: CMD is root of a user namespace mapping the subordinate ids
# (newuidmap's work), without no_new_privs; a setuid program gains its owner's id; a tool that
# maps ids itself through newuidmap (`unshare --map-auto`) works inside; --userns=keep-id keeps
# the caller's uid; without subordinate ids: one line, no_new_privs (own ids only with
# --rootfs); where user namespaces are forbidden (a user namespace of the test's own with
# user.max_user_namespaces 0): no_new_privs, or 125 with --rootfs; and `mmdebstrap --mode=unshare --arch=arm64` builds a tarball that runs
# (UBINFMT_ROOTLESS_MMDEBSTRAP=0 leaves it out; UBINFMT_DEBIAN_MIRROR picks the mirror,
# UBINFMT_MMDEBSTRAP_TIMEOUT its time limit in seconds, default 600).

# The whole test runs in its own mount namespace, so the bind mounts go with it.
if [ "${UBINFMT_ROOTLESS_NS:-}" != 1 ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1; then
	UBINFMT_ROOTLESS_NS=1 exec unshare --mount --propagation private -- bash "$0" "$@"
fi
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_root
need_real_ubinfmt
need_fixtures
need_rootfs arm64-dyn
need_busybox arm64
need_qemu arm64
need_cmd unshare setpriv newuidmap newgidmap stat id
[ "${UBINFMT_ROOTLESS_NS:-}" = 1 ] || skip "not in a private mount namespace (unshare --mount failed)"

NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
"${NOBODY[@]}" unshare --user true 2>/dev/null ||
	skip "this host forbids unprivileged user namespaces (uid 65534: unshare --user fails)"

# Everything the unprivileged user needs is reachable through $T; $W is its own.
chmod 711 "$T"
W=$T/w
mkdir -p "$W" "$T/etc"
chown 65534:65534 "$W"
cp "$(busybox arm64)" "$W/busybox"
BB=$W/busybox

# Subordinate ids: 65534 gets 100000-165535.  root's line is for the sandbox's own root, in the
# sandbox's ids (1-65535 there are 100000-165534 here), so that tools inside can map ids too.
printf 'root:1:65535\nnobody:100000:65536\n' >"$T/etc/subuid"
cp "$T/etc/subuid" "$T/etc/subgid"
: >"$T/etc/empty"
# Files that may be missing on the host are created empty there first: never edited.
[ -e /etc/subuid ] && [ -e /etc/subgid ] || skip "the host has no /etc/subuid or /etc/subgid to bind over"
subids() {
	mount --bind "$1" /etc/subuid && mount --bind "$2" /etc/subgid
}
no_subids() {
	umount /etc/subuid /etc/subgid
}
subids "$T/etc/subuid" "$T/etc/subgid" || skip "cannot bind-mount over /etc/subuid in a private mount namespace"

# nrun ARGS…: `ubinfmt run ARGS…` as uid 65534, stdout in $out, stderr in $err, status in $status.
err=
nrun() {
	(cd "$W" && timeout -k 10 "${NRUN_TIMEOUT:-$UBINFMT_TIMEOUT}" "${NOBODY[@]}" "$UBINFMT" run "$@") >"$T/out" 2>"$T/err"
	status=$?
	out=$(cat "$T/out")
	err=$(cat "$T/err")
	[ "${UBINFMT_VERBOSE:-0}" = 1 ] && { echo "  \$ ubinfmt run $*"; lib_show "$out"$'\n'"$err"; }
	return 0
}
evidence() {
	echo "exit status $status"$'\n'"stdout:"$'\n'"$out"$'\n'"stderr:"$'\n'"$err"
}

# ---- the harness: newuidmap reads the copies ----------------------------------------------------

run "${NOBODY[@]}" unshare --user --map-root-user --map-auto -- cat /proc/self/uid_map
expect_match "harness: setuid newuidmap maps 65534's ranges from the bind-mounted /etc/subuid" \
	'^ +0 +65534 +1'$'\n'' +1 +100000 +[0-9]+$' "$out"

# ---- without --rootfs ---------------------------------------------------------------------------

nrun -- sh -c 'id -u; cat /proc/self/uid_map /proc/self/gid_map; grep NoNewPrivs /proc/self/status; "$1" uname -m; stat -c %u /etc/passwd' sh "$BB"
expect_eq "no --rootfs: root of a user namespace with 65534's ranges, no no_new_privs, arm64 runs, nothing said" \
	"0
0
         0      65534          1
         1     100000      65536
         0      65534          1
         1     100000      65536
NoNewPrivs:	0
aarch64
65534" "$status
$out$err" "$(evidence)"

# A setuid program owned by a subordinate id: its id in the sandbox is the effective one.
cp "$(command -v id)" "$W/suid-id"
chown 100000:100000 "$W/suid-id"
chmod 4755 "$W/suid-id"
nrun --userns=keep-id -- sh -c 'id -u; id -g; cat /proc/self/uid_map; grep NoNewPrivs /proc/self/status; "$1" -u; "$2" uname -m' sh "$W/suid-id" "$BB"
expect_eq "--userns=keep-id: the caller's own uid and gid, the ranges around them, no no_new_privs" \
	"0 65534
65534
         0     100000      65534
     65534      65534          1
     65535     165534          2
NoNewPrivs:	0" "$status $(head -n 6 <<<"$out")$err" "$(evidence)"
expect_eq "--userns=keep-id: a setuid program gains its owner's uid (0 there), arm64 runs" \
	"0
aarch64" "$(tail -n 2 <<<"$out")" "$(evidence)"

# newuidmap inside: the sandbox's root maps ids for a namespace of its own (root's line).
nrun -- sh -c 'unshare --user --map-root-user --map-auto -- sh -c "cat /proc/self/uid_map; \"\$1\" uname -m" sh "$1"' sh "$BB"
expect_match "a tool that maps ids through newuidmap (unshare --map-auto) works inside, arm64 runs there" \
	'^ +0 +0 +1'$'\n'' +1 +1 +[0-9]+'$'\n''aarch64$' "$out" "$(evidence)"

# ---- --rootfs, an arm64 Debian rootfs the user owns ---------------------------------------------

R=$(make_rootfs arm64-dyn) || fail "copy the arm64 rootfs"
chown -R 65534:65534 "$R"
nrun --rootfs "$R" -- /bin/bash -c 'id -u; uname -m; stat -c %u /bin/bash; touch /tmp/x /f && chown 1000:1000 /f && stat -c %u:%g /f; busybox grep NoNewPrivs /proc/self/status'
expect_eq "--rootfs: root inside, arm64 bash, the user's files are root's, chown to a subordinate id" \
	"0 0
aarch64
0
1000:1000
NoNewPrivs:	0" "$status $out$err" "$(evidence)"
expect_eq "--rootfs: that chown is the subordinate id 100999 outside" 100999:100999 "$(stat -c %u:%g "$R/f")"
nrun --userns=keep-id --rootfs "$R" -- /bin/bash -c 'id -u; id -g; uname -m'
expect_eq "--rootfs --userns=keep-id: the caller's uid and gid, arm64" "0 65534
65534
aarch64" "$status $out$err" "$(evidence)"

# ---- no subordinate ids: the fallbacks, said in one line ----------------------------------------

no_subids
subids "$T/etc/empty" "$T/etc/empty"
nrun -- sh -c 'id -u; grep NoNewPrivs /proc/self/status; "$1" -u; "$2" uname -m' sh "$W/suid-id" "$BB"
expect_eq "no ranges, no --rootfs: no_new_privs, the setuid program gains nothing, arm64 runs" \
	"0 65534
NoNewPrivs:	1
65534
aarch64" "$status $out" "$(evidence)"
expect_match "no ranges, no --rootfs: one line says so, without -v" \
	'^ubinfmt\[[0-9]+\] warning: no subordinate ids for .nobody. in /etc/subuid and /etc/subgid: running CMD with no_new_privs, so setuid programs will not gain privileges$' \
	"$err"
nrun --rootfs "$R" -- /bin/bash -c 'id -u; uname -m; cat /proc/self/uid_map'
expect_eq "no ranges, --rootfs: only the caller's own uid, as root" "0 0
aarch64
         0      65534          1" "$status $out" "$(evidence)"
expect_match "no ranges, --rootfs: one line says so, without -v" \
	'^ubinfmt\[[0-9]+\] warning: no subordinate ids for .nobody. in /etc/subuid and /etc/subgid: only your own uid and gid are mapped[^'$'\n'']*$' \
	"$err"
no_subids
subids "$T/etc/subuid" "$T/etc/subgid"

# ---- a host that forbids user namespaces ---------------------------------------------------------

# nrun_no_userns ARGS…: nrun, but as uid 65534 of a user namespace that maps ids 0-199999 to
# themselves and allows no user namespace below it (user.max_user_namespaces 0 there: a
# per-namespace limit, the host's own stays as it is).
nrun_no_userns() {
	local go=$T/go pid i
	rm -f "$go" && mkfifo "$go" || return 1
	# Exec'd again once mapped, so that its root holds the namespace's capabilities.
	unshare --user -- sh -c 'read -r x <"$1" && shift && exec "$@"' sh "$go" \
		sh -c 'echo 0 >/proc/sys/user/max_user_namespaces && exec "$@"' sh \
		timeout -k 10 "$UBINFMT_TIMEOUT" "${NOBODY[@]}" "$UBINFMT" run "$@" >"$T/out" 2>"$T/err" &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		[ "$(readlink "/proc/$pid/ns/user")" != "$(readlink /proc/self/ns/user)" ] && break
		sleep 0.05
	done
	echo "0 0 200000" >"/proc/$pid/uid_map" && echo "0 0 200000" >"/proc/$pid/gid_map"
	echo go >"$go"
	wait "$pid"
	status=$?
	out=$(cat "$T/out")
	err=$(cat "$T/err")
	return 0
}
nrun_no_userns -- sh -c 'id -u; grep NoNewPrivs /proc/self/status; "$1" uname -m' sh "$BB"
expect_eq "user namespaces forbidden, ranges set, no --rootfs: no_new_privs, arm64 runs" "0 65534
NoNewPrivs:	1
aarch64" "$status $out" "$(evidence)"
expect_match "user namespaces forbidden, no --rootfs: one line says so, without -v" \
	'^ubinfmt\[[0-9]+\] warning: cannot create a user namespace \(No space left on device\): running CMD with no_new_privs, so setuid programs will not gain privileges$' \
	"$err"
nrun_no_userns --rootfs "$R" -- /bin/true
expect_eq "user namespaces forbidden, --rootfs: 125 and one line naming the cause" \
	"125 ubinfmt[N] error: cannot create a user namespace for --rootfs (No space left on device): this host forbids them to ordinary users (sysctl user.max_user_namespaces, an LSM)" \
	"$status $(sed -E 's/^ubinfmt\[[0-9]+\]/ubinfmt[N]/' <<<"$err")" "$(evidence)"

# ---- mmdebstrap --mode=unshare, end to end ------------------------------------------------------

MIRROR=${UBINFMT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
if [ "${UBINFMT_ROOTLESS_MMDEBSTRAP:-1}" = 0 ]; then
	skip_check "mmdebstrap --mode=unshare" "UBINFMT_ROOTLESS_MMDEBSTRAP=0"
elif ! command -v mmdebstrap >/dev/null 2>&1; then
	skip_check "mmdebstrap --mode=unshare" "mmdebstrap is not installed (tools/deps.sh)"
elif ! timeout 30 python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=20)' \
	"$MIRROR/dists/bookworm/Release" >/dev/null 2>&1; then
	skip_check "mmdebstrap --mode=unshare" "$MIRROR cannot be reached"
else
	start=$(date +%s)
	# About a minute on an idle 2-core machine; minutes more when others load it.
	NRUN_TIMEOUT=${UBINFMT_MMDEBSTRAP_TIMEOUT:-600} nrun -- env HOME="$W" TMPDIR="$W" mmdebstrap --mode=unshare --arch=arm64 --variant=essential \
		bookworm "$W/out.tar" "$MIRROR"
	took=$(($(date +%s) - start))
	if [ "$status" -eq 0 ] && [ -s "$W/out.tar" ]; then
		pass "mmdebstrap --mode=unshare --arch=arm64 under ubinfmt run as uid 65534 (${took}s)"
	else
		fail "mmdebstrap --mode=unshare --arch=arm64 under ubinfmt run as uid 65534" "$(evidence)"
		finish
	fi
	# Unpacked as the user, inside: its owners become subordinate ids (device nodes cannot be
	# made in a user namespace; --rootfs brings its own /dev).
	mkdir "$W/x" && chown 65534:65534 "$W/x"
	nrun -- tar -C "$W/x" --exclude='./dev/*' -xf "$W/out.tar"
	expect_eq "the tarball unpacks as uid 65534 inside ubinfmt run" "0" "$status$out$err"
	# A file the tarball gives to another owner than root (group staff's /var/local…).
	read -r owner name < <(tar --numeric-owner -tvf "$W/out.tar" | awk '$2 != "0/0" { print $2, $6; exit }')
	[ -n "${owner:-}" ] || { fail "the tarball holds a file whose owner is not root" "$(tar -tvf "$W/out.tar" | head)"; finish; }
	name=${name#./}
	# Inside, 0 is the user itself (65534) and N > 0 is its subordinate id 100000 + N - 1.
	sub() { if [ "$1" = 0 ]; then echo 65534; else echo $((100000 + $1 - 1)); fi; }
	want=$(sub "${owner%/*}"):$(sub "${owner#*/}")
	expect_eq "its /$name (${owner:-no owner but root}) is $want outside" "$want" \
		"$(stat -c %u:%g "$W/x/$name" 2>&1)"
	nrun --rootfs "$W/x" -- /bin/sh -c 'uname -m; dpkg --print-architecture; stat -c %u/%g "/$1"; echo works' sh "$name"
	expect_eq "its /bin/sh runs under ubinfmt: arm64, dpkg, the owner of /$name" "0 aarch64
arm64
$owner
works" "$status $out$err" "$(evidence)"
fi

finish
