"""Checks a `collect --server ... --server-env OLLAMA_NUM_PARALLEL=...` sweep
against the emulator's documented GPU model (emulator/README.md, "Timing
model"), computed here independently of collect and analyze.

usage: servers_check.py OUT N_AGENTS NUM_PREDICT PROMPT_BYTES TOL_PP

Per run, measured efficiency = sum of the agents' solo durations /
(N x concurrent duration) from the trace's phases. Predicted, with the
README's defaults (R1 = 122 tok/s, first token 0.3 s, prompt 1500 tok/s,
batching exponent B = 0.5; time scale cancels out): one request alone
takes d1 = p + K / R1 with p = prompt_tokens / 1500 + 0.3 and
prompt_tokens = ceil(bytes / 4) + 8. With P = OLLAMA_NUM_PARALLEL slots
and N agents started together, the requests run in ceil(N / P) waves of
n = min(P, N) streams, each stream at R1 * n^-B, so a wave takes
p + K / (R1 * n^-B), and efficiency = N d1 / (N * waves * wave).
"""
import glob
import json
import math
import os
import sys

out, n, k, pbytes, tol = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
R1, FT, PR, B = 122.0, 0.3, 1500.0, 0.5
p = (math.ceil(pbytes / 4) + 8) / PR + FT
d1 = p + k / R1

bad = 0
seen = 0
for d in sorted(glob.glob(os.path.join(out, "uv", "OLLAMA_NUM_PARALLEL=*"))):
    par = int(d.rsplit("=", 1)[1])
    m = min(par, n)
    waves = math.ceil(n / par)
    pred = 100.0 * d1 / (waves * (p + k / (R1 * m ** -B)))
    effs = []
    for f in sorted(glob.glob(os.path.join(d, "run_*.json"))):
        t = json.load(open(f))
        assert t["run"]["valid"], f
        solo = sum(ph["end_ns"] - ph["start_ns"] for ph in t["phases"] if ph["kind"] == "solo")
        conc = [ph["end_ns"] - ph["start_ns"] for ph in t["phases"] if ph["kind"] == "concurrent"][0]
        effs.append(100.0 * solo / (n * conc))
    mean = sum(effs) / len(effs)
    # analyze summarises ratios by the geometric mean (pb_metrics)
    geo = math.exp(sum(math.log(e) for e in effs) / len(effs))
    seen += 1
    ok = abs(mean - pred) <= tol
    bad += not ok
    print("OLLAMA_NUM_PARALLEL=%d: measured efficiency %.2f%% (runs %s; geometric mean %.2f%%), "
          "emulator model %.2f%%, diff %+.2f pp%s" % (par, mean, ", ".join("%.1f" % e for e in effs),
                                                      geo, pred, mean - pred,
                              "" if ok else "  <-- beyond %g pp" % tol))
if seen == 0:
    print("no OLLAMA_NUM_PARALLEL=* configs under", out)
    sys.exit(1)
sys.exit(1 if bad else 0)
