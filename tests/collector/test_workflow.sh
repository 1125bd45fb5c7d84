#!/bin/sh
# Issue 12, workflow agents: on the ideal emulator a 2-agent, 3-step workflow
# (llm, 0.2 s work, llm fed {{previous}}) gives valid runs with 2 requests
# per agent in each of the 3 measured phases, the second prompt holding the
# first response, and measured efficiency >= 95% on uv and threads.
. "$SRC/lib.sh"
[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 absent (checks the traces)"; exit 77; }
"$COLLECT" --plan "$SRC/workflow.json" --emulate-ideal --time-scale 4 --out "$WORK/out" \
    --progress none || fail "collect exited $?"
/usr/bin/python3 "$SRC/wf_check.py" "$WORK/out" 95 uv threads || fail "workflow traces"
/usr/bin/python3 "$SRC/wf_check.py" "$WORK/out" 0 serial || fail "serial traces"
# analyze reads them: the workflow section and its measured efficiency.
if [ -n "${ANALYZE:-}" ]; then
    "$ANALYZE" --full "$WORK/report.md" "$WORK/out" > /dev/null 2>&1 || fail "analyze exited $?"
    grep -q "Workflow steps" "$WORK/report.md" || fail "no workflow section in the report"
fi
# Ctrl-C in the middle of long work steps (idle and CPU-burning): collect
# stops within a second or two, exits 130, and writes no run.
cat > "$WORK/long.json" <<'JSON'
{"agents": [
  {"id": "a", "endpoint": "http://127.0.0.1:21434", "steps": [
    {"llm": {"prompt": "x", "options": {"num_predict": 5}}}, {"work": {"seconds": 60}},
    {"llm": {"prompt": "y {{previous}}", "options": {"num_predict": 5}}}]},
  {"id": "b", "endpoint": "http://127.0.0.1:21435", "steps": [
    {"llm": {"prompt": "x", "options": {"num_predict": 5}}}, {"work": {"seconds": 60, "cpu": true}},
    {"llm": {"prompt": "y", "options": {"num_predict": 5}}}]}],
 "runtimes": ["threads"], "runs": 1}
JSON
set -- "$COLLECT" --plan "$WORK/long.json" --emulate-ideal --out "$WORK/long" --progress none
"$@" 2>"$WORK/log" & pid=$!
sleep 1.5
t0=$(date +%s)
kill -INT $pid
rc=0; wait $pid || rc=$?
t1=$(date +%s)
[ "$rc" = 130 ] || { cat "$WORK/log" >&2; fail "SIGINT during work steps: exit $rc, expected 130"; }
[ $((t1 - t0)) -le 3 ] || fail "SIGINT took $((t1 - t0)) s to stop the work steps"
[ -z "$(find "$WORK/long" -name 'run_*.json')" ] || fail "an interrupted run was written"
echo PASS
