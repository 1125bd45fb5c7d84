#!/bin/sh
# Benchmark of analyze (not a test): synthesizes N parbench runs for each N
# (default 10000 30000 100000), runs analyze on each, and prints runs/s,
# peak RSS and the per-run cost ratio against the smallest N (1.00 =
# linear). Also times the 150-run TR115 set when ../shared is present.
# Usage: bench_analyze.sh ANALYZE_BIN [N...]   (env BOOT: --bootstrap, default 2000)
set -eu
A=$1; shift
[ $# -gt 0 ] || set -- 10000 30000 100000
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/pb_bench_analyze.XXXXXX); trap 'rm -rf "$T"' EXIT
BOOT=${BOOT:-2000}
printf '%-8s %10s %10s %12s %12s %14s\n' runs seconds runs/s peak_RSS_MB us/run cost_vs_first
base=""
for n in "$@"; do
  python3 "$HERE/synth_runs.py" "$T/d$n" "$n"
  # Warm the page cache so the figure measures analyze, not the disk.
  cat $(find "$T/d$n" -name '*.json' | head -1) >/dev/null
  /usr/bin/time -f '%e %M' -o "$T/time" "$A" -q --bootstrap "$BOOT" "$T/d$n" >"$T/r.md"
  /usr/bin/time -f '%e %M' -o "$T/time" "$A" -q --bootstrap "$BOOT" "$T/d$n" >"$T/r.md"
  read secs kb < "$T/time"
  got=$(grep -o 'Runs loaded: [0-9]*' "$T/r.md" | grep -o '[0-9]*$')
  [ "$got" = "$n" ] || { echo "bench: expected $n runs, report says $got" >&2; exit 1; }
  us=$(awk -v s="$secs" -v n="$n" 'BEGIN{printf "%.2f", s*1e6/n}')
  [ -n "$base" ] || base=$us
  printf '%-8s %10s %10.0f %12.1f %12s %14s\n' "$n" "$secs" \
    "$(awk -v s="$secs" -v n="$n" 'BEGIN{print (s>0)? n/s : 0}')" \
    "$(awk -v k="$kb" 'BEGIN{print k/1024}')" "$us" \
    "$(awk -v u="$us" -v b="$base" 'BEGIN{printf "%.2f", u/b}')"
  rm -rf "$T/d$n"
done
TR="$HERE/../../../shared/data/tr115-v1"
if [ -d "$TR" ]; then
  best=999
  for i in 1 2 3 4 5; do
    /usr/bin/time -f '%e' -o "$T/time" "$A" -q --bootstrap "$BOOT" "$TR" >/dev/null
    s=$(cat "$T/time"); best=$(awk -v a="$s" -v b="$best" 'BEGIN{print (a<b)?a:b}')
  done
  echo "TR115 150 runs (--bootstrap $BOOT): best of 5 = ${best} s"
else
  echo "TR115 set not found at $TR: 150-run timing skipped"
fi
