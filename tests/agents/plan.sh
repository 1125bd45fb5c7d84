#!/bin/sh
# The tr115-runtimes plan draft (agents/plans/tr115-runtimes.json):
#   1. its agents (ids, endpoints, prompts), protocol and six configs are the
#      built-in tr115 plan's (itself verbatim from the study): both expanded
#      by `collect --dry-run`, the draft with its runtimes swapped for "uv";
#   2. it is the built-in plan `tr115-runtimes`, read from any working
#      directory: {parbench} names the source tree, every runtime of the
#      study's design (and its async-std harness) in order;
#   3. an agent program not built: exit 2 naming the runtime, how to build
#      the agents and --skip-missing-exec, which leaves those runtimes out.
# Usage: plan.sh COLLECT
set -eu
collect=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
plan=$root/agents/plans/tr115-runtimes.json
command -v jq >/dev/null 2>&1 || { echo "SKIP: jq not installed (scripts/deps.sh)"; exit 77; }
w=$(mktemp -d "${TMPDIR:-/tmp}/pbplan.XXXXXX")
trap 'rm -rf "$w"' EXIT

jq '.runtimes = ["uv"] | .name = "tr115"' "$plan" >"$w/uv.json"
"$collect" --plan "$w/uv.json" --dry-run >"$w/draft.out" 2>"$w/draft.err" ||
    { cat "$w/draft.err"; echo "FAIL: collect refuses the draft (runtimes as [\"uv\"])"; exit 1; }
(cd "$w" && "$collect" --plan tr115 --runtime uv --dry-run >"$w/tr115.out" 2>"$w/tr115.err") ||
    { cat "$w/tr115.err"; echo "FAIL: collect --plan tr115 --dry-run"; exit 1; }
keep='del(.runtimes, .out, .plan_hash, .run_keys, .source, .origin)'
jq -S "$keep" "$w/draft.out" >"$w/a"
jq -S "$keep" "$w/tr115.out" >"$w/b"
diff "$w/b" "$w/a" >"$w/diff" || { cat "$w/diff"; echo "FAIL: the draft's agents/configs differ from the built-in tr115"; exit 1; }
[ "$(jq '.configs | length' "$w/a")" = 6 ] || { echo "FAIL: not 6 configs"; exit 1; }

labels_all="tokio-default,tokio-localset,smol,smol-1kb,async-std,async-std-study,python-httpx,uv"
bin=$root/agents/rust/target/release/pb-agent
if [ -x "$bin" ]; then
    (cd / && "$collect" --plan tr115-runtimes --dry-run >"$w/full.out" 2>"$w/full.err") ||
        { cat "$w/full.err"; echo "FAIL: collect --plan tr115-runtimes (from /)"; exit 1; }
    labels=$(jq -r '[.runtimes[].label] | join(",")' "$w/full.out")
    [ "$labels" = "$labels_all" ] || { echo "FAIL: runtimes $labels"; exit 1; }
    [ "$(jq -r '.runtimes[5].exec | join(" ")' "$w/full.out")" = "$bin --runtime async-std --study-harness" ] ||
        { jq '.runtimes[5]' "$w/full.out"; echo "FAIL: async-std-study's command"; exit 1; }
    [ "$(jq -r '.runtimes[6].exec[1]' "$w/full.out")" = "$root/agents/python/pb_agent_httpx.py" ] ||
        { echo "FAIL: python-httpx's script is not the tree's"; exit 1; }
    (cd "$w" && "$collect" --plan "$plan" --dry-run >"$w/file.out" 2>/dev/null) || { echo "FAIL: the plan file"; exit 1; }
    jq -S 'del(.origin, .source)' "$w/full.out" >"$w/a"
    jq -S 'del(.origin, .source)' "$w/file.out" >"$w/b"
    diff "$w/a" "$w/b" || { echo "FAIL: the built-in plan is not the file"; exit 1; }
else
    echo "note: $bin not built (scripts/agents-build.sh): part 2 not checked"
fi

# 3. A tree whose agents are not built.
mkdir -p "$w/tree/agents/plans"
sed "s|{parbench}/agents/rust|$w/tree/agents/rust|" "$plan" >"$w/tree/agents/plans/p.json"
rc=0
"$collect" --plan "$w/tree/agents/plans/p.json" --dry-run >/dev/null 2>"$w/miss.err" || rc=$?
[ $rc = 2 ] && grep -q 'runtime "tokio-default": program .* is missing' "$w/miss.err" &&
    grep -q 'scripts/agents-build.sh' "$w/miss.err" && grep -q -- '--skip-missing-exec' "$w/miss.err" ||
    { cat "$w/miss.err"; echo "FAIL: agents not built: exit $rc"; exit 1; }
"$collect" --plan "$w/tree/agents/plans/p.json" --skip-missing-exec --dry-run >"$w/skip.out" 2>"$w/skip.err" ||
    { cat "$w/skip.err"; echo "FAIL: --skip-missing-exec"; exit 1; }
[ "$(jq -r '[.runtimes[].label] | join(",")' "$w/skip.out")" = "python-httpx,uv" ] &&
    [ "$(grep -c 'left out (--skip-missing-exec)' "$w/skip.err")" = 6 ] ||
    { cat "$w/skip.err"; echo "FAIL: --skip-missing-exec kept $(jq -c '[.runtimes[].label]' "$w/skip.out")"; exit 1; }
echo PASS
