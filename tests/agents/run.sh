#!/bin/sh
# One reference agent of agents/ against ollama-emu, through the job-file
# contract of exec runtimes (agents/README.md):
#   1. a job of three agents (generate, chat, openai-chat, each its own
#      X-Parbench-Request id and num_predict): exit 0, one ok JSON line per
#      agent with the token count asked for, and the emulator's --trace shows
#      exactly those request ids, each written to its final line (tokens +1),
#      all three streaming at the same time;
#   2. the same job with faults (http500 through the body's options, a cut
#      final line through X-Parbench-Fault): exit 1, one stderr line naming
#      both failed agents, the healthy agent still ok;
#   3. no job file: exit 2 with a message;
#   4. Rust only: where the agents and their HTTP calls ran (--describe and
#      PB_AGENT_VERBOSE): smol, smol-1kb and async-std through the 2-worker
#      tokio bridge, tokio-localset on one thread;
#   5. Rust only: with --study-harness, how many agents stream at once
#      (from the trace): 2 of 3 (the study's 2-permit coordinator), 1 on
#      async-std (its coordinator was a Mutex); without it, all 3.
# Skips (77), naming what is missing, when the agent is not available.
# Usage: run.sh OLLAMA_EMU BUILD_DIR rust RUNTIME | python httpx|aiohttp
set -eu
emu=$1
build=$2
kind=$3
which=$4
root=$(cd "$(dirname "$0")/../.." && pwd)
command -v jq >/dev/null 2>&1 || { echo "SKIP: jq not installed (scripts/deps.sh)"; exit 77; }
case "$kind" in
rust)
    bin=$root/agents/rust/target/release/pb-agent
    [ -x "$bin" ] || { echo "SKIP: pb-agent not built (scripts/agents-build.sh builds it offline from Debian's cargo and librust-*-dev crates)"; exit 77; }
    # A binary older than its sources would test old code: rebuild (only
    # pb-agent itself recompiles; cargo's lock serialises parallel tests).
    if [ -n "$(find "$root/agents/rust/src" "$root/agents/rust/Cargo.toml" -newer "$bin" 2>/dev/null)" ]; then
        "$root/scripts/agents-build.sh" --quiet >/dev/null
    fi
    set -- "$bin" --runtime "$which"
    ;;
python)
    /usr/bin/python3 -c "import $which" 2>/dev/null ||
        { echo "SKIP: /usr/bin/python3 has no $which (apt-get install python3-$which)"; exit 77; }
    set -- /usr/bin/python3 "$root/agents/python/pb_agent_$which.py"
    ;;
*) echo "usage: run.sh OLLAMA_EMU BUILD_DIR rust RUNTIME | python httpx|aiohttp"; exit 2 ;;
esac

# Fresh files every run: never a listening line or trace of an earlier one.
mkdir -p "$build/tests/agents"
w=$(mktemp -d "$build/tests/agents/$kind-$which.XXXXXX")
emu_pid=""
cleanup() {
    [ -z "$emu_pid" ] || { kill "$emu_pid" 2>/dev/null; wait "$emu_pid" 2>/dev/null || true; }
    rm -rf "$w"
}
trap cleanup EXIT
# agent_is FILE ID FILTER: FILE has exactly one line of agent ID, and FILTER
# holds on it (slurped: jq 1.6's -e misreads a select that outputs nothing).
agent_is() {
    jq -s -e --arg id "$2" "[.[] | select(.agent == \$id)] | length == 1 and (.[0] | $3)" "$1" >/dev/null
}
fail() { echo "FAIL ($kind $which): $*"; for f in "$w"/*.out "$w"/*.err; do [ -s "$f" ] && { echo "--- $f"; cat "$f"; }; done; exit 1; }

# start_emu NAME [FLAGS]: a fresh ollama-emu (3 slots, so the server never
# serialises the agents itself) whose listening line goes to NAME.out;
# sets url and emu_pid. stop_emu stops it (which flushes its --trace).
start_emu() {
    n=$1; shift
    "$emu" --listen 127.0.0.1:0 --ideal --num-parallel 3 --time-scale 50 --quiet "$@" \
        >"$w/$n.out" 2>"$w/$n.err" &
    emu_pid=$!
    i=0
    while ! grep -q '^listening http://' "$w/$n.out" 2>/dev/null; do
        i=$((i + 1))
        [ $i -le 100 ] || fail "ollama-emu printed no listening line in 5 s"
        kill -0 "$emu_pid" 2>/dev/null || fail "ollama-emu exited"
        sleep 0.05
    done
    url=$(sed -n 's/^listening //p' "$w/$n.out" | head -1)
}
stop_emu() { kill "$emu_pid"; wait "$emu_pid" 2>/dev/null || true; emu_pid=""; }
# most_at_once TRACE: the most of the job's requests streaming at one time,
# each from its first token line to its final line in the emulator's trace.
most_at_once() {
    awk -F'\t' '!/^#/ { if (!($2 in s) || $4 < s[$2]) s[$2] = $4; if ($4 > e[$2]) e[$2] = $4 }
        END { for (r in s) { print s[r], 1; print e[r], -1 } }' "$1" |
        sort -k1,1n -k2,2n | awk '{ c += $2; if (c > m) m = c } END { print m + 0 }'
}

start_emu emu --trace "$w/trace.tsv"
# job FILE FAULT_BODY FAULT_HEADER: the generate agent's options carry
# FAULT_BODY (empty: none), the chat agent's headers FAULT_HEADER.
tag=$$
job() {
    fb=""; [ -z "$2" ] || fb=", \"parbench_fault\": \"$2\""
    fh=""; [ -z "$3" ] || fh=", \"X-Parbench-Fault\": \"$3\""
    cat >"$1" <<JOB
{ "parbench_job": 1, "phase": "concurrent", "runtime": "$which", "config": "test", "run": 1,
  "agents": [
    { "id": "collector", "api": "generate", "endpoint": "$url", "model": "gemma3:latest",
      "prompt": "Inventory.", "options": {"num_predict": 12, "seed": 11$fb},
      "request": { "method": "POST", "path": "/api/generate",
                   "headers": {"X-Parbench-Request": "gen-$tag"},
                   "body": {"model": "gemma3:latest", "prompt": "Inventory.", "stream": true,
                            "options": {"num_predict": 12, "seed": 11$fb}} } },
    { "id": "insight", "api": "chat", "endpoint": "$url/", "model": "gemma3:latest",
      "prompt": "Summary.", "options": {"num_predict": 9, "seed": 12},
      "request": { "method": "POST", "path": "/api/chat",
                   "headers": {"X-Parbench-Request": "chat-$tag"$fh},
                   "body": {"model": "gemma3:latest", "stream": true,
                            "messages": [{"role": "user", "content": "Summary."}],
                            "options": {"num_predict": 9, "seed": 12}} } },
    { "id": "oa", "api": "openai-chat", "endpoint": "$url", "model": "gemma3:latest",
      "prompt": "Risks.", "options": {"num_predict": 7, "seed": 13},
      "request": { "method": "POST", "path": "/v1/chat/completions",
                   "headers": {"X-Parbench-Request": "oa-$tag"},
                   "body": {"model": "gemma3:latest", "stream": true, "max_tokens": 7, "seed": 13,
                            "messages": [{"role": "user", "content": "Risks."}]} } } ] }
JOB
}

# 1. Three agents, every one streamed to its end.
job "$w/ok.json" "" ""
rc=0
PARBENCH_JOB=$w/ok.json PB_AGENT_VERBOSE=1 timeout 60 "$@" >"$w/ok.out" 2>"$w/ok.err" || rc=$?
[ "$rc" = 0 ] || fail "exit $rc on a job that should succeed"
[ "$(wc -l <"$w/ok.out")" = 3 ] || fail "stdout should hold 3 lines, one per agent"
for a in collector:gen:12 insight:chat:9 oa:oa:7; do
    id=${a%%:*}; rest=${a#*:}; rid=${rest%%:*}-$tag; n=${a##*:}
    agent_is "$w/ok.out" "$id" ".ok == true and .status == 200 and .request == \"$rid\" and .tokens == $n" || fail "agent $id: not ok with $n tokens and request $rid"
done
# The server's side: stop the emulator (it flushes its trace at stop).
stop_emu
for a in gen:12 chat:9 oa:7; do
    rid=${a%%:*}-$tag; n=${a##*:}
    got=$(awk -F'\t' -v r="$rid" '$2 == r { c++; if ($3 > m) m = $3 } END { printf "%d %d", c, m }' "$w/trace.tsv")
    [ "$got" = "$((n + 1)) $((n + 1))" ] ||
        fail "trace of $rid: $got (lines, last index); want $((n + 1)) $((n + 1)): $n tokens and the final line"
done
others=$(awk -F'\t' '!/^#/ && $2 !~ /^(gen|chat|oa)-'"$tag"'$/' "$w/trace.tsv" | wc -l)
[ "$others" = 0 ] || fail "the trace has $others lines of requests the job did not make"
# Joined, not one after the other: all three stream at once.
[ "$(most_at_once "$w/trace.tsv")" = 3 ] || fail "the three agents did not stream at the same time"

# 2. Faults: the generate agent gets a 500, the chat agent a cut final line.
start_emu emu2
job "$w/fault.json" http500 truncate_final
rc=0
PARBENCH_JOB=$w/fault.json timeout 60 "$@" >"$w/fault.out" 2>"$w/fault.err" || rc=$?
[ "$rc" = 1 ] || fail "exit $rc with two failed requests; want 1"
[ "$(wc -l <"$w/fault.err")" = 1 ] || fail "stderr should be one line"
grep -q "2 of 3 requests failed: .*collector (gen-$tag): .*HTTP 500.*insight (chat-$tag): " "$w/fault.err" ||
    fail "stderr does not name both failures"
agent_is "$w/fault.out" oa '.ok == true and .tokens == 7' ||
    fail "the healthy agent should still stream its 7 tokens"
agent_is "$w/fault.out" collector '.ok == false and .status == 500' ||
    fail "collector should be reported failed with status 500"
stop_emu

# 3. No job file.
rc=0
PARBENCH_JOB=$w/absent.json timeout 10 "$@" >"$w/nojob.out" 2>"$w/nojob.err" || rc=$?
[ "$rc" = 2 ] && grep -q "absent.json" "$w/nojob.err" || fail "a missing job file: exit $rc; want 2 naming the file"

# 4. Where the work ran (Rust).
if [ "$kind" = rust ]; then
    d=$("$@" --describe)
    case "$which" in
    smol|smol-1kb|async-std)
        echo "$d" | grep -q "a task spawned onto the HTTP bridge (once_cell::Lazy multi-thread tokio runtime, 2 workers)" ||
            fail "--describe does not name the bridge: $d"
        [ "$(grep -c "agent polled on thread 'main', HTTP calls on thread 'pb-http-bridge'" "$w/ok.err")" = 3 ] ||
            fail "the HTTP calls did not all run on the bridge"
        ;;
    tokio-localset)
        [ "$(grep -c "agent polled on thread 'main', HTTP calls on thread 'main'" "$w/ok.err")" = 3 ] ||
            fail "LocalSet agents should run on the main thread only"
        ;;
    tokio-default)
        [ "$(grep -c "HTTP calls on thread 'tokio-runtime-worker'" "$w/ok.err")" = 3 ] ||
            fail "tokio-default agents should run on the runtime's workers"
        ;;
    esac
    [ "$which" != smol-1kb ] || echo "$d" | grep -q "at most 1024 bytes" || fail "--describe: no 1 KB re-chunking"
    # agents/README.md quotes --help: it must be the current one.
    "$@" --help >"$w/help.out"
    sed -n '/^<!-- help:pb-agent -->$/,/^<!-- \/help:pb-agent -->$/p' "$root/agents/README.md" |
        sed '1,2d;$d' | sed '$d' >"$w/readme-help.out"
    diff "$w/readme-help.out" "$w/help.out" >"$w/help.diff" ||
        fail "agents/README.md's pb-agent help block differs from --help: $(cat "$w/help.diff")"

    # 5. The study's harness (--study-harness): its coordinator lets 2 of
    # the 3 agents run at once (2 permits); on async-std it was a Mutex,
    # one at a time.
    want=2; [ "$which" != async-std ] || want=1
    start_emu emu3 --trace "$w/trace3.tsv"
    job "$w/study.json" "" ""
    rc=0
    PARBENCH_JOB=$w/study.json timeout 60 "$@" --study-harness >"$w/study.out" 2>"$w/study.err" || rc=$?
    stop_emu
    [ "$rc" = 0 ] || fail "--study-harness: exit $rc"
    got=$(most_at_once "$w/trace3.tsv")
    [ "$got" = "$want" ] || fail "--study-harness: $got agents streamed at once; the study's coordinator allows $want"
fi
echo "PASS ($kind $which)"
