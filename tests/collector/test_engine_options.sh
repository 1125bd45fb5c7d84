#!/bin/sh
# One engine (issue 18, "Before you start"): every request option reaches
# the wire through every runtime (uv, threads, serial) and every phase shape
# (plain agents, --stagger, --arrival-rate, plan steps), with
# --reuse-connections and --timeout on. fake_openai checks the API key and
# is also the HTTP proxy (it logs `via=proxy` for absolute-form requests);
# the endpoint itself (port 9, discard) is reachable only through it, so a
# request that skips --proxy fails the run and one without the key gets 401.
. "$SRC/lib.sh"
unset no_proxy NO_PROXY http_proxy HTTP_PROXY ALL_PROXY all_proxy
"$FAKE_OPENAI" --listeners 2 --require-key "sk-eng-42" --log "$WORK/requests.log" --gap-ms 2 \
    >"$WORK/fake.out" 2>"$WORK/fake.err" &
fake=$!
trap 'kill $fake 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do [ "$(grep -c listening "$WORK/fake.out")" = 2 ] && break; sleep 0.1; done
PROXY=$(sed -n 's/^listening //p' "$WORK/fake.out" | sed -n 1p)
SLOW=$(sed -n 's/^listening //p' "$WORK/fake.out" | sed -n 2p)
[ -n "$SLOW" ] || fail "fake_openai did not start: $(cat "$WORK/fake.err")"
export ENG_KEY="sk-eng-42"
EP=http://127.0.0.1:9

# A plain plan and a workflow plan (llm, idle work, llm fed the answer).
cat >"$WORK/plain.json" <<P
{"api": "openai", "model": "fake-model", "warmup": false,
 "agents": [{"id": "a", "endpoint": "$EP", "prompt": "hi", "options": {"num_predict": 3}},
            {"id": "b", "endpoint": "$EP", "prompt": "ho", "options": {"num_predict": 3}},
            {"id": "c", "endpoint": "$EP", "prompt": "hu", "options": {"num_predict": 3}}]}
P
cat >"$WORK/steps.json" <<P
{"api": "openai", "model": "fake-model", "warmup": false,
 "agents": [{"id": "a", "endpoint": "$EP", "steps": [
              {"llm": {"prompt": "one", "options": {"num_predict": 3}}}, {"work": {"seconds": 0.01}},
              {"llm": {"prompt": "two {{previous}}", "options": {"num_predict": 3}}}]},
            {"id": "b", "endpoint": "$EP", "steps": [
              {"llm": {"prompt": "three", "options": {"num_predict": 3}}}, {"work": {"seconds": 0.01, "cpu": true}},
              {"llm": {"prompt": "four", "options": {"num_predict": 3}}}]}]}
P
n=0
for shape in "plain.json" "plain.json --stagger 0.05" "plain.json --arrival-rate 20" \
             "steps.json" "steps.json --stagger 0.05"; do
    n=$((n + 1))
    set -- $shape
    plan=$1; shift
    : >"$WORK/requests.log"
    rc=0
    "$COLLECT" --plan "$WORK/$plan" "$@" --runtime uv,threads,serial --runs 1 \
        --api-key-env ENG_KEY --proxy "$PROXY" --reuse-connections --timeout 5 \
        --out "$WORK/o$n" --progress none 2>"$WORK/log" || rc=$?
    [ "$rc" = 0 ] || { grep -ho '"invalid_reason":"[^"]*"' -r "$WORK/o$n" | head -3; fail "$shape: collect exited $rc"; }
    "$TRACE_CHECK" "$WORK/o$n" --runs 3 --all-valid >/dev/null \
        || { grep -ho '"invalid_reason":"[^"]*"' -r "$WORK/o$n" | head -3; fail "$shape: runs not valid"; }
    # Solo + concurrent phases of 3 runtimes; each request went by the proxy with the key.
    posts=$(grep -c '^POST /v1/chat/completions' "$WORK/requests.log")
    [ "$posts" -ge 12 ] || fail "$shape: only $posts requests reached the server"
    bad=$(grep '^POST' "$WORK/requests.log" | grep -v 'auth=yes via=proxy' | head -1)
    [ -z "$bad" ] || fail "$shape: a request skipped the key or the proxy: $bad"
    grep -q '"connection_reuse":true' "$WORK/o$n/serial/default/run_1.json" || fail "$shape: reuse not recorded"
    if grep -rq "$ENG_KEY" "$WORK/o$n"; then fail "$shape: the key was written"; fi
done

# A warm-up sends one request per endpoint, also for workflow agents (the
# first llm step's prompt, max_tokens = warm-up tokens): not their workflows.
sed 's/"warmup": false,//' "$WORK/steps.json" >"$WORK/steps-warm.json"
: >"$WORK/requests.log"
"$COLLECT" --plan "$WORK/steps-warm.json" --runtime uv --runs 1 --no-solo --api-key-env ENG_KEY \
    --proxy "$PROXY" --out "$WORK/warm" --progress none 2>"$WORK/log" || { cat "$WORK/log" >&2; fail "warm-up: exit $?"; }
[ "$(grep -c '^POST' "$WORK/requests.log")" = 5 ] || { cat "$WORK/requests.log" >&2; fail "warm-up + 2 agents x 2 llm steps: expected 5 requests"; }
[ "$(grep -c '"max_tokens":8' "$WORK/requests.log")" = 1 ] || fail "expected one warm-up request"
grep '"max_tokens":8' "$WORK/requests.log" | grep -q '"content":"one"' || fail "warm-up did not send the first step's prompt"

# --timeout on every path: a slow server (a token every 2 s) is cut at 1 s,
# the run is recorded invalid with libcurl's timeout, and nothing waits on.
kill $fake; wait $fake 2>/dev/null || true
"$FAKE_OPENAI" --listeners 1 --require-key "sk-eng-42" --gap-ms 2000 >"$WORK/slow.out" 2>&1 &
fake=$!
for _ in $(seq 50); do grep -q listening "$WORK/slow.out" && break; sleep 0.1; done
PROXY=$(sed -n 's/^listening //p' "$WORK/slow.out")
for shape in "plain.json" "steps.json --stagger 0.05"; do
    set -- $shape
    plan=$1; shift
    t0=$(date +%s)
    rc=0
    "$COLLECT" --plan "$WORK/$plan" "$@" --runtime uv,threads,serial --runs 1 --no-solo \
        --api-key-env ENG_KEY --proxy "$PROXY" --reuse-connections --timeout 1 \
        --out "$WORK/t" --progress none 2>"$WORK/log" || rc=$?
    t1=$(date +%s)
    for rt in uv threads serial; do
        f="$WORK/t/$rt/default/run_1.json"
        [ -f "$f" ] || { cat "$WORK/log" >&2; fail "$shape: $rt: no run written (exit $rc)"; }
        grep -q '"valid":false' "$f" || fail "$shape: $rt: a timed-out run is valid"
        grep -qi 'timeout\|timed out' "$f" || fail "$shape: $rt: no timeout reason"
    done
    [ $((t1 - t0)) -le 20 ] || fail "$shape: --timeout 1 took $((t1 - t0)) s for 3 runs"
    rm -rf "$WORK/t"
done
echo PASS
