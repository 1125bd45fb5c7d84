"""A stand-in agent program for collect's exec runtimes (test_exec.sh):
reads the job file named by PARBENCH_JOB (data/EXEC.md), sends every
agent's request.body verbatim to its endpoint + request.path, all agents
at once on threads (a join), reads each stream to its last line, and exits
0 when every answer ended with "done": true, else 1 with one line on
stderr. --mode makes it a bad program instead: fail (exit 3 with a
message), crash (SIGSEGV), hang (sleeps), flood (3 MiB on stdout, then
works). It prints its argv and the endpoint variables on stdout."""
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
if mode == "fail":
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


def run(agent):
    rq = agent["request"]
    req = urllib.request.Request(agent["endpoint"] + rq["path"], method=rq["method"],
                                 data=json.dumps(rq["body"]).encode(),
                                 headers=dict(rq["headers"], **{"Content-Type": "application/json"}))
    last = None
    with urllib.request.urlopen(req, timeout=30) as r:
        for line in r:
            if line.strip():
                last = json.loads(line)
    if not last or not last.get("done"):
        errors.append(f"agent {agent['id']}: the stream did not end with done")


threads = [threading.Thread(target=run, args=(a,)) for a in job["agents"]]
for t in threads:
    t.start()
for t in threads:
    t.join()
if errors:
    print("exec_agent: " + errors[0], file=sys.stderr)
    sys.exit(1)
print(f"ok {job['phase']} {len(job['agents'])}")
