# shellcheck shell=bash
# A private apt configuration, sourced by the scripts that fetch Debian packages for the tests
# (tools/fixtures.sh, tools/sysroot.sh, tests/conformance/source.sh): every Dir:: of apt points
# into one directory, so neither the host's /etc/apt and /var/lib/apt nor dpkg's architecture
# list is read or changed, and no host setting, hook or source applies.  Use it with
# APT_CONFIG=DIR/apt.conf, which apt reads before anything else.

# apt_private_config DIR SOURCES_LINE [NATIVE ARCH…]: writes DIR/apt.conf and an empty tree
# (status, lists, cache) around it, with SOURCES_LINE as its only source.  NATIVE and the ARCHs
# set the architectures it knows (without them: apt's default, enough for deb-src).
apt_private_config() {
	local d=$1 sources=$2 native=${3:-} a archs=
	shift 2
	[ $# -gt 0 ] && shift
	mkdir -p "$d"/etc/{apt.conf.d,sources.list.d,preferences.d,trusted.gpg.d} "$d"/lists/partial \
		"$d"/cache/archives/partial
	: >"$d/status"
	printf '%s\n' "$sources" >"$d/etc/sources.list"
	for a in "$@"; do
		archs+="\"$a\"; "
	done
	{
		cat <<-EOF
			Dir::Etc::main "$d/etc/apt.conf";
			Dir::Etc::parts "$d/etc/apt.conf.d";
			Dir::Etc::sourcelist "$d/etc/sources.list";
			Dir::Etc::sourceparts "$d/etc/sources.list.d";
			Dir::Etc::preferences "$d/etc/preferences";
			Dir::Etc::preferencesparts "$d/etc/preferences.d";
			Dir::Etc::trusted "$d/etc/trusted.gpg";
			Dir::Etc::trustedparts "$d/etc/trusted.gpg.d";
			Dir::State "$d";
			Dir::State::lists "$d/lists";
			Dir::State::status "$d/status";
			Dir::State::extended_states "$d/extended_states";
			Dir::Cache "$d/cache";
			Dir::Log "$d/log";
			Acquire::Languages "none";
			Acquire::GzipIndexes "true";
			Acquire::PDiffs "false";
			Acquire::Retries "3";
			Acquire::http::Timeout "30";
		EOF
		if [ -n "$native" ]; then
			printf 'APT::Architecture "%s";\n' "$native"
			printf 'APT::Architectures { %s};\n' "$archs"
		fi
	} >"$d/apt.conf"
}
