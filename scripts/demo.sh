#!/usr/bin/env bash
# The main job, end to end, on any Debian machine (no GPU, no Ollama needed):
#   1. installs missing Debian packages (scripts/deps.sh),
#   2. builds build/,
#   3. runs the TR115 plan (runtimes uv, threads, serial and uv-1kb, the C
#      counterparts of the study's variants) against the built-in Ollama emulator (two instances
#      sharing one simulated GPU, time-scaled so it ends in about a minute),
#   4. analyzes it: report.md, charts in charts/, tidy CSV files in csv/.
# Environment: TIME_SCALE (default 25), OUT (default out/demo).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/compile.sh build
out=${OUT:-out/demo}
scale=${TIME_SCALE:-25}
echo "== collect: tr115 plan on the emulator (time scale ${scale}x) into ${out}/data ==" >&2
build/collector/collect --emulate --plan tr115 --runtime uv,threads,serial,uv-1kb \
    --time-scale "$scale" --out "$out/data"
echo "== analyze: report.md, charts/, csv/ ==" >&2
build/analyze/analyze --charts charts --csv csv "$out/data" > report.md
echo "done: report.md (charts in charts/, CSV in csv/, raw traces in ${out}/data)" >&2
