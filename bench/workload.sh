#!/bin/sh
# shellcheck disable=SC3028 # EPOCHREALTIME: busybox ash has it
# A configure-like workload for the arm64 busybox rootfs: `sh /bench/workload.sh ITERATIONS`.
#
# Every tool runs as its own process: busybox ash runs NOFORK/NOEXEC applets inside the shell
# (no execve at all) when they are called by name, so each one is called as `/bin/busybox APPLET`,
# a path, which ash always forks and execs.  Loops, tests of loop variables, arithmetic, echo
# and printf stay shell builtins, as in a real configure script.
#
# Execs: 1 (this shell) + 2 (set-up) + 10 per iteration + 2 (summary): 405 for 40 iterations.
# stdout: a few "checking …" lines, then `defines=N sum=MD5` (the same in every environment)
# and `elapsed_us=N`, the time spent inside the sandbox (set-up of the sandbox excluded).
set -eu
t0=$EPOCHREALTIME
bb=/bin/busybox
n=${1:-40}
dir=/tmp/conftest.$$

$bb mkdir -p "$dir"
$bb touch "$dir/confdefs.h"
i=0
while [ "$i" -lt "$n" ]; do
	$bb test -d "$dir"
	v=$($bb expr "$i" '*' 3 + 1)
	$bb cat >"$dir/conftest$i.c" <<EOF
/* confdefs for feature_$i */
#undef HAVE_FEATURE_$i
#define VALUE_$i @VALUE@
int main(void) { return VALUE_$i - $v; }
EOF
	$bb sed -e "s/@VALUE@/$v/" -e 's/^#undef \(.*\)/#define \1 1/' "$dir/conftest$i.c" >"$dir/conftest$i.h"
	if $bb grep -q "define HAVE_FEATURE_$i 1" "$dir/conftest$i.h"; then
		result=yes
	else
		result=no
	fi
	name=$($bb basename "$dir/conftest$i.h" .h)
	up=$(echo "$name" | $bb tr a-z A-Z)
	$bb grep '^#define' "$dir/conftest$i.h" >>"$dir/confdefs.h"
	$bb test -s "$dir/confdefs.h"
	$bb rm -f "$dir/conftest$i.c"
	if [ $((i % 10)) -eq 0 ]; then
		echo "checking for $up... $result"
	fi
	i=$((i + 1))
done
defines=$($bb grep -c '^#define' "$dir/confdefs.h")
sum=$($bb md5sum <"$dir/confdefs.h")
echo "defines=$defines sum=${sum%% *}"
t1=$EPOCHREALTIME
# The fractions have six digits and maybe leading zeros (octal to $((…))): prefix a 1 to both.
echo "elapsed_us=$(((${t1%.*} - ${t0%.*}) * 1000000 + 1${t1#*.} - 1${t0#*.}))"
