#!/bin/sh
# Issue 12 / 20 §4, sampling to a precision (Stein's two-stage procedure):
# on the default (shared-GPU) emulator a config with equal fixed lengths has
# a narrow pilot and gets no extra run; one with random lengths is noisy and
# gets the runs its pilot asks for, round-robin, up to --max-runs
# (ci_check.py re-derives the rule from the traces).
. "$SRC/lib.sh"
[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 absent (checks the traces)"; exit 77; }
"$COLLECT" --plan "$SRC/target_ci.json" --emulate --time-scale 4 --target-ci 3 --max-runs 8 \
    --out "$WORK/out" --progress none 2> "$WORK/err" || { cat "$WORK/err" >&2; fail "collect exited"; }
/usr/bin/python3 "$SRC/ci_check.py" "$WORK/out" 3 5 8 uv/quiet uv/noisy || fail "stopping rule"
grep -q "target-ci 3: uv noisy" "$WORK/err" || fail "no per-group summary on stderr"
if [ -n "${ANALYZE:-}" ]; then
    "$ANALYZE" --json "$WORK/a.json" --full "$WORK/report.md" "$WORK/out" > /dev/null 2>&1 \
        || fail "analyze exited $?"
    /usr/bin/python3 "$SRC/ci_check.py" "$WORK/out" 3 5 8 uv/quiet uv/noisy "$WORK/a.json" \
        || fail "analyze's final intervals / target flags"
    grep -Eq "^\| uv \| noisy \| [0-9]+ \| [0-9]+ \| [0-9.]+ \[[0-9.]+, [0-9.]+\] \| [0-9.]+ \| (met|\*\*missed\*\*) \|" \
        "$WORK/report.md" || fail "report: no final interval / target column for the noisy group"
    grep -q "^## Sampling to a precision" "$WORK/report.md" || fail "report lacks the stopping rule"
    grep -q "| uv | quiet | 5 | 0 |" "$WORK/report.md" || fail "report: quiet group not 5 runs, 0 added"
fi
# Bad input is refused before measuring.
"$COLLECT" --plan "$SRC/target_ci.json" --target-ci 3 --no-solo --dry-run >/dev/null 2>&1 \
    && fail "--target-ci with --no-solo accepted"
"$COLLECT" --plan "$SRC/target_ci.json" --target-ci 3 --max-runs 2 --dry-run >/dev/null 2>&1 \
    && fail "--max-runs below --runs accepted"
"$COLLECT" --plan "$SRC/target_ci.json" --target-ci 3 --runs 3 --dry-run >/dev/null 2>&1 \
    && fail "a pilot of 3 runs accepted"
echo PASS
