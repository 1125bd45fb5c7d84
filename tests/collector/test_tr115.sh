#!/bin/sh
# End to end: the built-in tr115 plan (6 configs x 5 runs) on every runtime
# (plus uv-1kb) against the realistic shared-GPU emulator, time-scaled; then
# a rerun skips everything; then analyze (if built) reads it all.
. "$SRC/lib.sh"
start=$(date +%s)
"$COLLECT" --plan tr115 --emulate --time-scale 200 --runtime uv,threads,serial,uv-1kb \
    --out "$WORK/out" --progress lines 2>"$WORK/log" || { cat "$WORK/log"; fail "collect exited $?"; }
end=$(date +%s)
tail -3 "$WORK/log"
[ $((end - start)) -lt 60 ] || fail "took $((end - start)) s (limit 60)"
# --paired: each agent's solo response is as long as its concurrent one
# (the emulator draws lengths of 300 +- 80 tokens, so unpaired runs differ).
"$TRACE_CHECK" "$WORK/out" --runs 120 --all-valid --paired >/dev/null || fail "trace check"
"$COLLECT" --plan tr115 --emulate --time-scale 200 --runtime uv,threads,serial,uv-1kb \
    --out "$WORK/out" --progress lines 2>"$WORK/log2" || fail "rerun exited $?"
grep -q "0 of 120 runs measured now, 120 already valid" "$WORK/log2" || { cat "$WORK/log2"; fail "rerun did not skip"; }
# A rerun that measures nothing writes no manifest (issue 13: manifests
# describe measured runs; one per kill -9 before measuring was noise).
ls "$WORK/out"/manifest*.json | wc -l | grep -qx 1 || fail "expected still one manifest"
grep -q "no new manifest" "$WORK/log2" || fail "rerun summary does not say no manifest was written"
if [ -n "${ANALYZE:-}" ] && [ -x "$ANALYZE" ]; then
    "$ANALYZE" "$WORK/out" >"$WORK/analyze.out" 2>"$WORK/analyze.err" || {
        cat "$WORK/analyze.err"; fail "analyze exited $?"; }
    if grep -qi "skip" "$WORK/analyze.err"; then cat "$WORK/analyze.err"; fi
    echo "analyze read the sweep"
else
    echo "analyze not built: skipped that part"
fi
echo PASS
