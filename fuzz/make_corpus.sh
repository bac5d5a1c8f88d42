#!/usr/bin/env bash
# Regenerates the seed corpora in fuzz/corpus/<target>/ from the real fixtures
# (tools/fixtures.sh) and this host.  The seeds are committed, so the fuzzers do not need the
# fixtures; run this again when the fixtures or the input formats change.
#
#   classify    the first 256 bytes of every busybox fixture and of arm64-dyn's programs and
#               loader; #! lines: the rootfs's own scripts, and the edge cases of the kernel's
#               parser (blanks, CRLF, NULs, the 256-byte limit)
#   hostbinfmt  every /usr/lib/binfmt.d/*.conf registration converted to the text that
#               /proc/sys/fs/binfmt_misc/NAME shows, a NUL, then the head of a file it matches
#   perm        /proc/PID/status of a few processes, one with 300 supplementary groups
#   rewrite     argv/#!-chain/layout records (see fuzz_rewrite.c for the layout)
#   trace       trace records with hostile strings (see fuzz_trace.c)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
fixtures=${UBINFMT_FIXTURES:-$repo/.cache/fixtures}
out=$repo/fuzz/corpus
[ -d "$fixtures/busybox" ] || { echo "make_corpus.sh: no fixtures at $fixtures (run tools/fixtures.sh)" >&2; exit 1; }

# ---- classify ----------------------------------------------------------------------------------
d=$out/classify
rm -rf "$d" && mkdir -p "$d"
for bb in "$fixtures"/busybox/*/busybox; do
	a=$(basename "$(dirname "$bb")")
	head -c 256 "$bb" >"$d/elf-busybox-$a"
done
dyn=$fixtures/rootfs/arm64-dyn
if [ -d "$dyn" ]; then
	for f in usr/bin/bash usr/bin/ls lib/ld-linux-aarch64.so.1 usr/lib/aarch64-linux-gnu/libc.so.6; do
		[ -f "$dyn/$f" ] && head -c 256 "$dyn/$f" >"$d/elf-arm64-dyn-$(basename "$f")"
	done
	for f in "$dyn"/usr/bin/*; do
		[ -f "$f" ] && [ "$(head -c 2 "$f")" = '#!' ] && head -c 256 "$f" >"$d/script-arm64-dyn-$(basename "$f")"
	done
fi
python3 - "$d" <<'EOF'
import sys, os
d = sys.argv[1]
lines = {
    "plain": b"#!/bin/sh\n",
    "arg": b"#!/bin/sh -e\necho\n",
    "env-s": b"#!/usr/bin/env -S a  b\tc\n",
    "blanks": b"#! \t/bin/sh \t  -a  b c \t \n",
    "crlf": b"#!/bin/sh\r\n",
    "short-trailing-blank": b"#!/bin/sh ",
    "only-magic": b"#!",
    "nul-name": b"#!\0/bin/sh\n",
    "nul-after-name": b"#!/bin/sh\0 -x\n",
    "nul-after-blank": b"#!/bin/sh \0\n",
    "newline-after-nul": b"#!/bin/sh -x\0\n",
    "at-limit": b"#!/" + b"a" * 252 + b"\n",
    "name-past-limit": b"#!/" + b"a" * 300 + b"\n",
    "arg-past-limit": b"#!/bin/sh " + b"x" * 300 + b"\n",
    "blank-at-255": b"#!/" + b"a" * 251 + b" ",
    "all-blanks": b"#!" + b" " * 254,
    "empty": b"",
    "garbage": b"garbage\x01\x02\x03 not a program\n",
}
for k, v in lines.items():
    open(os.path.join(d, "script-" + k), "wb").write(v)
# ELF edge cases from the arm64 busybox header.
src = open(os.path.join(d, "elf-busybox-arm64"), "rb").read()
def put(name, b):
    open(os.path.join(d, "elf-" + name), "wb").write(b)
put("truncated-63", src[:63])
put("truncated-16", src[:16])
put("bad-class", src[:4] + b"\x07" + src[5:])
put("bad-data", src[:5] + b"\x00" + src[6:])
put("ia64", src[:18] + b"\x32\x00" + src[20:])
put("et-rel", src[:16] + b"\x01\x00" + src[18:])
put("class32-in-64", src[:4] + b"\x01" + src[5:])
put("big-endian", src[:5] + b"\x02" + src[6:])
EOF

# ---- hostbinfmt --------------------------------------------------------------------------------
d=$out/hostbinfmt
rm -rf "$d" && mkdir -p "$d"
python3 - "$d" "$fixtures" /usr/lib/binfmt.d/*.conf <<'EOF'
import sys, os, glob, codecs
d, fixtures, confs = sys.argv[1], sys.argv[2], sys.argv[3:]
heads = [open(f, "rb").read(256) for f in sorted(glob.glob(os.path.join(fixtures, "busybox/*/busybox")))]
def unescape(s):
    return codecs.escape_decode(s.encode())[0]
for conf in confs:
    for line in open(conf):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        sep = line[0]
        f = line[1:].split(sep)
        name, kind, off, magic, mask, interp = f[0], f[1], f[2] or "0", f[3], f[4], f[5]
        flags = f[6] if len(f) > 6 else ""
        text = "enabled\ninterpreter %s\nflags: %s\n" % (interp, flags)
        if kind == "E":
            text += "extension .%s\n" % magic
            head = b""
        else:
            m = unescape(magic)
            text += "offset %d\nmagic %s\n" % (int(off), m.hex())
            if mask:
                text += "mask %s\n" % unescape(mask).hex()
            k = unescape(mask) if mask else b"\xff" * len(m)
            head = next((h for h in heads if all((h[int(off) + i] ^ m[i]) & k[i] == 0
                                                 for i in range(len(m)) if int(off) + i < len(h))), m)
        open(os.path.join(d, name), "wb").write(text.encode() + b"\0" + head)
# Limits: a magic at the end of the kernel's 256-byte buffer, a short file, a disabled entry.
open(os.path.join(d, "edge-offset-250"), "wb").write(b"enabled\noffset 250\nmagic 00000000aabb\n\0" + b"\0" * 254 + b"\xaa\xbb")
open(os.path.join(d, "edge-short-file"), "wb").write(b"enabled\noffset 2\nmagic 4142000000\nmask ffff00ff00\n\0AB")
open(os.path.join(d, "edge-disabled"), "wb").write(b"disabled\ninterpreter /x\nflags: \noffset 0\nmagic 7f454c46\n\0\x7fELF")
EOF

# ---- perm --------------------------------------------------------------------------------------
d=$out/perm
rm -rf "$d" && mkdir -p "$d"
cat /proc/self/status >"$d/status-self"
cat /proc/1/status >"$d/status-pid1"
if command -v setpriv >/dev/null 2>&1; then
	setpriv --reuid 1000 --regid 1000 --groups 4,24,27,100 cat /proc/self/status >"$d/status-user" 2>/dev/null || true
	setpriv --groups "$(seq -s, 1000 1299)" cat /proc/self/status >"$d/status-300-groups" 2>/dev/null || true
fi
printf 'Name:\tx\\nUid:\t0\t0\t0\t0\nUid:\t1\t1\t1\t1\nGid:\t2\t2\t2\t2\nGroups:\t3 4 5 \nCapEff:\t0000000000000002\n' >"$d/status-fake-name"
printf 'Uid:\t1\t1\t1\t1\nGid:\t2\t2\t2\t2\n' >"$d/status-no-capeff"

# ---- rewrite -----------------------------------------------------------------------------------
d=$out/rewrite
rm -rf "$d" && mkdir -p "$d"
python3 - "$d" <<'EOF'
import sys, os, struct
d = sys.argv[1]
def rec(name, argc, depth, flags, slack, top, bufsize, has_arg, strings):
    b = bytes([argc, depth, flags, slack]) + struct.pack("<QH", top, bufsize) + bytes([has_arg])
    b += b"\0".join(s.encode() for s in strings)
    open(os.path.join(d, name), "wb").write(b)
top = 0x7ffc12345000
rec("elf", 3, 0, 0, 200, top, 4096, 0, ["qemu-aarch64-static", "/bin/busybox"])
rec("elf-ours-path", 2, 0, 1, 200, top, 4096, 0, ["qemu-aarch64-static", "./-dash"])
rec("script", 2, 1, 0, 200, top, 4096, 1, ["qemu-aarch64-static", "/s", "/bin/sh", "-e"])
rec("chain5", 4, 5, 0, 200, top, 4096, 0b10101, ["qemu-arm-static", "/s"] + ["/i%d" % i if j == 0 else "-a%d" % i for i in range(5) for j in range(2)])
rec("chain9-eloop", 1, 9, 0, 200, top, 4096, 0, ["q", "/s"])
rec("empty-argv", 0, 0, 0, 200, top, 4096, 0, ["qemu-riscv64-static", "/x"])
rec("i386", 3, 1, 2, 200, 0xffffd000, 4096, 1, ["qemu-i386-static", "/s", "/bin/sh", "-x"])
rec("i386-top-too-high", 3, 0, 2, 200, 0x1ffffd000, 4096, 0, ["qemu-i386-static", "/s"])
rec("small-buffer", 3, 1, 0, 200, top, 40, 0, ["qemu-aarch64-static", "/s", "/bin/sh"])
rec("small-cap", 60, 2, 0, 10, top, 4096, 3, ["e", "/s", "/a", "b", "/c", "d"])
rec("low-top", 3, 0, 0, 200, 64, 4096, 0, ["qemu-aarch64-static", "/s"])
rec("bad-ptr-size", 3, 0, 6, 200, top, 4096, 0, ["qemu-aarch64-static", "/s"])
EOF

# ---- trace -------------------------------------------------------------------------------------
d=$out/trace
rm -rf "$d" && mkdir -p "$d"
python3 - "$d" <<'EOF'
import sys, os, struct
d = sys.argv[1]
def rec(name, flags, bufsize, arch, decision, err, path, resolved, emulator):
    b = bytes([flags]) + struct.pack("<H", bufsize) + bytes([arch, decision]) + struct.pack("<i", err)
    b += path + b"\0" + resolved + b"\0" + emulator.encode()
    open(os.path.join(d, name), "wb").write(b)
rec("text", 2, 2048, 4, 1, 0, b"/bin/sh", b"/bin/busybox", "/usr/bin/qemu-aarch64-static")
rec("json", 3, 2048, 4, 1, 0, b"/bin/sh", b"/bin/busybox", "/usr/bin/qemu-aarch64-static")
rec("json-null-emulator", 1, 2048, 0, 4, 2, b"/missing", b"", "")
rec("json-hostile", 3, 2048, 4, 1, 0, b"a\"b\\c\nd'e\x01\xff", b"}\n{\"x\":1", "/q")
rec("json-control-255", 3, 2048, 4, 6, 8, b"\x01" * 255, b"\x7f" * 255, "/usr/bin/qemu-aarch64-static")
rec("text-control-255", 2, 2048, 4, 6, 8, b"\x01" * 255, b"'" * 255, "/usr/bin/qemu-aarch64-static")
rec("json-small", 3, 100, 4, 1, 0, b"/" + b"x" * 200, b"/y", "/q")
EOF

echo "make_corpus.sh: seeds in $out:"
for t in "$out"/*/; do
	printf '  %-12s %s files\n' "$(basename "$t")" "$(find "$t" -type f | wc -l)"
done
