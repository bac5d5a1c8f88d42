#!/bin/sh
# shellcheck disable=SC3028 # EPOCHREALTIME: busybox ash has it
# Scenario 6's loop, for the arm64 busybox rootfs: `sh /bench/execloop.sh N` execs
# /bin/busybox true N times in a row (by path: ash runs an applet called by name in-process,
# without an exec) and prints `arch=MACHINE execs=N elapsed_us=T`, T being the loop's own time,
# without the set-up of the sandbox or the container around it.
set -eu
n=${1:-100}
arch=$(/bin/busybox uname -m)
t0=$EPOCHREALTIME
i=0
while [ "$i" -lt "$n" ]; do
	/bin/busybox true
	i=$((i + 1))
done
t1=$EPOCHREALTIME
# The fractions have six digits and maybe leading zeros (octal to $((…))): prefix a 1 to both.
echo "arch=$arch execs=$i elapsed_us=$(((${t1%.*} - ${t0%.*}) * 1000000 + 1${t1#*.} - 1${t0#*.}))"
