#!/bin/sh
# An instance that refuses connections: preflight exits 3 naming the URL and
# the fix; with --skip-preflight the sweep runs and records the failure.
. "$SRC/lib.sh"
cat >"$WORK/plan.json" <<'P'
{"name": "down", "runs": 1, "runtimes": ["uv"], "warmup": false,
 "agents": [{"id": "a", "endpoint": "http://127.0.0.1:21434", "prompt": "hi", "options": {"num_predict": 5}},
            {"id": "b", "endpoint": "http://127.0.0.1:21435", "prompt": "ho", "options": {"num_predict": 5}}],
 "emulate": {"faults": {"http://127.0.0.1:21435": "down"}}}
P
rc=0
"$COLLECT" --plan "$WORK/plan.json" --emulate-ideal --time-scale 10 --out "$WORK/out" 2>"$WORK/log" || rc=$?
cat "$WORK/log"
[ "$rc" = 3 ] || fail "expected exit 3, got $rc"
grep -q "http://127.0.0.1:21435 is not reachable" "$WORK/log" || fail "message lacks the URL"
grep -q "OLLAMA_HOST=127.0.0.1:21435 ollama serve" "$WORK/log" || fail "message lacks the fix"
[ ! -e "$WORK/out/uv" ] || fail "runs written despite failed preflight"
rc=0
"$COLLECT" --plan "$WORK/plan.json" --emulate-ideal --time-scale 10 --out "$WORK/out" --skip-preflight --quiet || rc=$?
[ "$rc" = 1 ] || fail "expected exit 1, got $rc"
"$TRACE_CHECK" "$WORK/out" --runs 1 --invalid "agent b: POST http://127.0.0.1:" || fail "down not recorded"
echo PASS
