#!/usr/bin/python3
"""analyze on runs of `collect --target-ci` (issue 20 §4): the final
interval of each group, whether it met the target, and a front-page
warning for a group that missed it.

usage: sampling_check.py ANALYZE TRACE_FIXTURE

Writes parbench traces from the fixture (one run with solo phases) with a
recorded run.sampling: group "capped" has 6 runs whose speedups spread ~5%
against a 1% target (the pilot asks for more than --max-runs 6: missed),
group "quiet" 5 runs within 0.01% (no run added: met). The final interval
is recomputed here from the traces' own phase spans with t quantiles from
a table, not from the program: mean of all N +- max(t(n0-1) s0,
t(N-1) s_N) / sqrt(N), met iff that is within target% of the pilot mean.
Exit 0 agree, 1 mismatch.
"""
import copy
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

T975 = {4: 2.7764451051977987, 5: 2.5705818366147395}   # any t table
analyze, fixture = sys.argv[1:3]
base = json.load(open(fixture))
fails = []
SHRINK = {"capped": [1.0, 0.94, 1.03, 0.97, 1.05, 0.99], "quiet": [1.0, 1.0001, 0.9999, 1.0, 1.00005]}
with tempfile.TemporaryDirectory() as tmp:
    speed = {}
    for cfg, shrinks in SHRINK.items():
        for k, s in enumerate(shrinks, 1):
            d = copy.deepcopy(base)
            d["run"].update(config=cfg, run_index=k, sampling={
                "target_ci_pct": 1, "max_runs": 6, "planned_runs": 5,
                "added": k > 5, "rule": "test"})
            # Scale the solo phases (and their requests) by s: the
            # measured speedup scales by s, the concurrent phase is kept.
            for ph in d["phases"]:
                if ph["kind"] != "solo":
                    continue
                t0 = ph["start_ns"]
                f = lambda t: int(t0 + (t - t0) * s)
                ph["end_ns"] = f(ph["end_ns"])
                for rq in ph["requests"]:
                    for key in ("t_connected_ns", "t_first_byte_ns", "t_first_token_ns", "t_end_ns"):
                        rq[key] = f(rq[key])
                    rq["chunks"] = [[f(c[0]), c[1]] for c in rq["chunks"]]
            solo = sum(p["end_ns"] - p["start_ns"] for p in d["phases"] if p["kind"] == "solo")
            conc = [p["end_ns"] - p["start_ns"] for p in d["phases"] if p["kind"] == "concurrent"][0]
            speed.setdefault(cfg, []).append(solo / conc)
            os.makedirs(os.path.join(tmp, "d", "uv", cfg), exist_ok=True)
            json.dump(d, open(os.path.join(tmp, "d", "uv", cfg, f"run_{k}.json"), "w"))
    out = os.path.join(tmp, "a.json")
    front = subprocess.run([analyze, "-q", "--json", out, os.path.join(tmp, "d")], check=True,
                           capture_output=True, text=True).stdout
    a = json.load(open(out))
for cfg, x in speed.items():
    pilot = x[:5]
    s0, sn, n = statistics.stdev(pilot), statistics.stdev(x), len(x)
    h = max(T975[4] * s0, T975[n - 1] * sn) / math.sqrt(n)
    mean = statistics.mean(x)
    met = h <= 0.01 * statistics.mean(pilot)
    e = [g for g in a["sampling"] if g["config"] == cfg]
    if len(e) != 1:
        fails.append(f"{cfg}: {len(e)} sampling entries")
        continue
    e = e[0]
    for key, want in (("speedup", mean), ("ci_lo", mean - h), ("ci_hi", mean + h)):
        if abs(e[key] - want) > 1e-6 * abs(want):
            fails.append(f"{cfg}: {key} {e[key]!r}, want {want!r}")
    if e["target_met"] != met or e["runs"] != n or e["added"] != n - 5:
        fails.append(f"{cfg}: target_met {e['target_met']} runs {e['runs']} added {e['added']}, "
                     f"want {met} {n} {n - 5}")
    warned = [w for w in a["warnings"] if w["kind"] == "target_missed" and cfg in w["subject"]]
    if bool(warned) == met:
        fails.append(f"{cfg}: target_missed warning {'present' if warned else 'absent'}")
if "capped" not in front or "missed --target-ci" not in front:
    fails.append("front page does not say that uv / capped missed its target")
if [c for c in SHRINK if [g for g in a["sampling"] if g["config"] == c and g["target_met"]]] != ["quiet"]:
    fails.append("expected exactly the quiet group to meet its target")
for f in fails:
    print("FAIL:", f)
print(f"sampling_check: {'ok' if not fails else 'mismatch'}")
sys.exit(1 if fails else 0)
