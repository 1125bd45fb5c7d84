"""Checks the traces of a workflow sweep (tests/collector/test_workflow.sh).

Usage: wf_check.py DIR EFF_MIN RUNTIME...
Independently of collect and analyze: every run valid; in each measured
phase (solo and concurrent) every agent of the phase has one request per
llm step of its plan; a step whose prompt holds {{previous}} was sent the
previous llm step's response; measured efficiency (sum of the solo phases'
spans / concurrent span / N), median over each listed runtime's runs,
>= EFF_MIN (the median: one run disturbed by a busy machine must not decide).
"""
import glob
import json
import os
import statistics
import sys

d, eff_min, runtimes = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
fails = []
for rt in runtimes:
    effs = []
    files = sorted(glob.glob(os.path.join(d, rt, "*", "run_*.json")))
    if not files:
        fails.append(f"{rt}: no runs")
    for f in files:
        t = json.load(open(f))
        if not t["run"]["valid"]:
            fails.append(f"{f}: invalid: {t['run']['invalid_reason']}")
            continue
        n_llm = {a["id"]: sum(1 for s in a["steps"] if s["kind"] == "llm") for a in t["agents"]}
        uses_prev = {a["id"]: [s.get("uses_previous", False) for s in a["steps"]] for a in t["agents"]}
        solo_sum, conc = 0.0, None
        measured = [p for p in t["phases"] if p["kind"] in ("solo", "concurrent")]
        if len(measured) != len(t["agents"]) + 1:
            fails.append(f"{f}: {len(measured)} measured phases")
        for p in measured:
            agents = [a for a in n_llm if p["kind"] == "concurrent" or p["name"] == "solo:" + a]
            for a in agents:
                got = sum(1 for r in p["requests"] if r["agent"] == a)
                if got != n_llm[a]:
                    fails.append(f"{f} {p['name']}: agent {a} has {got} requests, plan has {n_llm[a]} llm steps")
                llm = sorted((s for s in p["steps"] if s["agent"] == a and s["kind"] == "llm"),
                             key=lambda s: s["step"])
                for prev, cur in zip(llm, llm[1:]):
                    if uses_prev[a][cur["step"]]:
                        if not prev["response"] or prev["response"] not in cur["prompt"]:
                            fails.append(f"{f} {p['name']}: agent {a} step {cur['step']} prompt lacks step {prev['step']}'s response")
            span = (p["end_ns"] - p["start_ns"]) / 1e9
            if p["kind"] == "solo":
                solo_sum += span
            else:
                conc = span
        eff = solo_sum / conc / len(n_llm) * 100
        print(f"{f}: measured efficiency {eff:.1f}%")
        effs.append(eff)
    if effs and statistics.median(effs) < eff_min:
        fails.append(f"{rt}: median measured efficiency {statistics.median(effs):.1f}% < {eff_min}%")
for x in fails:
    print("FAIL:", x, file=sys.stderr)
sys.exit(1 if fails else 0)
