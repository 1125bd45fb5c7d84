#!/bin/sh
# collect runs the servers itself (--server, --server-env, plan "servers"),
# with ollama-emu as the server command:
#  - one sweep over OLLAMA_NUM_PARALLEL=1,2,4: the efficiency per setting is
#    what the emulator's documented GPU model predicts (servers_check.py,
#    within 3 pp), restarts follow the recorded serpentine order, every run
#    records its server (command, env, version, log) and /api/ps samples;
#  - two servers with OLLAMA_MAX_LOADED_MODELS=1,2; --emulate with
#    --server-env; secret-looking env values masked;
#  - each bad server command refused before any run (exit 3): missing,
#    exits before ready, never ready, port in use.
. "$SRC/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
EMU="$OLLAMA_EMU"

# 1. Three settings in one sweep, three runs each (time scale 10: a busy
# shared machine shifts a 20x-scaled 100-token run by a few pp).
"$COLLECT" --server "$EMU --listen {host} --time-scale 10" \
    --server-env OLLAMA_NUM_PARALLEL=1,2,4 --agents 4 --prompt hi --num-predict 100 --runs 3 \
    --runtime uv --telemetry-interval 20 --out "$WORK/np" 2>"$WORK/np.log" ||
    fail "NUM_PARALLEL sweep: exit $? ($(cat "$WORK/np.log"))"
python3 "$SRC/servers_check.py" "$WORK/np" 4 100 2 3 || fail "efficiency per setting off the model"
# Serpentine: 1,2,4 | 4,2,1 | 1,2,4 -> 1 + 2 + 2 + 2 = 7 starts, not 9.
n=$(ls "$WORK/np/server-logs" | wc -l)
[ "$n" = 7 ] || fail "expected 7 server starts (serpentine order), got $n: $(ls "$WORK/np/server-logs")"
grep -q '"started_because":"settings"' "$WORK/np/uv/OLLAMA_NUM_PARALLEL=4/run_1.json" || fail "no start reason"
python3 - "$WORK/np" <<'PY' || fail "server records"
import json, sys, glob, os
out = sys.argv[1]
for f in glob.glob(out + "/uv/*/run_*.json"):
    t = json.load(open(f))
    par = t["run"]["config"].split("=")[1]
    sp = t["server_processes"]
    assert sp["order"]["restarts_per_round"] == 2, sp["order"]
    (p,) = sp["processes"]
    assert p["env"]["OLLAMA_NUM_PARALLEL"] == par and p["settings"] == {"OLLAMA_NUM_PARALLEL": par}, p
    assert p["version"] == "0.32.15" and p["alive_after_run"] and p["start_ns"] < p["ready_ns"] <= 0, p
    assert p["command"][2].startswith("127.0.0.1:") and p["urls"][0].endswith(p["command"][2]), p
    assert all(w["ok"] for w in p["warmed"]) and p["warmed"], p
    log = os.path.join(out, p["log"])
    assert "listening http://" in open(log).read(), log
    ps = t["telemetry"]["ps"]
    ok = [s for s in ps if "models" in s]
    assert len(ok) >= 3 and all(s["models"][0]["name"] == "gemma3:latest" for s in ok), ps
    ends = max(ph["end_ns"] for ph in t["phases"])
    assert any(0 < s["t_ns"] < ends for s in ok), "no sample inside the phases"
    pr = t["telemetry"]["proc"]
    assert pr and all(s["pid"] == p["pid"] and s["rss_bytes"] > 0 for s in pr), pr
print("server records ok")
PY
[ "$(grep -c 'nvidia-smi is not on PATH' "$WORK/np.log")" -le 1 ] || fail "nvidia-smi absence said more than once"
# analyze answers per setting: its efficiency lines equal the means that
# servers_check.py computes from the traces itself (to the printed 0.1).
if [ -n "${ANALYZE:-}" ]; then
    "$ANALYZE" --full "$WORK/np.md" "$WORK/np" >/dev/null 2>&1 || fail "analyze: exit $?"
    python3 "$SRC/servers_check.py" "$WORK/np" 4 100 2 3 >"$WORK/np.check"
    python3 - "$WORK/np.md" "$WORK/np.check" <<'PY' || fail "analyze's per-setting lines"
import re, sys
md, check = open(sys.argv[1]).read(), open(sys.argv[2]).read()
want = {m.group(1): float(m.group(2)) for m in
        re.finditer(r"OLLAMA_NUM_PARALLEL=(\d+): measured efficiency [\d.]+% \(runs [^;]*; "
                    r"geometric mean ([\d.]+)%", check)}
got = {m.group(1): float(m.group(2)) for m in
       re.finditer(r"\| OLLAMA\\_NUM\\_PARALLEL=(\d+) \| uv \| 4 \| 3 \| [\d.]+x \[[\d.]+, "
                   r"[\d.]+\] \| [^|]+ \| ([\d.]+) \[", md)}
assert want.keys() == got.keys() == {"1", "2", "4"}, (want, got)
for k in want:
    assert abs(want[k] - got[k]) <= 0.051, (k, want[k], got[k])
assert "reloaded or evicted" not in md, "a model event where the model stayed loaded"
assert "Run order: serpentine" in " ".join(md.split()), "the order used is not stated"
print("analyze per setting ok:", got)
PY
fi

# 2. Two servers (the study's two instances), OLLAMA_MAX_LOADED_MODELS=1,2.
"$COLLECT" --server "$EMU --listen {host} --time-scale 20" --server "$EMU --listen {host} --time-scale 20" \
    --server-env OLLAMA_MAX_LOADED_MODELS=1,2 --prompt hi --num-predict 20 --runs 1 --runtime uv \
    --out "$WORK/two" --quiet || fail "two servers: exit $?"
python3 - "$WORK/two" <<'PY' || fail "two servers' records"
import json, sys
for v in ("1", "2"):
    t = json.load(open(sys.argv[1] + "/uv/OLLAMA_MAX_LOADED_MODELS=%s/run_1.json" % v))
    ps = t["server_processes"]["processes"]
    assert [p["name"] for p in ps] == ["s1", "s2"], ps
    assert all(p["env"]["OLLAMA_MAX_LOADED_MODELS"] == v for p in ps), ps
    eps = sorted(a["endpoint"] for a in t["agents"])
    assert eps == sorted(p["urls"][0] for p in ps) and eps[0] != eps[1], (eps, ps)
print("two servers ok")
PY

# A reload inside a measured phase (agent "big" asks another num_ctx than
# the warm-up's, so Ollama reloads the model in its solo phase): in the
# /api/ps samples, and noted by analyze.
cat >"$WORK/reload.json" <<P
{"name": "reload", "runs": 1, "runtimes": ["uv"],
 "servers": {"a": {"command": ["$EMU", "--listen", "{host}", "--time-scale", "5"]}},
 "agents": [{"id": "small", "endpoint": "server:a", "prompt": "hi", "options": {"num_ctx": 2048, "num_predict": 20}},
            {"id": "big", "endpoint": "server:a", "prompt": "hi", "options": {"num_ctx": 8192, "num_predict": 20}}]}
P
"$COLLECT" --plan "$WORK/reload.json" --telemetry-interval 10 --out "$WORK/rl" --quiet || fail "reload plan: exit $?"
grep -q '"context_length":8192' "$WORK/rl/uv/default/run_1.json" || fail "no /api/ps sample of the reloaded model"
if [ -n "${ANALYZE:-}" ]; then
    "$ANALYZE" --full "$WORK/rl.md" "$WORK/rl" >/dev/null 2>&1 || fail "analyze reload: exit $?"
    grep -q 'uv/default run 1: gemma3:latest [a-z]* during solo:big (server:a' "$WORK/rl.md" ||
        fail "analyze: no reload note: $(sed -n '/Server settings/,/^## The/p' "$WORK/rl.md")"
fi

# 3. --emulate is the same mechanism: --server-env reaches the emulator.
"$COLLECT" --endpoint http://127.0.0.1:1 --emulate --time-scale 20 --server-env OLLAMA_NUM_PARALLEL=1,4 \
    --agents 4 --prompt hi --num-predict 40 --runs 1 --runtime uv --out "$WORK/emu" --quiet ||
    fail "--emulate --server-env: exit $?"
grep -q '"OLLAMA_NUM_PARALLEL":"4"' "$WORK/emu/uv/OLLAMA_NUM_PARALLEL=4/run_1.json" || fail "emulate env not recorded"
python3 - "$WORK/emu" <<'PY' || fail "--emulate: OLLAMA_NUM_PARALLEL had no effect"
import json, sys
c = {}
for v in ("1", "4"):
    t = json.load(open(sys.argv[1] + "/uv/OLLAMA_NUM_PARALLEL=%s/run_1.json" % v))
    c[v] = [p["end_ns"] - p["start_ns"] for p in t["phases"] if p["kind"] == "concurrent"][0]
# 4 requests one at a time vs batched: at least 1.5x apart.
assert c["1"] > 1.5 * c["4"], c
PY

# 4. Faults, each before any run (exit 3, nothing written but the log).
expect3() { # name, grep pattern, collect args...
    name=$1 pat=$2
    shift 2
    rc=0
    "$COLLECT" --runs 1 --runtime uv --out "$WORK/f-$name" "$@" 2>"$WORK/f-$name.log" || rc=$?
    [ "$rc" = 3 ] || fail "$name: expected exit 3, got $rc ($(cat "$WORK/f-$name.log"))"
    grep -q "$pat" "$WORK/f-$name.log" || fail "$name: message: $(cat "$WORK/f-$name.log")"
    [ ! -e "$WORK/f-$name/uv" ] || fail "$name: runs written"
}
expect3 missing "command 'no-such-server-xyz' is not found on PATH" --prompt hi --server "no-such-server-xyz serve"
expect3 exits "'false' exited with status 1 before it answered" --prompt hi --server "false"
"$EMU" --listen 127.0.0.1:0 --quiet >"$WORK/busy.out" 2>/dev/null &
BUSY=$!
trap 'kill $BUSY 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do grep -q listening "$WORK/busy.out" && break; sleep 0.1; done
port=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$WORK/busy.out")
expect3 busy "address already in use" --prompt hi --server "$EMU --listen 127.0.0.1:$port"
kill $BUSY
cat >"$WORK/never.json" <<P
{"name": "never", "runs": 1, "runtimes": ["uv"],
 "servers": {"a": {"command": ["sleep", "30"], "ready_timeout_s": 0.5,
                   "env": {"OLLAMA_HOST": "127.0.0.1:{port}", "MY_API_KEY": "hunter2"}}},
 "agents": [{"id": "x", "endpoint": "server:a", "prompt": "hi"}]}
P
t0=$(date +%s)
expect3 never "no answer at http://127.0.0.1:[0-9]*/api/version or /v1/models within 0.5 s" --plan "$WORK/never.json"
[ $(( $(date +%s) - t0 )) -le 8 ] || fail "never ready: the stop took too long"
# A plan naming an unknown server: a usage error.
sed 's/"server:a"/"server:b"/' "$WORK/never.json" >"$WORK/unknown.json"
rc=0
"$COLLECT" --plan "$WORK/unknown.json" --out "$WORK/f-unknown" 2>"$WORK/f-unknown.log" || rc=$?
[ "$rc" = 2 ] && grep -q 'endpoint "server:b" names no server' "$WORK/f-unknown.log" ||
    fail "unknown server: rc $rc, $(cat "$WORK/f-unknown.log")"
# Secrets are masked where the plan is shown.
"$COLLECT" --plan "$WORK/never.json" --dry-run >"$WORK/dry.json" || fail "--dry-run: exit $?"
grep -q '"MY_API_KEY":[[:space:]]*"\*\*\*"' "$WORK/dry.json" && ! grep -q hunter2 "$WORK/dry.json" ||
    fail "secret not masked: $(grep -A2 MY_API "$WORK/dry.json")"
# --server-env over a plan file: each config once per value, named by it.
"$COLLECT" --plan "$WORK/never.json" --server-env OLLAMA_NUM_PARALLEL=1,2 --dry-run >"$WORK/dry2.json" ||
    fail "--plan --server-env --dry-run: exit $?"
python3 - "$WORK/dry2.json" <<'PY' || fail "--server-env over a plan's configs"
import json, sys
p = json.load(open(sys.argv[1]))
got = [(c["name"], c["server_env"]) for c in p["configs"]]
assert got == [("OLLAMA_NUM_PARALLEL=1", {"OLLAMA_NUM_PARALLEL": "1"}),
               ("OLLAMA_NUM_PARALLEL=2", {"OLLAMA_NUM_PARALLEL": "2"})], got
PY
sed 's/"agents": \[/"configs": [{"name": "c", "server_env": {"OLLAMA_KEEP_ALIVE": "1m"}}], "agents": [/' \
    "$WORK/never.json" >"$WORK/cfg.json"
"$COLLECT" --plan "$WORK/cfg.json" --server-env OLLAMA_NUM_PARALLEL=4 --dry-run >"$WORK/dry3.json" ||
    fail "configs + --server-env: exit $?"
tr -d ' \t\n' <"$WORK/dry3.json" | grep -q '"name":"c+OLLAMA_NUM_PARALLEL=4","server_env":{"OLLAMA_KEEP_ALIVE":"1m","OLLAMA_NUM_PARALLEL":"4"}' ||
    fail "config c with --server-env: $(grep -A4 '"c+' "$WORK/dry3.json")"
echo "servers: ok"
