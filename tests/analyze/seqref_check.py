#!/usr/bin/python3
"""--sequential-ref with --drop-first in analyze --json, recomputed with
numpy/scipy from the runs' walls (issue 20 §4).

usage: seqref_check.py ANALYZE DATA_DIR REF

- per run, ref_speedup = the reference's mean wall of the same config over
  the runs --drop-first 1 keeps (run index > the group's first) / the run's
  wall (the reference against itself no longer reads 1.14 on TR115);
- per group and runtime, the ref_speedup summary's mean and interval are
  the ratio of means with Fieller's interval (both samples' variance),
  not a t interval over per-run ratios that treat the reference mean as
  known (scipy_check.fieller, an independent implementation);
- the answer's n for the ratio estimator is the runtime's own run count.
Exit 0 agree, 1 mismatch, 77 scipy or the data absent (skip).
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scipy_check as sc  # noqa: E402  (exits 77 without scipy)

analyze, data, ref = sys.argv[1:4]
if not os.path.isdir(data):
    print(f"SKIP: {data} absent")
    sys.exit(77)
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "a.json")
    subprocess.run([analyze, "-q", "--sequential-ref", ref, "--drop-first", "1",
                    "--json", out, data], check=True, stdout=subprocess.DEVNULL)
    d = json.load(open(out))
runs = [r for r in d["runs"] if r["valid"]]
groups = {}
for r in runs:
    groups.setdefault((r["runtime"], r["config"]), []).append(r)
kept = {k: sorted(v, key=lambda r: r["run_index"])[1:] for k, v in groups.items()}
refmean = {c: sum(r["wall_s"] for r in v) / len(v) for (rt, c), v in kept.items() if rt == ref}
for k, v in kept.items():
    for r in v:
        sc.close(f"run {r['path']} ref_speedup", r["metrics"]["ref_speedup"],
                 refmean[k[1]] / r["wall_s"])


def metric(obj, key):
    return [m for m in obj["metrics"] if m["metric"] == key][0]


for g in d["groups"]:
    k = (g["runtime"], g["config"])
    m = metric(g, "ref_speedup")
    if k[0] == ref:
        sc.close(f"group {k} self", m["mean"], 1.0, rel=0, abs_=0)
        continue
    own, rr = kept[k], kept[(ref, k[1])]
    R, lo, hi, _ = sc.fieller([r["wall_s"] for r in rr], [0] * len(rr),
                              [r["wall_s"] for r in own], [0] * len(own))
    sc.close(f"group {k} ref_speedup mean", m["mean"], R)
    sc.close(f"group {k} ref_speedup lo", m["ci_lo"], lo, rel=1e-8)
    sc.close(f"group {k} ref_speedup hi", m["ci_hi"], hi, rel=1e-8)
for rt in d["runtimes"]:
    name = rt["runtime"]
    m = metric(rt, "ref_speedup")
    own = [r for (t, c), v in kept.items() if t == name for r in v]
    rr = [r for (t, c), v in kept.items() if t == ref for r in v]
    if name == ref:
        sc.close(f"runtime {name} self", m["mean"], 1.0, rel=0, abs_=0)
    else:
        R, lo, hi, _ = sc.fieller([r["wall_s"] for r in rr], [r["config"] for r in rr],
                                  [r["wall_s"] for r in own], [r["config"] for r in own])
        sc.close(f"runtime {name} ref_speedup mean", m["mean"], R)
        sc.close(f"runtime {name} ref_speedup lo", m["ci_lo"], lo, rel=1e-8)
        sc.close(f"runtime {name} ref_speedup hi", m["ci_hi"], hi, rel=1e-8)
    a = [x for x in d["answer"] if x["runtime"] == name][0]
    if a["estimator"] == "seqref_ratio_fieller":
        sc.close(f"answer {name} n", float(a["n"]), float(len(own)), rel=0, abs_=0)
for f in sc.FAIL:
    print("MISMATCH", f)
print(f"seqref_check: {sc.CHECKED[0]} values checked, {len(sc.FAIL)} mismatches")
sys.exit(1 if sc.FAIL else 0)
