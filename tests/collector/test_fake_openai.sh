#!/bin/sh
# The OpenAI dialects end to end against a tiny fake server (fake_openai):
# the requests on the wire (path, max_tokens, stream_options, seed, the
# Bearer key), valid runs with the server's usage count, reasoning timed
# before the first token, servers[] from the Server and X-Parbench-Emulator
# headers (the version: /api/version of the same base, none here); preflight's advice for a missing key, a typo'd
# model and a server without /v1; analyze reads the runs.
. "$SRC/lib.sh"
"$FAKE_OPENAI" --listeners 2 --require-key "sk-fake-1234" --log "$WORK/requests.log" \
    >"$WORK/fake.out" 2>"$WORK/fake.err" &
fake=$!
trap 'kill $fake 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do [ "$(grep -c listening "$WORK/fake.out")" = 2 ] && break; sleep 0.1; done
U1=$(sed -n 's/^listening //p' "$WORK/fake.out" | sed -n 1p)
U2=$(sed -n 's/^listening //p' "$WORK/fake.out" | sed -n 2p)
[ -n "$U2" ] || fail "fake_openai did not start: $(cat "$WORK/fake.err")"

export FAKE_KEY="sk-fake-1234"
for api in openai openai-completions; do
    "$COLLECT" --api $api --endpoint "$U1" --endpoint "$U2" --model fake-model --agents 2 \
        --num-predict 5 --prompt "hi" --runtime uv,threads --runs 1 --api-key-env FAKE_KEY \
        --out "$WORK/$api" --progress none 2>"$WORK/log" || { cat "$WORK/log"; fail "$api: collect exited $?"; }
    "$TRACE_CHECK" "$WORK/$api" --runs 2 --all-valid >/dev/null || fail "$api: runs not valid"
    f="$WORK/$api/uv/default/run_1.json"
    # Every measured request: 5 content events, the server's usage count 5.
    n=$(grep -o '"tokens":5,"chunks"' "$f" | wc -l)
    [ "$n" -ge 4 ] || fail "$api: expected 5 tokens per measured request"
    grep -q '"completion_tokens":5,"tokens_estimated":false' "$f" || fail "$api: usage count not recorded"
    grep -q '"usage":{"prompt_tokens":4,"completion_tokens":5,"total_tokens":9},"timings":{"predicted_n":5' "$f" \
        || fail "$api: usage / timings not kept verbatim"
    grep -q '"servers":\[{"endpoint":"'"$U1"'","dialect":"openai-[a-z]*","server_header":"fake-openai/1.0","version":null,"emulator":{"time_scale":3,"preset":"fake"}}' "$f" \
        || fail "$api: servers[] wrong"
    if grep -rq "$FAKE_KEY" "$WORK/$api" "$WORK/log"; then fail "$api: the key was written"; fi
done
# Chat: the reasoning chunk arrived (and was timed) before the first token.
# t_first_token_ns is written near the top of a request, t_first_reasoning_ns
# at its end: pair them per request with the request_id order instead.
grep -o '"t_first_token_ns":[0-9]*' "$WORK/openai/uv/default/run_1.json" | cut -d: -f2 >"$WORK/ft"
grep -o '"t_first_reasoning_ns":[0-9]*' "$WORK/openai/uv/default/run_1.json" | cut -d: -f2 >"$WORK/fr"
[ "$(wc -l <"$WORK/ft")" = "$(wc -l <"$WORK/fr")" ] && [ -s "$WORK/fr" ] || fail "reasoning not timed"
# Both events may arrive in one read and share a timestamp (seen under
# load): the reasoning time must not be later than the first token's.
paste "$WORK/fr" "$WORK/ft" | awk '$1 > $2 { bad = 1 } END { exit bad }' || fail "reasoning timed after the first token"
grep -q '"t_first_reasoning_ns":null' "$WORK/openai-completions/uv/default/run_1.json" \
    || fail "completions: reasoning time should be null"

# The requests on the wire.
grep -q '^POST /v1/chat/completions auth=yes {"model":"fake-model","messages":\[{"role":"user","content":"hi"}\],"stream":true,"stream_options":{"include_usage":true},"max_tokens":5,"seed":[0-9]*}$' \
    "$WORK/requests.log" || { cat "$WORK/requests.log"; fail "chat request body"; }
grep -q '^POST /v1/completions auth=yes {"model":"fake-model","prompt":"hi","stream":true,"stream_options":{"include_usage":true},"max_tokens":8}$' \
    "$WORK/requests.log" || fail "warm-up completions request body (max_tokens 8, no seed)"
grep -q 'auth=no' "$WORK/requests.log" && fail "a request went without the key"

if [ -n "${ANALYZE:-}" ]; then
    "$ANALYZE" -q "$WORK/openai" >"$WORK/report.md" || fail "analyze exited $?"
    grep -q "openai\|uv" "$WORK/report.md" || fail "analyze report empty"
fi

# Preflight: no key, wrong key, typo'd model, a server without /v1.
rc=0; "$COLLECT" --api openai --endpoint "$U1" --model fake-model --prompt hi --out "$WORK/x" 2>"$WORK/e1" || rc=$?
[ "$rc" = 3 ] && grep -q "give the API key with --api-key-env" "$WORK/e1" || { cat "$WORK/e1"; fail "no key: rc $rc"; }
rc=0; "$COLLECT" --api openai --endpoint "$U1" --model fake-modle --prompt hi --api-key-env FAKE_KEY \
    --out "$WORK/x" 2>"$WORK/e2" || rc=$?
[ "$rc" = 3 ] && grep -q "it offers: fake-model" "$WORK/e2" || { cat "$WORK/e2"; fail "typo'd model: rc $rc"; }
rc=0; "$COLLECT" --api ollama --endpoint "$U1" --model fake-model --prompt hi --api-key-env FAKE_KEY \
    --out "$WORK/x" 2>"$WORK/e3" || rc=$?
[ "$rc" = 3 ] || fail "native API against an OpenAI-only server: rc $rc"
rc=0; "$COLLECT" --api openai --endpoint "$U1/v1" --model fake-model --prompt hi --api-key-env FAKE_KEY \
    --out "$WORK/x" 2>"$WORK/e5" || rc=$?
[ "$rc" = 3 ] && grep -q "give the base URL without /v1" "$WORK/e5" || { cat "$WORK/e5"; fail "/v1 endpoint: rc $rc"; }
# Options the OpenAI API cannot carry are refused before anything is sent.
cat >"$WORK/plan.json" <<P
{"api": "openai", "model": "fake-model", "runs": 1, "runtimes": ["uv"],
 "agents": [{"id": "a", "endpoint": "$U1", "prompt": "hi", "options": {"num_ctx": 512}}]}
P
before=$(wc -l <"$WORK/requests.log")
rc=0; "$COLLECT" --plan "$WORK/plan.json" --api-key-env FAKE_KEY --out "$WORK/x" 2>"$WORK/e4" || rc=$?
[ "$rc" = 2 ] && grep -q '"num_ctx" has no OpenAI equivalent' "$WORK/e4" || fail "num_ctx not refused: rc $rc"
[ "$(wc -l <"$WORK/requests.log")" = "$before" ] || fail "requests sent despite a refused option"
[ ! -e "$WORK/x/uv" ] || fail "runs written despite failed preflight"
echo PASS
