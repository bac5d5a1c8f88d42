#!/usr/bin/env bash
# `#!` scripts whose interpreter is foreign behave exactly like the same scripts with a native
# interpreter run without ubinfmt: a foreign interpreter, an argument on the #! line (one
# argument, inner blanks kept, trailing blanks dropped), script → script → foreign ELF, a chain
# deeper than the kernel's limit (ELOOP), a missing interpreter and a non-executable one (same
# errno, same shell message and exit status).
#
# Every case exists twice in the arm64 rootfs: /tn/NAME uses the native amd64 busybox in /n,
# /tf/NAME the arm64 busybox in /bin.  The /tn one runs chrooted without ubinfmt (the kernel's
# answer), the /tf one (and the /tn one again) under `ubinfmt run --rootfs`; outputs are compared
# after renaming /tn/ and /tf/ to /tX/.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_root
need_ubinfmt
need_exectest
need_fixtures
need_rootfs busybox-arm64
need_busybox amd64
need_qemu arm64

R=$(make_rootfs busybox-arm64) || skip "cannot copy the rootfs"
mkdir -p "$R/n" "$R/tn" "$R/tf"
cp "$(busybox amd64)" "$R/n/busybox"
ln -s busybox "$R/n/sh"
ln -s busybox "$R/n/echo"
cp "$(busybox amd64)" "$R/n/nox-busybox"
cp "$R/bin/busybox" "$R/bin/nox-busybox"
chmod 644 "$R/n/nox-busybox" "$R/bin/nox-busybox"

# script NAME CONTENT: writes /tn/NAME and /tf/NAME; in CONTENT @D@ is the interpreter
# directory (n or bin) and @S@ the script directory (tn or tf).
script() {
	local name=$1 content=$2
	printf '%s' "$content" | sed -e 's#@D@#n#g' -e 's#@S@#tn#g' >"$R/tn/$name"
	printf '%s' "$content" | sed -e 's#@D@#bin#g' -e 's#@S@#tf#g' >"$R/tf/$name"
	chmod 755 "$R/tn/$name" "$R/tf/$name"
}

norm() {
	sed -e 's#/t[nf]/#/tX/#g'
}

# same NAME CALLER…: CALLER… ends with a path under /tX/; it runs as /tn (no ubinfmt), /tn and
# /tf (under ubinfmt), and all three outputs and statuses must agree.
same() {
	local name=$1 n_out n_status
	shift
	local native=("${@//\/tX\//\/tn\/}") foreign=("${@//\/tX\//\/tf\/}")
	run plain_run "$R" "${native[@]}"
	n_out=$(norm <<<"$out")
	n_status=$status
	if [ -z "$n_out" ] && [ "$n_status" -ne 0 ]; then
		fail "$name: baseline without ubinfmt ran" "exit status $n_status"
		return
	fi
	run urun --rootfs "$R" -- "${native[@]}"
	expect_eq "$name: native interpreter under ubinfmt" "$n_out [$n_status]" "$(norm <<<"$out") [$status]"
	run urun --rootfs "$R" -- "${foreign[@]}"
	expect_eq "$name: foreign interpreter under ubinfmt" "$n_out [$n_status]" "$(norm <<<"$out") [$status]"
}

script plain.sh $'#!/@D@/sh\necho "plain $0 [$*]"\n'
same "foreign interpreter, exec'd by a native program" /bin/exectest errno /tX/plain.sh x 'y z'
same "foreign interpreter, exec'd by a shell" /n/sh -c '/tX/plain.sh x "y z"'
same "foreign interpreter, as the command itself" /tX/plain.sh x 'y z'

script arg.sh $'#!/@D@/echo one  two\n'
same "argument on the #! line" /bin/exectest errno /tX/arg.sh x
script arg-blanks.sh $'#!/@D@/echo \t arg\t \n'
same "argument with blanks around it" /bin/exectest errno /tX/arg-blanks.sh x
script noarg.sh $'#!/@D@/echo\n'
same "no argument, no blank" /bin/exectest errno /tX/noarg.sh x
script bbsh.sh $'#!/@D@/busybox sh\necho "bbsh $0 [$*]"\n'
same "interpreter is the multi-call binary plus an applet" /bin/exectest errno /tX/bbsh.sh x
script nonl.sh '#!/@D@/echo no-newline'
same "#! line without a newline" /bin/exectest errno /tX/nonl.sh x

# Chains: /tX/cK_1 → /tX/cK_2 → … → /tX/cK_K → busybox sh.
chain() {
	local k=$1 i
	for ((i = 1; i < k; i++)); do
		script "c${k}_$i" "#!/@S@/c${k}_$((i + 1))"$'\necho not-me\n'
	done
	script "c${k}_$k" $'#!/@D@/sh\necho "chain '"$k"$' $0 [$*]"\n'
}

# The kernel's limit, measured: the longest chain that still runs natively without ubinfmt.
limit=0
for k in 1 2 3 4 5 6 7 8 9; do
	chain "$k"
	run plain_run "$R" /bin/exectest errno "/tn/c${k}_1" c1 arg
	if [[ $out == "errno ELOOP"* ]]; then
		break
	fi
	limit=$k
done
if [ "$limit" -lt 2 ] || [ "$limit" -ge 9 ]; then
	fail "measure the kernel's #! recursion limit" "longest native chain: $limit"$'\n'"$out"
else
	echo "info: the kernel runs #! chains of up to $limit scripts"
	same "script → script → foreign ELF" /bin/exectest errno /tX/c2_1 c1 arg
	same "chain of $((limit - 1)) scripts" /bin/exectest errno "/tX/c$((limit - 1))_1" c1 arg
	same "chain of $((limit + 1)) scripts is ELOOP" /bin/exectest errno "/tX/c$((limit + 1))_1" c1 arg
	same "chain of $((limit + 2)) scripts is ELOOP" /bin/exectest errno "/tX/c$((limit + 2))_1" c1 arg
	# binfmt_misc counts the emulator as one more level, so the kernel's own answer for a
	# foreign chain of exactly the limit differs from the native one: report, do not judge.
	run urun --rootfs "$R" -- /bin/exectest errno "/tf/c${limit}_1" c1 arg
	echo "info: a chain of $limit scripts ending in a foreign ELF gives: $(head -n 1 <<<"$out")"
fi

script missing.sh $'#!/nonexistent/interp\necho never\n'
same "missing interpreter: errno" /bin/exectest errno /tX/missing.sh
same "missing interpreter: shell message and status" /n/sh -c '/tX/missing.sh; echo "status $?"'
# The same message from a foreign shell (both shells are busybox 1.35 and called "sh").
run urun --rootfs "$R" -- /bin/exectest errno /bin/busybox sh -c '/tf/missing.sh; echo "status $?"'
foreign_shell=$out
run plain_run "$R" /bin/exectest errno /n/busybox sh -c '/tf/missing.sh; echo "status $?"'
expect_eq "missing interpreter: a foreign shell says what the native one says" "$out" "$foreign_shell"

script nox.sh $'#!/@D@/nox-busybox sh\necho never\n'
same "interpreter without x bit: errno" /bin/exectest errno /tX/nox.sh
same "interpreter without x bit: shell message and status" /n/sh -c '/tX/nox.sh; echo "status $?"'

script dir.sh $'#!/@S@\necho never\n'
same "interpreter is a directory" /bin/exectest errno /tX/dir.sh

finish
