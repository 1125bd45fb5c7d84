"""Checks an agent-count sweep against the emulator's GPU model
(tests/collector/test_scaling.sh).

Usage: scaling_check.py DIR COUNTS RUNS TOL_PP

The sweep ran every N of COUNTS (e.g. 1,2,4,8) against ONE emulated
instance with one slot (num_parallel 1) and the ideal preset. The
emulator's timing model (emulator/README.md, "Timing model", step 1 queue)
admits one request per slot; the others wait. With one slot, the
concurrent phase of N identical requests therefore takes the sum of their
solo times, and the predicted measured efficiency is
    E(N) = sum_i T_solo_i / (N * sum_i T_solo_i) * 100 = 100 / N  %.
(The decode formula dt = 1 / (R1 * g(k)) never sees k > 1 here: only one
stream decodes at a time.) Checks: RUNS valid runs per N, each trace
records run.n_agents = N, and the median over runs of the measured
efficiency (computed here from the phases' spans) is within TOL_PP of
100 / N.
"""
import glob
import json
import os
import statistics
import sys

d, counts, runs, tol = sys.argv[1], [int(x) for x in sys.argv[2].split(",")], int(sys.argv[3]), float(sys.argv[4])
fails = []
by_n = {}
for f in glob.glob(os.path.join(d, "*", "*", "run_*.json")):
    t = json.load(open(f))
    r = t["run"]
    if not r["valid"]:
        fails.append(f"{f}: invalid: {r['invalid_reason']}")
        continue
    n = r["n_agents"]
    if n != len(t["agents"]) or r["config"] != f"{r['base_config']}-n{n}":
        fails.append(f"{f}: run.n_agents {n} / config {r['config']} do not match {len(t['agents'])} agents")
    ph = t["phases"]
    solo = sum(p["end_ns"] - p["start_ns"] for p in ph if p["kind"] == "solo")
    conc = [p["end_ns"] - p["start_ns"] for p in ph if p["kind"] == "concurrent"][0]
    by_n.setdefault(n, []).append(solo / conc / n * 100)
for n in counts:
    e = by_n.get(n, [])
    if len(e) != runs:
        fails.append(f"N={n}: {len(e)} valid runs, expected {runs}")
        continue
    med, pred = statistics.median(e), 100.0 / n
    print(f"N={n}: measured efficiency median {med:.2f}% (runs {', '.join(f'{x:.2f}' for x in e)}), predicted {pred:.2f}%")
    if abs(med - pred) > tol:
        fails.append(f"N={n}: median efficiency {med:.2f}% is {abs(med - pred):.2f} pp from the predicted {pred:.2f}%")
if sorted(by_n) != sorted(counts):
    fails.append(f"agent counts in the data {sorted(by_n)} != {sorted(counts)}")
for x in fails:
    print("FAIL:", x, file=sys.stderr)
sys.exit(1 if fails else 0)
