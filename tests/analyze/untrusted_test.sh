#!/bin/sh
# Issue 22 §4: inputs analyze must not trust. Each case builds a small tree
# from the fixtures, damaged in one way, and checks that analyze refuses or
# neutralises it and says so. Usage: untrusted_test.sh ANALYZE_BIN FIXTURES_DIR
set -u
A=$1; FX=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# run_a NAME ARGS...: the full report (Data quality) in $T/NAME.md, the
# front page in $T/NAME.front.md, stderr in $T/NAME.err, status in $rc.
run_a() { n=$1; shift; rc=0; "$A" --full "$T/$n.md" "$@" >"$T/$n.front.md" 2>"$T/$n.err" || rc=$?; }
R=$FX/tr115_rust/results
# summary.efficiency_percent / concurrency_speedup / wall of one Rust run.
rust() { # DIR EFF SPEEDUP WALL [TOKENS]
  mkdir -p "$1"
  sed -e "s/\"efficiency_percent\": 80/\"efficiency_percent\": $2/" \
      -e "s/\"concurrency_speedup\": 1.6/\"concurrency_speedup\": $3/" \
      -e "s/\"concurrent_wall_time_s\": 10.0/\"concurrent_wall_time_s\": $4/" \
      -e "s/\"total_tokens_generated\": 400/\"total_tokens_generated\": ${5:-400}/" \
      "$R/runtime-alpha/cfg1/run_1/run_1/rust_run.json" > "$1/rust_run.json"
}

# --- copies of a run: cp -r sweep sweep.bak beside it counts once --------
mkdir -p "$T/c"
cp -r "$R" "$T/c/sweep"
run_a one "$T/c"
n1=$(sed -n 's/.* \([0-9]*\) runs loaded.*/\1/p' "$T/one.err")
cp -r "$T/c/sweep" "$T/c/sweep.bak"
run_a copies "$T/c"
n2=$(sed -n 's/.* \([0-9]*\) runs loaded.*/\1/p' "$T/copies.err")
[ -n "$n1" ] && [ "$n1" = "$n2" ] || fail "copies: $n1 runs alone, $n2 with a copy beside"
grep -q "same content as" "$T/copies.md" || fail "copies: no Data quality line in the report"
grep -q "counted once" "$T/copies.err" || fail "copies: not said on stderr"

# --- impossible values: refused at load with the reason ------------------
rust "$T/i/runtime-x/c1/run_1/run_1" 80 1.6 10.0           # a good run
rust "$T/i/runtime-x/c1/run_2/run_1" -6250000037.5 1.6 10.0
rust "$T/i/runtime-x/c1/run_3/run_1" 168.8 3.376 10.0       # 2 agents
rust "$T/i/runtime-x/c1/run_4/run_1" 80 1.6 1$(printf '%0291d' 0)
rust "$T/i/runtime-x/c1/run_5/run_1" 80 1.6 10.0 -400
run_a imp "$T/i"
grep -q "1 runs loaded" "$T/imp.err" || { cat "$T/imp.err"; fail "impossible: not 1 run loaded"; }
for k in 2 3 4 5; do
  grep "run_$k/" "$T/imp.err" | grep -q "impossible value" || fail "impossible: run_$k not refused"
done
grep -q "efficiency -6.25e+09%" "$T/imp.err" || fail "impossible: -6e9% not named"
grep -q "efficiency 168.8%" "$T/imp.err" || fail "impossible: 168.8% not named"
grep -q "token count -400" "$T/imp.err" || fail "impossible: negative tokens not named"
grep -q "impossible value" "$T/imp.md" || fail "impossible: not in the report's Data quality"
# "nan" is no JSON number: refused as malformed, never a "nan%" result.
mkdir -p "$T/n/runtime-x/c1/run_1/run_1"
sed 's/"efficiency_percent": 80/"efficiency_percent": nan/' \
    "$R/runtime-alpha/cfg1/run_1/run_1/rust_run.json" > "$T/n/runtime-x/c1/run_1/run_1/rust_run.json"
run_a nan "$T/n"
grep -q "malformed JSON" "$T/nan.err" || { cat "$T/nan.err"; fail "nan: not refused"; }

# --- bytes after the JSON object -----------------------------------------
mkdir -p "$T/t/uv/cfg_a"
cp "$FX/trace/uv/cfg_a/run_1.json" "$T/t/uv/cfg_a/run_1.json"
{ cat "$FX/trace/uv/cfg_a/run_2.json"; printf '}{"x":1}\n'; } > "$T/t/uv/cfg_a/run_2.json"
run_a tail "$T/t"
grep -q "1 runs loaded" "$T/tail.err" || { cat "$T/tail.err"; fail "tail: run with trailing bytes loaded"; }
grep -q "after the JSON document" "$T/tail.err" || fail "tail: reason not given"

# --- \u0000 in a name: refused, never cut short --------------------------
mkdir -p "$T/z/uv/cfg_a"
sed 's/"runtime": *"uv"/"runtime": "uv\\u0000evil"/' "$FX/trace/uv/cfg_a/run_1.json" > "$T/z/uv/cfg_a/run_1.json"
grep -q 'u0000' "$T/z/uv/cfg_a/run_1.json" || fail "nul: fixture not changed (runtime key?)"
cp "$FX/trace/uv/cfg_a/run_2.json" "$T/z/uv/cfg_a/run_2.json"
run_a nul "$T/z"
grep -q "1 runs loaded" "$T/nul.err" || { cat "$T/nul.err"; fail "nul: run loaded"; }
grep -q 'u0000' "$T/nul.err" || fail "nul: reason not given"
# --- untrusted names in outputs ------------------------------------------
# A runtime named with ESC (JSON escape), a config with a raw invalid UTF-8
# byte and a C1 CSI: --json is valid UTF-8 (strict decoder), no CSV file
# and neither stdout nor stderr carries a raw ESC or CSI.
mkdir -p "$T/u/d"
for k in 1 2; do
  sed -e 's/"runtime": *"uv"/"runtime": "uv\\u001b[31mred"/' \
      -e "s/\"config\": *\"cfg_a\"/\"config\": \"c$(printf '\377')fg\\\\u009b2J\"/" \
      "$FX/trace/uv/cfg_a/run_$k.json" > "$T/u/d/run_$k.json"
done
grep -q 'u001b' "$T/u/d/run_1.json" && grep -q 'u009b' "$T/u/d/run_1.json" || fail "names: fixture not changed"
run_a names --json "$T/u.json" --csv "$T/ucsv" "$T/u/d"
[ "$rc" = 0 ] || { cat "$T/names.err"; fail "names: exit $rc"; }
if [ -x /usr/bin/python3 ]; then
  /usr/bin/python3 -c 'import json,sys; json.loads(open(sys.argv[1],"rb").read().decode("utf-8","strict"))' \
    "$T/u.json" || fail "names: --json is not valid UTF-8 JSON"
fi
esc=$(printf '\033'); csi=$(printf '\302\233')
for f in "$T"/ucsv/*.csv "$T/names.md" "$T/names.front.md" "$T/names.err"; do
  if grep -q "$esc" "$f"; then fail "names: raw ESC in $f"; fi
  if grep -q "$csi" "$f"; then fail "names: raw CSI in $f"; fi
done
grep -q 'uv\\x1b\[31mred' "$T/ucsv/runs.csv" || fail "names: runtime not escaped as \\x1b in runs.csv"
# --- two phases in one tree (the study team's TR114 layout) --------------
# phase1/chimera-homo/cfg1/run_1..2 and phase2/chimera-homo/cfg1/run_1..2:
# by directory both are runtime chimera-homo, config cfg1, runs 1 and 2
# twice. They must stay two runtimes of 2 runs each, and Data quality says
# so (counted by hand: 4 files, 2 + 2 runs).
for ph in phase1 phase2; do
  for k in 1 2; do
    rust "$T/p/$ph/chimera-homo/cfg1/run_$k/run_1" 80 1.6 1${ph#phase}.$k
  done
done
run_a phases --json "$T/p.json" "$T/p"
grep -q "4 runs loaded" "$T/phases.err" || { cat "$T/phases.err"; fail "phases: not 4 runs"; }
grep -q "kept apart" "$T/phases.md" || fail "phases: no Data quality note"
/usr/bin/python3 - "$T/p.json" <<'PY' || fail "phases: runtimes not kept apart in the JSON"
import json, sys
d = json.load(open(sys.argv[1]))
rts = sorted((g["runtime"], g["n"]) for g in d["groups"])
assert rts == [("phase1/chimera-homo", 2), ("phase2/chimera-homo", 2)], rts
assert any("kept apart" in n for n in d["data_quality"]["notes"])
PY
echo "untrusted_test: ok"
