#!/bin/sh
# An instance that refuses connections: preflight exits 3 naming the URL and
# the fix; with --skip-preflight the sweep runs and records the failure.
# An instance that lacks the model: exit 3 with the `ollama pull` to run.
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

# A real (separate) emulator process serving another model only.
"$OLLAMA_EMU" --listen 127.0.0.1:0 --model other:1b --quiet >"$WORK/emu.out" 2>"$WORK/emu.err" &
emu=$!
trap 'kill $emu 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do grep -q listening "$WORK/emu.out" && break; sleep 0.1; done
url=$(sed -n 's/^listening //p' "$WORK/emu.out" | head -n 1)
[ -n "$url" ] || fail "ollama-emu did not start: $(cat "$WORK/emu.err")"
cat >"$WORK/plan2.json" <<P
{"name": "nomodel", "runs": 1, "runtimes": ["uv"], "warmup": false, "model": "gemma3:latest",
 "agents": [{"id": "a", "endpoint": "$url", "prompt": "hi", "options": {"num_predict": 5}}]}
P
rc=0
"$COLLECT" --plan "$WORK/plan2.json" --out "$WORK/out2" 2>"$WORK/log2" || rc=$?
cat "$WORK/log2"
[ "$rc" = 3 ] || fail "model missing: expected exit 3, got $rc"
grep -q "ollama pull gemma3:latest" "$WORK/log2" || fail "message lacks the pull command"
grep -q "$url" "$WORK/log2" || fail "message lacks the URL"
[ ! -e "$WORK/out2/uv" ] || fail "runs written despite failed preflight"
kill $emu
echo PASS
