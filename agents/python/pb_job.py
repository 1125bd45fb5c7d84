"""What the Python reference agents share (agents/README.md): reading and
checking the job file of exec runtimes (PARBENCH_JOB), reading a streamed
answer (Ollama's NDJSON or the OpenAI layer's server-sent events), and the
report: one JSON line per agent on stdout, one line on stderr when a request
failed. The transports (httpx, aiohttp) are in their own files; this module
imports neither, so each agent needs only its own library."""
import asyncio
import json
import os
import sys

APIS = ("generate", "chat", "openai-chat", "openai-completions")
# An error body is read for its message, up to this many bytes.
ERROR_BODY_MAX = 4096


class JobError(Exception):
    pass


def _text(obj, key, where):
    v = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(v, str):
        raise JobError('%s: "%s" must be a string' % (where, key))
    return v


def _agent(v, i):
    where = "agents[%d]" % i
    aid = _text(v, "id", where)
    where = 'agent "%s"' % aid
    api = _text(v, "api", where)
    if api not in APIS:
        raise JobError('%s: unknown api "%s" (one of %s)' % (where, api, ", ".join(APIS)))
    endpoint = _text(v, "endpoint", where).rstrip("/")
    if not endpoint.startswith(("http://", "https://")):
        raise JobError('%s: endpoint "%s" is not an http:// URL' % (where, endpoint))
    if "request" not in v and "steps" in v:
        raise JobError('%s: a workflow agent ("steps"): this agent runs one request per agent' % where)
    req = v.get("request")
    if not isinstance(req, dict):
        raise JobError('%s: "request" must be an object' % where)
    method = req.get("method", "POST")
    if method != "POST":
        raise JobError('%s: request.method "%s": only POST streams a model\'s answer' % (where, method))
    path = _text(req, "path", where + " request")
    if not path.startswith("/"):
        raise JobError('%s: request.path "%s" must start with /' % (where, path))
    body = req.get("body")
    if not isinstance(body, dict):
        raise JobError("%s: request.body must be a JSON object" % where)
    headers = req.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(x, str) for x in headers.values()):
        raise JobError("%s: request.headers must be an object of strings" % where)
    rid = next((x for k, x in headers.items() if k.lower() == "x-parbench-request"), aid)
    return {"id": aid, "sse": api.startswith("openai"), "url": endpoint + path,
            "headers": dict(headers, **{"Content-Type": "application/json"}),
            # Sent verbatim, as parbench's own driver would send it.
            "body": json.dumps(body).encode(), "request_id": rid}


def load(path):
    """The job's agents and its timeout_s (None when absent); JobError names
    what is wrong. Checked whole before any request leaves."""
    try:
        with open(path, "rb") as f:
            root = json.load(f)
    except OSError as e:
        raise JobError("cannot read job file %s: %s" % (path, e.strerror))
    except ValueError as e:
        raise JobError("job file %s: not JSON: %s" % (path, e))
    if not isinstance(root, dict) or root.get("parbench_job") != 1:
        raise JobError('job file %s: "parbench_job": 1 missing (not a parbench job, or a newer format)' % path)
    agents = root.get("agents")
    if not isinstance(agents, list) or not agents:
        raise JobError('job file %s: "agents" must be a non-empty array' % path)
    try:
        out = [_agent(v, i) for i, v in enumerate(agents)]
    except JobError as e:
        raise JobError("job file %s: %s" % (path, e))
    t = root.get("timeout_s")
    return out, (float(t) if isinstance(t, (int, float)) and t > 0 else None)


def _clip(s):
    s = "".join(c if c.isprintable() else " " for c in s)
    return s if len(s) <= 200 else s[:200] + "..."


class Parser:
    """Reads the body as it arrives, cut anywhere: a line is handled when
    its newline arrives. NDJSON ends with a "done": true line, SSE with
    `data: [DONE]`."""

    def __init__(self, sse):
        self.sse, self.pending = sse, b""
        self.tokens = self.bytes = 0
        self.done, self.error = False, None

    def feed(self, data):
        self.bytes += len(data)
        self.pending += data
        *lines, self.pending = self.pending.split(b"\n")
        for line in lines:
            self._line(line)

    def _fail(self, why):
        # The first failure is the cause; later ones follow from it.
        if self.error is None:
            self.error = why

    def _line(self, line):
        line = line.rstrip(b"\r")
        # After the final line nothing counts; before it a blank line only
        # separates events.
        if self.done or self.error or not line.strip():
            return
        text = line.decode("utf-8", "replace")
        if self.sse:
            if not text.startswith("data:"):
                return  # event:, id:, comments carry no token
            text = text[5:].removeprefix(" ")
            if text == "[DONE]":
                self.done = True
                return
        try:
            v = json.loads(text)
        except ValueError as e:
            return self._fail("bad line (%s): %s" % (e, _clip(text)))
        if not isinstance(v, dict):
            return self._fail("bad line (not an object): %s" % _clip(text))
        if "error" in v:
            return self._fail("server error in the stream: %s" % _clip(text))
        if self.sse:
            # A token event has no finish_reason yet; the finish event and
            # the usage-only event (no choices) are not tokens.
            choices = v.get("choices")
            if isinstance(choices, list) and choices and choices[0].get("finish_reason") is None:
                self.tokens += 1
        elif v.get("done") is True:
            self.done = True
        else:
            self.tokens += 1

    def finish(self):
        """None when the final line came and nothing failed, else why."""
        if self.pending:
            # A last line without its newline is still read (and a line cut
            # in half fails to parse, which is the point).
            rest, self.pending = self.pending, b""
            self._line(rest)
        if self.error:
            return self.error
        if not self.done:
            return "the stream ended after %d tokens without its final line (%s)" % (
                self.tokens, "data: [DONE]" if self.sse else '"done": true')
        return None


def outcome(agent):
    return {"agent": agent["id"], "request": agent["request_id"], "ok": False,
            "status": 0, "tokens": 0, "bytes": 0, "error": None}


def exception_text(e):
    """Some exceptions say nothing themselves (httpx.ReadError from a reset
    connection): then the exception underneath is what happened."""
    inner = e.__cause__ or e.__context__
    return "%s: %s" % (type(e).__name__, str(e) or (repr(inner) if inner else "no detail"))


def error_text(body):
    return _clip(body[:300].decode("utf-8", "replace").strip())


def main(name, run_all):
    """Reads PARBENCH_JOB, awaits run_all(agents, timeout) (a gather of the
    agents), reports. Exit: 0 all streamed to their final line, 1 a request
    failed, 2 bad command line or job file."""
    if len(sys.argv) > 1:
        if sys.argv[1] in ("-h", "--help"):
            print("usage: PARBENCH_JOB=job.json /usr/bin/python3 %s.py\n"
                  "Exit: 0 every request streamed to its final line, 1 a request failed "
                  "(one line on stderr), 2 bad command line or job file." % name)
            return 0
        print("%s: no arguments (the job file is PARBENCH_JOB), got %s" % (name, sys.argv[1]),
              file=sys.stderr)
        return 2
    path = os.environ.get("PARBENCH_JOB")
    if not path:
        print("%s: PARBENCH_JOB is not set: it names the job file collect writes" % name,
              file=sys.stderr)
        return 2
    try:
        agents, timeout = load(path)
    except JobError as e:
        print("%s: %s" % (name, e), file=sys.stderr)
        return 2
    outs = asyncio.run(run_all(agents, timeout or 600.0))
    failed = []
    for o in outs:
        err = o.pop("error")
        o["ok"] = err is None
        print(json.dumps(o))
        if err:
            failed.append("%s (%s): %s" % (o["agent"], o["request"], err))
    if failed:
        print("%s: %d of %d requests failed: %s" % (name, len(failed), len(outs), "; ".join(failed)),
              file=sys.stderr)
        return 1
    return 0
