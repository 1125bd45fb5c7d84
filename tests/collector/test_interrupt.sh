#!/bin/sh
# Ctrl-C and kill -9 in the middle of a sweep, then rerun: the set is
# complete, every file valid, none duplicated, no half-written run visible.
. "$SRC/lib.sh"
# Positional parameters hold the command, so that "$@" & gives collect's own
# pid in $! (a shell function would run in a subshell that gets the signal).
set -- "$COLLECT" --plan "$SRC/ideal.json" --emulate-ideal --time-scale 4 --runs 4 \
    --runtime uv,threads --out "$WORK/out" --progress lines
total=8

"$@" 2>"$WORK/log1" & pid=$!
sleep 1.5
kill -INT $pid
rc=0; wait $pid || rc=$?
cat "$WORK/log1"
[ "$rc" = 130 ] || fail "SIGINT: expected exit 130, got $rc"
grep -q "abandoning the current run" "$WORK/log1" || fail "no interrupt message"
n1=$(find "$WORK/out" -name 'run_*.json' | wc -l)
[ "$n1" -lt "$total" ] || fail "SIGINT came too late to test anything ($n1 runs)"
"$TRACE_CHECK" "$WORK/out" --runs "$n1" --all-valid >/dev/null || fail "after SIGINT"

"$@" 2>"$WORK/log2" & pid=$!
sleep 1.2
kill -KILL $pid
wait $pid || true
n2=$(find "$WORK/out" -name 'run_*.json' | wc -l)
"$TRACE_CHECK" "$WORK/out" --runs "$n2" --all-valid >/dev/null || fail "after kill -9"

# Two Ctrl-C: the second exits at once.
"$@" 2>"$WORK/log3" & pid=$!
sleep 0.3
kill -INT $pid; kill -INT $pid 2>/dev/null || true
rc=0; wait $pid || rc=$?
[ "$rc" = 130 ] || fail "double SIGINT: expected 130, got $rc"

"$@" 2>"$WORK/log4" || fail "final rerun exited $?"
tail -2 "$WORK/log4"
"$TRACE_CHECK" "$WORK/out" --runs $total --all-valid >/dev/null || fail "final set"
echo "runs after SIGINT: $n1, after kill -9: $n2, final: $total"
echo PASS
