#!/bin/sh
# Issue 22 §2: a server that stops answering stops the sweep after K runs
# in a row that could not connect (--max-connect-failures, default 3),
# with a message naming the endpoint, instead of marking the whole queue
# invalid in 0.00 s each. A server that answers with errors (HTTP 500)
# does not stop it: that is a result.
. "$SRC/lib.sh"
cat >"$WORK/down.json" <<'P'
{"name": "down", "runs": 8, "runtimes": ["uv"], "warmup": false,
 "agents": [{"id": "a", "endpoint": "http://127.0.0.1:21434", "prompt": "hi", "options": {"num_predict": 5}},
            {"id": "b", "endpoint": "http://127.0.0.1:21435", "prompt": "ho", "options": {"num_predict": 5}}],
 "emulate": {"faults": {"http://127.0.0.1:21435": "down"}}}
P
run() { # name extra-args...
    name=$1
    shift
    rc=0
    "$COLLECT" --plan "$WORK/down.json" --emulate-ideal --time-scale 20 --skip-preflight \
        --out "$WORK/$name" --progress lines "$@" 2>"$WORK/$name.log" || rc=$?
    [ "$rc" = 1 ] || { cat "$WORK/$name.log"; fail "$name: expected exit 1, got $rc"; }
}
run default
n=$(grep -c '^run ' "$WORK/default.log")
[ "$n" = 3 ] || fail "default: measured $n runs, expected 3"
grep -q "collect: stopped: 3 runs in a row could not connect to http://127.0.0.1:[0-9]* (plan endpoint http://127.0.0.1:21435)" \
    "$WORK/default.log" || fail "default: message: $(cat "$WORK/default.log")"
grep -q -- "--retry-failed" "$WORK/default.log" || fail "default: message lacks the way on"
run k5 --max-connect-failures 5
[ "$(grep -c '^run ' "$WORK/k5.log")" = 5 ] || fail "--max-connect-failures 5 did not stop after 5"
run never --max-connect-failures 0
[ "$(grep -c '^run ' "$WORK/never.log")" = 8 ] || fail "--max-connect-failures 0 stopped"
! grep -q "stopped" "$WORK/never.log" || fail "--max-connect-failures 0 stopped"
# Errors from a server that answers are results: no stop.
sed 's/"emulate": {"faults": {"http:\/\/127.0.0.1:21435": "down"}}/"configs": [{"name": "e", "agents": {"b": {"parbench_fault": "http500"}}}]/' \
    "$WORK/down.json" >"$WORK/e500.json"
rc=0
"$COLLECT" --plan "$WORK/e500.json" --emulate-ideal --time-scale 20 --skip-preflight \
    --out "$WORK/e500" --progress lines 2>"$WORK/e500.log" || rc=$?
[ "$rc" = 1 ] || { cat "$WORK/e500.log"; fail "http500: expected exit 1, got $rc"; }
[ "$(grep -c '^run ' "$WORK/e500.log")" = 8 ] || fail "http500: the sweep stopped: $(cat "$WORK/e500.log")"
rc=0
"$COLLECT" --plan "$WORK/down.json" --max-connect-failures -1 --dry-run >/dev/null 2>"$WORK/usage" || rc=$?
[ "$rc" = 2 ] || fail "--max-connect-failures -1: expected exit 2, got $rc"
echo "ok: a server gone stops the sweep after K runs"
