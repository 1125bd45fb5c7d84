#!/bin/sh
# Both agents on one instance with num_parallel=1: the instance serialises
# them, so measured efficiency is 50% +- 2 whatever the client does.
. "$SRC/lib.sh"
"$COLLECT" --plan "$SRC/one_endpoint.json" --emulate-ideal --emulate-parallel 1 --time-scale 5 \
    --out "$WORK/out" --progress lines || fail "collect exited $?"
"$TRACE_CHECK" "$WORK/out" --runs 4 --all-valid --eff-min 48 --eff-max 52
echo PASS
