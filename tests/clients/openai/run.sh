#!/usr/bin/env bash
# ctest wrapper: the official `openai` npm client against ollama-emu's /v1
# routes. Usage: run.sh OLLAMA_EMU WORK_DIR
# Installs the pinned client into WORK_DIR (npm ci, kept between runs),
# starts an ideal emulator on a free port and runs `node --test`, once per
# --openai-format.
# Exit 77 (skipped) when node or npm is missing or the install fails.
set -euo pipefail
emu=$1
work=$2
here=$(cd "${0%/*}" && pwd)

. "$here/../npm_setup.sh"
npm_setup "$work" "$here" "$here/openai.test.mjs"

# Both chat stream shapes the emulator can send (Ollama 0.6.5's and
# >= 0.32.6's): the client must read either.
# A fresh output file per emulator: polling a reused name could read the
# previous emulator's `listening` line (a dead port).
out=
pid=
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -f "$out"' EXIT
cd "$work"
for format in 0.6 0.32; do
  rm -f "$out"
  out=$(mktemp "$work/emu.out.XXXXXX")
  "$emu" --listen 127.0.0.1:0 --ideal --time-scale 20 --quiet --openai-format "$format" >"$out" &
  pid=$!
  for _ in $(seq 100); do
    grep -q '^listening ' "$out" && break
    sleep 0.05
  done
  url=$(sed -n 's/^listening //p' "$out" | head -1)
  [ -n "$url" ] || { echo "FAIL: ollama-emu did not print its address" >&2; exit 1; }
  echo "== openai client against ollama-emu --openai-format $format ($url)" >&2
  EMU_URL=$url EMU_FORMAT=$format node --test --test-reporter=spec openai.test.mjs
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
done
