#!/bin/sh
# CLI contract of analyze: exit codes, stdout = report only, --csv headers,
# Markdown escaping of labels. Usage: cli_test.sh ANALYZE_BIN FIXTURES_DIR
set -u
A=$1; FX=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$A" --help | grep -q "exit status" || fail "--help lacks exit status"
"$A" --version | grep -q "analyze" || fail "--version"
"$A" >/dev/null 2>&1; [ $? -eq 2 ] || fail "no args must exit 2"
"$A" --bogus x >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown option must exit 2"
"$A" --ref TR114 x >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad --ref must exit 2"
"$A" --drop-first x "$FX" >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad --drop-first must exit 2"
"$A" --help | grep -q -- "--drop-first N" || fail "--help lacks --drop-first"
"$A" -j 0 "$FX" >/dev/null 2>&1; [ $? -eq 2 ] || fail "-j 0 must exit 2"
"$A" --jobs 9 "$FX" >/dev/null 2>&1; [ $? -eq 2 ] || fail "--jobs 9 must exit 2"
# Files are parsed by --jobs threads but applied in walk order: every
# output is the same byte for byte (the fixtures hold bad files too).
for j in 1 3; do
    mkdir "$T/j$j"
    "$A" -q -j $j "$FX" -o "$T/j$j/r.md" --json "$T/j$j/r.json" --csv "$T/j$j" 2>"$T/j$j/err"
done
"$A" -q --timings "$FX/trace" >"$T/t.md" 2>"$T/t.err" || fail "--timings exit status"
grep -q "^analyze: timings (ms): load [0-9.]* ([0-9]* threads*), statistics [0-9.]*, outputs [0-9.]*, total [0-9.]*$" "$T/t.err" \
    || fail "--timings line: $(cat "$T/t.err")"
"$A" -q "$FX/trace" | cmp -s - "$T/t.md" || fail "--timings changed stdout"
for f in r.md r-full.md r.json runs.csv requests.csv comparisons.csv err; do
    cmp -s "$T/j1/$f" "$T/j3/$f" || fail "--jobs 1 and --jobs 3 differ in $f"
done

mkdir "$T/empty"
"$A" "$T/empty" >"$T/e.md" 2>"$T/e.err"; [ $? -eq 1 ] || fail "empty dir must exit 1"
grep -q "No run could be loaded" "$T/e.md" || fail "empty report must say why"

# Issue 20 section 6: exit codes. --sequential-ref naming no runtime is a
# usage error listing the runtimes (as --baseline); no valid run exits 1;
# charts that cannot be written exit 3.
"$A" --sequential-ref nosuch "$FX/trace" >/dev/null 2>"$T/sr.err"; rc=$?
[ $rc -eq 2 ] || fail "unknown --sequential-ref must exit 2, got $rc"
grep -q "runtimes found: threads, uv" "$T/sr.err" || fail "unknown --sequential-ref: $(cat "$T/sr.err")"
mkdir -p "$T/inv/uv/cfg_a"
sed 's/"valid": true/"valid": false/' "$FX/trace/uv/cfg_a/run_1.json" > "$T/inv/uv/cfg_a/run_1.json"
"$A" "$T/inv" >"$T/inv.md" 2>"$T/inv.err"; rc=$?
[ $rc -eq 1 ] || fail "no valid run must exit 1, got $rc"
grep -q "No valid run" "$T/inv.md" || fail "no valid run: the report must say so"
: > "$T/notadir"
"$A" --charts "$T/notadir/charts" "$FX/trace" >/dev/null 2>"$T/ch.err"; rc=$?
[ $rc -eq 3 ] || fail "charts that cannot be written must exit 3, got $rc"

# A label with Markdown metacharacters, from the directory layout.
mkdir -p "$T/in/runtime-a|b/cfg_*x*/run_1"
cp "$FX/tr115_rust/results/runtime-alpha/cfg1/run_1/run_1/rust_run.json" "$T/in/runtime-a|b/cfg_*x*/run_1/"
printf '{"summary": {"efficiency_percent": 8' > "$T/in/runtime-a|b/cfg_*x*/run_1/bad.json"
"$A" --ref TR114=95.7 --baseline threads --csv "$T/csv" --full "$T/f.md" "$T/in" "$FX/trace" \
    >"$T/r.md" 2>"$T/r.err"
[ $? -eq 0 ] || fail "report exit status"
# The front page (stdout) and the full report (--full) escape the same way.
grep -q 'a\\|b' "$T/r.md" || fail "| not escaped"
grep -q 'a\\|b' "$T/f.md" || fail "| not escaped (full)"
grep -q 'cfg\\_\\\*x\\\*' "$T/f.md" || fail "* and _ not escaped"
grep -q "vs TR114 (pp)" "$T/f.md" || fail "--ref column"
grep -q "Against the baseline" "$T/f.md" || fail "--baseline table"
grep -q "^## Comparisons against \`threads\`" "$T/r.md" || fail "front page: --baseline comparisons"
# stdout without --full: the front page says how to get the rest.
"$A" "$FX/trace" 2>/dev/null | tr '\n' ' ' | grep -q -- "or  *\`--full  *FILE\`" \
    || fail "front page lacks the --full hint"
grep -q "bad.json" "$T/r.err" || fail "skip not on stderr"
# The front page opens with the answer (issue 20).
grep -n '^#' "$T/r.md" | sed 's/^[0-9]*://' | head -4 > "$T/fh"
printf '%s\n' "# parbench analysis" "## The answer: together vs one after the other" \
    "## Warnings" "## What was measured" | cmp -s - "$T/fh" || fail "front page headings: $(cat "$T/fh")"
# Every section of the full report, in order (the original study's tables
# after the measured metrics, definitions last).
grep -n '^#' "$T/f.md" | sed 's/^[0-9]*://' > "$T/headings"
prev=0
for h in "# parbench analysis: full report" \
         "## Comparisons (measured metrics)" "## Comparisons of runtimes" "## Runtime × config design" \
         "## Per-config details" "## Order effects and outliers (concurrent wall time)" \
         "## The original study's metric (TR115 tables)" "### Aggregate efficiency per runtime" \
         "### Per-config efficiency" "### Top 3 configs per runtime (by mean efficiency)" \
         "### Variance and stability" \
         "## Data quality" "## Definitions and methods" "### Definitions (true parallel efficiency)"; do
    line=$(grep -n -x -F "$h" "$T/headings" | head -n 1 | cut -d: -f1)
    [ -n "$line" ] || fail "section missing: $h"
    [ "$line" -gt "$prev" ] || fail "section out of order: $h"
    prev=$line
done
# The removed duplicates stay removed.
grep -q "Confidence intervals of the mean efficiency" "$T/f.md" && fail "duplicate CI table is back"
[ "$(grep -c '^## ' "$T/f.md")" -eq 8 ] || fail "expected 8 top-level sections in the full report"
# No line wider than 160 characters (laptop screen).
awk 'length($0) > 160 { exit 1 }' "$T/r.md" "$T/f.md" || fail "a line is wider than 160 characters"
grep -q "| Runtime | Config | n | Mean ± SD (%) | Median (%) | Min (%) | Max (%) |" "$T/f.md" \
    || fail "per-config table lacks min/max"
# The report wraps prose lines, and where depends on the fixture path's
# length (checkout directory): join the lines before looking.
tr '\n' ' ' < "$T/f.md" | grep -q "agent b:  *HTTP  *503" || fail "invalid run not listed"
grep -q "analyze:" "$T/r.md" && fail "stderr text leaked into stdout"
head -1 "$T/csv/runs.csv" | grep -q "^path,format,runtime,config,run_index,valid" || fail "runs.csv header"
head -1 "$T/csv/groups.csv" | grep -q "^runtime,config,est_efficiency_sd,est_efficiency_min" || fail "groups.csv header"
head -1 "$T/csv/groups_long.csv" | grep -qx "runtime,config,metric,statistic,value" || fail "groups_long.csv header"
head -1 "$T/csv/runtimes.csv" | grep -q "^runtime,n_configs,cfgmeans_peak" || fail "runtimes.csv header"
[ "$(wc -l < "$T/csv/runs.csv")" -eq 5 ] || fail "runs.csv rows"
# Runs collected against a time-scaled emulator: the report says what that
# does to durations and rates. A copy of the trace fixture with run.emulator.
mkdir -p "$T/emu/uv/cfg_a"
sed 's/"invalid_reason": null/"invalid_reason": null, "emulator": {"time_scale": 25}/' \
    "$FX/trace/uv/cfg_a/run_1.json" > "$T/emu/uv/cfg_a/run_1.json"
"$A" "$T/emu" >"$T/emu.md" 2>/dev/null || fail "emulated trace exit status"
grep -q "Emulated: 1 runs against ollama-emu, time scale 25x" "$T/emu.md" \
    || fail "time-scale note missing"
grep -q "ollama-emu" "$T/r.md" && fail "time-scale note on data that was not emulated"
# --drop-first: the report says what was dropped (TR115 fixture: 2 runs per
# group of alpha/cfg1, so 1 of them goes).
"$A" --drop-first 1 --full "$T/d.md" "$FX/tr115_rust" >/dev/null 2>&1 || fail "--drop-first exit status"
grep -q "\*\*\`--drop-first 1\`\*\*: the first 1 run of every runtime × config group was dropped" "$T/d.md" \
    || fail "--drop-first not stated in the report"
# A standalone emulator announces its scale in a header; the collector
# records it under "servers" (fixture README): the summary says so, with the
# preset, the server, and what was measured (model, agents, host, date).
"$A" "$FX/trace_servers" >"$T/srv0.md" 2>/dev/null || fail "servers trace exit status"
# List items are wrapped at 100 characters (continuation lines indented by
# two spaces): join them back before matching a whole item.
awk 'NR > 1 && /^  [^ ]/ { sub(/^  /, " "); printf "%s", $0; next } NR > 1 { print "" } { printf "%s", $0 } END { print "" }' \
    "$T/srv0.md" > "$T/srv.md"
grep -q "Emulated: 1 runs against ollama-emu (preset gemma3-shared-gpu), time scale 20x" "$T/srv.md" \
    || fail "time scale from servers[] missing"
grep -q "^- Model: gemma3:latest; 2 agents per run; endpoints: http://127.0.0.1:11434, http://127.0.0.1:11435 (server: ollama-emu 0.1.0, dialect ollama)" "$T/srv.md" \
    || fail "model / agents / endpoints / server missing"
grep -q "^- Collected on fixture-host, 2026-11-27T09:30:00.000000000Z, by collect 0.1.0." "$T/srv.md" \
    || fail "host / date / collect version missing"
# The measuring process's own cost, from the concurrent phase's
# collector_cpu: 0.2 s of CPU in an 8 s phase is 2.5% of one CPU; over the
# 2 x 125 tokens the server counted (eval_count), 800 us per token.
grep -q "^- The measuring process: collect itself used 2.5% of one CPU in the concurrent phase (1 run), 800.0 us of CPU per streamed token, on CPUs 0.$" "$T/srv.md" \
    || fail "collector cost line: $(grep 'measuring process' "$T/srv.md")"
# Without solo phases and without --sequential-ref the summary says plainly
# that the data cannot tell (threads fixture: --no-solo).
"$A" "$FX/trace/threads" >"$T/nosolo.md" 2>/dev/null || fail "no-solo exit status"
grep -q "These data cannot tell true parallel efficiency" "$T/nosolo.md" || fail "no-baseline wording"
# A trace without collector_cpu (the threads fixture): no such line.
! grep -q "measuring process" "$T/nosolo.md" || fail "collector cost line without data"
# The answer for the uv fixture (one run: measured speedup 10 s / 8 s = 1.25x,
# no interval) comes before the original study's tables.
grep -q "^- \*\*uv\*\* (N = 2, n = 1): speedup 1.25x from a single run" "$T/srv.md" || fail "uv answer"
echo "cli_test: ok"
