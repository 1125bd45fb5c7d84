#!/bin/sh
# emulator_bench_runs_end_to_end: emu_bench on a small size exits 0, receives every
# token it asked for (16 streams x 20) and prints every figure. (ctest's
# PASS_REGULAR_EXPRESSION, used before, ignores the exit status.)
# Usage: smoke.sh EMU_BENCH
set -u
out=$("$1" --streams 16 --tokens 20 --time-scale 10)
rc=$?
printf '%s\n' "$out"
[ "$rc" = 0 ] || { echo "FAIL: emu_bench exited $rc"; exit 1; }
printf '%s\n' "$out" | grep -qx 'tokens_received: 320' || { echo "FAIL: not 320 tokens received"; exit 1; }
for f in aggregate_tokens_per_s lag_median_us lag_p99_us emu_cpu_us_per_token; do
    printf '%s\n' "$out" | grep -Eqx "$f: [0-9]+(\.[0-9]+)?" || { echo "FAIL: no $f"; exit 1; }
done
echo "ok: emu_bench smoke"
