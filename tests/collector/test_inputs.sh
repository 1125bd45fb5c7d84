#!/bin/sh
# Issue 13: a newcomer's mistakes and hostile inputs end before anything is
# measured, in exit 2 with a message that names the input and the fix; the
# environment's proxy does not capture the sweep; stale temp files of dead
# writers are removed; a sweep that measured nothing leaves no manifest.
. "$SRC/lib.sh"
cat >"$WORK/tiny.json" <<'P'
{"name": "tiny", "runs": 1, "runtimes": ["uv"], "warmup": false,
 "agents": [{"id": "a", "endpoint": "http://127.0.0.1:21434", "prompt": "hi", "options": {"num_predict": 3}}]}
P
# expect_usage NAME PATTERN -- collect args: exit 2, stderr matches, nothing written
expect_usage() {
    name=$1 pat=$2
    shift 3
    rc=0
    "$COLLECT" "$@" --out "$WORK/u_$name" >"$WORK/u.out" 2>"$WORK/u.err" || rc=$?
    [ "$rc" = 2 ] || { cat "$WORK/u.err"; fail "$name: expected exit 2, got $rc"; }
    grep -q -- "$pat" "$WORK/u.err" || { cat "$WORK/u.err"; fail "$name: message lacks '$pat'"; }
    [ ! -e "$WORK/u_$name" ] || fail "$name: something was written"
    [ ! -s "$WORK/u.out" ] || fail "$name: stdout not empty"
}
printf '{"name":"p","agents":[{"id":"a","endpoint":"http://h","prompt":"p"}],"configs":[{"name":".."}]}' >"$WORK/dotdot.json"
expect_usage dotdot 'configs\[0\]: "name" is' -- --plan "$WORK/dotdot.json" --runtime uv,threads --emulate-ideal
expect_usage dotdot_dry 'configs\[0\]' -- --plan "$WORK/dotdot.json" --dry-run
printf '{"name":"p","run":3,"agents":[{"id":"a","endpoint":"http://h","prompt":"p"}]}' >"$WORK/run.json"
expect_usage key 'did you mean "runs"' -- --plan "$WORK/run.json" --dry-run
printf '{\n "name": "p"\n "runs": 3}' >"$WORK/syntax.json"
expect_usage syntax 'line 3, column 2' -- --plan "$WORK/syntax.json" --dry-run
expect_usage overflow '16777216' -- --runtime uv-99999999999999999kb --dry-run
expect_usage huge '16777216' -- --runtime uv-1099511627776b --dry-run
expect_usage flag 'did you mean --runs' -- --run 3
expect_usage flag2 'did you mean --emulate-ideal' -- --emulate-idael
expect_usage scale '1e-3, 1e6' -- --time-scale inf --dry-run

# -h is --help, like analyze -h.
"$COLLECT" -h >"$WORK/h.out" || fail "collect -h exited $?"
grep -q '^Usage: collect' "$WORK/h.out" || fail "collect -h printed no usage"

# Proxy variables do not capture the sweep (here: a dead proxy port).
http_proxy=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9 \
all_proxy=http://127.0.0.1:9 "$COLLECT" --plan "$WORK/tiny.json" --emulate-ideal --time-scale 50 \
    --out "$WORK/px" --quiet 2>"$WORK/px.err" || { cat "$WORK/px.err"; fail "proxy variables were used"; }
# --proxy never applies to the in-process emulator either.
"$COLLECT" --plan "$WORK/tiny.json" --emulate-ideal --time-scale 50 --proxy http://127.0.0.1:9 \
    --out "$WORK/px2" --quiet 2>"$WORK/px2.err" || { cat "$WORK/px2.err"; fail "--proxy was used for the emulator"; }
expect_usage proxy 'http://' -- --proxy ftp://x --dry-run

# Stale temp files: a dead writer's is removed on resume, a live one's kept.
mkdir -p "$WORK/tmp/uv/default"
: >"$WORK/tmp/uv/default/.run_1.json.tmp.999999999"
: >"$WORK/tmp/uv/default/.run_1.json.tmp.$$"
: >"$WORK/tmp/uv/default/.run_1.json.tmp.999999999.Ab12Cd"
: >"$WORK/tmp/uv/default/.run_1.json.tmp.$$.Ab12Cd"
"$COLLECT" --plan "$WORK/tiny.json" --emulate-ideal --time-scale 50 --out "$WORK/tmp" \
    --progress lines 2>"$WORK/tmp.err" || { cat "$WORK/tmp.err"; fail "sweep with temp files"; }
[ ! -e "$WORK/tmp/uv/default/.run_1.json.tmp.999999999" ] || fail "dead writer's temp file kept"
[ -e "$WORK/tmp/uv/default/.run_1.json.tmp.$$" ] || fail "live writer's temp file removed"
[ ! -e "$WORK/tmp/uv/default/.run_1.json.tmp.999999999.Ab12Cd" ] || fail "dead writer's temp file kept"
[ -e "$WORK/tmp/uv/default/.run_1.json.tmp.$$.Ab12Cd" ] || fail "live writer's temp file removed"
grep -q 'removed .*\.run_1\.json\.tmp\.999999999' "$WORK/tmp.err" || fail "removal not reported"

# Killed before measuring anything: no manifest (the warm-up stalls).
cat >"$WORK/stall.json" <<'P'
{"name": "stall", "runs": 1, "runtimes": ["uv"],
 "agents": [{"id": "a", "endpoint": "http://127.0.0.1:21434", "prompt": "hi", "options": {"num_predict": 3}}],
 "emulate": {"faults": {"http://127.0.0.1:21434": "stall:60"}}}
P
set -- "$COLLECT" --plan "$WORK/stall.json" --emulate-ideal --timeout 30 --out "$WORK/k" --quiet
"$@" 2>"$WORK/k.err" & pid=$!
sleep 1
kill -KILL $pid
wait $pid 2>/dev/null || true
[ -z "$(find "$WORK/k" -name 'manifest*.json' 2>/dev/null)" ] || fail "a sweep killed before measuring left a manifest"

# Same --out, another setting: one message that names the setting, not a
# line per run; nothing is measured or overwritten.
cat >"$WORK/two.json" <<'P'
{"name": "two", "runs": 2, "runtimes": ["uv", "threads"], "warmup": false,
 "agents": [{"id": "a", "endpoint": "http://127.0.0.1:21434", "prompt": "hi", "options": {"num_predict": 3}}]}
P
"$COLLECT" --plan "$WORK/two.json" --emulate-ideal --time-scale 50 --out "$WORK/c" --quiet 2>/dev/null \
    || fail "first sweep for the conflict test"
rc=0
"$COLLECT" --plan "$WORK/two.json" --emulate-ideal --time-scale 40 --out "$WORK/c" --progress lines \
    2>"$WORK/c.err" || rc=$?
[ "$rc" = 1 ] || { cat "$WORK/c.err"; fail "conflict: expected exit 1, got $rc"; }
grep -q 'emulate.time_scale is 50 there, 40 here' "$WORK/c.err" || { cat "$WORK/c.err"; fail "conflict: setting not named"; }
[ "$(grep -c 'NOT RUN' "$WORK/c.err")" = 1 ] || { cat "$WORK/c.err"; fail "conflict: not one message"; }
grep -q '4 conflicting files' "$WORK/c.err" || fail "conflict: count missing"
echo PASS
