#!/bin/sh
# The plan-free command line in Ollama's native dialect against a separate
# ollama-emu (two ideal instances): valid runs, token counts and TTFT equal
# the emulator's --trace ground truth, efficiency >= 97%; the API key never
# reaches a file or a log; --dry-run prints a plan file that measures the
# same plan; a typo'd model lists what the server has; flag misuse exits 2.
. "$SRC/lib.sh"
. "$SRC/emu_lib.sh"
emu_start --time-scale 1
export PB_TEST_KEY="sk-parbench-test-7f3a9c"
"$COLLECT" --api ollama --endpoint "$U1" --endpoint "$U2" --model gemma3:latest --agents 2 \
    --num-predict 30 --prompt "Say something." --runtime uv,threads --runs 2 \
    --api-key-env PB_TEST_KEY --out "$WORK/out" --progress lines >"$WORK/stdout" 2>"$WORK/log" \
    || { cat "$WORK/log"; fail "collect exited $?"; }
emu_stop
"$TRACE_CHECK" "$WORK/out" --runs 4 --all-valid || fail "runs not valid"
"$TRACE_CHECK" "$WORK/out/uv" --runtime uv --eff-min 97 >/dev/null || fail "uv below 97%"
"$TRACE_CHECK" "$WORK/out/threads" --runtime threads --eff-min 97 >/dev/null || fail "threads below 97%"
"$TRUTH_CHECK" "$WORK/out" "$EMU_TRACE" --tokens 30 --ttft-median-us 2000 --ttft-max-us 50000 \
    || fail "traces differ from the emulator's ground truth"
grep -q '"dialect":"generate","url_path":"/api/generate"' "$WORK/out/uv/default/run_1.json" \
    || fail "no dialect / url_path in the trace"
grep -q '"servers":\[{"endpoint":"'"$U1"'","dialect":"generate"' "$WORK/out/uv/default/run_1.json" \
    || fail "no servers[] in the trace"
# An emulator that announces itself is recorded as one (the header parsed).
if "$OLLAMA_EMU" --help | grep -q "X-Parbench-Emulator"; then
    grep -q '"emulator":{"time_scale":1,"preset":"ideal"}}' "$WORK/out/uv/default/run_1.json" \
        || fail "servers[].emulator not parsed from X-Parbench-Emulator"
else
    echo "note: this ollama-emu sends no X-Parbench-Emulator header; servers[].emulator not checked"
fi
if grep -rq "$PB_TEST_KEY" "$WORK/out" "$WORK/log" "$WORK/stdout"; then fail "the API key was written"; fi
if [ -n "${ANALYZE:-}" ]; then
    "$ANALYZE" -q "$WORK/out" >"$WORK/report.md" || fail "analyze exited $?"
    grep -q "uv" "$WORK/report.md" || fail "analyze report lacks the runs"
fi

# --dry-run: a plan file; loaded back it is the same plan (same hash).
"$COLLECT" --api ollama --endpoint "$U1" --endpoint "$U2" --agents 3 --num-predict 30 \
    --prompt "Say something." --runs 2 --dry-run >"$WORK/plan.json" 2>"$WORK/dry.log" || fail "dry-run exited $?"
h1=$(sed -n 's/^collect: plan_hash //p' "$WORK/dry.log")
h2=$("$COLLECT" --plan "$WORK/plan.json" --dry-run | sed -n 's/.*"plan_hash":[[:space:]]*"\([^"]*\)".*/\1/p')
[ -n "$h1" ] && [ "$h1" = "$h2" ] || fail "saved plan differs: $h1 vs $h2"
grep -q '"endpoint":[[:space:]]*"'"$U1"'"' "$WORK/plan.json" || fail "plan file lacks the endpoint"

# Usage errors exit 2 before anything is measured.
rc=0; "$COLLECT" --model m --out "$WORK/x" 2>"$WORK/e1" || rc=$?
[ "$rc" = 2 ] && grep -q -- "--model builds a plan with --endpoint" "$WORK/e1" || fail "--model alone: rc $rc"
rc=0; "$COLLECT" --endpoint "$U1" --prompt hi --api-key-env PB_UNSET_VAR_X --out "$WORK/x" 2>"$WORK/e2" || rc=$?
[ "$rc" = 2 ] && grep -q "PB_UNSET_VAR_X is not set" "$WORK/e2" || fail "unset key variable: rc $rc"
rc=0; "$COLLECT" --endpoint "$U1" --plan tr115 --prompt hi 2>"$WORK/e3" || rc=$?
[ "$rc" = 2 ] || fail "--endpoint with --plan: rc $rc"
rc=0; "$COLLECT" --endpoint "$U1" --prompt hi --api openai --emulate --plan x 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "expected 2, got $rc"
rc=0; "$COLLECT" --api vllm --endpoint "$U1" --prompt hi 2>"$WORK/e4" || rc=$?
[ "$rc" = 2 ] && grep -q "openai-chat" "$WORK/e4" || fail "--api vllm: rc $rc"
[ ! -e "$WORK/x" ] || fail "usage errors wrote output"

# A typo'd model: exit 3 with the models the server has.
emu_start --time-scale 20
rc=0
"$COLLECT" --endpoint "$U1" --model gemma3:latst --prompt hi --out "$WORK/out3" 2>"$WORK/log3" || rc=$?
emu_stop
cat "$WORK/log3"
[ "$rc" = 3 ] || fail "typo'd model: expected exit 3, got $rc"
grep -q "it has: gemma3:latest" "$WORK/log3" || fail "no list of the models there"
echo PASS
