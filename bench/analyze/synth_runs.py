#!/usr/bin/env python3
"""Writes N synthetic parbench v1 run files (2 agents, solo + concurrent
phases, a few chunks each) under OUT/<runtime>/<config>/run_<k>.json:
5 runtimes x 20 configs, runs spread evenly. Deterministic (seeded)."""
import json, os, random, sys

def req(agent, t0, dur, rng):
    t1 = t0 + dur
    chunks = [[t0 + int(dur * f), 100 + rng.randrange(50)] for f in (0.1, 0.4, 0.7, 1.0)]
    return {"agent": agent, "request_id": f"r{t0}{agent}", "ok": True, "http_status": 200,
            "error": None, "t_start_ns": t0, "t_connected_ns": t0 + 1000000,
            "t_first_byte_ns": chunks[0][0], "t_first_token_ns": chunks[0][0], "t_end_ns": t1,
            "curl": {"namelookup_us": 0, "connect_us": 1000, "pretransfer_us": 1100,
                     "starttransfer_us": 1000, "total_us": dur // 1000},
            "bytes": sum(c[1] for c in chunks), "lines": 4, "tokens": 4, "chunks": chunks,
            "final": {"done": True, "total_duration": dur - 1000000, "load_duration": 1000000,
                      "prompt_eval_count": 10, "prompt_eval_duration": 2000000,
                      "eval_count": 100 + rng.randrange(100), "eval_duration": dur // 2}}

def main():
    out, n = sys.argv[1], int(sys.argv[2])
    rng = random.Random(12345)
    for i in range(n):
        rt, cfg, k = f"rt{i % 5}", f"cfg{(i // 5) % 20}", i // 100 + 1
        da, db = rng.randrange(3, 6) * 10**9, rng.randrange(5, 9) * 10**9
        sa, sb = 0, da + 10**8
        c0 = sb + db + 10**8
        wall = max(da, db) + rng.randrange(0, 10**9)
        doc = {"format": "parbench-trace", "format_version": 1,
               "tool": {"name": "parbench-collect", "version": "bench"},
               "run": {"runtime": rt, "config": cfg, "run_index": k, "plan_hash": "fnv1a64:0",
                       "host": "bench", "wall_origin": "2026-01-01T00:00:00Z",
                       "mono_origin_ns": "0", "seed": 1, "chunk_bytes": 0,
                       "connection_reuse": True, "valid": True, "invalid_reason": None},
               "agents": [{"id": "a"}, {"id": "b"}],
               "phases": [
                   {"name": "solo:a", "kind": "solo", "start_ns": sa, "end_ns": sa + da, "requests": [req("a", sa, da, rng)]},
                   {"name": "solo:b", "kind": "solo", "start_ns": sb, "end_ns": sb + db, "requests": [req("b", sb, db, rng)]},
                   {"name": "concurrent", "kind": "concurrent", "start_ns": c0, "end_ns": c0 + wall,
                    "requests": [req("a", c0, da + 10**8, rng), req("b", c0, min(db, wall), rng)]}]}
        d = os.path.join(out, rt, cfg)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"run_{k}.json"), "w") as f:
            json.dump(doc, f, separators=(",", ":"))

main()
