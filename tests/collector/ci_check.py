"""Checks a `collect --target-ci` sweep (tests/collector/test_target_ci.sh).

Usage: ci_check.py DIR TARGET_PCT PLANNED MAX QUIET_GROUP NOISY_GROUP

Recomputes, from the traces alone, each (runtime, config) group's measured
speedups (sum of solo phase spans / concurrent span) and the 95% Student-t
half-width in percent of the mean after each run, with t quantiles from a
printed table (not from the program). Checks the stopping rule: every run
beyond PLANNED was added while the interval of the runs before it was wider
than TARGET_PCT; the group stopped as soon as it was narrow enough, or at
MAX runs. QUIET_GROUP (runtime/config) got no run added, NOISY_GROUP at
least one. Every trace and the manifest state the rule.
"""
import glob
import json
import math
import os
import statistics
import sys

# t(0.975, df), df = 1..20 (any statistics table).
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086]

d, target, planned, mx = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
quiet, noisy = sys.argv[5], sys.argv[6]
fails = []


def halfwidth(x):
    if len(x) < 2:
        return math.inf
    return T975[len(x) - 2] * statistics.stdev(x) / math.sqrt(len(x)) / abs(statistics.mean(x)) * 100


groups = {}
for f in glob.glob(os.path.join(d, "*", "*", "run_*.json")):
    t = json.load(open(f))
    r = t["run"]
    sm = r.get("sampling") or {}
    if sm.get("target_ci_pct") != target or "rule" not in sm:
        fails.append(f"{f}: run.sampling does not state the rule")
    if sm.get("added") != (r["run_index"] > planned):
        fails.append(f"{f}: run.sampling.added is wrong")
    ph = t["phases"]
    solo = sum(p["end_ns"] - p["start_ns"] for p in ph if p["kind"] == "solo")
    conc = [p["end_ns"] - p["start_ns"] for p in ph if p["kind"] == "concurrent"][0]
    groups.setdefault(f"{r['runtime']}/{r['config']}", {})[r["run_index"]] = solo / conc if r["valid"] else None
for g, runs in sorted(groups.items()):
    n = max(runs)
    if sorted(runs) != list(range(1, n + 1)):
        fails.append(f"{g}: run indices {sorted(runs)} have gaps")
    vals = [runs[k] for k in range(1, n + 1)]
    for k in range(planned, n):
        hw = halfwidth([v for v in vals[:k] if v is not None])
        if hw <= target:
            fails.append(f"{g}: run {k + 1} added although runs 1..{k} were within +-{hw:.2f}%")
    hw = halfwidth([v for v in vals if v is not None])
    if hw > target and n < mx:
        fails.append(f"{g}: stopped at {n} runs with +-{hw:.2f}% > {target}% before --max-runs {mx}")
    print(f"{g}: {n} runs, speedup 95% CI +-{hw:.2f}%")
if max(groups.get(quiet, {0: 0})) != planned:
    fails.append(f"{quiet}: runs were added to the quiet group")
if max(groups.get(noisy, {0: 0})) <= planned:
    fails.append(f"{noisy}: no run was added to the noisy group")
m = json.load(open(os.path.join(d, "manifest.json")))
if "rule" not in m["plan"].get("sampling", {}):
    fails.append("manifest.json: plan.sampling.rule missing")
for x in fails:
    print("FAIL:", x, file=sys.stderr)
sys.exit(1 if fails else 0)
