#!/usr/bin/env python3
"""Keeps of a captured config.json what ubinfmt-runtime reads or must leave alone: ociVersion,
process (args, env, cwd), root, annotations, and linux (seccomp, namespaces).  The seccomp
section is kept whole, as the engine wrote it.

    python3 strip.py CAPTURED.json >STRIPPED.json
"""
import json
import sys

c = json.load(open(sys.argv[1]))
out = {"ociVersion": c["ociVersion"]}
p = c.get("process", {})
out["process"] = {k: p[k] for k in ("args", "env", "cwd") if k in p}
if "root" in c:
    out["root"] = c["root"]
if "annotations" in c:
    out["annotations"] = c["annotations"]
if "linux" in c:
    out["linux"] = {k: c["linux"][k] for k in ("namespaces", "seccomp") if k in c["linux"]}
json.dump(out, sys.stdout, indent=1)
print()
