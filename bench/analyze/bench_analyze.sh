#!/bin/sh
# Benchmark of analyze (not a test): generates max(N) synthetic parbench
# runs ONCE (synth_runs.c, compiled here with cc) in part directories of
# min(N) runs, then analyzes the first N/min(N) parts for each N (default
# 10000 30000 100000), and prints side by side: wall and CPU seconds,
# runs/s, peak RSS and the per-run CPU cost against the smallest N (1.00 =
# linear). Each N must be a multiple of the smallest. Also times the
# 150-run TR115 set when ../shared is present.
# Usage: bench_analyze.sh ANALYZE_BIN [N...]
set -eu
A=$1; shift
[ $# -gt 0 ] || set -- 10000 30000 100000
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/pb_bench_analyze.XXXXXX); trap 'rm -rf "$T"' EXIT
min=$1; max=$1
for n in "$@"; do
  [ "$n" -lt "$min" ] && min=$n
  [ "$n" -gt "$max" ] && max=$n
done
for n in "$@"; do
  [ $((n % min)) -eq 0 ] || { echo "bench: $n is not a multiple of $min" >&2; exit 2; }
done
${CC:-cc} -O2 -o "$T/synth" "$HERE/synth_runs.c"
t0=$(date +%s)
"$T/synth" "$T/d" "$max" "$min"
echo "generated $max runs in $(( $(date +%s) - t0 )) s ($((max / min)) parts of $min)"
printf '%-8s %8s %8s %10s %12s %10s %14s\n' runs wall_s cpu_s runs/s peak_RSS_MB us/run cost_vs_first
base=""
for n in "$@"; do
  parts=""; p=0
  while [ $p -lt $((n / min)) ]; do parts="$parts $T/d/part_$p"; p=$((p + 1)); done
  # Warm the page cache so the figure measures analyze, not the disk.
  find $parts -name '*.json' -exec cat {} + >/dev/null
  # CPU time (user + sys) is the cost figure: wall time also counts other
  # load on the machine.
  /usr/bin/time -f '%e %U %S %M' -o "$T/time" "$A" -q --merge $parts >"$T/r.md"
  read secs us_ sy kb < "$T/time"
  got=$(grep -o 'Runs loaded: [0-9]*' "$T/r.md" | grep -o '[0-9]*$')
  [ "$got" = "$n" ] || { echo "bench: expected $n runs, report says $got" >&2; exit 1; }
  cpu=$(awk -v u="$us_" -v s="$sy" 'BEGIN{printf "%.2f", u+s}')
  us=$(awk -v c="$cpu" -v n="$n" 'BEGIN{printf "%.2f", c*1e6/n}')
  [ -n "$base" ] || base=$us
  printf '%-8s %8s %8s %10.0f %12.1f %10s %14s\n' "$n" "$secs" "$cpu" \
    "$(awk -v s="$secs" -v n="$n" 'BEGIN{print (s>0)? n/s : 0}')" \
    "$(awk -v k="$kb" 'BEGIN{print k/1024}')" "$us" \
    "$(awk -v u="$us" -v b="$base" 'BEGIN{printf "%.2f", u/b}')"
done
TR="$HERE/../../../shared/data/tr115-v1"
if [ -d "$TR" ]; then
  best=999
  for i in 1 2 3 4 5 6 7 8 9 10; do
    /usr/bin/time -f '%e' -o "$T/time" "$A" -q "$TR" >/dev/null
    s=$(cat "$T/time"); best=$(awk -v a="$s" -v b="$best" 'BEGIN{print (a<b)?a:b}')
  done
  echo "TR115 150 runs: best of 10 = ${best} s"
else
  echo "TR115 set not found at $TR: 150-run timing skipped"
fi
