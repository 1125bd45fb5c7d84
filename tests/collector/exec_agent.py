"""A stand-in agent program for collect's exec runtimes (test_exec.sh):
reads the job file named by PARBENCH_JOB (data/EXEC.md), sends every
agent's request.body verbatim to its endpoint + request.path, all agents
at once on threads (a join), reads each stream to its last line, and exits
0 when every answer ended with "done": true, else 1 with one line on
stderr. A workflow agent ("steps") runs its steps itself: llm steps as
generate requests with {{previous}} filled, work steps as sleeps; an agent
waits its offset_s first. --mode makes it a bad program instead: fail (exit 3 with a
message), crash (SIGSEGV), hang (sleeps), flood (3 MiB on stdout, then
works), elsewhere (the last agent's request is not sent through its
endpoint URL, as if it went to another address; exit 0), stray (also a GET
/api/tags and a generate request for a model no agent uses, without
X-Parbench-Request, to the first endpoint), fixed URL_A URL_B (agents a
and b connect to these hard-coded addresses, ignoring the job's endpoints),
failonce MARKER (as fail when the file MARKER is absent, which it creates),
twice (every agent's request sent twice, one after the other).
It prints its argv and the endpoint variables on stdout."""
import json
import os
import signal
import sys
import threading
import time
import urllib.request

mode = "ok"
args = sys.argv[1:]
if len(args) >= 2 and args[0] == "--mode":
    mode = args[1]
print("argv " + json.dumps(args))
for v in ("OLLAMA_HOST", "OLLAMA_BASE_URL", "OPENAI_BASE_URL"):
    print(f"{v}={os.environ.get(v, '')}")
sys.stdout.flush()
if mode == "fail" or (mode == "failonce" and not os.path.exists(args[2])):
    if mode == "failonce":
        open(args[2], "w").close()
    print("exec_agent: the model refused (test)", file=sys.stderr)
    sys.exit(3)
if mode == "crash":
    os.kill(os.getpid(), signal.SIGSEGV)
if mode == "hang":
    time.sleep(60)
if mode == "flood":
    sys.stdout.write("x" * (3 * 1024 * 1024))
    sys.stdout.flush()

job = json.load(open(os.environ["PARBENCH_JOB"]))
assert job["parbench_job"] == 1
errors = []


def stream(url, body, headers):
    """POSTs body, reads the NDJSON stream to its end: the answer text."""
    req = urllib.request.Request(url, method="POST", data=json.dumps(body).encode(),
                                 headers=dict(headers, **{"Content-Type": "application/json"}))
    last, text = None, []
    with urllib.request.urlopen(req, timeout=30) as r:
        for line in r:
            if line.strip():
                last = json.loads(line)
                text.append(last.get("response", ""))
    if not last or not last.get("done"):
        raise RuntimeError("the stream did not end with done")
    return "".join(text)


def run(agent):
    if mode == "fixed":
        agent = dict(agent, endpoint=args[2] if agent["id"] == "a" else args[3])
    try:
        time.sleep(agent.get("offset_s", 0))
        if "steps" not in agent:
            rq = agent["request"]
            for _ in range(2 if mode == "twice" else 1):
                stream(agent["endpoint"] + rq["path"], rq["body"], rq["headers"])
            return
        # A workflow, built from the job's fields (generate API).
        prev = ""
        for st in agent["steps"]:
            if "work" in st:
                time.sleep(st["work"]["seconds"])
                continue
            llm = st["llm"]
            body = {"model": agent["model"], "prompt": llm["prompt"].replace("{{previous}}", prev),
                    "stream": True, "options": llm["options"]}
            prev = stream(agent["endpoint"] + "/api/generate", body, {})
    except Exception as e:  # noqa: BLE001 - any failure is the agent's
        errors.append(f"agent {agent['id']}: {e}")


agents = job["agents"][:-1] if mode == "elsewhere" else job["agents"]
threads = [threading.Thread(target=run, args=(a,)) for a in agents]
for t in threads:
    t.start()
for t in threads:
    t.join()
if mode == "stray":
    first = job["agents"][0]["endpoint"]
    urllib.request.urlopen(first + "/api/tags", timeout=30).read()
    try:
        stream(first + "/api/generate", {"model": "other:latest", "prompt": "x", "stream": True}, {})
    except Exception:  # noqa: BLE001 - the server has no such model: expected
        pass
if errors:
    print("exec_agent: " + errors[0], file=sys.stderr)
    sys.exit(1)
print(f"ok {job['phase']} {len(job['agents'])}")
