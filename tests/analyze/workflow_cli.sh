#!/bin/sh
# Issue 12: analyze on the study team's workflow-schema files (fixtures
# tests/fixtures/tr115_workflow, values worked out in fixtures/README.md):
# they load as Rust-harness runs and the report adds the workflow split and
# per-stage statistics. Usage: workflow_cli.sh ANALYZE_BIN FIXTURES_DIR
set -u
A=$1; FX=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
"$A" --full "$T/r.md" "$FX/tr115_workflow" > "$T/front.md" 2> "$T/err" || fail "analyze exited $?"
grep -q "2 runs loaded (2 valid)" "$T/err" || fail "runs not loaded: $(cat "$T/err")"
grep -q "^## Workflow steps" "$T/r.md" || fail "no workflow section"
grep -qF "| wf | 2 | n/a | n/a | n/a | 107.000 [81.588, 132.412] | 0.080 [0.080, 0.080] | 0.035 [" "$T/r.md" \
    || fail "workflow split (llm 105/109, work 0.08, waiting 0.07/0)"
grep -qF "| wf | ingest | 4 | 0.040 [" "$T/r.md" || fail "ingest stage"
# Per-stage intervals are clustered by run (issue 20 §4: the agents of one
# run are not independent): analysis seconds 20, 25 (run 1) and 22, 27
# (run 2): run means 22.5 and 24.5, SE 1, t(0.975, 1) = 12.7062 ->
# [10.794, 36.206]; TTFT run means 450 and 450 -> [450, 450].
grep -qF "| wf | analysis | 4 | 23.500 [10.794, 36.206] | 450.0 [450.0, 450.0] | 49.5 [" "$T/r.md" \
    || fail "analysis stage"
grep -qF "| wf | report | 4 | 30.000 [" "$T/r.md" || fail "report stage"
# report TTFT 600, 700 | 400, 500: run means 650, 450, SE 100 -> 550 +- 1270.6
grep -qF "| 550.0 [-720.6, 1820.6] | 38.5 [" "$T/r.md" || fail "report stage llm figures"
# requests.csv: one row per LLM call (issue 20 section 5), with its step
# index, kind and stage: 2 runs x 2 agents x (analysis, report) = 8 rows;
# the calls' TTFT average 450 ms (analysis) and 550 ms (report) as in the
# stage table above (fixtures/README.md).
"$A" -q --csv "$T/csv" "$FX/tr115_workflow" > /dev/null || fail "analyze --csv exited $?"
awk -F, 'NR > 1 { n[$10]++; t[$10] += $12; if ($9 != "llm") bad = 1 }
         END { if (bad || n["analysis"] != 4 || n["report"] != 4 || t["analysis"] != 1800 ||
                   t["report"] != 2200 || length(n) != 2) exit 1 }' "$T/csv/requests.csv" \
    || fail "requests.csv per LLM call: $(cut -d, -f7-12 "$T/csv/requests.csv")"
head -1 "$T/csv/requests.csv" | grep -q ",agent,step,kind,stage," || fail "requests.csv header"
# parbench's own workflow trace (fixtures/trace_workflow/README.md): each
# agent's several requests per phase form one workflow.
"$A" --full "$T/p.md" "$FX/trace_workflow" > "$T/pfront.md" 2> "$T/perr" || fail "analyze on trace_workflow exited $?"
grep -q "1 runs loaded (1 valid)" "$T/perr" || fail "workflow trace not loaded: $(cat "$T/perr")"
grep -qF "| wfrt | 1 | 3.500 | 0.400 | 0.100 | 5.500 | 0.400 | 0.000 | 66.7 | 63.6 |" "$T/p.md" \
    || fail "workflow split / efficiencies of trace_workflow"
grep -qF "| wfrt | 1 | 98.3 | 66.7 | 1.33 |" "$T/p.md" || fail "estimated 98.33% / measured 66.67% / speedup 1.33"
# One run: its two agents are one cluster, so no interval (clustered by run).
grep -qF "| wfrt | step0 llm | 2 | 1.450 | 100.0 | 20.0 |" "$T/p.md" || fail "step0 stage, TTFT, rate"
# The timeline draws every llm call's chunks, not only the first call's
# (issue 20 section 5): the fixture with two chunks per request (first
# token, end) gives 2 x 8 requests = 16 chunk ticks.
mkdir -p "$T/wfch"
f=$(find "$FX/trace_workflow" -name '*.json' | head -n 1)
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
for p in d["phases"]:
    for r in p["requests"]:
        r["chunks"] = [[r["t_first_token_ns"], 10], [r["t_end_ns"], 10]]
json.dump(d, open(sys.argv[2], "w"))' "$f" "$T/wfch/run_1.json" || fail "fixture with chunks"
if command -v gnuplot > /dev/null; then
    "$A" -q --charts "$T/wfch/charts" "$T/wfch" > /dev/null || fail "charts of the workflow trace"
    n=$(awk '/^# index/ { on = /chunk arrival/ } on && /^[0-9]/' "$T/wfch/charts/timeline.dat" | wc -l)
    [ "$n" -eq 16 ] || fail "timeline draws $n chunk ticks, expected 16 (every call's)"
fi
# A malformed llm call is a skip with its reason, not a crash.
mkdir -p "$T/bad/runtime-x/c/run_1/run_1"
sed 's/"stage": "analysis"/"stage": 7/' "$FX/tr115_workflow/results/runtime-wf/cfgA/run_1/run_1/rust_run.json" \
    > "$T/bad/runtime-x/c/run_1/run_1/rust_run.json"
"$A" "$T/bad" > /dev/null 2> "$T/err2"
grep -q "llm_calls\[0\]" "$T/err2" || fail "bad llm_calls not reported: $(cat "$T/err2")"
echo PASS
