#!/bin/sh
# Issue 12, arrival patterns: staggered and Poisson starts of the concurrent
# phase are recorded and kept, and staggered efficiency follows T / (T + d)
# on the ideal emulator (arrival_check.py); analyze states the definitions.
. "$SRC/lib.sh"
[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 absent (checks the traces)"; exit 77; }
"$COLLECT" --plan "$SRC/ideal.json" --runtime uv,threads --runs 1 --emulate-ideal --time-scale 4 \
    --stagger 0.4 --out "$WORK/st" --progress none || fail "collect --stagger exited $?"
/usr/bin/python3 "$SRC/arrival_check.py" "$WORK/st" stagger 0.4 4 || fail "stagger"
"$COLLECT" --plan "$SRC/ideal.json" --runtime uv --runs 3 --emulate-ideal --time-scale 4 \
    --arrival-rate 4 --out "$WORK/po" --progress none || fail "collect --arrival-rate exited $?"
/usr/bin/python3 "$SRC/arrival_check.py" "$WORK/po" poisson 4 4 || fail "poisson"
"$COLLECT" --plan "$SRC/ideal.json" --stagger 1 --arrival-rate 2 --dry-run >/dev/null 2>&1 \
    && fail "--stagger with --arrival-rate accepted"
if [ -n "${ANALYZE:-}" ]; then
    "$ANALYZE" --full "$WORK/report.md" "$WORK/st" > /dev/null 2>&1 || fail "analyze exited $?"
    grep -q "^## Arrival patterns" "$WORK/report.md" || fail "no arrival section"
    grep -q "the solo baseline is still each agent alone" "$WORK/report.md" || fail "no definition"
fi
echo PASS
