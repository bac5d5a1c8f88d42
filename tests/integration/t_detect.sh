#!/usr/bin/env bash
# `ubinfmt detect [--json] FILE…` on the fixtures: the format (ELF), the architecture, class
# (32/64) and byte order, and the decision (native for amd64; emulate with the qemu-user binary's
# path for the foreign ones; either for i386, which some x86-64 hosts run natively).  Also a #!
# script (format script, its interpreter), garbage bytes (other), an ELF for a machine nobody
# emulates (no emulator), several files in one call, and --json (valid JSON).
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_real_ubinfmt
need_fixtures
need_cmd python3

little='(little|LSB|[^a-z]le([^a-z]|$))'
big='(big|MSB|[^a-z]be([^a-z]|$))'

# arch class byte-order
expect_for() {
	case $1 in
	amd64 | arm64 | riscv64 | ppc64el | mips64el) echo "64 $little" ;;
	s390x) echo "64 $big" ;;
	armhf | armel | i386 | mipsel) echo "32 $little" ;;
	esac
}

for arch in amd64 "${FOREIGN_ARCHS[@]}"; do
	f=$(busybox "$arch")
	[ -f "$f" ] || { skip_check "$arch" "no busybox fixture"; continue; }
	run timeout 60 "$UBINFMT" detect "$f"
	if [ "$status" -ne 0 ]; then
		fail "$arch: detect exits 0" "exit status $status"$'\n'"$out"
		continue
	fi
	read -r class order <<<"$(expect_for "$arch")"
	problems=()
	grep -qi 'elf' <<<"$out" || problems+=("format ELF")
	grep -qiE "$(arch_re "$arch")" <<<"$out" || problems+=("architecture $(arch_re "$arch")")
	grep -qE "(^|[^0-9])$class([^0-9]|$)" <<<"$out" || problems+=("class $class")
	grep -qiE "$order" <<<"$out" || problems+=("byte order $order")
	q=$(qemu_name "$arch")
	case $arch in
	amd64) grep -qi native <<<"$out" || problems+=("decision native") ;;
	i386) grep -qiE "native|emulat" <<<"$out" || problems+=("decision native or emulate") ;;
	*) grep -qiE "emulat.*qemu-$q|qemu-$q.*emulat" <<<"$out" || problems+=("decision emulate with qemu-$q") ;;
	esac
	if [ ${#problems[@]} -eq 0 ]; then
		pass "$arch: $(head -n 1 <<<"$out")"
	else
		fail "$arch: detect output" "missing: ${problems[*]}"$'\n'"$out"
	fi
done

printf '#!/bin/sh -e\necho hi\n' >"$T/script.sh"
chmod 755 "$T/script.sh"
run timeout 60 "$UBINFMT" detect "$T/script.sh"
expect_match "script: format and interpreter" '(script|#!).*/bin/sh|/bin/sh.*(script|#!)' "$out" "exit status $status"

printf 'garbage\001\002 not a program\n' >"$T/garbage"
run timeout 60 "$UBINFMT" detect "$T/garbage"
expect_match "garbage: format other" '[Oo]ther|[Uu]nknown' "$out" "exit status $status"

if [ -f "$(busybox arm64)" ]; then
	cp "$(busybox arm64)" "$T/ia64"
	printf '\062\000' | dd of="$T/ia64" bs=1 seek=18 conv=notrunc status=none
	run timeout 60 "$UBINFMT" detect "$T/ia64"
	expect_match "ELF for IA-64: no emulator" '[Nn]o[ -_]emulator|none' "$out" "exit status $status"

	run timeout 60 "$UBINFMT" detect "$(busybox arm64)" "$T/script.sh" "$(busybox amd64)"
	if [ "$status" -eq 0 ] && grep -q "$(busybox arm64)" <<<"$out" && grep -q "$T/script.sh" <<<"$out" &&
		grep -q "$(busybox amd64)" <<<"$out"; then
		pass "several files: each is named"
	else
		fail "several files: each is named" "exit status $status"$'\n'"$out"
	fi

	run timeout 60 "$UBINFMT" detect --json "$(busybox arm64)" "$(busybox amd64)" "$T/script.sh"
	check "--json: valid JSON, one record per file, arm64 emulated, amd64 native" python3 -c '
import json, sys
text = sys.argv[1]
try:
    doc = json.loads(text)
    recs = doc if isinstance(doc, list) else [doc]
except ValueError:
    recs = [json.loads(l) for l in text.splitlines() if l.strip()]
print(json.dumps(recs, indent=1))
assert len(recs) == 3, "want 3 records"
s = [json.dumps(r).lower() for r in recs]
assert "aarch64" in s[0] or "arm64" in s[0], "arm64 record"
assert "qemu-aarch64" in s[0], "arm64 emulator"
assert "native" in s[1], "amd64 native"
assert "/bin/sh" in s[2], "script interpreter"
' "$out"
fi

run timeout 60 "$UBINFMT" detect "$T/does-not-exist"
expect_ne "missing file: non-zero exit" 0 "$status" "$out"

finish
