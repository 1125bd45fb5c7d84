#!/bin/sh
# A server collect runs that dies during a run (kill -9): that run is
# invalid with the server's death as its reason, the server is restarted and
# the sweep goes on; a server that dies in 3 runs in a row stops the sweep
# (exit 1) and the same command resumes it; Ctrl-C while a server starts
# exits 130 at once and stops it.
. "$SRC/lib.sh"
EMU="$OLLAMA_EMU"

# 1. kill -9 mid-sweep. Time scale 2: a run takes ~3 s, long enough to aim.
"$COLLECT" --server "$EMU --listen {host} --time-scale 2" --agents 2 --prompt hi --num-predict 60 \
    --runs 3 --runtime uv --out "$WORK/k" --progress lines 2>"$WORK/k.log" &
C=$!
trap 'kill $C 2>/dev/null || true; rm -rf "$WORK"' EXIT
# The server's pid, once its first start is logged; then well inside run 1.
pid=
for _ in $(seq 100); do
    pid=$(sed -n 's/.*server s1 started (pid \([0-9]*\).*/\1/p' "$WORK/k.log" | head -n 1)
    [ -n "$pid" ] && break
    sleep 0.1
done
[ -n "$pid" ] || fail "server never started: $(cat "$WORK/k.log")"
sleep 1
kill -9 "$pid" || fail "cannot kill the server"
rc=0
wait $C || rc=$?
cat "$WORK/k.log"
[ "$rc" = 1 ] || fail "expected exit 1 (one run invalid), got $rc"
grep -q '"invalid_reason":"server s1 (pid '"$pid"') killed by signal 9' "$WORK/k/uv/default/run_1.json" ||
    fail "run 1 does not say the server died: $(grep -o '"invalid_reason":"[^"]*"' "$WORK/k/uv/default/run_1.json")"
for k in 2 3; do
    grep -q '"valid":true' "$WORK/k/uv/default/run_$k.json" || fail "run $k after the restart is not valid"
done
grep -q '"started_because":"died"' "$WORK/k/uv/default/run_2.json" || fail "run 2: restart not recorded"
[ -e "$WORK/k/server-logs/s1-2.log" ] || fail "no log of the restarted server"
# servers[] (the preflight's) names the restarted server's URL, as the agents do.
python3 - "$WORK/k/uv/default/run_2.json" <<'PY' || fail "servers[] after the restart"
import json, sys
t = json.load(open(sys.argv[1]))
assert {a["endpoint"] for a in t["agents"]} == {s["endpoint"] for s in t["servers"]}, t["servers"]
PY

# 2. A server that always dies 1.5 s after its start: 3 runs in a row, stop.
cat >"$WORK/dying.sh" <<P
#!/bin/sh
"$EMU" --listen "\$1" --time-scale 2 &
sleep 1.5
kill -9 \$!
exit 1
P
chmod +x "$WORK/dying.sh"
rc=0
"$COLLECT" --server "$WORK/dying.sh {host}" --agents 2 --prompt hi --num-predict 60 --runs 5 \
    --runtime uv --out "$WORK/d" 2>"$WORK/d.log" || rc=$?
cat "$WORK/d.log"
[ "$rc" = 1 ] || fail "dying server: expected exit 1, got $rc"
grep -q "servers died in 3 runs in a row: the sweep stops" "$WORK/d.log" || fail "no stop message"
[ -e "$WORK/d/uv/default/run_3.json" ] && [ ! -e "$WORK/d/uv/default/run_4.json" ] ||
    fail "expected exactly runs 1-3 written: $(ls "$WORK/d/uv/default")"
# 3. Ctrl-C while a server is not ready yet: exit 130 at once, server stopped.
cat >"$WORK/slow.json" <<P
{"name": "slow", "runs": 1, "runtimes": ["uv"],
 "servers": {"a": {"command": ["sleep", "37"], "ready_timeout_s": 60}},
 "agents": [{"id": "x", "endpoint": "server:a", "prompt": "hi"}]}
P
"$COLLECT" --plan "$WORK/slow.json" --out "$WORK/s" 2>"$WORK/s.log" &
C=$!
sleep 0.5
kill -INT $C
t0=$(date +%s)
rc=0
wait $C || rc=$?
[ "$rc" = 130 ] || fail "Ctrl-C while starting: expected exit 130, got $rc ($(cat "$WORK/s.log"))"
[ $(( $(date +%s) - t0 )) -le 3 ] || fail "Ctrl-C while starting: took too long"
grep -q "interrupted while waiting for it to answer" "$WORK/s.log" || fail "message: $(cat "$WORK/s.log")"
sleep 0.2
! ps -eo args | grep -q '^sleep 37$' || fail "the server outlived collect"
echo "server death: ok"
