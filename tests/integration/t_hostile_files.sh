#!/usr/bin/env bash
# Hostile sandbox, malformed exec targets: truncated ELF files, absurd header fields, #! lines
# at and past the kernel's 256-byte buffer, #! loops, NUL bytes in #! lines.  Native targets and
# native #! interpreters must give exactly the kernel's answer (the same run without ubinfmt);
# foreign ones give what the native twin gives (the same bytes with the foreign busybox in
# place of the native one), or, for a foreign ELF the kernel could not load either, ENOEXEC or
# qemu's refusal.  After all of them the supervisor still serves a foreign exec.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_hostile_sandbox
need_cmd python3

R=$(make_twin_rootfs) || skip "cannot copy the rootfs"

# Every target in /n (native variant) has a twin in /f (foreign variant) built from the same
# recipe; python writes both.
python3 - "$R" <<'PY'
import os, struct, sys
root = sys.argv[1]
def w(path, data, mode=0o755):
    p = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    os.chmod(p, mode)
for kind in ("n", "f"):
    elf = open(os.path.join(root, kind, "busybox"), "rb").read()
    d = "/" + kind
    # Truncated: inside e_ident, inside the header, right after it, inside the program headers.
    for n in (4, 16, 40, 63, 64, 100):
        w(f"{d}/trunc-{n}", elf[:n])
    def patch(name, off, fmt, val):
        b = bytearray(elf)
        struct.pack_into(fmt, b, off, val)
        w(f"{d}/{name}", bytes(b))
    patch("phnum-ffff", 56, "<H", 0xffff)              # e_phnum
    patch("phoff-huge", 32, "<Q", 0x7fffffffffff0000)  # e_phoff past the file
    patch("phentsize-1", 54, "<H", 1)                  # e_phentsize
    patch("ehsize-0", 52, "<H", 0)                     # e_ehsize (nobody checks it)
    patch("entry-0", 24, "<Q", 0)                      # e_entry
    patch("type-rel", 16, "<H", 1)                     # ET_REL
    patch("type-core", 16, "<H", 4)                    # ET_CORE
    patch("class-bad", 4, "B", 7)                      # EI_CLASS
    patch("data-bad", 5, "B", 0)                       # EI_DATA
    patch("version-bad", 6, "B", 0xff)                 # EI_VERSION
    patch("osabi-junk", 7, "B", 0x61)                  # EI_OSABI
    # #! lines: interpreter /n/busybox or /f/busybox (same length), applet "echo".
    interp = f"{d}/busybox".encode()
    def script(name, line, rest=b"\n"):
        w(f"{d}/{name}", line + rest)
    script("sb-plain", b"#!" + interp + b" echo")
    # The name ends exactly at byte 255 of the buffer, or one byte later (no blank before 256).
    pad = b"/" * (253 - len(interp))
    script("sb-name-253", b"#!" + pad + interp, b" echo\n")
    script("sb-name-254", b"#!" + pad + b"/" + interp, b"\n")
    script("sb-name-past-256", b"#!" + b"/" * 300 + interp, b"\n")
    # The argument runs past byte 255: the kernel cuts it.
    script("sb-arg-past-256", b"#!" + interp + b" echo" + b"x" * 300)
    script("sb-arg-at-255", b"#!" + interp + b" " + b"e" * (253 - len(interp)))
    # NUL bytes: after the name, inside the argument, before the name, in place of newline.
    script("sb-nul-after-name", b"#!" + interp + b"\0 echo")
    script("sb-nul-in-arg", b"#!" + interp + b" ec\0ho")
    script("sb-nul-before-name", b"#!\0" + interp + b" echo")
    script("sb-nul-no-newline", b"#!" + interp + b" echo\0", b"")
    script("sb-blank-nul", b"#!" + interp + b" \0echo")
    script("sb-only-magic", b"#!", b"")
    script("sb-crlf", b"#!" + interp + b" echo\r")
    # Loops: itself, a pair, and through a symlink.
    script("sb-self", b"#!" + f"{d}/sb-self".encode())
    script("sb-a", b"#!" + f"{d}/sb-b".encode())
    script("sb-b", b"#!" + f"{d}/sb-a".encode())
    script("sb-via-link", b"#!" + f"{d}/sb-link".encode())
    os.symlink("sb-via-link", os.path.join(root, kind, "sb-link"))
PY

names=(trunc-4 trunc-16 trunc-40 trunc-63 trunc-64 trunc-100 phnum-ffff phoff-huge phentsize-1
	ehsize-0 entry-0 type-rel type-core class-bad data-bad version-bad osabi-junk
	sb-plain sb-name-253 sb-name-254 sb-name-past-256 sb-arg-past-256 sb-arg-at-255
	sb-nul-after-name sb-nul-in-arg sb-nul-before-name sb-nul-no-newline sb-blank-nul
	sb-only-magic sb-crlf sb-self sb-a sb-via-link)

# One line per target: what `exectest errno TARGET echo hello` printed first (its errno, or the
# program's first line, or "no output"), with /n/ and /f/ both shown as /X/.  The shell's own
# messages ("Segmentation fault") are silenced: they would add lines.
driver='exec 2>/dev/null
for p in "$@"; do
	o=$(/bin/exectest errno "$p" echo hello 2>&1 | head -n 1)
	case $o in "") o="no output";; esac
	echo "$o" | sed "s#/[nf]/#/X/#g"
done'
targets_n=()
targets_f=()
for n in "${names[@]}"; do
	targets_n+=("/n/$n")
	targets_f+=("/f/$n")
done
plain=$(plain_run "$R" /e/sh -c "$driver" sh "${targets_n[@]}" 2>&1)
run urun --trace="$T/trace" --rootfs "$R" -- /e/sh -c "$driver" sh "${targets_n[@]}"
under_n=$out
run urun --trace="$T/trace" --rootfs "$R" -- /e/sh -c "$driver" sh "${targets_f[@]}"
under_f=$out
mapfile -t p <<<"$plain"
mapfile -t un <<<"$under_n"
mapfile -t uf <<<"$under_f"

i=0
for n in "${names[@]}"; do
	k=${p[$i]:-<nothing>}
	expect_eq "native $n: the kernel's answer ($k)" "$k" "${un[$i]:-<nothing>}"
	f=${uf[$i]:-<nothing>}
	case $n in
	trunc-* | phnum-ffff | phoff-huge | phentsize-1 | entry-0 | class-bad | data-bad | ehsize-0 | version-bad)
		# Native: the kernel's own loader refuses or crashes it (or, for e_ehsize and
		# EI_VERSION, does not look).  Foreign: ENOEXEC when the supervisor sees no foreign ELF
		# it could run, else qemu's refusal (qemu checks e_ehsize and EI_VERSION; binfmt_misc's
		# qemu magic would not even claim a bad EI_VERSION: ENOEXEC there).
		if [ "$f" = "$k" ] || [[ $f =~ ^(errno\ ENOEXEC|qemu-aarch64.*|.*(Invalid|Error|error|fault|Segmentation).*|no\ output)$ ]]; then
			pass "foreign $n: refused ($f)"
		else
			fail "foreign $n: refused" "native: $k"$'\n'"foreign: $f"
		fi
		;;
	*)
		expect_eq "foreign $n: as the native twin ($k)" "$k" "$f"
		;;
	esac
	i=$((i + 1))
done

run urun --rootfs "$R" -- /f/busybox echo still-serving
expect_eq "afterwards a foreign exec still works" still-serving "$out" "exit status $status"

finish
