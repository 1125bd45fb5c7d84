#!/bin/sh
# Issue 22 §1: with --reuse-connections a transfer that libcurl finished
# inside the timer callback (a reused connection answering at once: an
# HTTP 500, a 503, or a short stream) must be collected at once; before, it
# waited for a uv_check that runs only after the next poll, which then
# blocked forever (hangs in 8-12 of 20 tries). The fault plan on every
# runtime, --timeout 2, ITER times (default 10, 6 in the sanitized pass,
# which is there for memory errors and runs each sweep ~3x slower; the old
# code hung in every one of 10 tries; the 100 with ITER=100):
# each sweep must end, with its expected verdicts, well inside the bound
# `timeout` gives it.
. "$SRC/lib.sh"
if [ -n "${PB_SANITIZED:-}" ]; then ITER=${ITER:-6}; else ITER=${ITER:-10}; fi
i=0
while [ $i -lt "$ITER" ]; do
    i=$((i + 1))
    rc=0
    timeout -s KILL 20 "$COLLECT" --plan "$SRC/reuse.json" --emulate-ideal --time-scale 10 \
        --reuse-connections --timeout 2 --out "$WORK/o$i" --progress none 2>"$WORK/log" || rc=$?
    [ "$rc" != 137 ] || fail "iteration $i: collect hung (killed after 20 s)"
    [ "$rc" = 1 ] || { cat "$WORK/log" >&2; fail "iteration $i: exit $rc, expected 1 (faulty configs invalid)"; }
    for rt in uv threads serial; do
        "$TRACE_CHECK" "$WORK/o$i/$rt/clean" --runs 1 --all-valid >/dev/null || fail "iteration $i: $rt/clean not valid"
        "$TRACE_CHECK" "$WORK/o$i/$rt/http500" --runs 1 --invalid "HTTP 500" >/dev/null || fail "iteration $i: $rt/http500"
        "$TRACE_CHECK" "$WORK/o$i/$rt/busy503" --runs 1 --invalid "HTTP 503" >/dev/null || fail "iteration $i: $rt/busy503"
    done
    rm -rf "$WORK/o$i"
done
echo PASS
