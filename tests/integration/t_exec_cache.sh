#!/usr/bin/env bash
# The classification cache (supervisor/exec_cache.h) gives every exec the decision a fresh look
# would: one path is exec'd again and again in one `ubinfmt run`, so that each exec after the
# first of a file can be answered from the cache, while between execs the file behind the path
# is replaced (rename over), renamed away and back, made non-executable and executable again,
# its mount remounted noexec and back (and seen through a noexec bind mount), truncated,
# rewritten in place with the same size and its mtime set back to the nanosecond (only ctime
# tells), and used as the #! interpreter of a script in each of those states.  The native file
# and the arm64 one are padded to the same size, so that only the bytes differ.
#
# Every exec's result (the program's output, or the errno the exec failed with) must equal the
# kernel's own answer: the same steps without ubinfmt, with the arm64 file's native twin in its
# place.  Under ubinfmt, an arm64 state must also run under the emulator (uname -m) and a native
# one natively.  A stale entry (a native answer kept for what is now the arm64 file) shows as
# ENOEXEC from the kernel where the twin ran.  Everything happens in a private mount namespace
# (the tmpfs and its remounts), inside the test's temp dir.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_root
need_real_ubinfmt
need_exectest
need_fixtures
need_busybox amd64 arm64
need_qemu arm64
need_cmd unshare mount truncate touch stat

# The steps, run by bash with the tmpfs at $1/m: MODE ubinfmt or twin.  Each exec prints one
# line "STEP STATE RESULT"; STATE is what the path now holds (nat, arm, none), so that the
# architecture check knows what to expect.
cat >"$T/steps.sh" <<'EOF'
set -u
dir=$1 mode=$2 nat=$3 arm=$4 et=$5
m=$dir/m
p=$m/busybox
mount -t tmpfs -o mode=755 ubinfmt-test "$m" || exit 90
mkdir -p "$dir/b"
n=0
# x STATE: exec the path (echo), and under ubinfmt its uname -m too
x() {
	n=$((n + 1))
	echo "$n $1 $("$et" errno "$p" busybox echo "step-$n" 2>/dev/null)"
	if [ "$mode" = ubinfmt ]; then
		echo "arch $n $1 $("$et" errno "$p" busybox uname -m 2>/dev/null)"
	fi
}
# s STATE: exec a script whose #! interpreter is the path
s() {
	n=$((n + 1))
	printf '#!%s sh\necho script-%s\n' "$p" "$n" >"$m/script"
	chmod 755 "$m/script"
	echo "$n script-$1 $("$et" errno "$m/script" script 2>/dev/null)"
}
# inplace FILE: rewrite the path's inode with FILE's bytes (same size), mtime set back
inplace() {
	local t
	t=$(stat -c %.9Y "$p")
	cat "$1" >"$p"
	touch -m -d "@$t" "$p"
}
[ "$mode" = twin ] && arm=$nat

cp "$nat" "$p"; chmod 755 "$p"
x nat; x nat; s nat; s nat
# replaced: another file renamed over the name
cp "$arm" "$m/new"; chmod 755 "$m/new"; mv "$m/new" "$p"
x arm; x arm; s arm
cp "$nat" "$m/new"; chmod 755 "$m/new"; mv "$m/new" "$p"
x nat; x nat; s nat
# renamed away and another file renamed in, then back
mv "$p" "$m/away"; cp "$arm" "$p"; chmod 755 "$p"
x arm; s arm
mv "$m/away" "$p"
x nat; x nat; s nat
# chmod -x and back
chmod a-x "$p"
x nat; s nat
chmod 755 "$p"
x nat; s nat
# the mount noexec and back; a noexec bind mount of the same files
mount -o remount,noexec "$m"
x nat; s nat
mount -o remount,exec "$m"
x nat; x nat
mount --bind "$m" "$dir/b" && mount -o remount,bind,noexec "$dir/b"
n=$((n + 1)); echo "$n bind-noexec $("$et" errno "$dir/b/busybox" busybox echo "step-$n" 2>/dev/null)"
umount "$dir/b"
x nat
# truncated, then its bytes written back into the same inode
truncate -s 0 "$p"
x none; s none
cat "$nat" >"$p"
x nat; x nat
# rewritten in place: same inode, same size, mtime set back to the nanosecond
inplace "$arm"
x arm; x arm; s arm
inplace "$nat"
x nat; x nat; s nat; s nat
inplace "$arm"
s arm; x arm
inplace "$nat"
s nat; x nat
# the same within one second, many times: only ctime (to the nanosecond) tells
for i in 1 2 3 4 5 6; do
	inplace "$arm"; x arm
	inplace "$nat"; x nat
done
umount "$m"
EOF

# Both ELF files padded to one size (bytes past the segments are never loaded).
nat=$T/nat.bin
arm=$T/arm.bin
cp "$(busybox amd64)" "$nat"
cp "$(busybox arm64)" "$arm"
size=$(stat -c %s "$nat" "$arm" | sort -n | tail -n1)
truncate -s $((size + 4096)) "$nat" "$arm"
chmod 755 "$nat" "$arm"

mkdir -p "$T/u/m" "$T/k/m"
# The supervisor's trace log says which files were classified from the cache.
u_status=0
u_out=$(UBINFMT_LOG=trace unshare -m --propagation private timeout -k 10 "$UBINFMT_TIMEOUT" "$UBINFMT" run -- \
	bash "$T/steps.sh" "$T/u" ubinfmt "$nat" "$arm" "$EXECTEST" 2>"$T/log") || u_status=$?
run unshare -m --propagation private timeout -k 10 "$UBINFMT_TIMEOUT" \
	bash "$T/steps.sh" "$T/k" twin "$nat" "$arm" "$EXECTEST"
k_status=$status k_out=$out

expect_eq "every step ran under ubinfmt" 0 "$u_status" "$u_out"$'\n'"$(grep -v ' trace: ' "$T/log" | tail -n 20)"
expect_eq "every step ran without it" 0 "$k_status" "$k_out"
u_results=$(grep -v '^arch ' <<<"$u_out")
expect_eq "each exec's result under ubinfmt is the kernel's (the native twin's)" "$k_out" "$u_results" \
	"$(diff <(echo "$k_out") <(echo "$u_results"))"
# The twin's results themselves are what each state gives.
expect_match "the kernel's answers: EACCES without x, on noexec; ENOEXEC when empty" \
	'errno EACCES.*errno EACCES.*errno ENOEXEC' "$(tr '\n' ' ' <<<"$k_out")"
# The cache answered the repeats (else this test would prove nothing about it).
n_hits=$(grep -c "m/busybox' classified from the cache" "$T/log")
expect_eq "the cache answered repeat execs of the path (trace log)" 1 "$((n_hits >= 20))" "$n_hits hits"
n_steps=$(grep -c . <<<"$k_out")
expect_eq "every step was checked" 1 "$((n_steps >= 52))" "$n_steps steps"

# Under ubinfmt: arm64 states ran under the emulator, native ones natively.
# (A step whose exec the kernel refused is refused again.)
bad_arch=$(awk 'NR == FNR { failed[$1] = $3 == "errno"; next }
$1 == "arch" {
	want = failed[$2] ? "errno" : $3 == "arm" ? "aarch64" : $3 == "nat" ? "x86_64" : "errno"
	if ($4 != want) print
}' <(echo "$k_out") <(echo "$u_out"))
expect_eq "arm64 states emulated, native ones native, failed ones failed" "" "$bad_arch"

# One cache per sandbox, never shared (exec_cache.h): in one ubinfmtd, a file sandbox a has
# exec'd is not answered from the cache for sandbox b's first exec of it.  A shared cache would
# tell b that a ran the file, and would let a's entries stand in b's decisions.
F=$T/shared/busybox
mkdir -p "$T/shared"
cp "$(busybox amd64)" "$F"
daemon_start c -vvv || skip "ubinfmtd does not start"
A=$(agent_sock c)
hits() { grep -c "'$F' classified from the cache" "$T/c.log"; }
run timeout 60 "$UBINFMT_INIT" --socket "$A" --id a -- "$F" sh -c "$F true; $F true; $F true"
expect_eq "sandbox a runs the file" 0 "$status" "$out"
hits_a=$(hits)
expect_eq "sandbox a's repeat execs are answered from its cache" 1 "$((hits_a >= 2))" "$hits_a hits"
run timeout 60 "$UBINFMT_INIT" --socket "$A" --id b -- "$F" true
expect_eq "sandbox b runs the file" 0 "$status" "$out"
expect_eq "sandbox b's first exec of it is not answered from a's cache" "$hits_a" "$(hits)"
daemon_stop c

finish
