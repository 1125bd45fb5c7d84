#!/usr/bin/python3
"""pb_agent_aiohttp: asyncio + aiohttp as an exec runtime of `collect`
(agents/README.md). Every agent of the job (PARBENCH_JOB) streams its request
at once (asyncio.gather), read to the end as the bytes arrive. Run with
/usr/bin/python3 (Debian's python3-aiohttp).
Exit: 0 all requests streamed to their final line, 1 a request failed, 2 bad
command line or job file."""
import asyncio
import os
import sys

import aiohttp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pb_job  # noqa: E402  (beside this file, not installed)


async def agent(session, a, timeout):
    o = pb_job.outcome(a)
    p = pb_job.Parser(a["sse"])
    try:
        async with session.post(a["url"], data=a["body"], headers=a["headers"]) as r:
            o["status"] = r.status
            if r.status != 200:
                body = await r.content.read(pb_job.ERROR_BODY_MAX)
                o["error"] = "POST %s: HTTP %d: %s" % (a["url"], r.status, pb_job.error_text(body))
                return o
            async for piece in r.content.iter_any():
                p.feed(piece)
            why = p.finish()
            if why:
                o["error"] = "POST %s: %s" % (a["url"], why)
    except asyncio.TimeoutError:
        o["error"] = "POST %s: no end within the %g s timeout, after %d tokens" % (a["url"], timeout, p.tokens)
    except aiohttp.ClientError as e:
        o["error"] = "POST %s: after %d tokens: %s" % (a["url"], p.tokens, pb_job.exception_text(e))
    o["tokens"], o["bytes"] = p.tokens, p.bytes
    return o


async def run_all(agents, timeout):
    # One session for every agent, a connection each at once (aiohttp's
    # default pool stops at 100); no proxy variables: the endpoints are
    # parbench's loopback proxies.
    conn = aiohttp.TCPConnector(limit=len(agents))
    async with aiohttp.ClientSession(connector=conn, trust_env=False,
                                     timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        return await asyncio.gather(*(agent(session, a, timeout) for a in agents))


if __name__ == "__main__":
    sys.exit(pb_job.main("pb_agent_aiohttp", run_all))
