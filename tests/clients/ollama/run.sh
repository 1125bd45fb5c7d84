#!/bin/sh
# ctest wrapper: installs the pinned `ollama` npm client into the build
# directory, starts ollama-emu, runs client.test.mjs with `node --test`.
# Skips (77) with a message when node or npm is missing or the install fails
# (e.g. no network). Usage: run.sh OLLAMA_EMU_BINARY WORK_DIR
set -eu
emu=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null 2>&1 || { echo "SKIP: node not installed"; exit 77; }
command -v npm >/dev/null 2>&1 || { echo "SKIP: npm not installed"; exit 77; }
mkdir -p "$work"
cp "$here/package.json" "$here/client.test.mjs" "$work/"
if [ ! -d "$work/node_modules/ollama" ]; then
    (cd "$work" && timeout 180 npm install --no-audit --no-fund --loglevel=error) \
        >"$work/npm.log" 2>&1 || {
        cat "$work/npm.log"
        echo "SKIP: npm install of the ollama client failed (offline?)"
        exit 77
    }
fi
# A fresh output file per run: polling a fixed name could read the previous
# run's `listening` line (a dead port) before the new process truncates it.
out=$(mktemp "$work/emu.out.XXXXXX")
pid=
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; fi; rm -f "$out"' EXIT
"$emu" --listen 127.0.0.1:0 --time-scale 50 --quiet >"$out" 2>"$work/emu.err" &
pid=$!
i=0
while ! grep -q '^listening ' "$out" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 100 ] || { cat "$work/emu.err"; echo "FAIL: ollama-emu did not start"; exit 1; }
    sleep 0.05
done
url=$(sed -n 's/^listening //p' "$out" | head -1)
cd "$work"
OLLAMA_EMU_URL=$url node --test client.test.mjs
