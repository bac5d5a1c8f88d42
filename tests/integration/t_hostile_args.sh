#!/usr/bin/env bash
# Hostile sandbox, argument extremes.  Each foreign case (the arm64 busybox, /f/busybox) must
# end as its native twin (/n/busybox, the same run without ubinfmt) does:
#   - a path of exactly PATH_MAX - 1 bytes runs (through "./" padding and through 200-byte
#     directory names); PATH_MAX bytes is ENAMETOOLONG;
#   - argv and envp at the kernel's size limit: the largest native argv (N strings of 100000
#     bytes, N measured) runs foreign too one string below it; at it, a foreign exec may be E2BIG
#     (the emulator's own arguments count too) but nothing else; past it, E2BIG; a huge envp is
#     E2BIG; 150000 one-byte arguments (a 1.2 MB pointer array: no room below the stack pointer,
#     so the rewrite maps scratch memory) run;
#   - an empty argv; argv, envp or the path in unmapped memory: EFAULT.
# Afterwards the supervisor still serves a foreign exec.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_hostile_sandbox
need_cmd python3

R=$(make_twin_rootfs) || skip "cannot copy the rootfs"

# Long paths: "/./././…/X/busybox" and 200-byte directory names, PATH_MAX - 1 and PATH_MAX long.
python3 - "$R" <<'PY'
import os, shutil, sys
root = sys.argv[1]
for kind in ("n", "f"):
    os.chdir(root)
    comps = []
    # 20 directories of "/" + 200 bytes = 4020, then "/" + a shorter one + "/busybox": 4095.
    for i in range(20):
        c = ("%s%02d" % (kind, i)) * 1 + "d" * 197
        comps.append(c)
        os.makedirs(c, exist_ok=True)
        os.chdir(c)
    rel = "/" + "/".join(comps)
    tail = 4095 - len(rel) - len("/busybox")
    last = "z" * (tail - 1)
    os.makedirs(last, exist_ok=True)
    shutil.copy(os.path.join(root, kind, "busybox"), os.path.join(last, "busybox"))
    os.chmod(os.path.join(last, "busybox"), 0o755)
    path = rel + "/" + last + "/busybox"
    assert len(path) == 4095, len(path)
    open(os.path.join(root, "e", "deep-" + kind), "w").write(path)
PY
dots() { # dots KIND LEN: "/./././…/KIND/busybox" of exactly LEN bytes
	python3 -c 'import sys; k, n = sys.argv[1], int(sys.argv[2]); t = "/%s/busybox" % k
pad = n - len(t); print(("/." * (pad // 2)) + ("/" if pad % 2 else "") + t)' "$1" "$2"
}

# ---- the kernel's answers for native targets, ubinfmt's for foreign ones ------------------------

# case LABEL|ARGS (with @ for n or f)
cases=(
	"path of PATH_MAX - 1 bytes ('./' padding)|errno $(dots @ 4095) echo hello"
	"path of PATH_MAX bytes|errno $(dots @ 4096) echo hello"
	"path of PATH_MAX - 1 bytes (200-byte names)|errno DEEP echo hello"
	"empty argv|args --empty-argv /@/busybox"
	"argv in unmapped memory|args --bad-argv /@/busybox"
	"envp in unmapped memory|args --bad-envp /@/busybox echo hello"
	"path in unmapped memory|args --bad-path /@/busybox echo hello"
	"150000 one-byte arguments|args --count 150000 --size 1 /@/busybox true"
	"a 3 MB environment|args --env-count 30 --env-size 100000 /@/busybox echo hello"
	"one argument of 128 KiB + 1 (past MAX_ARG_STRLEN)|args --count 1 --size 131073 /@/busybox echo"
)
driver='exec 2>/dev/null
for c in "$@"; do
	set -- $c
	if [ "$2" = DEEP ]; then d=$(cat /e/deep-$K); shift 2; set -- errno "$d" "$@"; fi
	o=$(/bin/exectest "$@" | head -n 1; echo "status $?")
	echo "$o" | head -n 1 | cut -c1-80
done'
args_n=()
args_f=()
for c in "${cases[@]}"; do
	a=${c#*|}
	args_n+=("${a//@/n}")
	args_f+=("${a//@/f}")
done
plain=$(plain_run "$R" /e/sh -c "K=n; $driver" sh "${args_n[@]}" 2>&1)
run urun --rootfs "$R" -- /e/sh -c "K=f; $driver" sh "${args_f[@]}"
mapfile -t p <<<"$plain"
mapfile -t u <<<"$out"
i=0
for c in "${cases[@]}"; do
	expect_eq "${c%%|*}: as the kernel's native twin (${p[$i]:-?})" "${p[$i]:-<nothing>}" "${u[$i]:-<nothing>}"
	i=$((i + 1))
done

# ---- argv at the kernel's limit ----------------------------------------------------------------

# The largest N for which N native arguments of 100000 bytes still run (the limit is a quarter of
# the stack rlimit, 8 MiB by default: N is about 20).
limit=0
for n in $(seq 10 90); do
	run urun --rootfs "$R" -- /bin/exectest args --count "$n" --size 100000 /n/busybox true
	if grep -q '^errno E2BIG' <<<"$out"; then
		break
	fi
	limit=$n
done
if [ "$limit" -lt 10 ] || [ "$limit" -ge 90 ]; then
	fail "measure the kernel's argv limit" "largest N: $limit"$'\n'"$out"
else
	echo "info: the kernel takes at most $limit arguments of 100000 bytes here"
	run urun --rootfs "$R" -- /bin/exectest args --count $((limit - 1)) --size 100000 /f/busybox true
	expect_eq "foreign, one argument below the limit ($((limit - 1)) x 100000 bytes): runs" "" "$out" \
		"exit status $status"
	run urun --rootfs "$R" -- /bin/exectest args --count "$limit" --size 100000 /f/busybox true
	if [ -z "$out" ] && [ "$status" -eq 0 ]; then
		pass "foreign, at the limit ($limit x 100000 bytes): runs"
	elif grep -q '^errno E2BIG' <<<"$out"; then
		pass "foreign, at the limit ($limit x 100000 bytes): E2BIG (the emulator's arguments count too)"
	else
		fail "foreign, at the limit: runs or E2BIG" "exit status $status"$'\n'"$out"
	fi
	run urun --rootfs "$R" -- /bin/exectest args --count $((limit + 1)) --size 100000 /f/busybox true
	expect_eq "foreign, past the limit: the kernel's E2BIG" "errno E2BIG" "$(head -n 1 <<<"$out")"
	run urun --rootfs "$R" -- /bin/exectest args --count $((limit + 1)) --size 100000 /bin/sh -c true
	expect_eq "a foreign shell (/bin/sh), past the limit: E2BIG" "errno E2BIG" \
		"$(head -n 1 <<<"$out")"
fi

# ---- credentials extremes --------------------------------------------------------------------

# A caller with 1500 supplementary groups (the kernel allows 65536): its /proc/PID/status is
# over 8 KiB before the CapEff: line, which the permission check used to miss (every foreign
# exec then failed with ENOEXEC); and a file whose group is past the 256 groups kept: refused
# only where the dropped groups could change the answer (SECURITY.md).
if command -v setpriv >/dev/null 2>&1; then
	chmod 711 "$T"
	mkdir -p "$T/g"
	cp "$(busybox arm64)" "$T/g/any"
	cp "$(busybox arm64)" "$T/g/group-only"
	chgrp 101499 "$T/g/group-only"
	chmod 755 "$T/g" "$T/g/any"
	chmod 710 "$T/g/group-only"
	groups=$(seq -s, 100000 101499)
	many=(setpriv --reuid 65534 --regid 65534 --groups "$groups" "$EXECTEST" errno)
	run urun -- "${many[@]}" "$T/g/any" echo hello
	expect_eq "1500 supplementary groups: a world-executable foreign program runs" hello "$out"
	run urun -- "${many[@]}" "$T/g/group-only" echo hello
	if [ "$out" = hello ]; then
		pass "1500 groups, group-only x bit through group 101499 (the 1500th): runs, as the kernel"
	else
		expect_eq "1500 groups, group-only x bit through group 101499 (the 1500th): refused, never run wrongly" \
			"errno EACCES" "$(head -n 1 <<<"$out")"
	fi
else
	skip_check "1500 supplementary groups" "no setpriv"
fi

run urun --rootfs "$R" -- /f/busybox echo still-serving
expect_eq "afterwards a foreign exec still works" still-serving "$out" "exit status $status"

finish
