#!/usr/bin/env bash
# ctest wrapper (issue 18): two unmodified scripts on the official npm
# clients, measured as collect exec runtimes through the recording proxy:
#   ollama_default.mjs  the ollama client's default instance: it connects to
#                       127.0.0.1:11434 and reads no variable, so the proxy
#                       listens there (plan "exec_listen"), the emulator
#                       elsewhere;
#   openai_env.mjs      the openai client configured by OPENAI_BASE_URL alone;
#   openai_create.mjs   the same client without streaming (create(), as most
#                       agent code calls it), on chat completions and on the
#                       Responses API: answers recorded whole.
# Neither reads the job nor sends X-Parbench-Request: each agent's request is
# known by endpoint and order, and the solo baselines replay what the script
# sent ("solo": "replay"). Checks every run valid, the requests the scripts
# sent (API, no id, 40 tokens each) recorded as the agents', and each solo
# phase a replay of the recorded request.
# Usage: run.sh COLLECT WORK_DIR
# Exit 77 (skipped) when node or npm is missing, the install fails, or
# 127.0.0.1:11434 is taken (a real Ollama).
set -euo pipefail
collect=$1
work=$2
here=$(cd "${0%/*}" && pwd)

. "$here/../npm_setup.sh"
npm_setup "$work" "$here" "$here/ollama_default.mjs" "$here/openai_env.mjs" "$here/openai_create.mjs"

# Both agents on one endpoint (the scripts' one client), two slots.
cat >"$work/plan.json" <<P
{"name": "clients-exec", "model": "gemma3:latest",
 "agents": [{"id": "a", "endpoint": "http://127.0.0.1:11434", "prompt": "Name three rivers.", "options": {"num_predict": 40}},
            {"id": "b", "endpoint": "http://127.0.0.1:11434", "prompt": "Count to ten.", "options": {"num_predict": 40}}],
 "runtimes": {"ollama-js": {"exec": ["node", "$work/ollama_default.mjs"], "solo": "replay"},
              "openai-node": {"exec": ["node", "$work/openai_env.mjs"], "solo": "replay"},
              "openai-chat": {"exec": ["node", "$work/openai_create.mjs", "chat"], "solo": "replay"},
              "openai-responses": {"exec": ["node", "$work/openai_create.mjs", "responses"], "solo": "replay"}},
 "exec_listen": {"http://127.0.0.1:11434": "127.0.0.1:11434"},
 "warmup": false, "runs": 2}
P
rm -rf "$work/runs"
rc=0
"$collect" --plan "$work/plan.json" --emulate-ideal --emulate-parallel 2 --time-scale 20 \
    --out "$work/runs" --progress none 2>"$work/collect.log" || rc=$?
if [ $rc = 3 ] && grep -q "cannot listen on 127.0.0.1:11434" "$work/collect.log"; then
  skip "127.0.0.1:11434 is taken (a real Ollama?): $(tail -1 "$work/collect.log")"
fi
[ $rc = 0 ] || { cat "$work/collect.log" >&2; echo "FAIL: collect exit $rc" >&2; exit 1; }
/usr/bin/python3 - "$work/runs" <<'PY'
import json, os, sys
root = sys.argv[1]
for rt, api, streamed in (("ollama-js", "chat", True), ("openai-node", "openai-chat", True),
                         ("openai-chat", "openai-chat", False),
                         ("openai-responses", "openai-responses", False)):
    for k in (1, 2):
        t = json.load(open(f"{root}/{rt}/default/run_{k}.json"))
        assert t["run"]["valid"], (rt, k, t["run"]["invalid_reason"])
        ph = {p["name"]: p for p in t["phases"]}
        c = ph["concurrent"]
        assert c["process"]["exit_status"] == 0 and not c["process"]["other_requests"], c["process"]
        out = open(f"{root}/{rt}/default/run_{k}.exec/concurrent.stdout").read()
        assert out.startswith(rt + ": answers of"), out
        rq = c["requests"]
        assert sorted(r["agent"] for r in rq) == ["a", "b"], rq
        for r in rq:
            assert r["source"] == "proxy" and r["api"] == api and not r["request_id_sent"], r
            assert r["ok"] and r["tokens"] == 40 and r["endpoint"] == "http://127.0.0.1:11434", r
            assert r.get("streamed", True) == streamed, (rt, r.get("streamed"))
        for a in ("a", "b"):
            s = ph["solo:" + a]
            assert s["baseline"] == "replay" and s["replayed"] == "recorded", s
            (r,) = s["requests"]
            assert r["ok"] and r["dialect"] == api and r["tokens"] == 40, r
            assert r.get("streamed", True) == streamed, (rt, "replay", r.get("streamed"))
print("PASS")
PY
