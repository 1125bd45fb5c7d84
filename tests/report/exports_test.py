#!/usr/bin/env python3
"""Exports and inputs of analyze (issue 9): --csv files loaded with the csv
module (types and counts), --json parsed (schema, every comparison's p),
labelled sweeps kept apart, --merge, unknown --baseline, -o with relative
chart links.

Usage: exports_test.py ANALYZE FIXTURES_DIR SHARED_DIR
The TR115 part is skipped (and says so) when SHARED_DIR lacks the data.
"""
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

A, FX, SHARED = sys.argv[1], sys.argv[2], sys.argv[3]
TR115 = os.path.join(SHARED, "data", "tr115-v1")
T = tempfile.mkdtemp()


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    shutil.rmtree(T, ignore_errors=True)
    sys.exit(1)


def run(*args, ok=(0,)):
    p = subprocess.run([A, "-q", *args], capture_output=True, text=True)
    if p.returncode not in ok:
        fail("analyze %s exited %d: %s" % (" ".join(args), p.returncode, p.stderr))
    return p


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def is_num(v):
    if v == "":
        return True  # n/a
    try:
        return math.isfinite(float(v))
    except ValueError:
        return False


def check_types(path, numeric, integer=()):
    r = rows(path)
    for i, row in enumerate(r):
        for k in numeric:
            if not is_num(row[k]):
                fail("%s row %d: %s = %r is not a number" % (path, i + 1, k, row[k]))
        for k in integer:
            if row[k] != "" and not row[k].lstrip("-").isdigit():
                fail("%s row %d: %s = %r is not an integer" % (path, i + 1, k, row[k]))
    return r


REQ_NUM = ["start_offset_s", "ttft_ms", "tokens", "duration_s", "client_rate", "server_rate"]
REQ_INT = ["run_index", "http_status"]
REQ_BOOL = ["valid", "ok"]


def check_bools(r, keys):
    """Booleans are booleans (issue 20 section 5): true / false."""
    for i, row in enumerate(r):
        for k in keys:
            if row[k] not in ("true", "false"):
                fail("row %d: %s = %r is not true/false" % (i + 1, k, row[k]))
    return r

# 1. The hand-written trace fixtures: 3 runs. uv run 1 has 2 agents x
# (solo + concurrent) = 4 requests, uv run 2 (invalid, no solo) 2,
# threads run 1 (no solo) 2: 8 rows, 2 of them solo.
trace = os.path.join(FX, "trace")
run("--csv", os.path.join(T, "fx"), trace)
req = check_bools(check_types(os.path.join(T, "fx", "requests.csv"), REQ_NUM, REQ_INT), REQ_BOOL)
if len(req) != 8:
    fail("fixture requests.csv: %d rows, expected 8" % len(req))
if sorted(r["phase"] for r in req).count("solo") != 2:
    fail("fixture requests.csv: expected 2 solo rows")
# uv run 1 agent a, solo phase: 4 s (fixture README); its request starts
# at 2 s and the concurrent phase at 14 s (run_1.json): offset -12 s.
a_solo = [r for r in req if r["runtime"] == "uv" and r["run_index"] == "1"
          and r["agent"] == "a" and r["phase"] == "solo"][0]
if float(a_solo["duration_s"]) != 4.0 or float(a_solo["start_offset_s"]) != -12.0:
    fail("uv run 1 solo a: duration %s, offset %s; expected 4, -12" %
         (a_solo["duration_s"], a_solo["start_offset_s"]))
b503 = [r for r in req if r["http_status"] == "503"]
if len(b503) != 1 or b503[0]["ok"] != "false" or "503" not in b503[0]["error"]:
    fail("the HTTP 503 request is not in requests.csv as failed")
# One name per quantity: no CSV repeats a column, every row is complete.
for name in ["runs", "groups", "runtimes", "requests", "comparisons", "groups_long"]:
    with open(os.path.join(T, "fx", name + ".csv"), newline="") as f:
        table = list(csv.reader(f))
    dup = sorted({h for h in table[0] if table[0].count(h) > 1})
    if dup or any(len(r) != len(table[0]) for r in table):
        fail("%s.csv: repeated columns %r or ragged rows" % (name, dup))
g = rows(os.path.join(T, "fx", "groups.csv"))
uv = [r for r in g if r["runtime"] == "uv"][0]
# measured speedup of the one valid uv run: 10 s solo / 8 s wall = 1.25
if float(uv["meas_speedup_mean"]) != 1.25 or uv["meas_speedup_n"] != "1":
    fail("groups.csv uv meas_speedup_mean %s, expected 1.25" % uv["meas_speedup_mean"])
thr = [r for r in g if r["runtime"] == "threads"][0]
if thr["meas_speedup_mean"] != "" or thr["meas_speedup_n"] != "0":
    fail("threads has no solo phase: meas_speedup must be empty (n/a)")
rt = rows(os.path.join(T, "fx", "runtimes.csv"))
if [r["runtime"] for r in rt] != ["threads", "uv"]:
    fail("runtimes.csv runtimes %r" % [r["runtime"] for r in rt])
# Comparisons need two valid runs per runtime; the fixtures have one each:
# a header and no rows (the TR115 part below checks rows).
with open(os.path.join(T, "fx", "comparisons.csv"), newline="") as f:
    cr = list(csv.reader(f))
if len(cr) != 1 or cr[0][:5] != ["family", "metric", "scale", "a", "b"]:
    fail("fixture comparisons.csv: %r" % cr[:2])

# 2. Two labelled sweeps with the same runtime names stay apart; --merge
# pools them; an unlabelled pair with the same names is kept apart by path.
# The same file reached twice counts once (under the first input), so the
# second sweep is a copy.
copy = os.path.join(T, "copy")
shutil.copytree(trace, copy)
run("--csv", os.path.join(T, "lab"), "old=" + trace, "new=" + copy)
names = [r["runtime"] for r in rows(os.path.join(T, "lab", "runtimes.csv"))]
if names != ["new/threads", "new/uv", "old/threads", "old/uv"]:
    fail("labelled runtimes.csv: %r" % names)
inputs = {r["input"] for r in rows(os.path.join(T, "lab", "requests.csv"))}
if inputs != {"old", "new"}:
    fail("requests.csv input labels %r" % inputs)
run("--csv", os.path.join(T, "mer"), "--merge", trace, copy)
m = rows(os.path.join(T, "mer", "runtimes.csv"))
if [r["runtime"] for r in m] != ["threads", "uv"] or m[1]["est_efficiency_n"] != "2":
    fail("--merge: %r" % [(r["runtime"], r["est_efficiency_n"]) for r in m])
run("--csv", os.path.join(T, "apart"), trace, copy)
names = [r["runtime"] for r in rows(os.path.join(T, "apart", "runtimes.csv"))]
if len(names) != 4 or not all(n.endswith(("/uv", "/threads")) for n in names):
    fail("unlabelled inputs sharing runtime names were merged: %r" % names)
p = run("--baseline", "old/uv", "old=" + trace, "new=" + copy)
if "## Comparisons against `old/uv`" not in p.stdout:
    fail("--baseline old/uv: no baseline table on the front page")
p = run("a=" + trace, "a=" + copy, ok=(2,))
if "label 'a' is given to two inputs" not in p.stderr:
    fail("a label given twice must be a usage error: %r" % p.stderr)
p = run("--baseline", "nosuch", trace, ok=(2,))
if "runtimes found: threads, uv" not in p.stderr:
    fail("unknown --baseline must list the runtimes: %r" % p.stderr)

# 3. --json on the fixtures: schema, answer, requests.
run("--json", os.path.join(T, "fx.json"), trace)
d = json.load(open(os.path.join(T, "fx.json")))
if d["schema"] != "parbench-analysis" or d["schema_version"] != 2:
    fail("json schema")
ans = {a["runtime"]: a for a in d["answer"]}
if abs(ans["uv"]["speedup"] - 1.25) > 1e-12 or ans["uv"]["n"] != 1 or \
        ans["uv"]["estimator"] != "solo_geomean_t" or ans["threads"]["estimator"] is not None:
    fail("json answer %r" % d["answer"])
if len(d["runs"]) != 3 or sum(len(r["requests"]) for r in d["runs"]) != 8:
    fail("json runs/requests count")
# The collector's own CPU: 0.4 s in uv run 1's concurrent phase, null in
# the two runs that do not record it.
cpu = sorted("%s/%d:%s" % (r["runtime"], r["run_index"], r["collector_cpu_s"]) for r in d["runs"])
if cpu != ["threads/1:None", "uv/1:0.4", "uv/2:None"]:
    fail("json runs[].collector_cpu_s: %r" % cpu)

# 4. -o FILE: links relative to FILE's folder, whatever the current dir.
out = os.path.join(T, "o", "sub")
os.makedirs(out)
p = run("-o", os.path.join(out, "report.md"), "--charts", os.path.join(T, "o", "charts"), trace)
if p.stdout != "":
    fail("-o: stdout must stay empty")
md = open(os.path.join(out, "report.md")).read()
full = open(os.path.join(out, "report-full.md")).read()
if "](../charts/efficiency_box." not in full:
    fail("-o: chart links not relative to the report's folder")
if "](report-full.md)" not in md or "](../charts/speedup.png)" not in md:
    fail("-o: the front page must link report-full.md beside it and the speedup chart")

# 4b. Exec runtimes (tests/fixtures/trace_exec, values derived in its
# README): one speedup, on the wire span, in the CSV, the JSON and the
# report alike; process and wire spans and write-back lag beside it.
p = run("--csv", os.path.join(T, "ex"), "--json", os.path.join(T, "ex.json"),
        os.path.join(FX, "trace_exec"))
want = {"py": dict(meas_speedup=1.25, process_span_s=3.0, wire_span_s=0.8,
                   process_overhead_s=2.2, solo_process_span_s=4.0, solo_wire_span_s=1.0,
                   writeback_lag_p50_ms=3.0, writeback_lag_p99_ms=9.76),
        "pyr": dict(meas_speedup=1.5, process_span_s=0.9, wire_span_s=0.6,
                    process_overhead_s=0.3, solo_process_span_s=None, solo_wire_span_s=0.9,
                    writeback_lag_p50_ms=6.0, writeback_lag_p99_ms=6.98)}
with open(os.path.join(T, "ex.json")) as f:
    dx = json.load(f)
jruns = {r["runtime"]: r for r in dx["runs"]}
jrts = {r["runtime"]: r for r in dx["runtimes"]}
for r in rows(os.path.join(T, "ex", "runs.csv")):
    for k, v in want[r["runtime"]].items():
        got_csv = None if r[k] == "" else float(r[k])
        got_json = jruns[r["runtime"]]["metrics"][k]
        for where, got in (("runs.csv", got_csv), ("json", got_json)):
            if (v is None) != (got is None) or (v is not None and abs(got - v) > 1e-9):
                fail("exec %s %s %s = %r, expected %r" % (where, r["runtime"], k, got, v))
by = {k: jrts[k]["measured_by"] for k in jrts}
if by != {"py": "proxy", "pyr": "proxy_replay"}:
    fail("exec json measured_by %r" % by)
ans = {a["runtime"]: a["speedup"] for a in dx["answer"]}
if abs(ans["py"] - 1.25) > 1e-9 or "**py** (N = 2, n = 1): speedup 1.25x from a single run" not in p.stdout:
    fail("exec answer %r" % ans)
kinds = sorted((w["kind"], w["subject"]) for w in dx["warnings"]
               if w["kind"] in ("startup_dominates", "replay_baseline"))
if kinds != [("replay_baseline", "pyr"), ("startup_dominates", "py")]:  # pyr: 0.9 s < 2 x 0.6 s
    fail("exec warnings %r" % kinds)

# A malformed write-back record (one entry short) would pair lags with the
# wrong chunks: the file is skipped with the reason, nothing else is lost.
with open(os.path.join(FX, "trace_exec", "py", "cfg", "run_1.json")) as f:
    bad = json.load(f)
bad["phases"][2]["requests"][1]["chunks_written_ns"].pop()
os.makedirs(os.path.join(T, "exbad", "py", "cfg"))
with open(os.path.join(T, "exbad", "py", "cfg", "run_1.json"), "w") as f:
    json.dump(bad, f)
shutil.copytree(os.path.join(FX, "trace_exec", "pyr"), os.path.join(T, "exbad", "pyr"))
# A trace from before the proxy was wired in: its own reason.
with open(os.path.join(FX, "trace_exec", "py", "cfg", "run_1.json")) as f:
    old = json.load(f)
for ph in old["phases"]:
    ph["process"]["requests_recorded"] = False
    ph["requests"] = []
with open(os.path.join(T, "exbad", "py", "cfg", "run_2.json"), "w") as f:
    json.dump(old, f)
run("--json", os.path.join(T, "exbad.json"), os.path.join(T, "exbad"))
with open(os.path.join(T, "exbad.json")) as f:
    db = json.load(f)
sk = db["data_quality"]["skipped"]
sk = sorted(sk, key=lambda x: x["path"])
if len(sk) != 2 or "chunks_written_ns has 2 entries for 3 chunks" not in sk[0]["reason"] or \
        "requests were not recorded (process.requests_recorded false" not in sk[1]["reason"] or \
        [r["runtime"] for r in db["runs"]] != ["pyr"]:
    fail("exec: malformed chunks_written_ns: skipped %r, runs %r" % (sk, [r["runtime"] for r in db["runs"]]))

# Many exec runtimes: the answer lines, the How line and the warnings grow
# with them, so the front page's comparisons table gives up rows to stay
# within 100 lines (it held 24 and the page 103 lines for the study's seven
# runtimes). Eight runtimes with long names, three runs each.
with open(os.path.join(FX, "trace_exec", "py", "cfg", "run_1.json")) as f:
    base = json.load(f)
for j in range(8):
    name = "exec-runtime-with-a-long-name-%d" % j
    for k in range(1, 4):
        d = json.loads(json.dumps(base))
        d["run"]["runtime"], d["run"]["run_index"] = name, k
        d["phases"][2]["requests"][2]["t_end_ns"] += int((j * 3 + k) * 1e7)
        os.makedirs(os.path.join(T, "manyx", name, "cfg"), exist_ok=True)
        with open(os.path.join(T, "manyx", name, "cfg", "run_%d.json" % k), "w") as f:
            json.dump(d, f)
p = run(os.path.join(T, "manyx"))
n_lines, n_rows = len(p.stdout.splitlines()), p.stdout.count("\n| measured speedup")
if n_lines > 100 or "more rows (further metrics)" not in p.stdout or n_rows == 0:
    fail("8 exec runtimes: front page of %d lines, %d speedup rows:\n%s" % (n_lines, n_rows, p.stdout))

# 5. TR115 (read in place): 150 runs x 2 agents = 300 requests; every
# comparison's p in the JSON; the answer before the original metric.
if not os.path.isdir(TR115):
    print("exports_test: ok (TR115 parts skipped: %s absent)" % TR115)
    shutil.rmtree(T, ignore_errors=True)
    sys.exit(0)
p = run("--sequential-ref", "async-std", "--csv", os.path.join(T, "tr"), "--json",
        os.path.join(T, "tr.json"), TR115)
req = check_bools(check_types(os.path.join(T, "tr", "requests.csv"), REQ_NUM, REQ_INT), REQ_BOOL)
if len(req) != 300:
    fail("TR115 requests.csv: %d rows, expected 300" % len(req))
d = json.load(open(os.path.join(T, "tr.json")))
# 5 runtimes: C(5,2) = 10 pairs on each metric TR115's files have (duration,
# TTFT, aggregate throughput, original efficiency; no solo phases, no
# chunks): 40 comparisons, each with its Welch and Mann-Whitney p.
if len(d["comparisons"]) != 40 or not all(
        isinstance(c["p"], float) and isinstance(c["mw_p"], float) for c in d["comparisons"]):
    fail("TR115 json comparisons: %d" % len(d["comparisons"]))
cmp = check_types(os.path.join(T, "tr", "comparisons.csv"),
                  ["estimate", "ci_lo", "ci_hi", "p", "p_holm", "mw_p", "van_elteren_p"],
                  ["n_a", "n_b"])
check_bools(cmp, ["with_baseline"])
if len(cmp) != 40 or {r["metric"] for r in cmp} != {"duration_s", "ttft_ms", "throughput_tok_s",
                                                    "est_efficiency"}:
    fail("TR115 comparisons.csv: %d rows, metrics %r" % (len(cmp), {r["metric"] for r in cmp}))
# The answer is the statistics' ratio of means with Fieller's interval:
# /work/shared/notes/stats-methods.md gives smol R = 0.877701, t interval
# [0.7665, 0.9981] (slower), smol-1kb [0.7825, 1.0484] (inconclusive).
ans = {a["runtime"]: a for a in d["answer"]}
sm, sk = ans["smol"], ans["smol-1kb"]
if sm["estimator"] != "seqref_ratio_fieller" or abs(sm["speedup"] - 0.877701) > 5e-7 or \
        abs(sm["ci_lo"] - 0.7665) > 5e-5 or abs(sm["ci_hi"] - 0.9981) > 5e-5 or \
        sm["verdict"] != "slower" or sk["verdict"] != "inconclusive" or \
        abs(sk["ci_lo"] - 0.7825) > 5e-5 or abs(sk["ci_hi"] - 1.0484) > 5e-5:
    fail("TR115 answer: %r / %r" % (sm, sk))
# Issue 20: the front page is at most 100 lines and opens with the answer;
# the original study's tables are in the full report only.
lines = p.stdout.splitlines()
if len(lines) > 100 or "### Aggregate efficiency per runtime" in p.stdout:
    fail("TR115 front page: %d lines" % len(lines))
heads = [l for l in lines if l.startswith("#")]
if heads[:2] != ["# parbench analysis", "## The answer: together vs one after the other"]:
    fail("TR115 front page does not open with the answer: %r" % heads[:3])
for name in ["smol", "smol-1kb", "tokio-default", "tokio-localset"]:
    if ("**%s** (N = 2, n = 30)" % name) not in p.stdout:
        fail("TR115: %s's answer line missing" % name)
# hyperfine's lines (issue 20): the ratio computed directly between the two
# runtimes, fastest first: the sums of their config-mean walls, ± the
# delta-method SE, worked here from runs.csv's walls (the shared reference
# is not in it, so its variance is not counted twice: 0.060/0.074/0.073,
# where dividing the two speedups printed 0.104/0.117/0.111). The control
# (async-std, the reference) is never "the fastest".
import statistics
walls = {}
for r in rows(os.path.join(T, "tr", "runs.csv")):
    walls.setdefault(r["runtime"], {}).setdefault(r["config"], []).append(float(r["wall_s"]))
def sums(rt):
    c = walls[rt].values()
    return (sum(statistics.mean(v) for v in c), sum(statistics.variance(v) / len(v) for v in c))
fast = min(["smol", "smol-1kb", "tokio-default", "tokio-localset"], key=lambda n: sums(n)[0])
if "`%s` ran" % fast not in p.stdout or "`async-std` ran" in p.stdout:
    fail("TR115: the fastest runtime is %s" % fast)
sf, vf = sums(fast)
for other, want in [("smol", 0.060), ("tokio-default", 0.074), ("tokio-localset", 0.073)]:
    so, vo = sums(other)
    ratio = so / sf
    se = ratio * (vf / sf ** 2 + vo / so ** 2) ** 0.5
    if abs(se - want) > 0.0006:
        fail("independent SE %s: %.4f" % (other, se))
    line = "- %.3f ± %.3f times faster than `%s` (~ not significant" % (ratio, se, other)
    if line not in p.stdout:
        fail("TR115 hyperfine line for %s: want %r" % (other, line))
vs = {v["slow"]: v for v in d["answer_vs"]}
if abs(vs["smol"]["ratio"] - sums("smol")[0] / sf) > 1e-12 or vs["smol"]["significant"]:
    fail("json answer_vs %r" % vs["smol"])
# Without a baseline the summary says it cannot tell, and names async-std
# (every run 50.0% = 100/N in runtime_comparison.csv) as the reference to use.
p = run(TR115)
head = " ".join(p.stdout[:p.stdout.index("## Comparisons")].split())
if "cannot tell true parallel efficiency" not in head or \
        "its agents ran one after the other): `async-std`." not in head:
    fail("TR115 without --sequential-ref: no plain statement / candidate reference")
print("exports_test: ok")
shutil.rmtree(T, ignore_errors=True)
