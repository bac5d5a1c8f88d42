#!/usr/bin/env bash
# `ubinfmt run --trace[=FILE] [--json]`: one line per exec with time, pid, syscall, path as
# given, resolved path, architecture, decision, emulator and handling time in µs.  An arm64 shell
# runs the arm64 busybox (emulate, qemu-aarch64) and the native busybox (native) once each; the
# trace must hold exactly one line for each of those execs (the shell's own exec as CMD may or
# may not be traced; nothing else may be), with the documented fields; with --json every line
# is a JSON object with the fields time, pid, syscall, path, resolved, arch, decision,
# emulator, usec.  --trace without FILE must leave the command's stdout alone.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"

need_real_ubinfmt
need_fixtures
need_rootfs busybox-arm64
need_busybox amd64
need_qemu arm64
need_cmd python3

R=$(make_rootfs busybox-arm64) || skip "cannot copy the rootfs"
mkdir -p "$R/native"
cp "$(busybox amd64)" "$R/native/busybox"
cmd=(/bin/sh -c '/bin/busybox echo one; /native/busybox echo two; exit 0')

# check_trace LABEL FILE text|json: validates a trace file (see the python below).
# Text lines are "key=value" pairs (keys as in JSON, values maybe quoted; unlabelled fields fill
# the missing keys in the documented order) or just the fields in the documented order; both
# are turned into records and checked like the JSON ones.
check_trace() {
	check "$1" python3 - "$2" "$3" <<'PY'
import json, re, shlex, sys
keys = ["time", "pid", "syscall", "path", "resolved", "arch", "decision", "emulator", "usec"]
path, fmt = sys.argv[1], sys.argv[2]
text = open(path).read()
print(text, end="")
recs, bad = [], 0

def number(v):
    if isinstance(v, str):
        m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(?:us|µs|usec)?", v)
        if not m:
            return v
        return float(m.group(1)) if "." in m.group(1) else int(m.group(1))
    return v

for n, line in enumerate(text.splitlines(), 1):
    if not line.strip():
        continue
    if fmt == "json":
        try:
            r = json.loads(line)
        except ValueError as e:
            print(f"line {n}: not JSON: {e}"); bad += 1; continue
        if not isinstance(r, dict):
            print(f"line {n}: not an object"); bad += 1; continue
    else:
        try:
            toks = shlex.split(line)
        except ValueError as e:
            print(f"line {n}: cannot split: {e}"); bad += 1; continue
        is_kv = lambda t: "=" in t and t.split("=", 1)[0] in keys
        kv = dict(t.split("=", 1) for t in toks if is_kv(t))
        if len(kv) >= 6:
            # key=value pairs; unlabelled tokens fill the missing keys in the documented order.
            r = kv
            bare = [t for t in toks if not is_kv(t)]
            for k in keys:
                if k not in r and bare:
                    r[k] = bare.pop(0)
        elif len(toks) >= 9:
            r = dict(zip(keys, toks[:8] + [toks[-1]]))
        else:
            print(f"line {n}: fewer than 9 fields: {line}"); bad += 1; continue
        r["pid"], r["usec"] = number(r.get("pid")), number(r.get("usec"))
        if r.get("emulator") in ("-", ""):
            r["emulator"] = None
    missing = [k for k in keys if k not in r]
    if missing:
        print(f"line {n}: missing {missing}"); bad += 1
    if not re.search(r"\d", str(r.get("time"))):
        print(f"line {n}: no time"); bad += 1
    if not isinstance(r.get("pid"), int) or isinstance(r.get("pid"), bool) or r.get("pid") <= 0:
        print(f"line {n}: pid is not a positive integer"); bad += 1
    u = r.get("usec")
    if not isinstance(u, (int, float)) or isinstance(u, bool) or u < 0:
        print(f"line {n}: usec is not a non-negative number"); bad += 1
    for k in ("path", "resolved", "arch", "decision", "syscall"):
        if not isinstance(r.get(k), str):
            print(f"line {n}: {k} is not a string"); bad += 1
    recs.append(r)

by_path = {}
for r in recs:
    by_path.setdefault(r.get("path"), []).append(r)
extra = [r for r in recs if r.get("path") not in ("/bin/busybox", "/native/busybox", "/bin/sh")]
if extra:
    print(f"lines for other execs: {extra}"); bad += 1
for p in ("/bin/busybox", "/native/busybox"):
    if len(by_path.get(p, [])) != 1:
        print(f"{len(by_path.get(p, []))} lines for {p}, want 1"); bad += 1
fg = (by_path.get("/bin/busybox") or [{}])[0]
nat = (by_path.get("/native/busybox") or [{}])[0]
if fg:
    if not re.search(r"arm64|aarch64", str(fg.get("arch"))): print(f"foreign arch: {fg}"); bad += 1
    if not str(fg.get("decision")).startswith("emul"): print(f"foreign decision: {fg}"); bad += 1
    if "qemu-aarch64" not in str(fg.get("emulator")): print(f"foreign emulator: {fg}"); bad += 1
    if not str(fg.get("resolved")).endswith("/bin/busybox"): print(f"foreign resolved: {fg}"); bad += 1
    if fg.get("syscall") not in ("execve", "execveat"): print(f"foreign syscall: {fg}"); bad += 1
if nat:
    if nat.get("decision") != "native": print(f"native decision: {nat}"); bad += 1
    if "qemu" in str(nat.get("emulator") or ""): print(f"native emulator: {nat}"); bad += 1
    if not re.search(r"amd64|x86.64", str(nat.get("arch"))): print(f"native arch: {nat}"); bad += 1
for r in by_path.get("/bin/sh", []):
    if not str(r.get("resolved")).endswith("/bin/busybox"):
        print(f"/bin/sh is a symlink to busybox, resolved says: {r}"); bad += 1
print(f"{len(recs)} records, {bad} problems")
sys.exit(1 if bad else 0)
PY
}

# --- plain text -------------------------------------------------------------------------------
run urun --trace="$T/trace.txt" --rootfs "$R" -- "${cmd[@]}"
expect_eq "text: the command ran" $'one\ntwo [0]' "$out [$status]"
check_trace "text: one line per exec with the documented fields" "$T/trace.txt" text

# --- JSON -------------------------------------------------------------------------------------
run urun --trace="$T/trace.json" --json --rootfs "$R" -- "${cmd[@]}"
expect_eq "json: the command ran" $'one\ntwo [0]' "$out [$status]"
check_trace "json: every line an object with the documented fields, one per exec" "$T/trace.json" json

# --- --trace without a file -------------------------------------------------------------------
urun --trace --rootfs "$R" -- "${cmd[@]}" >"$T/stdout" 2>"$T/stderr"
status=$?
expect_eq "--trace alone: stdout is only the command's" $'one\ntwo [0]' "$(cat "$T/stdout") [$status]"
if grep -q "/native/busybox" "$T/stderr"; then
	pass "--trace alone: trace lines on stderr"
else
	fail "--trace alone: trace lines on stderr" "$(cat "$T/stderr")"
fi

# --- host filesystem --------------------------------------------------------------------------
H=$T/host
mkdir -p "$H"
cp "$(busybox arm64)" "$H/busybox"
run urun --trace="$T/host.json" --json -- "$H/busybox" echo host-ok
expect_eq "host fs: the command ran" host-ok "$out" "exit status $status"
check "host fs: the foreign exec is traced as emulated, JSON" python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ok = [r for r in recs if r.get("path") == sys.argv[2] and str(r.get("decision")).startswith("emul")]
print(recs)
sys.exit(0 if len(ok) == 1 else 1)' "$T/host.json" "$H/busybox"

# --- per-sandbox options on the command line (--option, the keys OCI and ubinfmt-init use) ------
run urun --option trace=json -- "$H/busybox" echo opt-ok
expect_match "--option trace=json: a JSON trace line on stderr" '"decision":"emulate"' "$out"
run urun --option emulators=arm -- "$H/busybox" uname -m
expect_match "--option emulators=arm: arm64 is not emulated (ENOEXEC), and says why" \
	"may not emulate aarch64 \(its settings exclude it\)" "$out"
expect_ne "--option emulators=arm: the arm64 program did not run" aarch64 "$(tail -n 1 <<<"$out")"
run urun --option bogus=1 -- true
expect_match "--option with an unknown key is refused, with the known ones" \
	"unknown key 'bogus' \(known: " "$out" "exit status $status"
expect_status "--option with an unknown key: exit status 2" 2 urun --option bogus=1 -- true

finish
