#!/usr/bin/env python3
"""Turns bench/run.sh's raw measurements into a report.

Usage: bench/report.py RESULTS_DIR

Reads RESULTS_DIR/raw/records.tsv (one line per measurement: scenario, variant, round, then
KEY=VALUE fields, some naming files in raw/) and raw/meta.txt; writes results.json, results.csv,
ratios.png (gnuplot) and table.txt into RESULTS_DIR and prints the table.

Every figure is the median over the rounds with the min–max range.  A ratio is computed per
round from that round's two measurements (which ran next to each other), then summarised the
same way; so is a difference ("added" latency).
"""

import csv
import json
import os
import statistics
import subprocess
import sys
from collections import Counter, defaultdict

# ---- reading ----------------------------------------------------------------------------------


def parse_kv(text):
    out = {}
    for field in text.split():
        key, sep, value = field.partition("=")
        if sep:
            out[key] = value
    return out


def num(d, key):
    try:
        return float(d[key])
    except (KeyError, TypeError, ValueError):
        return None


def read_records(raw):
    recs = defaultdict(dict)  # (scenario, variant) -> {round: fields}
    with open(os.path.join(raw, "records.tsv"), encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 4:
                continue
            if not parts[2].isdigit():
                continue  # named rows (ubinfmtd memory): read by daemon_memory()
            recs[(parts[0], parts[1])][int(parts[2])] = parse_kv(parts[3])
    return recs


def read_meta(raw):
    meta = {}
    with open(os.path.join(raw, "meta.txt"), encoding="utf-8") as f:
        for line in f:
            key, sep, value = line.rstrip("\n").partition("=")
            if sep:
                meta[key] = value
    return meta


def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def read_lines(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()
    except OSError:
        return []


def trace_records(path):
    out = []
    for line in read_lines(path):
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def quantile(sorted_values, q):
    """Nearest rank, as execbench and the engine's histogram do."""
    if not sorted_values:
        return None
    k = max(1, min(len(sorted_values), int(q * len(sorted_values) + 0.999999)))
    return sorted_values[k - 1]


# ---- summarising ------------------------------------------------------------------------------


def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
        "values": values,
    }


def per_round_op(a, b, op):
    """a, b: {round: value}; op applied to the rounds both have."""
    out = []
    for r in sorted(set(a) & set(b)):
        if a[r] is not None and b[r] is not None and (op != "ratio" or b[r] > 0):
            out.append(a[r] / b[r] if op == "ratio" else a[r] - b[r])
    return out


class Report:
    def __init__(self):
        self.rows = []  # dicts: scenario, title, name, kind, unit, stats, goal, ok
        self.checks = []  # dicts: scenario, what, ok, detail
        self.extra = {}

    def add(self, scenario, title, name, kind, unit, values, goal=None, key=False):
        stats = summary(values)
        ok = None
        if stats and goal:
            op, bound = goal
            ok = stats["median"] <= bound if op == "<=" else stats["median"] >= bound
        self.rows.append(
            {
                "scenario": scenario,
                "title": title,
                "name": name,
                "kind": kind,
                "unit": unit,
                "stats": stats,
                "goal": f"{goal[0]} {goal[1]:g}" if goal else None,
                "goal_met": ok,
                "headline": bool(key or goal),
            }
        )

    def check(self, scenario, what, ok, detail=""):
        self.checks.append({"scenario": scenario, "what": what, "ok": bool(ok), "detail": detail})


def by_round(recs, scen, variant, key, scale=1.0):
    out = {}
    for r, fields in recs.get((scen, variant), {}).items():
        if r < 1:
            continue
        v = num(fields, key)
        out[r] = v * scale if v is not None else None
    return out


def cpu_per_exec(recs, scen, variant, scale=1.0):
    """CPU time of the run's whole process tree (set-up included) per exec, in µs (× scale)."""
    out = {}
    for r, fields in recs.get((scen, variant), {}).items():
        c, n = num(fields, "tree_cpu_us"), num(fields, "n")
        if r >= 1 and c is not None and n:
            out[r] = c / n * scale
    return out


def supervisor_cpu_per_exec(recs, scen, variant):
    """CPU of everything above execbench (ubinfmt's own processes) per exec it supervised:
    tree − execbench's own − execbench's children; start-up included, preemption not."""
    out = {}
    for r, fields in recs.get((scen, variant), {}).items():
        t, s, c = num(fields, "tree_cpu_us"), num(fields, "self_cpu_us"), num(fields, "children_cpu_us")
        n, w = num(fields, "n"), num(fields, "warmup")
        if r >= 1 and None not in (t, s, c, n, w):
            out[r] = (t - s - c) / (n + w + 1)  # + 1: execbench's own exec
    return out


def failures(recs, scen, variant):
    bad = 0
    for r, fields in recs.get((scen, variant), {}).items():
        if r >= 1 and (fields.get("status", "0") != "0" or fields.get("failed", "0") != "0" or "error" in fields):
            bad += 1
    return bad


# ---- scenarios --------------------------------------------------------------------------------


def scenario1(rep, recs):
    t = "1 native exec tax (µs per exec)"
    pairs = [
        ("fork", "fork+exec /bin/true", (("<=", 1.03))),
        ("vfork", "vfork+exec tiny static", (("<=", 1.3))),
    ]
    for mode, label, goal in pairs:
        bare = by_round(recs, "1", f"{mode}-bare", "per_exec_us")
        ub = by_round(recs, "1", f"{mode}-ubinfmt", "per_exec_us")
        null = by_round(recs, "1", f"{mode}-null", "per_exec_us")
        traced = by_round(recs, "1", f"{mode}-ubinfmt-traced", "per_exec_us")
        if not bare:
            continue
        rep.add("1", t, f"{label}: bare", "value", "µs", bare.values())
        rep.add("1", t, f"{label}: null supervisor", "value", "µs", null.values())
        rep.add("1", t, f"{label}: ubinfmt run", "value", "µs", ub.values())
        rep.add("1", t, f"{label}: ubinfmt run --trace", "value", "µs", traced.values())
        rep.add("1", t, f"{label}: ubinfmt/bare", "ratio", "x", per_round_op(ub, bare, "ratio"), goal)
        # The floor: the kernel's round trip through any supervisor (bench/null.c) ...
        rep.add("1", t, f"{label}: null/bare", "ratio", "x", per_round_op(null, bare, "ratio"), key=True)
        # ... and what ubinfmt adds on top of it.
        rep.add("1", t, f"{label}: ubinfmt/null", "ratio", "x", per_round_op(ub, null, "ratio"),
                ("<=", 1.1) if mode == "vfork" else None, key=True)
        rep.add("1", t, f"{label}: added per exec", "delta", "µs", per_round_op(ub, bare, "diff"))
        rep.add("1", t, f"{label}: added per exec over null", "delta", "µs", per_round_op(ub, null, "diff"))
        cb, cu = cpu_per_exec(recs, "1", f"{mode}-bare"), cpu_per_exec(recs, "1", f"{mode}-ubinfmt")
        cn = cpu_per_exec(recs, "1", f"{mode}-null")
        rep.add("1", t, f"{label}: CPU per exec, bare", "value", "µs", cb.values())
        rep.add("1", t, f"{label}: CPU per exec, null supervisor", "value", "µs", cn.values())
        rep.add("1", t, f"{label}: CPU per exec, ubinfmt", "value", "µs", cu.values())
        rep.add("1", t, f"{label}: CPU ubinfmt/bare", "ratio", "x", per_round_op(cu, cb, "ratio"), key=True)
        rep.add("1", t, f"{label}: CPU ubinfmt/null", "ratio", "x", per_round_op(cu, cn, "ratio"), key=True)
        for v in ("bare", "null", "ubinfmt", "ubinfmt-traced"):
            n = failures(recs, "1", f"{mode}-{v}")
            rep.check("1", f"{mode}-{v}: every run exited 0 with no failed exec", n == 0, f"{n} bad runs")
    # The supervisor's own time per native exec, from the trace's usec (integer µs).
    for mode in ("fork", "vfork"):
        meds, p99s = [], []
        for _, fields in sorted(recs.get(("1", f"{mode}-ubinfmt-traced"), {}).items()):
            us = sorted(x.get("usec", 0) for x in trace_records(fields.get("trace", "")) if x.get("decision") == "native")
            if us:
                meds.append(statistics.median(us))
                p99s.append(quantile(us, 0.99))
        t = "1 supervisor time per native exec (µs)"
        if meds:
            rep.add("1s", t, f"{mode}: trace usec p50 (wall, recv→reply)", "value", "µs", meds, ("<=", 15))
            rep.add("1s", t, f"{mode}: trace usec p99", "value", "µs", p99s)
        sup = supervisor_cpu_per_exec(recs, "1", f"{mode}-ubinfmt")
        if sup:
            rep.add("1s", t, f"{mode}: ubinfmt process CPU per exec", "value", "µs", sup.values(), ("<=", 15))
        sup = supervisor_cpu_per_exec(recs, "1", f"{mode}-null")
        if sup:
            rep.add("1s", t, f"{mode}: null supervisor process CPU per exec", "value", "µs", sup.values(), key=True)


def scenario2(rep, recs):
    t = "2 one foreign exec, arm64 busybox true (ms per exec, in a running session)"
    v = {name: by_round(recs, "2", name, "per_exec_us", 1e-3) for name in ("qemu", "ubinfmt", "binfmt", "proot")}
    if not v["qemu"]:
        return
    labels = {"qemu": "qemu-aarch64-static direct", "ubinfmt": "ubinfmt run", "binfmt": "binfmt_misc (userns)", "proot": "proot -q"}
    for name, vals in v.items():
        if vals:
            rep.add("2", t, labels[name], "value", "ms", vals.values())
            n = failures(recs, "2", name)
            rep.check("2", f"{name}: every exec exited 0", n == 0, f"{n} bad runs")
    cpu = {name: cpu_per_exec(recs, "2", name, 1e-3) for name in v}
    for name, vals in cpu.items():
        if vals:
            rep.add("2", t, f"{labels[name]}: CPU per exec", "value", "ms", vals.values())
    for name, label in (("ubinfmt", "ubinfmt process CPU per exec"), ("proot", "proot tracer CPU per exec")):
        sup = supervisor_cpu_per_exec(recs, "2", name)
        if sup:
            rep.add("2", t, label, "value", "ms", [x * 1e-3 for x in sup.values()], key=True)
    for name in ("ubinfmt", "binfmt", "proot"):
        if v[name]:
            rep.add("2", t, f"{name}/qemu-direct", "ratio", "x", per_round_op(v[name], v["qemu"], "ratio"), key=True)
            rep.add("2", t, f"{name}/qemu-direct (CPU)", "ratio", "x", per_round_op(cpu[name], cpu["qemu"], "ratio"))
    if v["binfmt"]:
        rep.add("2", t, "ubinfmt/binfmt", "ratio", "x", per_round_op(v["ubinfmt"], v["binfmt"], "ratio"), key=True)
        rep.add("2", t, "ubinfmt/binfmt (CPU)", "ratio", "x", per_round_op(cpu["ubinfmt"], cpu["binfmt"], "ratio"), key=True)
        rep.add("2", t, "ubinfmt added vs binfmt", "delta", "ms", per_round_op(v["ubinfmt"], v["binfmt"], "diff"))
    rep.add("2", t, "ubinfmt added vs qemu direct", "delta", "ms", per_round_op(v["ubinfmt"], v["qemu"], "diff"))

    # 2s: whole commands (hyperfine), start-up included
    t = "2s whole command, start-up included (ms, hyperfine median per round)"
    cols = defaultdict(dict)
    for r, fields in recs.get(("2s", "all"), {}).items():
        data = read_json(fields.get("hyperfine", "")) or {}
        for res in data.get("results", []):
            bad = sum(1 for c in res.get("exit_codes", []) if c != 0)
            cols[res["command"]][r] = res["median"] * 1e3 if bad == 0 else None
            if bad:
                rep.check("2s", f"{res['command']}: exit status 0", False, f"round {r}: {bad} non-zero")
    for name in ("native-bare", "native-ubinfmt", "foreign-qemu", "foreign-ubinfmt", "foreign-proot"):
        if cols.get(name):
            rep.add("2s", t, name, "value", "ms", cols[name].values())
    if cols.get("native-ubinfmt"):
        rep.add("2s", t, "ubinfmt run start-up (vs bare /bin/true)", "delta", "ms",
                per_round_op(cols["native-ubinfmt"], cols["native-bare"], "diff"), key=True)
        rep.add("2s", t, "foreign: ubinfmt/qemu-direct", "ratio", "x",
                per_round_op(cols["foreign-ubinfmt"], cols["foreign-qemu"], "ratio"))
        rep.add("2s", t, "foreign: proot/qemu-direct", "ratio", "x",
                per_round_op(cols["foreign-proot"], cols["foreign-qemu"], "ratio"))


def scenario3(rep, recs):
    verify = recs.get(("3", "verify"), {}).get(0)
    if not verify:
        return
    t = "3 arm64 shell workload in a rootfs (s)"
    expected = int(verify.get("expected_execs", "0"))
    tr = trace_records(verify.get("trace", ""))
    decisions = Counter(x.get("decision") for x in tr)
    rep.check("3", f"exec count = {expected} (trace lines)", len(tr) == expected,
              f"{len(tr)} lines, decisions {dict(decisions)}")
    rep.check("3", "every exec emulated by ubinfmt", decisions.get("emulate", 0) == len(tr) and tr,
              f"{dict(decisions)}")
    rep.extra["workload_execs"] = {"expected": expected, "traced": len(tr), "decisions": dict(decisions)}
    ref = [ln for ln in read_lines(verify.get("out", "")) if ln.startswith("defines=")]
    wall, inner, cpu = {}, {}, {}
    for name in ("ubinfmt", "binfmt", "proot"):
        wall[name], inner[name], cpu[name] = {}, {}, {}
        for r, fields in recs.get(("3", name), {}).items():
            data = read_json(fields.get("hyperfine", "")) or {}
            res = (data.get("results") or [{}])[0]
            lines = read_lines(fields.get("out", ""))
            sums = [ln for ln in lines if ln.startswith("defines=")]
            el = [ln for ln in lines if ln.startswith("elapsed_us=")]
            good = res.get("exit_codes") == [0] and sums == ref and el
            rep.check("3", f"{name} round {r}: exit 0, same output as the verification run", good,
                      f"exit {res.get('exit_codes')}, {sums} vs {ref}")
            if not good:
                continue
            wall[name][r] = res["times"][0]
            cpu[name][r] = res.get("user", 0) + res.get("system", 0)
            inner[name][r] = int(el[0].split("=", 1)[1]) / 1e6
    labels = {"ubinfmt": "ubinfmt run --rootfs", "binfmt": "binfmt_misc (userns+chroot)", "proot": "proot -q -r"}
    for name in ("ubinfmt", "binfmt", "proot"):
        if wall[name]:
            rep.add("3", t, f"{labels[name]}: wall", "value", "s", wall[name].values(), key=True)
            rep.add("3", t, f"{labels[name]}: inside the sandbox", "value", "s", inner[name].values())
            rep.add("3", t, f"{labels[name]}: CPU (user+sys)", "value", "s", cpu[name].values())
    if wall["binfmt"]:
        rep.add("3", t, "ubinfmt/binfmt (wall)", "ratio", "x", per_round_op(wall["ubinfmt"], wall["binfmt"], "ratio"), ("<=", 1.02))
        rep.add("3", t, "ubinfmt/binfmt (inside)", "ratio", "x", per_round_op(inner["ubinfmt"], inner["binfmt"], "ratio"), key=True)
        rep.add("3", t, "ubinfmt/binfmt (CPU)", "ratio", "x", per_round_op(cpu["ubinfmt"], cpu["binfmt"], "ratio"), key=True)
        if expected:
            d = per_round_op(inner["ubinfmt"], inner["binfmt"], "diff")
            rep.add("3", t, "ubinfmt added per exec vs binfmt (inside)", "delta", "ms", [x * 1e3 / expected for x in d])
    if wall["proot"]:
        rep.add("3", t, "proot/ubinfmt (wall)", "ratio", "x", per_round_op(wall["proot"], wall["ubinfmt"], "ratio"), (">=", 2))
        if wall["binfmt"]:
            rep.add("3", t, "proot/binfmt (wall)", "ratio", "x", per_round_op(wall["proot"], wall["binfmt"], "ratio"))


def storm_round(fields):
    d = fields.get("dir", "")
    lats, failed, reported = [], 0, 0
    n_sb = int(fields.get("sandboxes", "0"))
    for i in range(n_sb):
        for ln in read_lines(os.path.join(d, f"lat-{i}")):
            try:
                lats.append(float(ln))
            except ValueError:
                pass
        rep_line = next((ln for ln in read_lines(os.path.join(d, f"out-{i}")) if ln.startswith("mode=")), None)
        if rep_line:
            reported += 1
            failed += int(parse_kv(rep_line).get("failed", "0"))
    lats.sort()
    out = {
        "p50": quantile(lats, 0.50),
        "p99": quantile(lats, 0.99),
        "max": lats[-1] if lats else None,
        "execs": len(lats),
        "failed_execs": failed,
        "missing_reports": n_sb - reported,
        "nonzero_exits": int(fields.get("nonzero_exits", "0")),
        "wall_s": (num(fields, "wall_us") or 0) / 1e6,
    }
    cpu_ns, n = num(fields, "daemon_cpu_ns"), num(fields, "n")
    if cpu_ns and n and n_sb:
        # every sandbox: execbench's own exec, 1 warm-up, n timed
        out["daemon_cpu_us_per_exec"] = cpu_ns / 1e3 / (n_sb * (n + 2))
    st = read_json(os.path.join(d, "status.json"))
    if st is not None:
        mine = [e for e in st if str(e.get("id", "")).startswith("storm-")]
        out["status_sandboxes"] = len(mine)
        out["status_p50_median"] = statistics.median(e["p50_us"] for e in mine) if mine else None
        out["status_p99_max"] = max(e["p99_us"] for e in mine) if mine else None
        out["status_p99_median"] = statistics.median(e["p99_us"] for e in mine) if mine else None
        out["status_native"] = sum(e.get("native", 0) for e in mine)
        out["status_failed"] = sum(e.get("failed", 0) for e in mine)
    return out


def scenario4(rep, recs):
    if not recs.get(("4", "bare")):
        return
    n_sb = max((int(f.get("sandboxes", "0")) for f in recs.get(("4", "bare"), {}).values()), default=0)
    t = f"4 storm: {n_sb} sandboxes × N vfork+exec at once (µs per exec, pooled)"
    rounds = {v: {r: storm_round(f) for r, f in recs.get(("4", v), {}).items() if r >= 1}
              for v in ("bare", "daemon", "runs", "solo")}
    labels = {"bare": "bare", "daemon": "ubinfmtd", "runs": f"ubinfmt run ×{n_sb}"}
    for v, rr in rounds.items():
        if not rr or v == "solo":
            continue
        rep.add("4", t, f"{labels[v]}: p50", "value", "µs", [x["p50"] for x in rr.values()])
        rep.add("4", t, f"{labels[v]}: p99", "value", "µs", [x["p99"] for x in rr.values()])
        rep.add("4", t, f"{labels[v]}: storm wall time", "value", "s", [x["wall_s"] for x in rr.values()])
        bad = sum(x["failed_execs"] + x["missing_reports"] + x["nonzero_exits"] for x in rr.values())
        rep.add("4", t, f"{labels[v]}: failures", "value", "", [float(
            x["failed_execs"] + x["missing_reports"] + x["nonzero_exits"]) for x in rr.values()], ("<=", 0) if v == "daemon" else None)
        rep.check("4", f"{v}: no failures", bad == 0, f"{bad} over all rounds")
    p99 = {v: {r: x["p99"] for r, x in rr.items()} for v, rr in rounds.items()}
    p50 = {v: {r: x["p50"] for r, x in rr.items()} for v, rr in rounds.items()}
    if rounds["daemon"]:
        rep.add("4", t, "ubinfmtd: added p99 (vs bare storm)", "delta", "µs", per_round_op(p99["daemon"], p99["bare"], "diff"), ("<=", 2000))
        rep.add("4", t, "ubinfmtd: added p50 (vs bare storm)", "delta", "µs", per_round_op(p50["daemon"], p50["bare"], "diff"))
        rep.add("4", t, "ubinfmtd/bare p50", "ratio", "x", per_round_op(p50["daemon"], p50["bare"], "ratio"))
        dr = rounds["daemon"].values()
        rep.add("4", t, f"ubinfmtd status p50 (median of {n_sb} sandboxes)", "value", "µs", [x.get("status_p50_median") for x in dr])
        rep.add("4", t, f"ubinfmtd status p99 (median of {n_sb} sandboxes)", "value", "µs", [x.get("status_p99_median") for x in dr])
        rep.add("4", t, "ubinfmtd status p99 (worst sandbox)", "value", "µs", [x.get("status_p99_max") for x in dr], ("<=", 2000))
        rep.add("4", t, "ubinfmtd CPU per exec (schedstat)", "value", "µs", [x.get("daemon_cpu_us_per_exec") for x in dr], key=True)
        # One loop thread's ceiling: the execs per second it could answer if it did nothing else
        # (bench/README.md: what a 64-core node's containers produce against it).
        rep.add("4", t, "ubinfmtd one loop thread's ceiling (1e6 / CPU per exec)", "value", "execs/s",
                [1e6 / x["daemon_cpu_us_per_exec"] for x in dr if x.get("daemon_cpu_us_per_exec")], key=True)
        for r, x in rounds["daemon"].items():
            n = int(recs[("4", "daemon")][r].get("n", "0"))
            want = int(recs[("4", "daemon")][r].get("sandboxes", "0"))
            rep.check("4", f"daemon round {r}: status lists every sandbox and counts every exec",
                      x.get("status_sandboxes") == want and x.get("status_native") == want * (n + 2),
                      f"{x.get('status_sandboxes')} sandboxes, {x.get('status_native')} native execs "
                      f"(want {want}, {want * (n + 2)}: execbench, 1 warm-up, {n})")
    if rounds["runs"]:
        rep.add("4", t, f"ubinfmt run ×{n_sb}: added p99 (vs bare storm)", "delta", "µs", per_round_op(p99["runs"], p99["bare"], "diff"), key=True)
        rep.add("4", t, f"ubinfmt run ×{n_sb} / bare p50", "ratio", "x", per_round_op(p50["runs"], p50["bare"], "ratio"))
    if rounds["solo"]:
        # The histogram's quantiles are bucket upper bounds (four buckets per power of two).
        sr = rounds["solo"].values()
        t = "4 one ubinfmtd sandbox alone (µs)"
        rep.add("4s", t, "per exec (execbench p50)", "value", "µs", [x["p50"] for x in sr])
        rep.add("4s", t, "ubinfmtd status p50 (supervisor time)", "value", "µs", [x.get("status_p50_median") for x in sr], ("<=", 15))
        rep.add("4s", t, "ubinfmtd status p99", "value", "µs", [x.get("status_p99_max") for x in sr])
        rep.add("4s", t, "ubinfmtd CPU per exec (schedstat)", "value", "µs", [x.get("daemon_cpu_us_per_exec") for x in sr], ("<=", 15))
        bad = sum(x["failed_execs"] + x["missing_reports"] + x["nonzero_exits"] for x in sr)
        rep.check("4", "solo: no failures", bad == 0, f"{bad} over all rounds")


def daemon_memory(rep, raw):
    rows = {}
    with open(os.path.join(raw, "records.tsv"), encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 4 and parts[0] == "4" and parts[1] == "daemon-mem":
                rows[parts[2]] = parse_kv(parts[3])
    if not rows:
        return
    rep.extra["ubinfmtd_memory"] = rows
    t = "4 storm: ubinfmtd RSS and fds"
    for when in ("start", "warm", "end"):
        if when in rows:
            rep.add("4m", t, f"RSS at {when}", "value", "KiB", [num(rows[when], "rss_kib")], ("<=", 8192) if when == "end" else None)
            rep.add("4m", t, f"fds at {when}", "value", "", [num(rows[when], "fds")])
    held = [num(v, "rss_kib") for k, v in rows.items() if k.startswith("held-")]
    if held:
        rep.add("4m", t, "RSS with every storm sandbox held (max over rounds)", "value", "KiB", [max(held)], key=True)
    if "warm" in rows and "end" in rows:
        w, e = num(rows["warm"], "fds"), num(rows["end"], "fds")
        rep.check("4", "ubinfmtd fds flat from warm-up to end", w is not None and e is not None and e <= w, f"{w:g} → {e:g}")


def scenario5(rep, recs):
    t = "5 debootstrap --second-stage, arm64 minbase (s)"
    wall = {}
    for name in ("ubinfmt", "binfmt"):
        wall[name] = {}
        for r, fields in recs.get(("5", name), {}).items():
            data = read_json(fields.get("hyperfine", "")) or {}
            res = (data.get("results") or [{}])[0]
            ok = fields.get("ok") == "1" and res.get("exit_codes") == [0]
            rep.check("5", f"{name} round {r}: second stage completed", ok, fields.get("out", ""))
            if ok:
                wall[name][r] = res["times"][0]
        if wall[name]:
            rep.add("5", t, name, "value", "s", wall[name].values())
    if wall["ubinfmt"] and wall["binfmt"]:
        rep.add("5", t, "ubinfmt/binfmt", "ratio", "x", per_round_op(wall["ubinfmt"], wall["binfmt"], "ratio"), ("<=", 1.05))


def scenario6(rep, recs):
    t = "6 the same 100-exec arm64 loop: docker run through the shim, ubinfmt run, binfmt_misc (s)"
    labels = {"docker": "docker run --runtime ubinfmt", "ubinfmt": "ubinfmt run --rootfs", "binfmt": "binfmt_misc (userns+chroot)"}
    wall, inner = {}, {}
    for name in labels:
        wall[name], inner[name] = {}, {}
        for r, fields in recs.get(("6", name), {}).items():
            data = read_json(fields.get("hyperfine", "")) or {}
            res = (data.get("results") or [{}])[0]
            lines = read_lines(fields.get("out", ""))
            last = parse_kv(next((ln for ln in lines if ln.startswith("arch=")), ""))
            want = fields.get("execs")
            good = res.get("exit_codes") == [0] and last.get("arch") == "aarch64" and last.get("execs") == want \
                and num(last, "elapsed_us") is not None
            rep.check("6", f"{name} round {r}: exit 0, arch=aarch64, execs={want}", good,
                      f"exit {res.get('exit_codes')}, {lines[-1:] if lines else 'no output'}")
            if not good:
                continue
            wall[name][r] = res["times"][0]
            inner[name][r] = num(last, "elapsed_us") / 1e6
    if not wall["docker"]:
        return
    for name, label in labels.items():
        if wall[name]:
            rep.add("6", t, f"{label}: wall", "value", "s", wall[name].values())
            rep.add("6", t, f"{label}: the loop inside", "value", "s", inner[name].values())
    execs = next((int(f["execs"]) for f in recs.get(("6", "docker"), {}).values() if f.get("execs", "").isdigit()), 0)
    rep.add("6", t, "docker/ubinfmt run (inside)", "ratio", "x", per_round_op(inner["docker"], inner["ubinfmt"], "ratio"), key=True)
    rep.add("6", t, "docker/ubinfmt run (wall)", "ratio", "x", per_round_op(wall["docker"], wall["ubinfmt"], "ratio"), key=True)
    rep.add("6", t, "docker start-up (wall − inside)", "value", "s",
            per_round_op(wall["docker"], inner["docker"], "diff"))
    if wall["binfmt"]:
        rep.add("6", t, "docker/binfmt (inside)", "ratio", "x", per_round_op(inner["docker"], inner["binfmt"], "ratio"), key=True)
        rep.add("6", t, "docker/binfmt (wall)", "ratio", "x", per_round_op(wall["docker"], wall["binfmt"], "ratio"), key=True)
        rep.add("6", t, "ubinfmt/binfmt (inside)", "ratio", "x", per_round_op(inner["ubinfmt"], inner["binfmt"], "ratio"), key=True)
        if execs:
            d = per_round_op(inner["docker"], inner["binfmt"], "diff")
            rep.add("6", t, "docker added per exec vs binfmt (inside)", "delta", "ms", [x * 1e3 / execs for x in d])
    if execs:
        d = per_round_op(inner["docker"], inner["ubinfmt"], "diff")
        rep.add("6", t, "docker added per exec vs ubinfmt run (inside)", "delta", "ms", [x * 1e3 / execs for x in d])


# ---- output -----------------------------------------------------------------------------------


def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "x":
        return f"{v:.3f}x"
    a = abs(v)
    if a >= 100 or unit == "":
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def table(rep, meta, compact=False):
    out = []
    dirty = meta.get("dirty", "0")
    out.append(
        f"ubinfmt bench ({meta.get('mode')}) {meta.get('started', '')}: {meta.get('cpus')} CPUs "
        f"({meta.get('cpu', '?')}), Linux {meta.get('kernel')}, commit {meta.get('commit')}"
        f"{'' if dirty == '0' else f' +{dirty} modified files'}, load {meta.get('loadavg_start')} → {meta.get('loadavg_end')}"
    )
    out.append(f"{'':52} {'median':>10} {'min–max':>21} {'n':>3}  goal")
    title = None
    for row in rep.rows:
        if compact and not (row["headline"] and row["stats"]):
            continue
        if row["title"] != title:
            title = row["title"]
            out.append(title)
        s = row["stats"]
        if not s or (compact and not row["headline"]):
            continue
        unit = row["unit"]
        rng = f"{fmt(s['min'], unit)}–{fmt(s['max'], unit)}"
        goal = ""
        if row["goal"]:
            goal = f"{row['goal']}{'x' if unit == 'x' else (' ' + unit if unit else '')} "
            goal += "ok" if row["goal_met"] else "MISSED"
        mark = "→ " if row["kind"] != "value" else "  "
        out.append(f"  {mark}{row['name'][:48]:48} {fmt(s['median'], unit):>10} {rng:>21} {s['n']:>3}  {goal}")
    bad = [c for c in rep.checks if not c["ok"]]
    out.append(f"checks: {len(rep.checks) - len(bad)} of {len(rep.checks)} passed")
    for c in bad:
        out.append(f"  FAILED [{c['scenario']}] {c['what']}: {c['detail']}")
    wl = rep.extra.get("workload_execs")
    if wl:
        out.append(f"workload execs: {wl['traced']} traced (expected {wl['expected']}): {wl['decisions']}")
    mem = rep.extra.get("ubinfmtd_memory")
    if mem:
        out.append("ubinfmtd: " + ", ".join(f"{k} RSS {v.get('rss_kib')} KiB fds {v.get('fds')}" for k, v in mem.items()))
    return "\n".join(out) + "\n"


def write_csv(rep, path):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["scenario", "title", "name", "kind", "unit", "median", "min", "max", "n", "goal", "goal_met", "values"])
        for row in rep.rows:
            s = row["stats"]
            if not s:
                continue
            w.writerow([row["scenario"], row["title"], row["name"], row["kind"], row["unit"], s["median"], s["min"], s["max"],
                        s["n"], row["goal"] or "", "" if row["goal_met"] is None else row["goal_met"],
                        " ".join(f"{v:g}" for v in s["values"])])


def plot(rep, results, raw):
    ratios = [r for r in rep.rows if r["kind"] == "ratio" and r["stats"] and r["headline"]]
    if not ratios:
        return None
    dat = os.path.join(raw, "ratios.dat")
    with open(dat, "w", encoding="utf-8") as f:
        for row in ratios:
            s = row["stats"]
            label = f"{row['scenario']}: {row['name']}".replace('"', "'")
            goal = row["goal"].split()[1] if row["goal"] else "?"
            f.write(f"\"{label}\" {s['median']:.4f} {s['min']:.4f} {s['max']:.4f} {goal}\n")
    png = os.path.join(results, "ratios.png")
    ymax = max(max(r["stats"]["max"] for r in ratios), 2.1) * 1.15
    script = f"""
set terminal pngcairo size {max(900, 70 * len(ratios))},650 font 'DejaVu Sans,9'
set output '{png}'
set title 'ubinfmt bench: ratios, median of per-round ratios, bars min–max'
set style fill solid 0.5 border -1
set boxwidth 0.6
set xtics rotate by -40 left noenhanced
set ylabel 'ratio (x)'
set yrange [0:{ymax:.3f}]
set grid ytics
set key top left
set bmargin 14
set rmargin 14
set datafile missing '?'
plot '{dat}' using 0:2:xtic(1) with boxes lc rgb '#4a7ab5' title 'median', \\
     '' using 0:2:3:4 with yerrorbars lc rgb 'black' pt 0 title 'min–max', \\
     '' using 0:5 with points pt 9 ps 1.5 lc rgb '#c03030' title 'goal', \\
     '' using 0:4:(sprintf('%.2f', $2)) with labels offset 0,0.8 notitle, \\
     1 with lines dt 2 lc rgb 'gray' notitle
"""
    gp = os.path.join(raw, "ratios.gp")
    with open(gp, "w", encoding="utf-8") as f:
        f.write(script)
    try:
        subprocess.run(["gnuplot", gp], check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"bench: gnuplot failed: {getattr(e, 'stderr', e)}", file=sys.stderr)
        return None
    return png


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    results = sys.argv[1]
    raw = os.path.join(results, "raw")
    recs = read_records(raw)
    meta = read_meta(raw)
    rep = Report()
    scenario1(rep, recs)
    scenario2(rep, recs)
    scenario3(rep, recs)
    scenario4(rep, recs)
    daemon_memory(rep, raw)
    scenario5(rep, recs)
    scenario6(rep, recs)
    text = table(rep, meta)
    short = table(rep, meta, compact=True)
    png = plot(rep, results, raw)
    with open(os.path.join(results, "table.txt"), "w", encoding="utf-8") as f:
        f.write(text)
    write_csv(rep, os.path.join(results, "results.csv"))
    with open(os.path.join(results, "results.json"), "w", encoding="utf-8") as f:
        json.dump({"meta": meta, "rows": rep.rows, "checks": rep.checks, "extra": rep.extra}, f, indent=1)
        f.write("\n")
    sys.stdout.write(short)
    print(f"full table: {results}/table.txt; also results.json, results.csv" + (f", {os.path.basename(png)}" if png else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
