#!/bin/sh
# Issue 13: when analyze loads nothing, or ignores something, stderr says
# what was found and why. Usage: inputs_test.sh ANALYZE_BIN FIXTURES_DIR SRC_DIR
set -u
A=$1; FX=$2; SRC=$3
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# run_a NAME ARGS...: exit status in $rc, stderr in $T/NAME.err
run_a() { n=$1; shift; rc=0; "$A" "$@" >"$T/$n.md" 2>"$T/$n.err" || rc=$?; }

mkdir "$T/empty"
run_a empty "$T/empty"
[ "$rc" = 1 ] || fail "empty: exit $rc"
grep -q "no .json file" "$T/empty.err" || { cat "$T/empty.err"; fail "empty: does not say nothing was found"; }
grep -q "see the messages above" "$T/empty.err" && fail "empty: points at messages that are not there"

mkdir "$T/mo"
printf '{"format":"parbench-manifest","format_version":1}\n' >"$T/mo/manifest.json"
run_a mo "$T/mo"
[ "$rc" = 1 ] || fail "manifest only: exit $rc"
grep -q "1 manifest" "$T/mo.err" || { cat "$T/mo.err"; fail "manifest only: manifest not mentioned"; }
grep -q "run_<k>.json" "$T/mo.err" || fail "manifest only: does not say where runs are"

run_a readme "$SRC/README.md"
[ "$rc" = 1 ] || fail "README: exit $rc"
grep -q "not a run file" "$T/readme.err" || { cat "$T/readme.err"; fail "README: not called 'not a run file'"; }
grep -q "re-collect" "$T/readme.err" && fail "README: told to re-collect a file that is no run"

mkdir -p "$T/h/uv/cfg_a" "$T/h/uv/.hidden"
cp "$FX/trace/uv/cfg_a/run_1.json" "$T/h/uv/cfg_a/"
cp "$FX/trace/uv/cfg_a/run_2.json" "$T/h/uv/.hidden/run_1.json"
cp "$FX/trace/uv/cfg_a/run_2.json" "$T/h/uv/cfg_a/.run_2.json.tmp.1"
run_a hidden "$T/h"
[ "$rc" = 0 ] || fail "hidden: exit $rc"
grep -q "2 hidden" "$T/hidden.err" || { cat "$T/hidden.err"; fail "hidden entries not reported"; }
grep -q "\.hidden" "$T/hidden.err" || fail "hidden: example path not named"
# A directory name with ESC: analyze's messages carry it escaped, not raw.
esc=$(printf 'e\033[31m')
mkdir -p "$T/x/$esc"
printf '{"summary": {"efficiency_percent": 8' >"$T/x/$esc/bad.json"
run_a esc "$T/x"
grep -q 'x1b' "$T/esc.err" || { cat "$T/esc.err"; fail "esc: path not shown escaped"; }
if grep -q "$(printf '\033')" "$T/esc.err"; then fail "esc: raw ESC on stderr"; fi

run_a flag --drop-frist 1 "$T/h"
[ "$rc" = 2 ] || fail "unknown flag: exit $rc"
grep -q "did you mean --drop-first?" "$T/flag.err" || { cat "$T/flag.err"; fail "no nearest flag"; }
# --seed and --bootstrap were removed (no bootstrap interval is printed):
# not a silent no-op, a usage error that says what changed, and never
# suggested for a misspelling.
for opt in --bootstrap --seed; do
  run_a removed $opt 5 "$T/h"
  [ "$rc" = 2 ] || fail "$opt: exit $rc, want 2"
  grep -q -- "$opt was removed: analyze prints no bootstrap interval" "$T/removed.err" ||
    { cat "$T/removed.err"; fail "$opt: no message saying what changed"; }
done
run_a near --bootstraps 5 "$T/h"
if grep -q "did you mean --bootstrap" "$T/near.err"; then fail "a removed option is suggested"; fi
echo "inputs_test: ok"
