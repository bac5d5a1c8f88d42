#!/usr/bin/env python3
"""Compares the per-test outcomes of one conformance run (tests/conformance/run.sh) under
binfmt_misc and under ubinfmt, prints the report and writes it to OUT/report.txt and
OUT/report.json.

OUT/<runner>/cpython/<module>.{xml,rc,wall,log} are CPython regrtest's --junit-xml results;
OUT/<runner>/{toolchain,busybox}/results.tsv hold "test<TAB>pass|fail|skip" lines and walls.txt
"name<SPACE>seconds" lines.  A module whose XML is
missing (the interpreter crashed or was killed) counts as one "module crashed" outcome and every
test of it as missing.

Exit status 1 when a test that passes under binfmt_misc does not pass under ubinfmt (it failed,
erred, was skipped or did not run), else 0."""

import argparse
import json
import os
import sys
import xml.etree.ElementTree as ET

RUNNERS = ("binfmt", "ubinfmt")


def read(path, default=""):
    try:
        # newline="": a busybox test name may hold a \r, which must not become a line break.
        with open(path, newline="") as f:
            return f.read().strip()
    except OSError:
        return default


def junit_outcomes(path, messages):
    """{test id: outcome} from regrtest's junit XML; outcome is pass, fail, error, skip,
    xfail (expected failure) or xpass (unexpected success).  A testcase without a name is one
    whose subtests failed (regrtest records no result for it): it stays out, so it shows as
    missing.  The message of each failure or error goes to messages[test id]."""
    out = {}
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        name = case.get("name")
        if not name:
            continue
        if case.find("error") is not None:
            o = "error"
            messages[name] = case.find("error").get("message", "")
        elif case.find("failure") is not None:
            o = "fail"
            messages[name] = case.find("failure").get("message", "")
        elif case.find("skipped") is not None:
            o = "skip"
        elif case.find("output") is not None:
            o = "xfail"
        elif case.find("outcome") is not None:
            o = "xpass"
        else:
            o = "pass"
        out[name] = o
    return out


def collect(out_dir, runner, suites, modules):
    """(outcomes, walls, notes, messages) of one runner."""
    outcomes, walls, notes, messages = {}, {}, [], {}
    base = os.path.join(out_dir, runner)
    if "cpython" in suites:
        for m in modules:
            d = os.path.join(base, "cpython")
            wall = read(os.path.join(d, m + ".wall"))
            if wall:
                walls["cpython." + m] = float(wall)
            rc = read(os.path.join(d, m + ".rc"), "?")
            xml = os.path.join(d, m + ".xml")
            try:
                got = junit_outcomes(xml, messages)
            except (OSError, ET.ParseError):
                got = None
            if got is None:
                outcomes["cpython.%s (module)" % m] = "crashed rc=%s" % rc
                notes.append("%s: %s produced no results (status %s, log %s)"
                             % (runner, m, rc, os.path.join(d, m + ".log")))
                continue
            outcomes.update(got)
    for suite in ("toolchain", "busybox"):
        if suite not in suites:
            continue
        d = os.path.join(base, suite)
        # Not splitlines(): a busybox test name may hold a \r or \f.
        lines = [x for x in read(os.path.join(d, "results.tsv")).split("\n") if x]
        if not lines:
            outcomes["%s (suite)" % suite] = "crashed"
            notes.append("%s: %s produced no results (logs in %s)" % (runner, suite, d))
        for line in lines:
            name, _, o = line.partition("\t")
            outcomes[name] = o
        for line in read(os.path.join(d, "walls.txt")).splitlines():
            name, _, w = line.partition(" ")
            walls[name] = float(w)
    return outcomes, walls, notes, messages


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", ": runtime error: ")


def sanitizer_reports(out_dir):
    """Logs of the ubinfmt runs holding a sanitizer's report: under CI's ASan build, ubinfmt's
    own stderr goes to the same log as the suite's, and such a report fails the run whatever the
    tests said."""
    found = []
    for dirpath, _, files in os.walk(os.path.join(out_dir, "ubinfmt")):
        for f in files:
            if not f.endswith(".log"):
                continue
            path = os.path.join(dirpath, f)
            with open(path, errors="replace") as fh:
                text = fh.read()
            if any(m in text for m in SANITIZER_MARKS):
                found.append(path)
    return sorted(found)


def counts(outcomes):
    c = {}
    for o in outcomes.values():
        k = o.split(" ")[0]
        c[k] = c.get(k, 0) + 1
    return c


def fmt_counts(c):
    order = ["pass", "fail", "error", "skip", "xfail", "xpass", "crashed"]
    parts = ["%d %s" % (c[k], k) for k in order if c.get(k)]
    return ", ".join(parts) or "nothing"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--suites", required=True)
    ap.add_argument("--modules", default="")
    a = ap.parse_args()
    suites = a.suites.split(",")
    modules = [m for m in a.modules.split(",") if m]

    res = {r: collect(a.out, r, suites, modules) for r in RUNNERS}
    ref, ref_walls, _, _ = res["binfmt"]
    got, got_walls, _, got_msgs = res["ubinfmt"]

    worse = sorted((t, ref[t], got.get(t, "missing")) for t in ref
                   if ref[t] == "pass" and got.get(t) != "pass")
    better = sorted((t, ref.get(t, "missing"), got[t]) for t in got
                    if got[t] == "pass" and ref.get(t) != "pass")
    other = sorted((t, ref.get(t, "missing"), got.get(t, "missing"))
                   for t in set(ref) | set(got)
                   if ref.get(t) != got.get(t) and ref.get(t) != "pass" and got.get(t) != "pass")

    info = {}
    for line in read(os.path.join(a.out, "rootfs.info")).splitlines():
        k, _, v = line.partition(" ")
        info[k] = v

    lines = []
    p = lines.append
    p("== conformance: %s, suites %s%s" % (a.arch, ",".join(suites),
                                         " (" + ",".join(modules) + ")" if "cpython" in suites else ""))
    if info:
        p("rootfs: %s packages, %s MB; built %s: debootstrap first stage %s s on the host, "
          "second stage %s s under ubinfmt run --rootfs"
          % (info.get("packages", "?"), info.get("size_mb", "?"), info.get("built", "?"),
             info.get("first_stage_s", "?"), info.get("second_stage_s", "?")))
    for r in RUNNERS:
        p("%-8s %4d tests: %s" % (r, len(res[r][0]), fmt_counts(counts(res[r][0]))))
    p("worse under ubinfmt than under binfmt_misc: %d" % len(worse))
    for t, o_ref, o_got in worse:
        p("  WORSE %s: binfmt_misc %s, ubinfmt %s" % (t, o_ref, o_got))
        for m in got_msgs.get(t, "").strip().splitlines()[-3:]:
            p("      " + m)
    p("better under ubinfmt: %d" % len(better))
    for t, o_ref, o_got in better:
        p("  better %s: binfmt_misc %s, ubinfmt %s" % (t, o_ref, o_got))
    if other:
        p("other differences (neither passes): %d" % len(other))
        for t, o_ref, o_got in other:
            p("  differs %s: binfmt_misc %s, ubinfmt %s" % (t, o_ref, o_got))
    p("wall time (s)            binfmt_misc   ubinfmt   ratio")
    tot = [0.0, 0.0]
    for k in sorted(set(ref_walls) | set(got_walls)):
        w0, w1 = ref_walls.get(k, 0.0), got_walls.get(k, 0.0)
        tot[0] += w0
        tot[1] += w1
        p("  %-22s %10.1f %9.1f %7s" % (k, w0, w1, "%.2f" % (w1 / w0) if w0 else "-"))
    p("  %-22s %10.1f %9.1f %7s" % ("total", tot[0], tot[1],
                                    "%.2f" % (tot[1] / tot[0]) if tot[0] else "-"))
    for r in RUNNERS:
        for n in res[r][2]:
            p("note: " + n)
    sanitized = sanitizer_reports(a.out)
    for path in sanitized:
        p("SANITIZER report in " + path)
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    with open(os.path.join(a.out, "report.txt"), "w") as f:
        f.write(text)
    with open(os.path.join(a.out, "report.json"), "w") as f:
        json.dump({
            "arch": a.arch, "suites": suites, "modules": modules, "rootfs": info,
            "counts": {r: counts(res[r][0]) for r in RUNNERS},
            "tests": {r: len(res[r][0]) for r in RUNNERS},
            "worse": [{"test": t, "binfmt": x, "ubinfmt": y} for t, x, y in worse],
            "better": [{"test": t, "binfmt": x, "ubinfmt": y} for t, x, y in better],
            "wall": {r: res[r][1] for r in RUNNERS},
            "wall_ratio": tot[1] / tot[0] if tot[0] else None,
        }, f, indent=1)
        f.write("\n")
    if not any(o == "pass" for o in ref.values()):
        # Nothing to hold ubinfmt to: the baseline itself is broken, not a pass.
        sys.stderr.write("compare.py: no test passed under binfmt_misc; see the logs in %s\n" % a.out)
        return 2
    return 1 if worse or sanitized else 0


if __name__ == "__main__":
    sys.exit(main())
