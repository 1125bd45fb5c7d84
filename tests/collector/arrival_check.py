"""Checks arrival patterns in traces (tests/collector/test_arrival.sh).

Usage: arrival_check.py DIR KIND PARAM TIME_SCALE

KIND stagger: agent i's recorded offset is i * PARAM / TIME_SCALE s and it
starts no earlier than that after the phase's release (and < 20 ms later);
with equal independent agents (ideal emulator, two instances) the measured
efficiency is T / (T + d) for solo span T and offset d (the concurrent wall
runs from the first start to the last end), checked within 3 pp.
KIND poisson: offsets start at 0, increase, differ between runs, and the
agents start no earlier than their offsets.
"""
import glob
import json
import os
import sys

d, kind, param, scale = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
fails, seen = [], []
for f in sorted(glob.glob(os.path.join(d, "*", "*", "run_*.json"))):
    t = json.load(open(f))
    r = t["run"]
    if not r["valid"] or r["arrival"]["kind"] != kind:
        fails.append(f"{f}: invalid or arrival {r['arrival']}")
        continue
    conc = [p for p in t["phases"] if p["kind"] == "concurrent"][0]
    offs = [a["offset_ns"] / 1e9 for a in conc["agents"]]
    for a in conc["agents"]:
        # Never early, on the trace's own integer nanoseconds (issue 23:
        # a libuv timer fired up to a tick early); late by under 20 ms.
        late_ns = a["start_ns"] - conc["release_ns"] - a["offset_ns"]
        late = late_ns / 1e9
        if late_ns < 0 or late > 0.020:
            fails.append(f"{f}: agent {a['agent']} started {late * 1e3:.2f} ms after its offset")
    if kind == "stagger":
        want = [i * param / scale for i in range(len(offs))]
        if any(abs(x - y) > 1e-6 for x, y in zip(offs, want)):
            fails.append(f"{f}: offsets {offs} != {want}")
        if r["runtime"] != "serial":
            solo = [(p["end_ns"] - p["start_ns"]) / 1e9 for p in t["phases"] if p["kind"] == "solo"]
            wall = (conc["end_ns"] - conc["start_ns"]) / 1e9
            eff = sum(solo) / wall / len(solo) * 100
            T = sum(solo) / len(solo)
            pred = T / (T + offs[-1]) * 100
            print(f"{f}: measured efficiency {eff:.1f}%, predicted {pred:.1f}%")
            if abs(eff - pred) > 3:
                fails.append(f"{f}: efficiency {eff:.1f}% vs predicted {pred:.1f}%")
    else:
        if offs[0] != 0 or any(b < a for a, b in zip(offs, offs[1:])):
            fails.append(f"{f}: poisson offsets {offs} do not start at 0 and increase")
        seen.append(tuple(offs))
if kind == "poisson" and len(set(seen)) < 2:
    fails.append(f"poisson offsets identical in every run: {seen}")
for x in fails:
    print("FAIL:", x, file=sys.stderr)
sys.exit(1 if fails else 0)
