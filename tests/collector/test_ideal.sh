#!/bin/sh
# Ideal emulator, equal-length responses: 2 agents on 2 instances reach
# >= 99.5% measured efficiency on uv and threads; serial gives speedup 1.
. "$SRC/lib.sh"
"$COLLECT" --plan "$SRC/ideal.json" --emulate-ideal --time-scale 2 --out "$WORK/out" --progress lines \
    || fail "collect exited $?"
"$TRACE_CHECK" "$WORK/out" --runs 9 --all-valid
"$TRACE_CHECK" "$WORK/out/uv" --runtime uv --eff-min 99.5 >/dev/null || fail "uv below 99.5%"
"$TRACE_CHECK" "$WORK/out/threads" --runtime threads --eff-min 99.5 >/dev/null || fail "threads below 99.5%"
"$TRACE_CHECK" "$WORK/out/serial" --runtime serial --speedup-min 0.98 --speedup-max 1.02 >/dev/null \
    || fail "serial speedup not 1.00 +- 0.02"
echo PASS
