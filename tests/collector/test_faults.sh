#!/bin/sh
# Every emulator fault: the run is recorded as invalid with a reason that
# says what happened, nothing crashes, the sweep goes on (exit 1), and the
# other agent's request is recorded as ok.
. "$SRC/lib.sh"
rc=0
"$COLLECT" --plan "$SRC/faults.json" --emulate-ideal --time-scale 10 --timeout 1 \
    --out "$WORK/out" --progress lines 2>"$WORK/log" || rc=$?
cat "$WORK/log"
[ "$rc" = 1 ] || fail "expected exit 1 (some runs invalid), got $rc"
"$TRACE_CHECK" "$WORK/out" --runs 22 --invalid "agent a: " >/dev/null || fail "not all runs invalid"
check() { # config substring
    for rt in uv threads; do
        "$TRACE_CHECK" "$WORK/out/$rt/$1" --runs 1 --invalid "$2" >/dev/null \
            || fail "$rt/$1: reason lacks '$2'"
    done
}
check reset_after "curl error 56"   # a reset is a receive failure, not a poll error (55)
check stall "curl error 28"
check stall_close "agent a"
check malformed_line "malformed NDJSON line"
check truncate_final "truncated last line"
check http500 "HTTP 500"
check busy503 "HTTP 503"
check delay_headers "curl error 28"
check garbage "agent a: "   # bytes that break the chunked framing (curl error 56) or a line
check error_after "stream error"
check down "agent a"
# Agent b was unaffected in every concurrent phase.
grep -L '"agent":"b","request_id":"[^"]*","ok":true' "$WORK/out"/*/*/run_1.json | grep . && fail "agent b failed somewhere"
# A failed run is a result: a rerun keeps it (exit 1, nothing measured).
rc=0
"$COLLECT" --plan "$SRC/faults.json" --emulate-ideal --time-scale 10 --timeout 1 --out "$WORK/out" --quiet 2>"$WORK/log2" || rc=$?
[ "$rc" = 1 ] || fail "rerun: expected exit 1, got $rc"
grep -q "0 of 22 runs measured now" "$WORK/log2" || fail "rerun touched recorded failures"
# --retry-failed measures them again and keeps the old file hidden.
"$COLLECT" --plan "$SRC/faults.json" --emulate-ideal --time-scale 10 --timeout 1 --out "$WORK/out" \
    --config http500 --runtime uv --retry-failed --quiet 2>/dev/null || true
[ -f "$WORK/out/uv/http500/.run_1.json.failed-1" ] || fail "retry did not preserve the failed file"
"$TRACE_CHECK" "$WORK/out" --runs 22 >/dev/null || fail "after retry"
echo PASS
