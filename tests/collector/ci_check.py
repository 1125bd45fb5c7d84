"""Checks a `collect --target-ci` sweep (tests/collector/test_target_ci.sh).

Usage: ci_check.py DIR TARGET_PCT PLANNED MAX QUIET_GROUP NOISY_GROUP [ANALYSIS_JSON]

Recomputes, from the traces alone, each (runtime, config) group's measured
speedups (sum of solo phase spans / concurrent span) and checks Stein's
two-stage rule with t quantiles from a printed table (not from the
program): the PLANNED runs are the pilot; the group has exactly
N = min(MAX, max(PLANNED, ceil((t(0.975, m0-1) s0 / d)^2))) runs, s0 the SD
of the pilot's valid speedups, d = TARGET_PCT% of their mean. QUIET_GROUP
(runtime/config) got no run added, NOISY_GROUP at least one. Every trace and
the manifest state the rule. With ANALYSIS_JSON (`analyze --json`), its
"sampling" entries must hold the same final interval: mean of all runs +-
max(t(n0-1) s0, t(N-1) s_N) / sqrt(N), and target_met = that half-width is
within TARGET_PCT% of the pilot mean.
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
analysis = json.load(open(sys.argv[7])) if len(sys.argv) > 7 else None
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
    pilot = [v for v in vals[:planned] if v is not None]
    want = planned
    if len(pilot) >= 2 and statistics.stdev(pilot) > 0:
        t = T975[len(pilot) - 2]
        dd = target / 100 * abs(statistics.mean(pilot))
        want = min(mx, max(planned, math.ceil((t * statistics.stdev(pilot) / dd) ** 2 - 1e-9)))
    if n != want:
        fails.append(f"{g}: {n} runs, Stein's rule from the pilot says {want}")
    allv = [v for v in vals if v is not None]
    h = max(T975[len(pilot) - 2] * statistics.stdev(pilot),
            T975[len(allv) - 2] * statistics.stdev(allv)) / math.sqrt(len(allv))
    mean = statistics.mean(allv)
    met = h <= target / 100 * abs(statistics.mean(pilot)) * (1 + 1e-12)
    print(f"{g}: {n} runs (pilot {len(pilot)}), final 95% CI +-{h / mean * 100:.2f}%, "
          f"target {'met' if met else 'missed'}")
    if analysis is not None:
        a = [x for x in analysis.get("sampling", []) if f"{x['runtime']}/{x['config']}" == g]
        if len(a) != 1:
            fails.append(f"{g}: analyze --json has {len(a)} sampling entries")
        else:
            a = a[0]
            # The printed table has 3 decimals: compare at 2e-3 relative.
            for k, want in (("speedup", mean), ("ci_lo", mean - h), ("ci_hi", mean + h)):
                if abs(a[k] - want) > 2e-3 * abs(want):
                    fails.append(f"{g}: analyze {k} {a[k]} != {want}")
            if a["target_met"] != met or a["runs"] != n:
                fails.append(f"{g}: analyze target_met {a['target_met']} / runs {a['runs']}, "
                             f"want {met} / {n}")
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
