#!/usr/bin/python3
"""pb_agent_httpx: the predecessor study's Python agent stack (asyncio +
httpx) as an exec runtime of `collect` (agents/README.md). Every agent of
the job (PARBENCH_JOB) streams its request at once (asyncio.gather), read
line by line to the end (aiter_lines). Run with /usr/bin/python3 (Debian's python3-httpx).
Exit: 0 all requests streamed to their final line, 1 a request failed, 2 bad
command line or job file."""
import asyncio
import os
import sys

import httpx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pb_job  # noqa: E402  (beside this file, not installed)


async def agent(client, a):
    o = pb_job.outcome(a)
    p = pb_job.Parser(a["sse"])
    try:
        async with client.stream("POST", a["url"], content=a["body"], headers=a["headers"]) as r:
            o["status"] = r.status_code
            if r.status_code != 200:
                body = b""
                async for piece in r.aiter_bytes():
                    body += piece
                    if len(body) >= pb_job.ERROR_BODY_MAX:
                        break
                o["error"] = "POST %s: HTTP %d: %s" % (a["url"], r.status_code, pb_job.error_text(body))
                return o
            # Line by line, as the predecessor study read its streams.
            async for line in r.aiter_lines():
                p.feed(line.encode() + b"\n")
            why = p.finish()
            if why:
                o["error"] = "POST %s: %s" % (a["url"], why)
    except httpx.HTTPError as e:
        o["error"] = "POST %s: after %d tokens: %s" % (a["url"], p.tokens, pb_job.exception_text(e))
    o["tokens"], o["bytes"] = p.tokens, p.bytes
    return o


async def run_all(agents, timeout):
    # One client for every agent, as the study's harness had; a connection
    # each at once (httpx's default pool stops at 100); no proxy variables:
    # the endpoints are parbench's loopback proxies.
    n = len(agents)
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(limits=limits, timeout=timeout, trust_env=False) as client:
        return await asyncio.gather(*(agent(client, a) for a in agents))


if __name__ == "__main__":
    sys.exit(pb_job.main("pb_agent_httpx", run_all))
