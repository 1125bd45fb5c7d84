#!/bin/sh
# The reference agents measured by collect as exec runtimes (issue 18), end
# to end: `collect --emulate-ideal --plan tr115-runtimes`, one config, one
# run, with python-httpx, tokio-localset, smol, async-std and
# async-std-study (those built or installed; uv beside them). Checks, from
# the traces alone: every run valid; in every phase each job agent has
# exactly one request, recorded by the proxy under the job's
# X-Parbench-Request id, with its chunks timestamped on arrival and when
# the agent's socket took them (write-back lag >= 0); the phase spans the
# requests on the wire and the process around them; the two concurrent
# streams overlap on every runtime but async-std-study (the study's harness
# and its async Mutex: one after the other), whose wire speedup is ~1 while
# the others' is ~2 (ideal emulator: independent instances).
# Usage: collect.sh COLLECT. Skips (77) when no agent is available.
set -eu
collect=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
rts=""
[ -x "$root/agents/rust/target/release/pb-agent" ] && rts="tokio-localset,smol,async-std,async-std-study"
/usr/bin/python3 -c 'import httpx' 2>/dev/null && rts="${rts:+$rts,}python-httpx"
[ -n "$rts" ] || { echo "SKIP: no reference agent built (scripts/agents-build.sh) or installed (python3-httpx)"; exit 77; }
w=$(mktemp -d "${TMPDIR:-/tmp}/pbagc.XXXXXX")
trap 'rm -rf "$w"' EXIT
"$collect" --emulate-ideal --plan tr115-runtimes --config chimera_homo_gpu80_ctx512 --runs 1 \
    --time-scale 25 --runtime "uv,$rts" --out "$w/runs" --progress none 2>"$w/log" ||
    { cat "$w/log"; echo "FAIL: collect exit $?"; exit 1; }
/usr/bin/python3 - "$w/runs" "$rts" <<'PY'
import glob, json, os, sys
root, rts = sys.argv[1], sys.argv[2].split(",")
for rt in rts:
    f = f"{root}/{rt}/chimera_homo_gpu80_ctx512/run_1.json"
    t = json.load(open(f))
    assert t["run"]["valid"], (rt, t["run"]["invalid_reason"])
    ph = {p["name"]: p for p in t["phases"]}
    for p in t["phases"]:
        pr = p["process"]
        job = json.load(open(os.path.join(f[:-5] + ".exec", pr["job"])))
        ids = {a["id"]: a["request"]["headers"]["X-Parbench-Request"] for a in job["agents"]}
        rq = p["requests"]
        assert sorted(r["agent"] for r in rq) == sorted(ids) and not pr["other_requests"], (rt, p["name"], rq)
        for r in rq:
            assert r["source"] == "proxy" and r["request_id_sent"] and r["request_id"] == ids[r["agent"]], r
            assert r["ok"] and r["tokens"] > 0 and len(r["chunks"]) == len(r["chunks_written_ns"]) > 1, r["agent"]
            lag = [w - c[0] for c, w in zip(r["chunks"], r["chunks_written_ns"])]
            assert min(lag) >= 0 and max(lag) == r["writeback_lag_max_ns"], (rt, r["agent"])
        assert p["start_ns"] == min(r["t_start_ns"] for r in rq) and p["end_ns"] == max(r["t_end_ns"] for r in rq)
        assert pr["start_ns"] < p["start_ns"] and p["end_ns"] < pr["end_ns"], (rt, p["name"])
    a, b = sorted(ph["concurrent"]["requests"], key=lambda r: r["t_start_ns"])
    overlap = min(a["t_end_ns"], b["t_end_ns"]) - b["t_start_ns"]
    c = ph["concurrent"]
    solo = sum(r["t_end_ns"] - r["t_start_ns"] for n in ("solo:collector", "solo:insight") for r in ph[n]["requests"])
    speedup = solo / (c["end_ns"] - c["start_ns"])
    if rt == "async-std-study":
        assert overlap <= 0 and 0.9 < speedup < 1.1, (rt, overlap, speedup)
    else:
        assert overlap > 0.8 * (a["t_end_ns"] - b["t_start_ns"]) and 1.7 < speedup < 2.2, (rt, overlap, speedup)
    print(f"{rt}: speedup {speedup:.3f}, concurrent streams overlap {max(overlap, 0) / 1e6:.1f} ms")
print("PASS")
PY
