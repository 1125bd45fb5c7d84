#!/usr/bin/env bash
# The main job, end to end, on any Debian machine (no GPU, no Ollama needed):
#   1. installs missing Debian packages (scripts/deps.sh),
#   2. builds build/,
#   3. runs the TR115 plan (runtimes uv, threads, serial and uv-1kb, the C
#      counterparts of the study's variants; 120 runs) against the built-in
#      Ollama emulator (two instances sharing one simulated GPU, 25 times
#      faster than real time: about 70 s once built, as README.md says),
#   4. analyzes it into OUT: report.md (the front page, the answer first),
#      report-full.md, charts in charts/, tidy CSV files in csv/, every
#      statistic in analysis.json;
#   5. when the reference agents of agents/ can be built here
#      (scripts/agents-build.sh: Debian's cargo and librust-*-dev, or
#      python3-httpx), the study's own runtimes as programs: the built-in
#      plan tr115-runtimes, 3 runs (those not built are left out), analyzed
#      into OUT/runtimes/report.md. DEMO_AGENTS=0 skips this part.
# Environment: TIME_SCALE (default 25), OUT (default out/demo-x<TIME_SCALE>).
# Re-runnable with any settings: each time scale has its own folder (a rerun
# with the same settings resumes and measures nothing twice), and when
# collect fails the script says that the report was not updated.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/compile.sh build
scale=${TIME_SCALE:-25}
out=${OUT:-out/demo-x${scale}}
# With 2 CPUs or more, collect keeps to the first one it may use and the
# emulator to the others (--cpus): the way bench/peers measures, so the
# emulator's work never lands on the measuring process's CPU.
cpus=()
allowed=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status 2>/dev/null || true)
if [ "$(nproc)" -ge 2 ] && [ -n "$allowed" ]; then
    cpus=(--cpus "${allowed%%[-,]*}")
fi
echo "== collect: tr115 plan on the emulator (time scale ${scale}x) into ${out}/runs ==" >&2
build/collector/collect --emulate --plan tr115 --runtime uv,threads,serial,uv-1kb \
    --time-scale "$scale" --out "$out/runs" "${cpus[@]}" || {
    rc=$?
    echo "demo: collect exited $rc (see above); ${out}/report.md was NOT updated" >&2
    exit "$rc"
}
# collect's last lines are its one-line answer per runtime and the analyze
# command for the full report; the demo runs that command itself.
echo "== analyze (the command collect printed, run for you): ${out}/report.md (+ report-full.md), charts/, csv/, analysis.json ==" >&2
# -o: the report's chart links are relative to its own folder, so
# ${out}/report.md opens with its pictures from anywhere.
build/analyze/analyze -o "$out/report.md" --charts "$out/charts" --csv "$out/csv" \
    --json "$out/analysis.json" "$out/runs"
echo "done: ${out}/report.md (the answer first; the rest in ${out}/report-full.md; charts in ${out}/charts/, CSV in" \
     "${out}/csv/, JSON in ${out}/analysis.json, raw traces in ${out}/runs)" >&2

# 5. The study's runtimes as programs (issue 18), when any can run here.
[ "${DEMO_AGENTS:-1}" = 0 ] && exit 0
if ! ready=$(scripts/agents-build.sh --quiet) || [ -z "$ready" ]; then
    echo "demo: no reference agent can be built here (see scripts/agents-build.sh's messages above): part 5 skipped" >&2
    exit 0
fi
echo "== collect: tr115-runtimes (the study's runtimes as exec runtimes, 3 runs) into ${out}/runtimes/runs ==" >&2
build/collector/collect --emulate --plan tr115-runtimes --skip-missing-exec --runs 3 \
    --time-scale "$scale" --out "$out/runtimes/runs" "${cpus[@]}" || {
    rc=$?
    echo "demo: collect (tr115-runtimes) exited $rc (see above); ${out}/runtimes/report.md was NOT updated" >&2
    exit "$rc"
}
build/analyze/analyze -o "$out/runtimes/report.md" --charts "$out/runtimes/charts" "$out/runtimes/runs"
echo "done: ${out}/runtimes/report.md (the study's runtimes measured on the wire through parbench's recording proxy)" >&2
