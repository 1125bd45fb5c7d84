#!/bin/sh
# Issue 11: the emulator reloads a model when num_ctx/num_gpu change, as
# Ollama does, and TR115's configs change num_ctx between runs. The warm-up
# request of each run must absorb every such load: no solo or concurrent
# request of the built-in tr115 plan may report a load_duration. Also checks
# that some warm-up did pay a reload (the model is really exercised).
. "$SRC/lib.sh"
command -v jq >/dev/null 2>&1 || { echo "SKIP: jq not installed (apt-get install jq)"; exit 77; }
"$COLLECT" --plan tr115 --emulate --time-scale 200 --runtime uv \
    --out "$WORK/out" --progress lines 2>"$WORK/log" || { cat "$WORK/log"; fail "collect exited $?"; }
for f in "$WORK"/out/uv/*/run_*.json; do
    jq -r '.phases[] | .kind as $k | .requests[] | "\($k) \(.final.load_duration // 0)"' "$f"
done >"$WORK/loads"
n=$(wc -l <"$WORK/loads")
[ "$n" -eq 180 ] || fail "expected 180 requests (30 runs x 6), got $n"
# Ollama (and the emulator) report a load_duration on a warm model too: the
# time to get the runner, microseconds here. A load is 0.4 s / 200 = 2 ms.
measured_loads=$(awk '$1 != "warmup" && $2 > 1000000' "$WORK/loads" | wc -l)
warm_loads=$(awk '$1 == "warmup" && $2 > 1000000' "$WORK/loads" | wc -l)
echo "warm-ups that loaded: $warm_loads of 60; measured requests that loaded: $measured_loads of 120"
[ "$measured_loads" -eq 0 ] || fail "$measured_loads measured requests paid a model load"
[ "$warm_loads" -gt 2 ] || fail "no reloads seen: expected the num_ctx changes to reload"
echo PASS
