#!/usr/bin/env bash
# Fetches (once) a Debian bookworm source package and prints the directory it is unpacked in.
#
# Usage: tests/conformance/source.sh PACKAGE
#   UBINFMT_CONFORMANCE_CACHE   cache directory (default: <repo>/.cache/conformance)
#
# apt-get source runs with a private configuration under CACHE/apt-src (its own sources.list
# with a deb-src line for deb.debian.org, lists, status and cache; none of the host's apt.conf.d),
# so /etc/apt and /var/lib/apt stay untouched.  The .dsc is checked against the Debian keyring by
# apt (the Sources index is signed) and unpacked with dpkg-source, Debian's patches applied, into
# CACHE/src/PACKAGE-VERSION.  Prints only the path on stdout.
set -euo pipefail
umask 022
export LC_ALL=C

prog=source.sh
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${UBINFMT_CONFORMANCE_CACHE:-$repo/.cache/conformance}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
mirror=http://deb.debian.org/debian
# shellcheck source=SCRIPTDIR/../../tools/apt_private.sh
source "$repo/tools/apt_private.sh"

die() {
	printf '%s: %s\n' "$prog" "$*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: $0 PACKAGE"
pkg=$1
src=$cache/src
mkdir -p "$src"
exec 9>"$src/.lock"
flock 9 || die "cannot lock $src/.lock"

# Unpacked already: the directory holds a stamp written last.
for d in "$src/$pkg"-*/; do
	if [ -f "$d/.conformance-ready" ]; then
		echo "${d%/}"
		exit 0
	fi
done

for tool in apt-get dpkg-source; do
	command -v "$tool" >/dev/null || die "needs $tool; run tools/deps.sh"
done
d=$cache/apt-src
apt_private_config "$d" "deb-src [signed-by=$keyring] $mirror bookworm main"
# apt drops to _apt for downloads only when _apt can write where it downloads.
if ! runuser -u _apt -- test -w "$src" 2>/dev/null; then
	echo 'APT::Sandbox::User "root";' >>"$d/apt.conf"
fi
log=$src/$pkg.log
export APT_CONFIG=$d/apt.conf
apt-get -q update >"$log" 2>&1 || die "apt-get update failed: $(grep '^E:' "$log" | paste -sd ';')"
tmp=$(mktemp -d "$src/.$pkg.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get -q source --download-only "$pkg") >>"$log" 2>&1 ||
	die "apt-get source $pkg failed: $(grep '^E:' "$log" | paste -sd ';')"
dsc=$(ls "$tmp"/*.dsc)
ver=$(sed -n 's/^Version: //p' "$dsc")
ver=${ver#*:}
out=$src/$pkg-$ver
rm -rf "$out"
dpkg-source --no-check -x "$dsc" "$out" >>"$log" 2>&1 || die "dpkg-source -x $dsc failed (log: $log)"
touch "$out/.conformance-ready"
echo "$out"
