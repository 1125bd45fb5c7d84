"""Issue 21 section 3 and issue 20 section 3 (host load): analyze on traces
written here with hand-worked values. Usage: servers_test.py ANALYZE_BIN

Two agents, 100 tokens each. Per run: solo phases of d seconds each, a
concurrent phase of wall W, so speedup = 2 d / W, efficiency = speedup / 2,
aggregate tokens/s = 200 / W.
  KEY=1: run 1 d = 1, W = 2 -> 1.00x; run 2 d = 1.21, W = 2 -> 1.21x
         geometric mean 1.1x; ln values 0, ln 1.21: 95% t interval
         exp(mean +- t(0.975, 1) sd / sqrt 2), computed below by hand.
  KEY=2: both runs d = 1, W = 1 -> 2.00x, interval [2.00, 2.00], 200 tok/s.
GPU samples (KEY=2 run 1): concurrent 40, 60, 80 -> mean 60, max 80;
solo 10, 30 -> mean 20. Host: KEY=2 run 1 load 5.0 on 2 CPUs, KEY=1 run 2
steal 12% in every phase (100 ticks each) -> 12%. KEY=1 run 1: /api/ps
loses the model inside the concurrent phase -> evicted."""
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

A = sys.argv[1]
T = tempfile.mkdtemp()


def fail(msg):
    print("FAIL: " + msg)
    shutil.rmtree(T, ignore_errors=True)
    sys.exit(1)


def ns(s):
    return int(round(s * 1e9))


def request(agent, t0, dur):
    first = t0 + 0.1
    return {"agent": agent, "request_id": "%s-%d" % (agent, ns(t0)), "ok": True,
            "http_status": 200, "error": None, "t_start_ns": ns(t0),
            "t_connected_ns": ns(t0 + 0.001), "t_first_byte_ns": ns(first),
            "t_first_token_ns": ns(first), "t_end_ns": ns(t0 + dur), "bytes": 200, "lines": 2,
            "tokens": 100, "chunks": [[ns(first), 100], [ns(t0 + dur), 100]],
            "final": {"done": True, "eval_count": 100, "eval_duration": ns(dur / 2)}}


def run_file(key, k, d, W, gpu=None, host=None, steal=None, evict=False):
    agents = [{"id": a, "endpoint": "http://127.0.0.1:11434", "api": "generate", "model": "m:1",
               "options": {}, "prompt_digest": "fnv1a64:00", "prompt_bytes": 10} for a in "ab"]
    t, phases = 1.0, []
    for a in "ab":
        phases.append({"name": "solo:" + a, "kind": "solo", "start_ns": ns(t), "end_ns": ns(t + d),
                       "requests": [request(a, t, d)]})
        t += d + 0.5
    conc = (t, t + W)
    phases.append({"name": "concurrent", "kind": "concurrent", "start_ns": ns(t),
                   "end_ns": ns(t + W), "requests": [request(a, t, W) for a in "ab"]})
    for p in phases:
        p["host"] = {"loadavg_1m_start": 0.5, "loadavg_1m": host or 0.5, "cpus": 2,
                     "steal_pct": steal or 0.0, "stat_ticks": 100}
    model = {"name": "m:1", "size": 2 << 30, "size_vram": 2 << 30, "context_length": 4096}
    ps = [{"t_ns": ns(conc[0] + 0.1), "endpoint": "http://127.0.0.1:11434", "models": [model]},
          {"t_ns": ns(conc[0] + 0.2), "endpoint": "http://127.0.0.1:11434",
           "models": [] if evict else [model]}]
    samples = []
    if gpu:
        samples = [{"t_ns": ns(1.2), "gpu": 0, "util_pct": 10, "mem_used_mib": 900},
                   {"t_ns": ns(1.4), "gpu": 0, "util_pct": 30, "mem_used_mib": 900}]
        samples += [{"t_ns": ns(conc[0] + 0.2 * (i + 1)), "gpu": 0, "util_pct": u,
                     "mem_used_mib": m} for i, (u, m) in enumerate(((40, 1000), (60, 1500), (80, 1200)))]
    doc = {"format": "parbench-trace", "format_version": 1,
           "tool": {"name": "parbench-collect", "version": "0.1.0"},
           "run": {"runtime": "uv", "config": key, "base_config": key, "n_agents": 2,
                   "run_index": k, "host": "h", "wall_origin": "2026-12-01T10:00:%02d.0Z" % k,
                   "mono_origin_ns": "0", "seed": k, "valid": True, "invalid_reason": None},
           "agents": agents, "phases": phases,
           "server_processes": {"order": {"rule": "serpentine"}, "processes": [
               {"name": "s1", "settings": {key.split("=")[0]: key.split("=")[1]}}]},
           "telemetry": {"interval_ms": 100, "ps": ps, "proc": [],
                         "gpu": {"source": "nvidia-smi" if gpu else "absent", "samples": samples}}}
    dd = os.path.join(T, "data", "uv", key)
    os.makedirs(dd, exist_ok=True)
    with open(os.path.join(dd, "run_%d.json" % k), "w") as f:
        json.dump(doc, f)


run_file("KEY=1", 1, 1.0, 2.0, evict=True)
run_file("KEY=1", 2, 1.21, 2.0, steal=12.0)
run_file("KEY=2", 1, 1.0, 1.0, gpu=True, host=5.0)
run_file("KEY=2", 2, 1.0, 1.0)

charts = os.path.join(T, "charts")
p = subprocess.run([A, "-q", "--charts", charts, "-o",
                    os.path.join(T, "report.md"), os.path.join(T, "data")],
                   capture_output=True, text=True)
if p.returncode != 0:
    fail("analyze exited %d: %s" % (p.returncode, p.stderr))
md = open(os.path.join(T, "report.md")).read()
full = open(os.path.join(T, "report-full.md")).read()
flat = " ".join(md.split())

# KEY=1 by hand: ln values 0 and ln 1.21; t(0.975, 1) = 12.7062047362.
l = math.log(1.21)
m, sd = l / 2, abs(l) / math.sqrt(2)
half = 12.7062047362 * sd / math.sqrt(2)
lo, hi = math.exp(m - half), math.exp(m + half)
row1 = "| KEY=1 | uv | 2 | 2 | 1.10x [%.2f, %.2f] | inconclusive | 55.0 | 100 | n/a |" % (lo, hi)
row2 = "| KEY=2 | uv | 2 | 2 | 2.00x [2.00, 2.00] | faster | 100.0 | 200 | 60 |"
for row in (row1, row2):
    if row not in md:
        fail("front page lacks %r:\n%s" % (row, md))
if md.index(row1) > md.index("## Warnings") or len(md.splitlines()) > 100:
    fail("the per-setting answer is not the front page's answer, or the page is too long")
if "settings.png" not in md:
    fail("front page does not link the settings chart")
for phrase in ("Host loaded during collection: 2 of 4 runs",
               "above the CPU count (up to 5.0 on 2 CPUs)", "CPU steal above 5% (up to 12.0%)",
               "uv/KEY=2 run 1", "uv/KEY=1 run 2",
               "A model was loaded, reloaded or evicted during a measured phase in 1 run "
               "(uv/KEY=1 run 1; first: m:1 evicted during concurrent"):
    if phrase not in flat.replace("\\_", "_"):
        fail("front page lacks %r:\n%s" % (phrase, md))
# Per phase in the full report: KEY=2 solo 20 / 30, concurrent 60 / 80,
# GPU memory 1500 MiB, VRAM 2048 MiB (2 GiB), the model.
for row in ("| uv | KEY=2 | solo | 20.0 | 30 | 900 | n/a | m:1 |",
            "| uv | KEY=2 | concurrent | 60.0 | 80 | 1500 | 2048 | m:1 |"):
    if row not in full:
        fail("full report lacks %r:\n%s" % (row, full[full.find("### GPU"):][:1500]))
# The chart's data: the same numbers, intervals positive.
dat = open(os.path.join(charts, "settings.dat")).read()
rows = [list(map(float, ln.split())) for ln in dat.splitlines() if ln and ln[0] != "#"]
want = [[1, 1.1, lo, hi, 2, 1], [2, 2.0, 2.0, 2.0, 2, 2], [1, 100, 100, 100, 2, 1],
        [2, 200, 200, 200, 2, 2]]
if len(rows) != 4 or any(abs(a - b) > 1e-6 * max(1, abs(b)) for r, w in zip(rows, want)
                         for a, b in zip(r, w)):
    fail("settings.dat %r, want %r" % (rows, want))
if not os.path.getsize(os.path.join(charts, "settings.png")) > 10000:
    fail("settings.png not rendered")
# The JSON: the same numbers at full precision.
js = os.path.join(T, "a.json")
subprocess.run([A, "-q", "--json", js, os.path.join(T, "data")],
               check=True, capture_output=True)
j = json.load(open(js))
st = j["server_settings"]
if st["settings"] != ["KEY=1", "KEY=2"] or len(st["series"]) != 1:
    fail("JSON server_settings %r" % st)
p1, p2 = st["series"][0]["points"]
sp = p1["speedup"]
if abs(sp["mean"] - 1.1) > 1e-9 or abs(sp["ci_lo"] - lo) > 1e-9 or abs(sp["ci_hi"] - hi) > 1e-9 \
        or p2["verdict"] != "faster" or p2["gpu_util_mean_pct"] != 60 or p2["gpu_util_max_pct"] != 80:
    fail("JSON points %r %r" % (p1, p2))
tel = [r["telemetry"] for r in j["runs"] if r["config"] == "KEY=2" and r["run_index"] == 1][0]
if tel["concurrent"] != {"gpu_util_mean_pct": 60, "gpu_util_max_pct": 80, "gpu_mem_mib": 1500,
                         "ps_vram_mib": 2048} or tel["host_loadavg_1m_max"] != 5.0:
    fail("JSON run telemetry %r" % tel)
print("servers: ok")
shutil.rmtree(T, ignore_errors=True)
