#!/usr/bin/python3
"""peer_httpx: N agents stream one /api/generate request each, at once, from
an Ollama-compatible server with asyncio + httpx (the stack a Python user
would pick). Prints absolute CLOCK_MONOTONIC times (ns) per agent on stdout,
in the format every peer shares (bench/peers/README.md):
  A <request_id> <start> <first_token> <end> <tokens> <bytes>
  C <request_id> <t_line_1> <t_line_2> ...   (one time per line received)
  R <cpu_us> <user_us> <system_us>   (CPU used while streaming)
Usage: /usr/bin/python3 peer_httpx.py URL N TOKENS [PROMPT]
(Debian's python3-httpx; `python3` on PATH may be another interpreter.)"""
import asyncio
import json
import os
import resource
import sys
import time

import httpx


def cpu_us():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return time.process_time_ns() // 1000, int(ru.ru_utime * 1e6), int(ru.ru_stime * 1e6)


def mono_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


async def agent(client, url, rid, body):
    a = {"id": rid, "start": mono_ns(), "first": 0, "end": 0, "tokens": 0,
         "bytes": 0, "lines": [], "error": None}
    try:
        async with client.stream("POST", url + "/api/generate", content=body,
                                 headers={"X-Parbench-Request": rid,
                                          "Content-Type": "application/json"}) as r:
            if r.status_code != 200:
                a["error"] = "HTTP %d" % r.status_code
            else:
                async for line in r.aiter_lines():
                    t = mono_ns()
                    if not line:
                        continue
                    a["lines"].append(t)
                    a["bytes"] += len(line) + 1
                    if json.loads(line).get("done"):
                        a["end"] = t
                    else:
                        if not a["tokens"]:
                            a["first"] = t
                        a["tokens"] += 1
    except Exception as e:  # recorded, like every client records a failure
        a["error"] = "%s: %s" % (type(e).__name__, e)
    if not a["end"]:
        a["end"] = mono_ns()
    return a


async def main():
    if len(sys.argv) < 4:
        print("usage: peer_httpx.py URL N TOKENS [PROMPT]", file=sys.stderr)
        return 2
    url, n, tokens = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    prompt = sys.argv[4] if len(sys.argv) > 4 else "Benchmark prompt."
    # httpx allows 100 connections by default: 128 agents would queue for
    # one. No timeout: a request lasts as long as the server streams.
    cpu0 = cpu_us()  # the streaming's CPU, as collect records per phase
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(limits=limits, timeout=None, trust_env=False) as client:
        body = json.dumps({"model": "gemma3:latest", "prompt": prompt, "stream": True,
                           "options": {"num_predict": tokens}})
        agents = await asyncio.gather(*(agent(client, url, "httpx-%d-%d" % (os.getpid(), i + 1), body)
                                        for i in range(n)))
    cpu1 = cpu_us()
    out = []
    failed = 0
    for a in agents:
        if a["error"]:
            print("peer_httpx: %s: %s" % (a["id"], a["error"]), file=sys.stderr)
            failed += 1
        out.append("A %s %d %d %d %d %d" % (a["id"], a["start"], a["first"], a["end"],
                                            a["tokens"], a["bytes"]))
        out.append("C %s %s" % (a["id"], " ".join(map(str, a["lines"]))))
    out.append("R %d %d %d" % tuple(b - a for a, b in zip(cpu0, cpu1)))
    sys.stdout.write("\n".join(out) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
