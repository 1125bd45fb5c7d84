#!/bin/sh
# Exec runtimes (issue 18 section 1): a program is a runtime. exec_agent.py
# (a stand-in agent) reads its job, sends the request bodies verbatim and
# streams them; collect starts it once per phase (warm-ups, solo phases,
# the concurrent phase) with PARBENCH_JOB and the endpoint variables set,
# fills {endpoint:ID} {model} {agents}, times it spawn to exit and keeps
# its output beside the run. Every bad program gives an invalid run with
# its reason: non-zero exit, a crash, a hang past --timeout (killed); a
# missing program stops collect before anything is measured; output past
# 1 MiB is counted, not kept. "solo": "replay" runs the solo phases with
# parbench's serial driver.
. "$SRC/lib.sh"
[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 absent (runs the stand-in agent)"; exit 77; }
AG="/usr/bin/python3 $SRC/exec_agent.py"
"$COLLECT" --plan "$SRC/ideal.json" --emulate-ideal --time-scale 20 --runs 2 --runtime uv \
    --exec "py=$AG --url {endpoint:b} --n {agents} --model '{model}' 'a b'" \
    --out "$WORK/ok" --progress none 2>"$WORK/log" || { cat "$WORK/log" >&2; fail "good program: exit $?"; }
"$TRACE_CHECK" "$WORK/ok" --runs 4 --all-valid >/dev/null || fail "good program: runs not valid"
d="$WORK/ok/py/default/run_1.exec"
for ph in warmup-1 warmup-2 solo-a solo-b concurrent; do
    [ -f "$d/$ph.job" ] && [ -f "$d/$ph.stdout" ] && [ -f "$d/$ph.stderr" ] || fail "$ph: job or output not kept"
    grep -q "^ok " "$d/$ph.stdout" || fail "$ph: the program did not finish its requests: $(cat "$d/$ph.stderr")"
done
grep -q '^ok concurrent 2$' "$d/concurrent.stdout" || fail "concurrent job lacks an agent"
grep -q '^ok solo 1$' "$d/solo-a.stdout" || fail "solo job has other agents"
/usr/bin/python3 - "$WORK/ok/py/default/run_1.json" "$d" <<'PY' || fail "exec trace"
import json, sys, os
t = json.load(open(sys.argv[1])); d = sys.argv[2]
rt = [p for p in t["phases"]]
assert [p["kind"] for p in rt].count("warmup") == 2
for p in rt:
    pr = p["process"]
    assert pr["exit_status"] == 0 and pr["signal"] is None and not pr["timed_out"], pr
    # Without the recording proxy no request is recorded; with it, one per
    # job agent, each its agent's (data/EXEC.md).
    rec = p["requests"]
    if pr["requests_recorded"]:
        job_ids = [a["id"] for a in json.load(open(os.path.join(d, pr["job"])))["agents"]]
        assert sorted(r["agent"] for r in rec) == sorted(job_ids) and all(r["ok"] for r in rec), rec
    else:
        assert rec == [], p
    # The phase spans its requests on the wire, as a built-in driver's
    # does (first t_start_ns .. last t_end_ns), so solo and concurrent
    # durations compare like with like; the process span (spawn to exit,
    # interpreter start-up included) is process.start_ns .. end_ns around it.
    assert pr["requests_recorded"] and rec, p["name"]
    assert p["start_ns"] == min(r["t_start_ns"] for r in rec), (p["start_ns"], rec)
    assert p["end_ns"] == max(r["t_end_ns"] for r in rec), p["name"]
    assert pr["start_ns"] < p["start_ns"] < p["end_ns"] < pr["end_ns"], (p["name"], pr)
    for r in rec:
        # Every chunk timestamped on arrival and when the program's socket
        # took it (write-back lag >= 0), mapped to the job's agent.
        assert r["source"] == "proxy" and r["request_id_sent"] and len(r["chunks"]) > 1, r
        assert len(r["chunks_written_ns"]) == len(r["chunks"]), r["agent"]
        lags = [w - c[0] for c, w in zip(r["chunks"], r["chunks_written_ns"])]
        assert min(lags) >= 0 and max(lags) == r["writeback_lag_max_ns"], r["agent"]
    job = json.load(open(os.path.join(d, pr["job"])))
    kind = p["kind"]
    assert job["phase"] == kind and job["runtime"] == "py" and job["run"] == 1
    ids = [a["id"] for a in job["agents"]]
    assert ids == (["a", "b"] if kind == "concurrent" else [p["name"].split(":")[1]] if kind == "solo" else ids)
    agents = {a["id"]: a for a in t["agents"]}
    for a in job["agents"]:
        b = a["request"]["body"]
        assert a["request"]["path"] == "/api/generate" and b["stream"] is True
        assert b["prompt"] == a["prompt"] and b["options"] == a["options"]
        if kind != "warmup":  # the paired seed of the trace
            assert a["options"]["seed"] == agents[a["id"]]["sample_seed"], a
        # The server's URL, or its recording proxy's (on loopback).
        direct = a["endpoint"] == agents[a["id"]]["endpoint"]
        assert direct != pr["requests_recorded"] and a["endpoint"].startswith("http://"), a
    # Templates: {endpoint:b} is agent b's URL, {agents} the phase's count,
    # quoting kept 'a b' one word.
    out = open(os.path.join(d, pr["stdout"]["file"])).read().splitlines()
    argv = json.loads(out[0][5:])
    assert argv[0] == "--url" and argv[2:] == ["--n", str(len(job["agents"])), "--model", "gemma3:latest",
                                                 "a b"], argv
    assert (argv[1] == agents["b"]["endpoint"]) != pr["requests_recorded"], argv
    if "b" in [a["id"] for a in job["agents"]]:
        assert argv[1] == [a for a in job["agents"] if a["id"] == "b"][0]["endpoint"], argv
    first = job["agents"][0]["endpoint"]
    assert out[1] == "OLLAMA_HOST=" + first and out[3] == "OPENAI_BASE_URL=" + first + "/v1", out
PY

# The wire speedup of a program whose two requests overlap is ~2 on the
# ideal emulator (independent instances), computed here from the trace as
# data/FORMAT.md defines it: sum of solo durations / concurrent wall. With
# the phase spanning the process (start-up included) it read 0.96.
/usr/bin/python3 - "$WORK/ok/py/default" <<'PY' || fail "exec wire speedup"
import json, sys
for k in (1, 2):
    t = json.load(open(f"{sys.argv[1]}/run_{k}.json"))
    ph = {p["name"]: p for p in t["phases"]}
    c = ph["concurrent"]
    solo = sum(r["t_end_ns"] - r["t_start_ns"] for n in ("solo:a", "solo:b") for r in ph[n]["requests"])
    s = solo / (c["end_ns"] - c["start_ns"])
    assert 1.6 < s < 2.2, (k, s)
PY

# Bad programs: each run invalid with its reason, said on stderr too;
# collect goes on (exit 1), and the run measured beside it in the same
# sweep (uv) is valid and kept.
bad() { # name mode reason-substring [extra collect args]
    name=$1; mode=$2; why=$3; shift 3
    rc=0
    "$COLLECT" --plan "$SRC/ideal.json" --emulate-ideal --time-scale 20 --runs 1 --runtime "uv,$name" \
        --no-warmup --exec "$name=$AG --mode $mode" "$@" --out "$WORK/$name" --progress lines \
        2>"$WORK/$name.log" || rc=$?
    [ "$rc" = 1 ] || { cat "$WORK/$name.log" >&2; fail "$name: exit $rc, expected 1"; }
    "$TRACE_CHECK" "$WORK/$name" --runs 2 >/dev/null || fail "$name: traces"
    grep -F -- "INVALID: exec runtime $name:" "$WORK/$name.log" | grep -qF -- "$why" \
        || { cat "$WORK/$name.log" >&2; fail "$name: stderr lacks '$why'"; }
    /usr/bin/python3 - "$WORK/$name" "$name" "$why" <<'PY' || fail "$name: reason lacks '$why' or the uv run was lost"
import json, sys
d, name, why = sys.argv[1:]
u = json.load(open(f"{d}/uv/default/run_1.json"))["run"]
b = json.load(open(f"{d}/{name}/default/run_1.json"))["run"]
assert u["valid"], u
assert not b["valid"] and why in b["invalid_reason"], b["invalid_reason"]
PY
}
bad fails fail "exited with status 3: exec_agent: the model refused (test)"
# A program that fails once, measured again with --retry-failed: the
# invalid run is redone, the valid uv run is not touched.
bad fails1 "failonce $WORK/marker" "exited with status 3: exec_agent: the model refused (test)"
before=$(cksum <"$WORK/fails1/uv/default/run_1.json")
"$COLLECT" --plan "$SRC/ideal.json" --emulate-ideal --time-scale 20 --runs 1 --runtime "uv,fails1" --no-warmup \
    --exec "fails1=$AG --mode failonce $WORK/marker" --retry-failed --out "$WORK/fails1" --progress none \
    2>"$WORK/fails2.log" || { cat "$WORK/fails2.log" >&2; fail "retry-failed: collect failed"; }
[ "$(cksum <"$WORK/fails1/uv/default/run_1.json")" = "$before" ] || fail "retry-failed rewrote the valid uv run"
"$TRACE_CHECK" "$WORK/fails1" --runs 2 --all-valid >/dev/null || fail "retry-failed: runs not valid"
bad crashes crash "crashed: signal 11"
# A program that is there but cannot be started (its interpreter is
# missing): found at spawn.
printf '#!/nonexistent/interpreter\n' >"$WORK/noint"
chmod +x "$WORK/noint"
rc=0
"$COLLECT" --plan "$SRC/ideal.json" --emulate-ideal --time-scale 20 --runs 1 --runtime "uv,noint" --no-warmup \
    --exec "noint=$WORK/noint" --out "$WORK/noint-out" --progress lines 2>"$WORK/noint.log" || rc=$?
[ "$rc" = 1 ] && grep -q "exec runtime noint: cannot start $WORK/noint: no such file or directory" "$WORK/noint.log" \
    || { cat "$WORK/noint.log" >&2; fail "unstartable program: exit $rc"; }
grep -q '"valid":true' "$WORK/noint-out/uv/default/run_1.json" || fail "unstartable program: the uv run was lost"
# A request that did not go through the agent's endpoint URL: the proxy saw
# none for that agent.
bad elsewhere elsewhere "agent b sent no request through its endpoint URL (did it connect elsewhere?)" --no-solo
# Requests that are no agent's: kept beside the agents' (process.other_requests)
# with why; an LLM request for a model no agent uses makes the run invalid,
# a GET /api/tags does not by itself.
bad stray stray "model other:latest" --no-solo
/usr/bin/python3 - "$WORK/stray/stray/default/run_1.json" <<'PY' || fail "stray requests"
import json, sys
t = json.load(open(sys.argv[1]))
(c,) = [p for p in t["phases"] if p["kind"] == "concurrent"]
assert sorted(r["agent"] for r in c["requests"]) == ["a", "b"], c["requests"]
o = c["process"]["other_requests"]
assert [(r["method"], r["url_path"]) for r in o] == [("GET", "/api/tags"), ("POST", "/api/generate")], o
assert o[0]["stray"].startswith("not an LLM call") and "model other:latest" in o[1]["stray"], o
PY
# More requests than its agents send (a program that runs its own agents
# whatever the job says): the message says what serves such a program.
bad twice twice 'request 2 of agent a, which sends 1; a program that sends more requests than its job asks for (one that runs its own agents whatever the job says) needs "solo": "replay"' --no-solo
t0=$(date +%s)
bad hangs hang "still running after --timeout 1 s: killed (SIGTERM)" --timeout 1
[ $(($(date +%s) - t0)) -le 15 ] || fail "a hanging program was not stopped in time"
# Output past 1 MiB is counted, not kept; the run itself is fine.
"$COLLECT" --plan "$SRC/ideal.json" --emulate-ideal --time-scale 20 --runs 1 --runtime flood --no-warmup \
    --no-solo --exec "flood=$AG --mode flood" --out "$WORK/flood" --progress none 2>/dev/null || fail "flood: exit $?"
f="$WORK/flood/flood/default/run_1.exec/concurrent.stdout"
[ "$(wc -c <"$f")" = 1048576 ] || fail "stdout kept: $(wc -c <"$f") bytes, expected 1 MiB"
grep -q '"bytes":3145[0-9]*,"kept":1048576' "$WORK/flood/flood/default/run_1.json" || fail "stdout size not recorded"
# A missing program: refused before anything runs (exit 2), nothing written.
rc=0
"$COLLECT" --plan "$SRC/ideal.json" --emulate-ideal --runs 1 --exec "gone=$WORK/no-such-agent --x" \
    --out "$WORK/gone" --progress none 2>"$WORK/gone.log" || rc=$?
[ "$rc" = 2 ] && grep -q "runtime \"gone\": program $WORK/no-such-agent is missing" "$WORK/gone.log" \
    || { cat "$WORK/gone.log" >&2; fail "missing program: exit $rc"; }
[ ! -e "$WORK/gone/uv" ] || fail "runs measured despite a missing program"
rc=0
"$COLLECT" --plan "$SRC/ideal.json" --dry-run --exec "q=$AG 'unclosed" >/dev/null 2>"$WORK/q.log" || rc=$?
[ "$rc" = 2 ] && grep -q "unclosed ' quote" "$WORK/q.log" || fail "unclosed quote: exit $rc"

# A program that hard-codes its servers' addresses: the proxies listen there
# (--exec-listen by endpoint URL or agent id; plan "exec_listen"), the
# emulator elsewhere; the requests are recorded and the runs valid.
ports=$(/usr/bin/python3 -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
set -- $ports
pa=$1 pb=$2 pc=$3
"$COLLECT" --plan "$SRC/ideal.json" --emulate-ideal --time-scale 20 --runs 1 --no-warmup --runtime fixed \
    --exec "fixed=$AG --mode fixed http://127.0.0.1:$pa http://127.0.0.1:$pb" \
    --exec-listen "http://127.0.0.1:21434=127.0.0.1:$pa" --exec-listen "b=:$pb" \
    --out "$WORK/fixed" --progress none 2>"$WORK/fixed.log" || { cat "$WORK/fixed.log" >&2; fail "fixed addresses: exit $?"; }
"$TRACE_CHECK" "$WORK/fixed" --runs 1 --all-valid >/dev/null || fail "fixed addresses: run not valid"
grep -Eq "\"endpoint\":[[:space:]]*\"http://127.0.0.1:$pb\"" "$WORK/fixed/fixed/default/run_1.exec/concurrent.job" \
    || fail "the job does not name the proxy's fixed address"
# The address taken by another program: exit 3 before anything is measured.
/usr/bin/python3 -c "
import socket, time
s = socket.socket(); s.bind(('127.0.0.1', $pc)); s.listen(1); time.sleep(20)" &
holder=$!
sleep 0.5
rc=0
"$COLLECT" --plan "$SRC/ideal.json" --emulate-ideal --runs 1 --no-warmup --runtime fixed --exec "fixed=$AG" \
    --exec-listen "a=127.0.0.1:$pc" --out "$WORK/taken" --progress none 2>"$WORK/taken.log" || rc=$?
kill $holder 2>/dev/null || true
[ "$rc" = 3 ] && grep -q "endpoint http://127.0.0.1:21434 cannot listen on 127.0.0.1:$pc: address already in use" "$WORK/taken.log" \
    || { cat "$WORK/taken.log" >&2; fail "port in use: exit $rc"; }
[ ! -e "$WORK/taken/fixed" ] || fail "runs measured despite a taken proxy address"
rc=0
"$COLLECT" --plan "$SRC/ideal.json" --dry-run --exec-listen "nobody=127.0.0.1:1" >/dev/null 2>"$WORK/nb.log" || rc=$?
[ "$rc" = 2 ] && grep -q '"nobody" is neither an endpoint of the plan nor an agent id' "$WORK/nb.log" \
    || { cat "$WORK/nb.log" >&2; fail "unknown --exec-listen endpoint: exit $rc"; }
# The plan's twin, overridden by the flag.
sed 's|"runs": 3|"runs": 3, "exec_listen": {"http://127.0.0.1:21434": ":11434", "b": "127.0.0.1:11435"}|' \
    "$SRC/ideal.json" >"$WORK/listen.json"
"$COLLECT" --plan "$WORK/listen.json" --dry-run --exec-listen b=127.0.0.1:11436 >"$WORK/listen.out" \
    || fail "plan exec_listen: exit $?"
/usr/bin/python3 -c "
import json, sys
l = json.load(open('$WORK/listen.out'))['exec_listen']
assert l == {'http://127.0.0.1:21434': '127.0.0.1:11434', 'http://127.0.0.1:21435': '127.0.0.1:11436'}, l" \
    || fail "plan exec_listen not read"

# Plan runtimes objects: a typo'd key, "solo" on a built-in, an empty argv.
for bad in '"rp": {"exec": ["sh"], "sollo": "replay"}|unknown key "sollo"' \
           '"uv": {"solo": "replay"}|"solo" is for exec runtimes' \
           '"rp": {"exec": []}|must be a non-empty array'; do
    printf '{"agents": [{"id": "a", "endpoint": "http://127.0.0.1:1", "prompt": "x"}], "runtimes": {%s}}\n' \
        "${bad%%|*}" >"$WORK/bad.json"
    rc=0; "$COLLECT" --plan "$WORK/bad.json" --dry-run >/dev/null 2>"$WORK/bad.log" || rc=$?
    [ "$rc" = 2 ] && grep -q "${bad#*|}" "$WORK/bad.log" || { cat "$WORK/bad.log" >&2; fail "plan runtimes {${bad%%|*}}: exit $rc"; }
done

# Workflow agents and arrival offsets reach the program: each job agent has
# its steps (llm steps with their paired seeds, work seconds after time
# scaling) and its offset; the program runs them (valid runs).
"$COLLECT" --plan "$SRC/workflow.json" --emulate-ideal --time-scale 20 --runs 1 --runtime wf --stagger 0.2 \
    --exec "wf=$AG" --out "$WORK/wf" --progress none 2>"$WORK/wf.log" || { cat "$WORK/wf.log" >&2; fail "workflow program: exit $?"; }
/usr/bin/python3 - "$WORK/wf/wf/default/run_1.json" "$WORK/wf/wf/default/run_1.exec" "$SRC/workflow.json" <<'PY' || fail "workflow job"
import json, sys, os
t = json.load(open(sys.argv[1])); d = sys.argv[2]; plan = json.load(open(sys.argv[3]))
assert t["run"]["valid"], t["run"]["invalid_reason"]
seeds = {a["id"]: a["sample_seed"] for a in t["agents"]}
for p in t["phases"]:
    job = json.load(open(os.path.join(d, p["process"]["job"])))
    assert "ok " in open(os.path.join(d, p["process"]["stdout"]["file"])).read()
    for i, a in enumerate(job["agents"]):
        want = i * 0.2 / 20 if p["kind"] == "concurrent" else 0
        assert abs(a["offset_s"] - want) < 1e-9, (p["name"], a["offset_s"], want)
        if p["kind"] == "warmup":
            assert "steps" not in a
            continue
        ps = [x for x in plan["agents"] if x["id"] == a["id"]][0]["steps"]
        assert len(a["steps"]) == len(ps)
        for k, (st, pst) in enumerate(zip(a["steps"], ps)):
            if "work" in pst:
                assert abs(st["work"]["seconds"] - pst["work"]["seconds"] / 20) < 1e-12 and st["work"]["cpu"] is False
            else:
                assert st["llm"]["prompt"] == pst["llm"]["prompt"]
                assert st["llm"]["options"]["seed"] == (seeds[a["id"]] + 1000003 * k) % 2147483647, st
PY

# "solo": "replay": solo phases are parbench's own serial requests.
cat >"$WORK/replay.json" <<P
{"agents": [{"id": "a", "endpoint": "http://127.0.0.1:21434", "prompt": "x", "options": {"num_predict": 20}},
            {"id": "b", "endpoint": "http://127.0.0.1:21435", "prompt": "y", "options": {"num_predict": 20}}],
 "runtimes": {"rp": {"exec": ["/usr/bin/python3", "$SRC/exec_agent.py"], "solo": "replay"}},
 "warmup": false, "runs": 1}
P
"$COLLECT" --plan "$WORK/replay.json" --emulate-ideal --time-scale 20 --out "$WORK/rp" --progress none \
    2>"$WORK/rp.log" || { cat "$WORK/rp.log" >&2; fail "replay: exit $?"; }
/usr/bin/python3 - "$WORK/rp/rp/default/run_1.json" "$WORK/rp/rp/default/run_1.exec" <<'PY' || fail "replay trace"
import json, sys, os
t = json.load(open(sys.argv[1])); d = sys.argv[2]
kinds = [p["kind"] for p in t["phases"]]
# The concurrent phase runs first: its recorded requests are the baseline's.
assert kinds == ["concurrent", "solo", "solo"], kinds
rec = json.load(open(os.path.join(d, "concurrent.replay")))
job = json.load(open(os.path.join(d, "concurrent.job")))
for p in t["phases"]:
    if p["kind"] == "solo":
        assert p["baseline"] == "replay" and p["replayed"] == "recorded" and "process" not in p, p["name"]
        (r,) = p["requests"]
        assert r["ok"] and "source" not in r, r
        a = r["agent"]
        # The program's body (here the job's, as exec_agent.py sends it
        # verbatim, with its paired seed), as recorded.
        jb = [x for x in job["agents"] if x["id"] == a][0]["request"]["body"]
        assert rec[a]["body"] == jb and rec[a]["api"] == "generate", (a, rec[a])
        assert rec[a]["request_id"] in [q["request_id"] for q in t["phases"][0]["requests"]]
        assert r["final"]["eval_count"] == 20
    else:
        assert "baseline" not in p and p["process"]["exit_status"] == 0
assert t["run"]["valid"]
PY
# Nothing beside a run is a .json file: analyze reads every one as a run.
! ls "$WORK"/rp/rp/default/run_1.exec/*.json >/dev/null 2>&1 || fail "a .json file in run_1.exec/"
# A program that builds its own body (another prompt, another token count
# than the job's): the replay sends what it sent, not the job's body.
cat >"$WORK/own.py" <<'PY'
import json, os, sys, urllib.request
job = json.load(open(os.environ["PARBENCH_JOB"]))
for a in job["agents"]:
    body = {"model": a["model"], "prompt": "own " + a["id"], "stream": True,
            "options": {"num_predict": 7, "seed": 99}}
    rq = urllib.request.Request(a["endpoint"] + "/api/generate", data=json.dumps(body).encode(),
                                headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(rq, timeout=30) as r:
        r.read()
print("ok")
PY
sed "s|\"\$SRC/exec_agent.py\"|\"$WORK/own.py\"|; s|$SRC/exec_agent.py|$WORK/own.py|" "$WORK/replay.json" >"$WORK/replay2.json"
"$COLLECT" --plan "$WORK/replay2.json" --emulate-ideal --time-scale 20 --out "$WORK/rp2" --progress none \
    2>"$WORK/rp2.log" || { cat "$WORK/rp2.log" >&2; fail "replay of own bodies: exit $?"; }
/usr/bin/python3 - "$WORK/rp2/rp/default/run_1.json" <<'PY' || fail "replay of own bodies"
import json, sys
t = json.load(open(sys.argv[1]))
for p in t["phases"]:
    for r in p["requests"]:
        assert r["final"]["eval_count"] == 7, (p["name"], r["final"])
PY
# Programs that do not stream (the openai SDK's create(), an Ollama client
# with stream: false): each answer is one JSON document, recorded whole
# (no first token, the server's count), in every API; a replayed solo phase
# sends the same non-streamed body.
cat >"$WORK/whole.py" <<'PY'
import json, os, sys, urllib.request
api = sys.argv[1]
job = json.load(open(os.environ["PARBENCH_JOB"]))
for a in job["agents"]:
    path, body = {
        "chat": ("/api/chat", {"messages": [{"role": "user", "content": "hi"}], "stream": False,
                               "options": {"num_predict": 9}}),
        "openai-chat": ("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}],
                                                 "max_tokens": 9}),
        "openai-responses": ("/v1/responses", {"input": "hi", "max_output_tokens": 9}),
    }[api]
    body["model"] = a["model"]
    rq = urllib.request.Request(a["endpoint"] + path, data=json.dumps(body).encode(),
                                headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(rq, timeout=30) as r:
        answer = json.load(r)
    assert answer, answer
print("ok")
PY
cat >"$WORK/whole.json" <<P
{"agents": [{"id": "a", "endpoint": "http://127.0.0.1:21434", "prompt": "x", "options": {"num_predict": 9}},
            {"id": "b", "endpoint": "http://127.0.0.1:21435", "prompt": "y", "options": {"num_predict": 9}}],
 "runtimes": {"wc": {"exec": ["/usr/bin/python3", "$WORK/whole.py", "chat"], "solo": "replay"},
              "wo": {"exec": ["/usr/bin/python3", "$WORK/whole.py", "openai-chat"], "solo": "replay"},
              "wr": {"exec": ["/usr/bin/python3", "$WORK/whole.py", "openai-responses"]}},
 "warmup": false, "runs": 1}
P
"$COLLECT" --plan "$WORK/whole.json" --emulate-ideal --time-scale 20 --out "$WORK/wh" --progress none \
    2>"$WORK/wh.log" || { cat "$WORK/wh.log" >&2; fail "non-streamed: exit $?"; }
/usr/bin/python3 - "$WORK/wh" <<'PY' || fail "non-streamed answers"
import json, sys
for rt, api in (("wc", "chat"), ("wo", "openai-chat"), ("wr", "openai-responses")):
    t = json.load(open(f"{sys.argv[1]}/{rt}/default/run_1.json"))
    assert t["run"]["valid"], (rt, t["run"].get("invalid_reason"))
    kinds = sorted(p["kind"] for p in t["phases"])
    assert kinds == ["concurrent", "solo", "solo"], (rt, kinds)
    for p in t["phases"]:
        for r in p["requests"]:
            assert r["ok"] and r.get("api", r.get("dialect")) == api, (rt, p["name"], r.get("error"))
            assert r["streamed"] is False and r["t_first_token_ns"] is None, (rt, p["name"])
            assert r["completion_tokens"] == 9 and r["tokens"] == 9, (rt, p["name"], r["tokens"])
            assert not r["tokens_estimated"]
    if rt != "wr":
        assert any(p.get("baseline") == "replay" for p in t["phases"]), rt
PY
# analyze says which requests were not streamed (no TTFT for them): every
# successful request of the three runtimes, concurrent and solo (2 agents x
# 2 phase kinds x 3 runtimes = 12).
"$ANALYZE" -q "$WORK/wh" >"$WORK/wh.md" || fail "analyze of non-streamed runs: exit $?"
grep -q "^- Not streamed: 12 of 12 requests (wc, wo, wr): the program asked for whole answers" "$WORK/wh.md" \
    || fail "analyze: no not-streamed line: $(grep -i stream "$WORK/wh.md")"
echo PASS
