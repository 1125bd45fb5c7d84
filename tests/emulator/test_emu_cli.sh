#!/usr/bin/env bash
# ollama-emu driven by the real curl CLI: exit codes, stdout contract,
# every route, a stream, errors and faults. Usage: test_emu_cli.sh OLLAMA_EMU
set -u
EMU=${1:?usage: test_emu_cli.sh path/to/ollama-emu}
TMP=$(mktemp -d)
PIDS=()
pass=0 fail=0
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"; }
trap cleanup EXIT
check() { # check NAME EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then pass=$((pass+1)); else
    fail=$((fail+1)); echo "FAIL $1: expected [$2] got [$3]" >&2; fi
}
# Starts the emulator in the background; sets PORTS=(...) from its stdout.
start() {
  local out
  out=$(mktemp "$TMP/out.XXXXXX") # never an earlier start's file
  "$EMU" "$@" >"$out" 2>>"$TMP/stderr" & PIDS+=($!)
  for _ in $(seq 100); do
    [[ $(grep -c '^listening ' "$out" 2>/dev/null) -ge 1 ]] && break; sleep 0.05
  done
  sleep 0.05
  mapfile -t PORTS < <(sed -n 's|^listening http://127.0.0.1:\([0-9]*\)$|\1|p' "$out")
}
C() { curl -s --max-time 10 "$@"; }

# Exit codes and usage.
"$EMU" --help >"$TMP/help"; check "help exit" 0 $?
check "help mentions --shared-gpu" 1 "$(grep -c -- '--shared-gpu' "$TMP/help")"
"$EMU" --bogus 2>/dev/null; check "bad flag exit" 2 $?
"$EMU" --instances 1 --fault 3=down 2>/dev/null; check "fault index exit" 2 $?
"$EMU" --decode-rate abc 2>/dev/null; check "bad number exit" 2 $?
"$EMU" --openai-format 1.0 2>/dev/null; check "bad --openai-format exit" 2 $?

start --instances 2 --time-scale 20 --quiet --fault 1=down
check "two listening lines" 2 "${#PORTS[@]}"
P=${PORTS[0]}; D=${PORTS[1]}
"$EMU" --listen 127.0.0.1:$P --quiet 2>"$TMP/inuse.err"
check "port in use exit" 1 $?
check "port in use message" 1 "$(grep -c "cannot listen on 127.0.0.1:$P" "$TMP/inuse.err")"
U=http://127.0.0.1:$P

check "GET /" "Ollama is running" "$(C $U/)"
check "HEAD /" 200 "$(C -o /dev/null -w '%{http_code}' -I $U/)"
check "version" 1 "$(C $U/api/version | grep -c '^{"version":"[0-9.]*"}$')"
check "tags" 1 "$(C $U/api/tags | grep -c '"name":"gemma3:latest"')"
check "ps before load" '{"models":[]}' "$(C $U/api/ps)"
check "404" 404 "$(C -o /dev/null -w '%{http_code}' $U/nope)"
check "405" 405 "$(C -o /dev/null -w '%{http_code}' $U/api/chat)"

# A stream: 4 token lines + final line, done true, eval_count 4.
C -N $U/api/generate -d '{"model":"gemma3","prompt":"hi","options":{"num_predict":4}}' >"$TMP/s"
check "stream lines" 5 "$(wc -l <"$TMP/s")"
check "stream final" 1 "$(tail -1 "$TMP/s" | grep -c '"done":true,"done_reason":"length".*"eval_count":4,')"
check "ps after load" 1 "$(C $U/api/ps | grep -c '"name":"gemma3:latest"')"
check "chat no stream" 1 "$(C $U/api/chat -d '{"model":"gemma3","stream":false,"messages":[{"role":"user","content":"x"}],"options":{"num_predict":2}}' | grep -c '^{"model":"gemma3","created_at":"[^"]*","message":{"role":"assistant","content":"[^"]*"},"done":true,"done_reason":"length",')"

# Errors.
check "missing body" '400 {"error":"missing request body"}' "$(C -w '%{http_code} ' -X POST $U/api/generate -o "$TMP/b"; cat "$TMP/b")"
check "bad json" 400 "$(C -o /dev/null -w '%{http_code}' $U/api/generate -d '{oops')"
check "not found" '404 {"error":"model '"'"'x'"'"' not found"}' "$(C -w '%{http_code} ' -o "$TMP/b" $U/api/generate -d '{"model":"x","prompt":"p"}'; cat "$TMP/b")"
check "option type" '500 {"error":"option \"num_ctx\" must be of type integer"}' "$(C -w '%{http_code} ' -o "$TMP/b" $U/api/generate -d '{"model":"gemma3","prompt":"p","options":{"num_ctx":"big"}}'; cat "$TMP/b")"

# Faults.
G='{"model":"gemma3","prompt":"p","options":{"num_predict":5}}'
curl -s --max-time 5 http://127.0.0.1:$D/ >/dev/null; check "down refuses (curl 7)" 7 $?
C -N -H 'X-Parbench-Fault: reset_after:2' $U/api/generate -d "$G" >"$TMP/r"; check "reset (curl 56)" 56 $?
check "reset lines" 2 "$(wc -l <"$TMP/r")"
C -N -H 'X-Parbench-Fault: garbage:1' $U/api/generate -d "$G" >/dev/null; rc=$?
check "garbage fails curl" 1 "$([[ $rc -ne 0 ]] && echo 1)"
check "http500" 500 "$(C -o /dev/null -w '%{http_code}' -H 'X-Parbench-Fault: http500' $U/api/generate -d "$G")"
check "busy503" 503 "$(C -o /dev/null -w '%{http_code}' -H 'X-Parbench-Fault: busy503' $U/api/generate -d "$G")"
C -N -H 'X-Parbench-Fault: truncate_final' $U/api/generate -d "$G" >"$TMP/t"; check "truncate exit" 0 $?
check "truncate last line cut" 0 "$(tail -c 1 "$TMP/t" | grep -c '}')"

kill -TERM "${PIDS[0]}"; wait "${PIDS[0]}"; check "SIGTERM exit" 0 $?
PIDS=("${PIDS[@]:1}")

# Ollama's environment, read by the program (flags win): OLLAMA_HOST is the
# listener; OLLAMA_KEEP_ALIVE=0 unloads after each request.
"$EMU" --keep-alive 5x 2>/dev/null; check "bad --keep-alive exit" 2 $?
OLLAMA_HOST=127.0.0.1:0 OLLAMA_KEEP_ALIVE=0 start --time-scale 20 --quiet
check "OLLAMA_HOST listener" 1 "${#PORTS[@]}"
U=http://127.0.0.1:${PORTS[0]}
C $U/api/generate -d "$G" >/dev/null
check "OLLAMA_KEEP_ALIVE=0 unloads" '{"models":[]}' "$(C $U/api/ps)"
check "identification header" 1 "$(C -D - -o /dev/null $U/api/tags | grep -c '^X-Parbench-Emulator: time-scale=20; preset=default')"
kill -TERM "${PIDS[0]}"; wait "${PIDS[0]}"
PIDS=("${PIDS[@]:1}")
# --no-env (collect --emulate passes it): the variables are ignored.
OLLAMA_KEEP_ALIVE=0 start --instances 1 --time-scale 20 --quiet --no-env
U=http://127.0.0.1:${PORTS[0]}
C $U/api/generate -d "$G" >/dev/null
check "--no-env keeps the model" 1 "$(C $U/api/ps | grep -c '"name":"gemma3:latest"')"
kill -TERM "${PIDS[0]}"; wait "${PIDS[0]}"
PIDS=("${PIDS[@]:1}")

# A trace that cannot be written (disk full) must not pass for a complete
# one: a message naming the file, and exit status 1.
: >"$TMP/stderr"
start --instances 1 --time-scale 20 --quiet --trace /dev/full
C http://127.0.0.1:${PORTS[0]}/api/generate -d "$G" >/dev/null
kill -TERM "${PIDS[0]}"; wait "${PIDS[0]}"; check "trace write failure exit" 1 $?
PIDS=("${PIDS[@]:1}")
check "trace write failure message" 1 "$(grep -c 'cannot write the trace file /dev/full' "$TMP/stderr")"
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
