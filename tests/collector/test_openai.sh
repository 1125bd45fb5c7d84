#!/bin/sh
# Issue 10's must-show: collect in the OpenAI dialect through ollama-emu's
# /v1 routes (two ideal instances): valid runs on uv and threads, token
# counts and TTFT equal the emulator's --trace ground truth, measured
# efficiency >= 97%, usage counts (not estimates), servers[] filled.
# Never skips: an emulator that lost its /v1 routes is the regression this
# test is for.
. "$SRC/lib.sh"
. "$SRC/emu_lib.sh"
emu_start --time-scale 1
rc=0
"$COLLECT" --api openai --endpoint "$U1" --endpoint "$U2" --model gemma3:latest --agents 2 \
    --num-predict 30 --prompt "Say something." --runtime uv,threads --runs 2 \
    --out "$WORK/out" --progress lines 2>"$WORK/log" || rc=$?
emu_stop
cat "$WORK/log"
[ "$rc" = 0 ] || fail "collect exited $rc"
"$TRACE_CHECK" "$WORK/out" --runs 4 --all-valid || fail "runs not valid"
"$TRACE_CHECK" "$WORK/out/uv" --runtime uv --eff-min 97 || fail "uv below 97%"
"$TRACE_CHECK" "$WORK/out/threads" --runtime threads --eff-min 97 || fail "threads below 97%"
"$TRUTH_CHECK" "$WORK/out" "$EMU_TRACE" --tokens 30 --ttft-median-us 2000 --ttft-max-us 50000 \
    || fail "traces differ from the emulator's ground truth"
f="$WORK/out/uv/default/run_1.json"
grep -q '"dialect":"openai-chat","url_path":"/v1/chat/completions"' "$f" || fail "no dialect / url_path"
grep -q '"tokens_estimated":true' "$f" && fail "token counts estimated: the server sent no usage"
grep -q '"servers":\[{"endpoint":"'"$U1"'","dialect":"openai-chat"' "$f" || fail "no servers[]"
# The version is the one Ollama states on /api/version of the same base,
# not the models' owned_by ("library"), which is no version.
grep -q '"servers":\[{"endpoint":"'"$U1"'","dialect":"openai-chat","server_header":[^,]*,"version":"0.32.15"' "$f" \
    || fail "servers[] version is not /api/version's"
if [ -n "${ANALYZE:-}" ]; then
    "$ANALYZE" -q "$WORK/out" >"$WORK/report.md" || fail "analyze exited $?"
fi
# The other OpenAI dialect, on collect's own --emulate instances.
"$COLLECT" --emulate-ideal --time-scale 5 --emulate-trace "$WORK/inproc.trace" --api openai-completions \
    --endpoint http://127.0.0.1:11434 --endpoint http://127.0.0.1:11435 --agents 2 --num-predict 10 \
    --prompt "Say something." --runtime uv --runs 1 --out "$WORK/inproc" --quiet || fail "--emulate: exit $?"
"$TRACE_CHECK" "$WORK/inproc" --runs 1 --all-valid >/dev/null || fail "--emulate: runs not valid"
"$TRUTH_CHECK" "$WORK/inproc" "$WORK/inproc.trace" --tokens 10 || fail "--emulate: ground truth differs"
grep -q '"url_path":"/v1/completions"' "$WORK/inproc/uv/default/run_1.json" || fail "--emulate: not /v1/completions"
# The Responses API (POST /v1/responses, typed events, the count in
# response.completed's usage), likewise.
"$COLLECT" --emulate-ideal --time-scale 5 --emulate-trace "$WORK/resp.trace" --api openai-responses \
    --endpoint http://127.0.0.1:11434 --endpoint http://127.0.0.1:11435 --agents 2 --num-predict 10 \
    --prompt "Say something." --runtime uv --runs 1 --out "$WORK/resp" --quiet || fail "responses: exit $?"
"$TRACE_CHECK" "$WORK/resp" --runs 1 --all-valid >/dev/null || fail "responses: runs not valid"
"$TRUTH_CHECK" "$WORK/resp" "$WORK/resp.trace" --tokens 10 || fail "responses: ground truth differs"
f="$WORK/resp/uv/default/run_1.json"
grep -q '"dialect":"openai-responses","url_path":"/v1/responses"' "$f" || fail "responses: no dialect / url_path"
grep -q '"tokens_estimated":true' "$f" && fail "responses: token counts estimated: usage not read"
grep -q '"status":"completed"' "$f" || fail "responses: response.completed not kept"
echo PASS
