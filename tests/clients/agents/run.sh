#!/usr/bin/env bash
# ctest wrapper: tool calls, structured output, thinking and the Responses
# API of ollama-emu through the official `ollama` and `openai` npm clients,
# with `ajv` checking the JSON (all pinned in package-lock.json).
# Usage: run.sh OLLAMA_EMU WORK_DIR. Installs into WORK_DIR (npm ci, kept
# between runs), starts ollama-emu on a free port, runs `node --test`.
# Exit 77 (skipped) when node or npm is missing or the install fails.
set -euo pipefail
emu=$1
work=$2
here=$(cd "${0%/*}" && pwd)

. "$here/../npm_setup.sh"
npm_setup "$work" "$here" "$here/agents.test.mjs"

out=$(mktemp)
pid=
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -f "$out"' EXIT
"$emu" --listen 127.0.0.1:0 --time-scale 50 --quiet >"$out" &
pid=$!
for _ in $(seq 100); do
  grep -q '^listening ' "$out" && break
  sleep 0.05
done
url=$(sed -n 's/^listening //p' "$out" | head -1)
[ -n "$url" ] || { echo "FAIL: ollama-emu did not print its address" >&2; exit 1; }
cd "$work"
EMU_URL=$url timeout 120 node --test --test-reporter=spec agents.test.mjs
