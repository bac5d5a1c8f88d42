#!/usr/bin/env bash
# Fetches the foreign-architecture test binaries that ubinfmt's tests run under qemu-user.
#
# Usage: tools/fixtures.sh [--force]
#   --force               fetch and rebuild everything, even when the stamp says it is ready
#   UBINFMT_FIXTURES=DIR  cache directory (default: <repo>/.cache/fixtures, which git ignores)
#
# Produces, under the cache directory:
#   busybox/<debarch>/busybox   static busybox from Debian's busybox-static: bookworm for amd64
#                               arm64 armhf armel i386 s390x ppc64el mips64el mipsel, trixie for
#                               riscv64 (bookworm has none)
#   rootfs/busybox-<debarch>/   bin/busybox with a link for every applet, usr/bin/env and the
#                               other usr/ and sbin/ links, etc/passwd, etc/group, and empty
#                               proc dev tmp root sys
#   rootfs/arm64-dyn/           arm64 libc6 + bash + coreutils and the libraries they need,
#                               unpacked, plus bin/busybox; runs through the guest's own loader
#   rootfs/arm64-dyn.packages   what was unpacked into arm64-dyn, one "package version" a line
#
# apt runs with private configurations under apt/ (own sources.list, lists, status file and
# keyring, none of the host's apt.conf.d), so /etc/apt, /var/lib/apt and dpkg's architecture
# list stay untouched. Network access to deb.debian.org is needed only when something is
# missing; afterwards a stamp makes a re-run return at once. Quiet unless something fails.
set -euo pipefail
umask 022
export LC_ALL=C

prog=fixtures.sh
script=$(readlink -f "${BASH_SOURCE[0]}")
repo=$(dirname "$(dirname "$script")")
cache=${UBINFMT_FIXTURES:-$repo/.cache/fixtures}

bookworm_archs=(amd64 arm64 armhf armel i386 s390x ppc64el mips64el mipsel)
trixie_archs=(riscv64)
all_archs=("${bookworm_archs[@]}" "${trixie_archs[@]}")
dyn_roots=(libc6 bash coreutils)
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
mirror=http://deb.debian.org/debian
# shellcheck source=SCRIPTDIR/apt_private.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt_private.sh"

die() {
	printf '%s: %s\n' "$prog" "$*" >&2
	exit 1
}

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$script"
}

force=false
for arg in "$@"; do
	case $arg in
	--force) force=true ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown argument '$arg' (usage: $0 [--force])" ;;
	esac
done

summary() {
	printf 'fixtures: ready in %s\n' "$cache" >&2
}

# The stamp holds the hash of this script, so editing the script rebuilds the fixtures; already
# downloaded .debs are reused then.
want_stamp=$(sha256sum "$script")
want_stamp=${want_stamp%% *}

outputs_present() {
	local a
	for a in "${all_archs[@]}"; do
		[ -x "$cache/busybox/$a/busybox" ] && [ -x "$cache/rootfs/busybox-$a/bin/busybox" ] || return 1
	done
	[ -x "$cache/rootfs/arm64-dyn/bin/bash" ] && [ -e "$cache/rootfs/arm64-dyn/lib/ld-linux-aarch64.so.1" ]
}

stamp_ok() {
	local have=
	[ -f "$cache/.stamp" ] && read -r have <"$cache/.stamp" || return 1
	[ "$have" = "$want_stamp" ] && outputs_present
}

if ! $force && stamp_ok; then
	summary
	exit 0
fi

mkdir -p "$cache" || die "cannot create cache directory $cache"
cache=$(readlink -f "$cache")
exec 9>"$cache/.lock"
flock 9 || die "cannot lock $cache/.lock"
# Another run may have finished while we waited for the lock.
if ! $force && stamp_ok; then
	summary
	exit 0
fi
rm -f "$cache/.stamp"
# --force refetches: drop the downloaded .debs, since apt-get download keeps a file whose hash
# already matches.
! $force || rm -rf "$cache/debs"

logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

for tool in apt-get apt-cache dpkg file flock sha256sum; do
	command -v "$tool" >/dev/null || die "needs $tool; run tools/deps.sh"
done
[ -r "$keyring" ] || die "cannot read $keyring; install debian-archive-keyring"

if ! command -v qemu-aarch64-static >/dev/null; then
	[ "$(id -u)" -eq 0 ] || die "needs qemu-aarch64-static to check the arm64 tree; run tools/deps.sh"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		qemu-user-static >"$logdir/qemu.log" 2>&1 ||
		die "cannot install qemu-user-static: $(sed -n 's/^E: //p' "$logdir/qemu.log" | paste -sd ';')"
fi

# Why apt failed, from its log: the E: lines, else the W: lines, else the N: lines, else the
# last line.
apt_reason() {
	local r t
	for t in E W N; do
		r=$(sed -n "s/^$t: //p" "$1" | paste -sd ';')
		[ -z "$r" ] || break
	done
	[ -n "$r" ] || r=$(tail -n 1 "$1")
	printf '%s' "${r:-unknown error}"
}

# apt drops root to _apt for downloads. That works only if _apt can reach the cache; when it
# cannot (say, the cache lies under a 0700 home), apt would warn and run the methods as root
# anyway, so say so up front and keep apt quiet.
sandbox_user=
if [ "$(id -u)" -eq 0 ] && getent passwd _apt >/dev/null; then
	if runuser -u _apt -- test -x "$cache" 2>/dev/null; then
		sandbox_user=_apt
	else
		sandbox_user=root
	fi
fi

# apt_setup NAME SUITE NATIVE ARCH...: a private apt under $cache/apt/NAME. APT_CONFIG is read
# before anything else and points Dir::Etc::main and Dir::Etc::parts away from /etc/apt, so no
# host setting, hook or source applies. Release files are checked against the Debian keyring;
# it holds the trixie keys since debian-archive-keyring 2023.3+deb12u2.
apt_setup() {
	local name=$1 suite=$2 native=$3
	shift 3
	local d=$cache/apt/$name
	mkdir -p "$cache/debs/$name"
	apt_private_config "$d" "deb [signed-by=$keyring] $mirror $suite main" "$native" "$@"
	if [ -n "$sandbox_user" ]; then
		echo "APT::Sandbox::User \"$sandbox_user\";" >>"$d/apt.conf"
		[ "$sandbox_user" = root ] || chown _apt "$cache/debs/$name"
	fi
}

apt_in() {
	local name=$1
	shift
	APT_CONFIG=$cache/apt/$name/apt.conf "$@" </dev/null
}

# apt_update NAME SUITE ARCH...: fetch the lists. A failed index is only a warning to apt-get
# update, which then keeps the old list, so treat that warning as an error and insist on a list
# per architecture.
apt_update() {
	local name=$1 suite=$2 a
	shift 2
	local log=$logdir/update-$name.log
	if ! apt_in "$name" apt-get update >"$log" 2>&1 ||
		grep -Eq '^W: (Failed to fetch|Some index files failed|GPG error)' "$log"; then
		grep -Eq 'NO_PUBKEY|is not signed' "$log" &&
			die "cannot verify the $suite Release file with $keyring (debian-archive-keyring 2023.3+deb12u2 and later hold the trixie keys): $(apt_reason "$log")"
		die "cannot update the package lists for $suite from $mirror: $(apt_reason "$log")"
	fi
	for a in "$@"; do
		compgen -G "$cache/apt/$name/lists/*_dists_${suite}_main_binary-${a}_Packages*" >/dev/null && continue
		# apt-get skips an architecture the Release file does not list without a word.
		grep -Eqs "^Architectures:.* $a( |\$)" "$cache/apt/$name/lists/"*"_dists_${suite}_InRelease" ||
			die "cannot get the $suite $a package list from $mirror: $suite has no $a architecture"
		die "cannot get the $suite $a package list from $mirror: $(apt_reason "$log")"
	done
}

# The local name apt-get download gives a package: NAME_VERSION_ARCH.deb, with ':' as %3a.
deb_name() {
	printf '%s_%s_%s.deb' "$1" "${2//:/%3a}" "$3"
}

# apt_fetch NAME PKG:ARCH...: download the candidate .debs into $cache/debs/NAME and set the
# array fetched[PKG:ARCH] to each file. One apt-get call for all, since each costs a second or
# two; then every package gets its own error message.
declare -A fetched
apt_fetch() {
	local name=$1
	shift
	local dir=$cache/debs/$name spec pkg arch ver f missing=()
	declare -A version=()
	while read -r pkg arch ver; do
		version[$pkg:$arch]=$ver
	done < <(apt_in "$name" apt-cache show --no-all-versions "$@" 2>/dev/null |
		awk '/^Package:/{p=$2} /^Architecture:/{a=$2} /^Version:/{v=$2} /^$/{if(p)print p,a,v; p=""} END{if(p)print p,a,v}')
	for spec in "$@"; do
		[ -n "${version[$spec]:-}" ] ||
			die "cannot download $spec from the Debian archive: no such package in $name main"
	done
	(cd "$dir" && apt_in "$name" apt-get -q download "$@") >"$logdir/download-$name.log" 2>&1 || true
	for spec in "$@"; do
		pkg=${spec%%:*}
		arch=${spec#*:}
		f=$dir/$(deb_name "$pkg" "${version[$spec]}" "$arch")
		if [ -s "$f" ]; then
			fetched[$spec]=$f
		else
			missing+=("$spec")
		fi
	done
	[ ${#missing[@]} -eq 0 ] ||
		die "cannot download ${missing[*]} from the Debian archive: $(apt_reason "$logdir/download-$name.log")"
	# Drop .debs that an archive update has superseded.
	for spec in "$@"; do
		pkg=${spec%%:*}
		arch=${spec#*:}
		for f in "$dir/${pkg}_"*"_$arch.deb"; do
			[ "$f" = "${fetched[$spec]}" ] || rm -f "$f"
		done
	done
}

# What file(1) says about a static binary of each Debian architecture.
elf_pattern() {
	case $1 in
	amd64) echo 'ELF 64-bit LSB .*x86-64' ;;
	arm64) echo 'ELF 64-bit LSB .*ARM aarch64' ;;
	armhf | armel) echo 'ELF 32-bit LSB .*ARM, EABI5' ;;
	i386) echo 'ELF 32-bit LSB .*Intel 80386' ;;
	s390x) echo 'ELF 64-bit MSB .*IBM S/390' ;;
	ppc64el) echo 'ELF 64-bit LSB .*PowerPC' ;;
	mips64el) echo 'ELF 64-bit LSB .*MIPS.*MIPS64' ;;
	mipsel) echo 'ELF 32-bit LSB .*MIPS.*MIPS32' ;;
	riscv64) echo 'ELF 64-bit LSB .*RISC-V' ;;
	*) return 1 ;;
	esac
}

# install_busybox ARCH DEB: unpack, find the binary (bin/ in bookworm, usr/bin/ once usr-merged)
# and check that it is a static executable for ARCH.
install_busybox() {
	local arch=$1 deb=$2 x=$logdir/bb-$1 bin desc flags hard
	mkdir -p "$x"
	dpkg -x "$deb" "$x" || die "cannot unpack $deb"
	for bin in "$x/bin/busybox" "$x/usr/bin/busybox" ""; do
		[ -z "$bin" ] || [ -f "$bin" ] && break
	done
	[ -n "$bin" ] || die "no busybox binary in $deb"
	desc=$(file -b "$bin")
	if ! grep -Eq "$(elf_pattern "$arch")" <<<"$desc" ||
		! grep -Eq 'statically linked|static-pie linked' <<<"$desc"; then
		die "busybox-static:$arch is not a static $arch executable: $desc"
	fi
	# file(1) says "ARM, EABI5" for both; the float ABI is bit 0x400 (EF_ARM_ABI_FLOAT_HARD) of
	# the little-endian e_flags at offset 36.
	case $arch in
	armhf | armel)
		flags=$(od -An -tu4 -j36 -N4 "$bin")
		hard=$((flags & 0x400))
		if { [ "$arch" = armhf ] && [ "$hard" -eq 0 ]; } || { [ "$arch" = armel ] && [ "$hard" -ne 0 ]; }; then
			die "busybox-static:$arch has the wrong float ABI (e_flags $flags)"
		fi
		;;
	esac
	mkdir -p "$cache/busybox/$arch"
	install -m 0755 "$bin" "$cache/busybox/$arch/busybox.new"
	mv -f "$cache/busybox/$arch/busybox.new" "$cache/busybox/$arch/busybox"
	rm -rf "$x"
}

# A template of applet links, built once from the native busybox's --list-full: every applet in
# bin/, plus a link at its usual path when that is not bin/ (usr/bin/env -> ../../bin/busybox).
# An applet that a foreign build lacks is a harmless dangling name.
make_applet_template() {
	local t=$1 path up
	mkdir -p "$t"/{bin,sbin,usr/bin,usr/sbin}
	"$cache/busybox/amd64/busybox" --list-full >"$logdir/applets" ||
		die "cannot list the applets of the amd64 busybox"
	while read -r path; do
		case $path in
		busybox | */busybox | '') continue ;;
		esac
		ln -sfn busybox "$t/bin/${path##*/}"
		case $path in
		sbin/* | usr/bin/* | usr/sbin/*)
			up=${path//[!\/]/}
			up=${up//\//../}
			ln -sfn "${up}bin/busybox" "$t/$path"
			;;
		esac
	done <"$logdir/applets"
	[ -L "$t/usr/bin/env" ] || ln -s ../../bin/busybox "$t/usr/bin/env"
}

write_etc() {
	mkdir -p "$1/etc"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$1/etc/passwd"
	echo 'root:x:0:' >"$1/etc/group"
}

# replace_tree NEW DEST: swap a finished tree into place.
replace_tree() {
	rm -rf "$2"
	mv "$1" "$2"
}

build_busybox_rootfs() {
	local arch=$1 template=$2 dst=$cache/rootfs/busybox-$1
	local t=$dst.new
	rm -rf "$t"
	mkdir -p "$t"
	cp -a "$template/." "$t/"
	install -m 0755 "$cache/busybox/$arch/busybox" "$t/bin/busybox"
	mkdir -p "$t"/{proc,dev,tmp,root,sys}
	chmod 1777 "$t/tmp"
	chmod 0700 "$t/root"
	write_etc "$t"
	replace_tree "$t" "$dst"
}

# dyn_closure: the arm64 packages that libc6, bash and coreutils need at run time. Walks
# Depends and Pre-Depends from the roots, but not into Multi-Arch: foreign packages such as
# base-files and debianutils: those are tools and data, not libraries the loader maps.
dyn_closure() {
	declare -A seen=() foreign=()
	local level=() next=() p pkg ma
	for p in "${dyn_roots[@]}"; do
		level+=("$p:arm64")
		seen[$p:arm64]=1
	done
	dyn_pkgs=()
	while [ ${#level[@]} -gt 0 ]; do
		dyn_pkgs+=("${level[@]}")
		next=()
		while read -r p; do
			[ -z "${seen[$p]:-}" ] || continue
			seen[$p]=1
			next+=("$p")
		done < <(apt_in bookworm apt-cache depends --no-recommends --no-suggests --no-conflicts \
			--no-breaks --no-replaces --no-enhances "${level[@]}" 2>/dev/null |
			sed -n 's/^  \(Pre\)\{0,1\}Depends: \([^ <>]*:arm64\)$/\2/p')
		level=()
		[ ${#next[@]} -gt 0 ] || break
		foreign=()
		while read -r pkg ma; do
			[ "$ma" != foreign ] || foreign[$pkg:arm64]=1
		done < <(apt_in bookworm apt-cache show --no-all-versions "${next[@]}" 2>/dev/null |
			awk '/^Package:/{p=$2; m="no"} /^Multi-Arch:/{m=$2} /^$/{if(p)print p,m; p=""} END{if(p)print p,m}')
		for p in "${next[@]}"; do
			[ -n "${foreign[$p]:-}" ] || level+=("$p")
		done
	done
}

# Bookworm packages are not usr-merged and ship absolute links such as
# /lib/ld-linux-aarch64.so.1 -> /lib/aarch64-linux-gnu/ld-linux-aarch64.so.1. Inside a chroot
# they work, but seen from the host (qemu -L, our own path checks) they point at the host, so
# make every absolute link relative within the tree.
relativize_links() {
	local root=$1 link target
	while IFS= read -r -d '' link; do
		target=$(readlink "$link")
		ln -sfn "$(realpath -m -s --relative-to="$(dirname "$link")" "$root$target")" "$link"
	done < <(find "$root" -type l -lname '/*' -print0)
}

build_arm64_dyn() {
	local dst=$cache/rootfs/arm64-dyn spec ld out
	local t=$dst.new
	rm -rf "$t"
	mkdir -p "$t"
	: >"$logdir/dyn.packages"
	for spec in "${dyn_pkgs[@]}"; do
		dpkg -x "${fetched[$spec]}" "$t" || die "cannot unpack ${fetched[$spec]}"
		# shellcheck disable=SC2016 # dpkg-deb expands ${Package}, not the shell
		dpkg-deb -W --showformat='${Package} ${Version}\n' "${fetched[$spec]}" >>"$logdir/dyn.packages"
	done
	relativize_links "$t"
	# Documentation and message catalogues play no part in loading; they are a third of the tree.
	rm -rf "$t"/usr/share/{doc,man,info,locale}
	install -m 0755 "$cache/busybox/arm64/busybox" "$t/bin/busybox"
	mkdir -p "$t"/{proc,dev,tmp}
	chmod 1777 "$t/tmp"
	write_etc "$t"

	ld=$(readlink -f "$t/lib/ld-linux-aarch64.so.1" || true)
	case $ld in
	"$t"/*) [ -f "$ld" ] || die "arm64-dyn: /lib/ld-linux-aarch64.so.1 does not resolve inside the tree" ;;
	*) die "arm64-dyn: /lib/ld-linux-aarch64.so.1 does not resolve inside the tree (got '$ld')" ;;
	esac
	# A sanity check only: -L makes qemu find the guest loader in the tree. Under qemu, bash's
	# own children are host execs, so "ls" is run directly as well to load coreutils' libraries.
	out=$(env -i PATH=/usr/bin:/bin qemu-aarch64-static -L "$t" "$t/bin/bash" -c 'echo dyn-ok; ls /' 2>&1 </dev/null || true)
	grep -qx dyn-ok <<<"$out" || die "arm64-dyn: bash does not run under qemu-aarch64-static: $out"
	out=$(qemu-aarch64-static -L "$t" "$t/bin/ls" /lib 2>&1 </dev/null) ||
		die "arm64-dyn: ls does not run under qemu-aarch64-static: $out"
	replace_tree "$t" "$dst"
	mv -f "$logdir/dyn.packages" "$cache/rootfs/arm64-dyn.packages"
}

main() {
	local a specs=() template

	apt_setup bookworm bookworm amd64 "${bookworm_archs[@]}"
	# riscv64 is its own native architecture here, so only its package list is fetched.
	apt_setup trixie trixie riscv64 "${trixie_archs[@]}"
	apt_update bookworm bookworm "${bookworm_archs[@]}"
	apt_update trixie trixie "${trixie_archs[@]}"

	for a in "${bookworm_archs[@]}"; do
		specs+=("busybox-static:$a")
	done
	dyn_closure
	apt_fetch bookworm "${specs[@]}" "${dyn_pkgs[@]}"
	specs=()
	for a in "${trixie_archs[@]}"; do
		specs+=("busybox-static:$a")
	done
	apt_fetch trixie "${specs[@]}"

	for a in "${all_archs[@]}"; do
		install_busybox "$a" "${fetched[busybox-static:$a]}"
	done

	mkdir -p "$cache/rootfs"
	template=$logdir/applets-template
	make_applet_template "$template"
	for a in "${all_archs[@]}"; do
		build_busybox_rootfs "$a" "$template"
	done
	build_arm64_dyn

	# The lists and apt's binary caches (several hundred MB) are only needed to fetch; the
	# .debs stay, so a rebuild after an edit of this script downloads little.
	rm -rf "$cache"/apt/*/lists "$cache"/apt/*/cache
	outputs_present || die "fixtures incomplete after a full run (bug in $prog)"
	echo "$want_stamp" >"$cache/.stamp.new"
	mv -f "$cache/.stamp.new" "$cache/.stamp"
	summary
}

main
