#!/usr/bin/env bash
# What a caller may not see must not leak, and what it names must not forge log lines (issue 9,
# findings 7 and 8):
#   - as uid 65534, against a root-owned 0700 directory: an x32 ELF (no emulator), an arm64 ELF,
#     a native ELF, a missing name, symlinks into it, and #! scripts whose interpreter lies in
#     it (native, arm64, x32): each exec gives the kernel's own errno (EACCES), and the trace
#     records (`ubinfmt run --trace --json`, and `ubinfmt trace --json` under ubinfmtd) show the
#     same "denied" line for every one of them, with no architecture and no resolved name the
#     caller could not find itself; with the directory made searchable (711) the same execs are
#     traced in full, so the records hide only what the caller cannot see;
#   - a file whose name holds newlines and forged "ubinfmt[1] error:" / "ubinfmtd[1] error:"
#     prefixes (exec'd as an x32 ELF that nothing runs, and as a missing name at debug level):
#     no line of the supervisor's stderr (`ubinfmt run -v -v`, ubinfmtd -v -v) starts with a
#     forged prefix, and the name shows up escaped.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_hostile_sandbox
need_daemon
need_cmd python3 setpriv

SETPRIV=$(command -v setpriv)
as_nobody=("$SETPRIV" --reuid 65534 --regid 65534 --clear-groups "$EXECTEST" errno)

# x32_elf FILE: a minimal x32 program (a 32-bit ELF for EM_X86_64) that exits with 42.
x32_elf() {
	python3 - "$1" <<'EOF'
import struct, sys
code = bytes([0xb8, 0x3c, 0, 0, 0x40, 0xbf, 42, 0, 0, 0, 0x0f, 0x05])  # exit(42), x32 ABI
base, ehsize, phsize = 0x08048000, 52, 32
total = ehsize + phsize + len(code)
eh = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8) + struct.pack(
    "<HHIIIIIHHHHHH", 2, 62, 1, base + ehsize + phsize, ehsize, 0, 0, ehsize, phsize, 1, 0, 0, 0)
ph = struct.pack("<IIIIIIII", 1, 0, base, base, total, total, 5, 0x1000)
with open(sys.argv[1], "wb") as f:
    f.write(eh + ph + code)
EOF
	chmod 755 "$1"
}

# ---- the files -------------------------------------------------------------------------------

chmod 711 "$T"
S=$T/secret
mkdir -p "$S" "$T/pub"
x32_elf "$S/x32"
x32_elf "$T/pub/x32"
# busybox picks its applet by the name it runs under: each one as busybox, in its own directory.
mkdir -p "$S/n" "$S/f"
cp "$(busybox amd64)" "$S/n/busybox"
cp "$(busybox arm64)" "$S/f/busybox"
chmod 755 "$S/n/busybox" "$S/f/busybox"
ln -s secret/n/busybox "$T/link-native"
ln -s "$S/f/busybox" "$T/link-arm64"
printf '#!%s sh\necho from-script\n' "$S/n/busybox" >"$T/script-native"
printf '#!%s sh\necho from-script\n' "$S/f/busybox" >"$T/script-arm64"
printf '#!%s\n' "$S/x32" >"$T/script-x32"
chmod 755 "$T"/script-*
chmod 700 "$S"

# name|path|resolved shown while the directory is unsearchable ("" or the caller's own file)
cases=(
	"x32 ELF|$S/x32|"
	"arm64 ELF|$S/f/busybox|"
	"native ELF|$S/n/busybox|"
	"missing name|$S/missing|"
	"symlink to the native ELF|$T/link-native|"
	"symlink to the arm64 ELF|$T/link-arm64|"
	"script, native interpreter inside|$T/script-native|$T/script-native"
	"script, arm64 interpreter inside|$T/script-arm64|$T/script-arm64"
	"script, x32 interpreter inside|$T/script-x32|$T/script-x32"
)

# first_line TEXT: its first line (the errno line of exectest, or what ran instead).
first_line() { head -n 1 <<<"$1"; }

# answer CMD…: how an `exectest errno` exec ended: "errno NAME", or the exit status of what ran.
answer() {
	local o s
	o=$("$@" 2>/dev/null)
	s=$?
	case $o in
	errno\ *) head -n 1 <<<"$o" ;;
	*) echo "ran, exit status $s" ;;
	esac
}

# record FILE PATH: "decision arch resolved=… error=… emulator=…" of the last JSON trace line
# in FILE whose path is PATH (lines that are not JSON are skipped), or "no record".
record() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
found = "no record"
for line in open(sys.argv[1], errors="replace"):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if isinstance(r, dict) and r.get("path") == sys.argv[2]:
        found = "%s %s resolved=%s error=%s emulator=%s" % (
            r.get("decision"), r.get("arch"), r.get("resolved"), r.get("error"), r.get("emulator"))
print(found)
EOF
}

# The kernel's answers, without ubinfmt.
declare -A kernel=()
for c in "${cases[@]}"; do
	IFS='|' read -r name path _ <<<"$c"
	run "${as_nobody[@]}" "$path" echo hi
	kernel[$name]=$(first_line "$out")
done
x32_kernel=$(answer "$EXECTEST" errno "$T/pub/x32")
echo "     (this kernel answers an exec of an x32 ELF with: $x32_kernel)"

# ---- errno: the kernel's, also where no emulator exists ----------------------------------------

expect_eq "x32 ELF in a searchable directory: the kernel's answer ($x32_kernel)" "$x32_kernel" \
	"$(answer urun -- "$EXECTEST" errno "$T/pub/x32")"

for c in "${cases[@]}"; do
	IFS='|' read -r name path _ <<<"$c"
	if [ "${kernel[$name]}" != "errno EACCES" ]; then
		fail "unsearchable directory, $name: the kernel says EACCES" "got: ${kernel[$name]}"
		continue
	fi
	run urun -- "${as_nobody[@]}" "$path" echo hi
	expect_eq "unsearchable directory, $name: the kernel's EACCES" "errno EACCES" "$(first_line "$out")" \
		"exit status $status, output: ${out:-none}"
done

# ---- trace records: ubinfmt run --trace --json -------------------------------------------------

hidden() { echo "denied unknown resolved=$1 error=13 emulator=None"; }

for c in "${cases[@]}"; do
	IFS='|' read -r name path shown <<<"$c"
	rm -f "$T/trace.json"
	run urun --trace="$T/trace.json" --json -- "${as_nobody[@]}" "$path" echo hi
	expect_eq "run --trace --json, $name: errno EACCES" "errno EACCES" "$(first_line "$out")"
	expect_eq "run --trace --json, $name: a denied record that tells nothing of the file" "$(hidden "$shown")" \
		"$(record "$T/trace.json" "$path")" "$(cat "$T/trace.json" 2>/dev/null | tail -n 3)"
done

# The text format carries the same record: nothing of the directory's contents in it.
rm -f "$T/trace.txt"
run urun --trace="$T/trace.txt" -- "${as_nobody[@]}" "$T/link-arm64" echo hi
line=$(grep -F "path='$T/link-arm64'" "$T/trace.txt" 2>/dev/null)
expect_match "run --trace (text), symlink into it: denied, arch unknown, empty resolved" \
	"resolved='' arch=unknown decision=denied emulator=- error=13 " "$line"

# Searchable (711): the caller reaches every file, and the records show them in full.
chmod 711 "$S"
rm -f "$T/trace.json"
run urun --trace="$T/trace.json" --json -- "${as_nobody[@]}" "$T/link-arm64" echo hi
expect_eq "search-only directory: the arm64 ELF through a symlink runs" hi "$(first_line "$out")"
expect_match "... and its record names the target, its architecture and the emulator" \
	"^emulate aarch64 resolved=$S/f/busybox error=0 emulator=/.*qemu-aarch64" "$(record "$T/trace.json" "$T/link-arm64")"
rm -f "$T/trace.json"
run urun --trace="$T/trace.json" --json -- "${as_nobody[@]}" "$T/script-native"
expect_eq "search-only directory: the script with a native interpreter inside runs" from-script "$(first_line "$out")"
expect_eq "... and its record shows the interpreter's architecture" \
	"native x86_64 resolved=$T/script-native error=0 emulator=None" "$(record "$T/trace.json" "$T/script-native")"
chmod 700 "$S"

# ---- trace records: ubinfmt trace --json under ubinfmtd ----------------------------------------

daemon_start d -v -v || skip "ubinfmtd does not start"
A=$(agent_sock d)
C=$(control_sock d)
trace_start "$T/live.json" --control "$C" --json || fail "ubinfmt trace --json starts tracing"

# in_sandbox ID CMD…: CMD under ubinfmt-init, served by the daemon.
in_sandbox() {
	local id=$1
	shift
	run timeout -k 5 "$UBINFMT_TIMEOUT" "$UBINFMT_INIT" --socket "$A" --id "$id" -- "$@"
}

# The subscription must have reached the daemon before the execs that matter: wait for a marker.
cp "$(busybox amd64)" "$T/pub/marker"
for ((i = 0; i < 50; i++)); do
	in_sandbox "marker-$i" "$T/pub/marker" true
	grep -qF "\"path\":\"$T/pub/marker\"" "$T/live.json" 2>/dev/null && break
	sleep 0.2
done
if ! grep -qF "\"path\":\"$T/pub/marker\"" "$T/live.json" 2>/dev/null; then
	fail "ubinfmt trace: the live stream shows execs" "$(cat "$T/live.json")"
else
	i=0
	for c in "${cases[@]}"; do
		IFS='|' read -r name path shown <<<"$c"
		i=$((i + 1))
		in_sandbox "leaks-$i" "${as_nobody[@]}" "$path" echo hi
		expect_eq "ubinfmtd, $name: errno EACCES" "errno EACCES" "$(first_line "$out")" "exit status $status"
		# The line reaches the stream after the answer: wait for it (5 s at most).
		for ((j = 0; j < 50; j++)); do
			[ "$(record "$T/live.json" "$path")" != "no record" ] && break
			sleep 0.1
		done
		expect_eq "ubinfmt trace --json, $name: a denied record that tells nothing of the file" \
			"$(hidden "$shown")" "$(record "$T/live.json" "$path")" "$(grep -F "$path" "$T/live.json")"
	done
fi

# ---- log injection -----------------------------------------------------------------------------

NL=$'\n'
forged="x${NL}ubinfmt[1] error: FORGED${NL}ubinfmtd[1] error: FORGED"
mkdir -p "$T/inj"
x32_elf "$T/inj/$forged"
# exectest's own message repeats the name raw: keep it out of the supervisor's stderr.
quiet=(sh -c 'exec "$@" 2>/dev/null' sh "$EXECTEST" errno)

# forged_lines FILE: the lines of FILE that start with a forged prefix.
forged_lines() { grep -E '^ubinfmtd?\[1\] error: FORGED' "$1"; }
escaped='x\nubinfmt[1] error: FORGED\nubinfmtd[1] error: FORGED'

# expect_logged NAME FILE TEXT: FILE holds TEXT (a fixed string).
expect_logged() {
	if grep -qF -- "$3" "$2"; then
		pass "$1"
	else
		fail "$1" "want: $3"$'\n'"$(grep -F FORGED "$2")"
	fi
}

# The supervisor logs before it answers: its lines are out when the exec has failed.
urun -v -v -- "${quiet[@]}" "$T/inj/missing-$forged" >/dev/null 2>"$T/run.err"
expect_logged "ubinfmt run -v -v: the debug line names the missing file, escaped" "$T/run.err" "'$T/inj/missing-$escaped'"
in_sandbox inj-1 "${quiet[@]}" "$T/inj/missing-$forged"
expect_logged "ubinfmtd -v -v: its debug line names the missing file, escaped" "$T/d.log" "'$T/inj/missing-$escaped'"
if [ "$x32_kernel" = "errno ENOEXEC" ]; then
	# Nothing runs x32 here: the no-emulator warning names the file (at the default level too).
	urun -- "${quiet[@]}" "$T/inj/$forged" >/dev/null 2>>"$T/run.err"
	expect_logged "ubinfmt run: the no-emulator warning names the file, escaped" "$T/run.err" \
		"'$T/inj/$escaped' fails with ENOEXEC"
	in_sandbox inj-2 "${quiet[@]}" "$T/inj/$forged"
	expect_logged "ubinfmtd: the no-emulator warning names the file, escaped" "$T/d.log" \
		"'$T/inj/$escaped' fails with ENOEXEC"
else
	skip_check "no-emulator warning with a forged name" "this kernel runs x32 programs itself"
fi
expect_eq "ubinfmt run -v -v: no line of its stderr starts with a forged prefix" "" "$(forged_lines "$T/run.err")" \
	"$(grep -F FORGED "$T/run.err")"
expect_eq "ubinfmtd -v -v: no line of its log starts with a forged prefix" "" "$(forged_lines "$T/d.log")" \
	"$(grep -F FORGED "$T/d.log")"

daemon_stop d
finish
