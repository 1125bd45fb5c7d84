#!/bin/sh
# Issue 12, agent-count sweeps: `--agents 1,2,4,8` on one emulated instance
# (ideal preset, one slot) is one sweep with runs for every N; efficiency
# falls as the emulator's model predicts (100/N, see scaling_check.py)
# within 3 pp; analyze writes the scaling section and chart.
. "$SRC/lib.sh"
[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 absent (checks the traces)"; exit 77; }
"$COLLECT" --plan "$SRC/scaling.json" --agents 1,2,4,8 --emulate-ideal --time-scale 6 --runs 5 \
    --out "$WORK/out" --progress none || fail "collect exited $?"
/usr/bin/python3 "$SRC/scaling_check.py" "$WORK/out" 1,2,4,8 5 3 || fail "scaling against the model"
# One sweep: one manifest listing every count.
[ "$(ls "$WORK/out" | grep -c '^manifest')" = 1 ] || fail "more than one manifest"
grep -q '"agent_counts"' "$WORK/out/manifest.json" || fail "manifest lacks agent_counts"
if [ -n "${ANALYZE:-}" ]; then
    "$ANALYZE" --knee 40 --charts "$WORK/charts" --json "$WORK/a.json" "$WORK/out" \
        > "$WORK/report.md" 2>/dev/null || fail "analyze exited $?"
    # The JSON export carries the same numbers (pb_scaling).
    /usr/bin/python3 -c 'import json, sys; s = json.load(open(sys.argv[1]))["scaling"]["series"][0]
assert s["knee_n"] == 2 and [p["n_agents"] for p in s["points"]] == [1, 2, 4, 8], s' "$WORK/a.json" \
        || fail "scaling in --json"
    grep -q "^## Scaling with the number of agents" "$WORK/report.md" || fail "no scaling section"
    # 100/N: N=1 and N=2 (50%) pass 40%, N=4 (25%) does not.
    grep -q "Knee at 40%: \*\*N = 2\*\*" "$WORK/report.md" || fail "knee at 40% is not N = 2"
    [ -s "$WORK/charts/scaling.gp" ] && [ -s "$WORK/charts/scaling.dat" ] || fail "no scaling chart"
fi
echo PASS
