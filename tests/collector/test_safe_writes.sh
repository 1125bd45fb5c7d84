#!/bin/sh
# Issue 22 §3: no writer follows a name planted in its output folder. Each
# file collect and analyze write (runs, manifest, report, CSV, JSON, chart
# data, scripts and images) gets a symlink to a victim file outside the
# output at the temp name older versions used (".NAME.tmp.PID", the
# writer's pid known in advance through exec); analyze's outputs also get
# one at the file's own name (collect rightly leaves a foreign file at a
# run's name alone). The victim must be untouched and every output a
# regular file.
. "$SRC/lib.sh"
[ -n "${ANALYZE:-}" ] || { echo "SKIP: analyze not built"; exit 77; }
victim="$WORK/victim"
reset_victim() { printf 'precious\n' >"$victim"; }
check_victim() { # what
    [ "$(cat "$victim")" = precious ] || fail "$1 wrote through a planted symlink"
}
outputs_regular() { # file...
    for f in "$@"; do
        [ -f "$f" ] && [ ! -L "$f" ] || fail "$f is not a regular file"
    done
}

out="$WORK/out"
reset_victim
# exec keeps the pid: the planted names carry the writer's own pid.
sh -c 'out=$1; shift; victim=$1; shift
       for f in "$out/manifest.json" "$out/uv/default/run_1.json"; do
           mkdir -p "$(dirname "$f")"
           ln -sf "$victim" "$(dirname "$f")/.$(basename "$f").tmp.$$"
       done
       exec "$@"' sh "$out" "$victim" \
    "$COLLECT" --plan "$SRC/ideal.json" --emulate-ideal --time-scale 50 --runs 1 \
    --runtime uv --out "$out" --quiet 2>"$WORK/log" || { cat "$WORK/log"; fail "collect failed"; }
check_victim "collect (runs, manifest)"
outputs_regular "$out/manifest.json" "$out/uv/default/run_1.json"

rep="$WORK/rep"
files="$rep/report.md $rep/a.json"
for c in runs groups runtimes requests comparisons; do files="$files $rep/csv/$c.csv"; done
charts=
if command -v gnuplot >/dev/null 2>&1; then
    charts="--charts $rep/charts"
    for n in speedup efficiency_box timeline; do
        for e in dat gp png svg; do files="$files $rep/charts/$n.$e"; done
    done
else
    echo "note: gnuplot not installed; chart images not checked"
fi
reset_victim
# shellcheck disable=SC2086
sh -c 'victim=$1; files=$2; shift 2
       for f in $files; do
           mkdir -p "$(dirname "$f")"
           ln -sf "$victim" "$(dirname "$f")/.$(basename "$f").tmp.$$"
           ln -sf "$victim" "$f"
       done
       exec "$@"' sh "$victim" "$files" \
    "$ANALYZE" "$out" -o "$rep/report.md" --json "$rep/a.json" --csv "$rep/csv" $charts \
    -q 2>"$WORK/alog" || { cat "$WORK/alog"; fail "analyze failed"; }
check_victim "analyze (report, CSV, JSON, charts)"
# shellcheck disable=SC2086
outputs_regular $files
grep -q '^#' "$rep/report.md" || fail "report.md holds no report"
# No temp file or render folder of ours is left beside the outputs (the
# planted links are the only hidden names).
left=$(find "$out" "$rep" -name '.*' ! -type l | wc -l)
[ "$left" = 0 ] || fail "hidden files left: $(find "$out" "$rep" -name '.*' ! -type l)"
echo "ok: no writer followed a planted symlink"
