#!/usr/bin/python3
"""The Python agents' stream reader and job checks (agents/python/pb_job.py)
on hand-written streams: token counts are counted by hand from the fixtures,
every stream is also fed cut at every byte, and a stream that ends cleanly
without its final line is a failure (the emulator has no fault for that)."""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "agents", "python"))
import pb_job  # noqa: E402

NDJSON = (b'{"model":"m","response":"a","done":false}\n'
          b'{"model":"m","response":"b","done":false}\r\n'
          b'\n'
          b'{"model":"m","response":"c","done":false}\n'
          b'{"model":"m","response":"","done":true,"eval_count":3}\n')
SSE = (b'data: {"choices":[{"delta":{"role":"assistant","content":"a"},"finish_reason":null}]}\n\n'
       b': a comment\n'
       b'event: message\n'
       b'data: {"choices":[{"delta":{"content":"b"},"finish_reason":null}]}\n\n'
       b'data: {"choices":[{"delta":{},"finish_reason":"length"}]}\n\n'
       b'data: {"choices":[],"usage":{"completion_tokens":2}}\n\n'
       b'data: [DONE]\n\n')


def read(stream, sse, cut=None):
    p = pb_job.Parser(sse)
    if cut is None:
        p.feed(stream)
    else:
        p.feed(stream[:cut])
        p.feed(stream[cut:])
    return p, p.finish()


class ParserTest(unittest.TestCase):
    def test_ndjson_at_every_cut(self):
        for cut in [None] + list(range(len(NDJSON) + 1)):
            p, why = read(NDJSON, False, cut)
            self.assertIsNone(why, cut)
            self.assertEqual((p.tokens, p.bytes), (3, len(NDJSON)), cut)

    def test_sse_at_every_cut(self):
        # 2 token events; the finish event and the usage event are not tokens.
        for cut in [None] + list(range(len(SSE) + 1)):
            p, why = read(SSE, True, cut)
            self.assertIsNone(why, cut)
            self.assertEqual(p.tokens, 2, cut)

    def test_clean_end_without_final_line(self):
        p, why = read(NDJSON[:NDJSON.rindex(b'{"model":"m","response":"","done":true')], False)
        self.assertEqual(p.tokens, 3)
        self.assertIn('without its final line ("done": true)', why)
        p, why = read(SSE[:SSE.index(b"data: [DONE]")], True)
        self.assertIn("without its final line (data: [DONE])", why)

    def test_cut_final_line(self):
        _, why = read(NDJSON[:-20], False)
        self.assertTrue(why.startswith("bad line"), why)

    def test_error_line(self):
        _, why = read(b'{"response":"a","done":false}\n{"error":"runner died"}\n', False)
        self.assertIn("server error in the stream", why)
        _, why = read(b'data: {"error":{"message":"x"}}\n\n', True)
        self.assertIn("server error in the stream", why)

    def test_after_final_line_ignored(self):
        p, why = read(NDJSON + b'{"response":"late","done":false}\n', False)
        self.assertIsNone(why)
        self.assertEqual(p.tokens, 3)


class JobTest(unittest.TestCase):
    def load(self, obj):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write(obj if isinstance(obj, str) else json.dumps(obj))
        try:
            return pb_job.load(f.name)
        finally:
            os.unlink(f.name)

    def agent(self, **kw):
        a = {"id": "a", "api": "generate", "endpoint": "http://127.0.0.1:1/",
             "request": {"path": "/api/generate", "headers": {"X-Parbench-Request": "r1"},
                         "body": {"model": "m", "prompt": "p"}}}
        a.update(kw)
        return a

    def test_good(self):
        agents, timeout = self.load({"parbench_job": 1, "timeout_s": 30, "agents": [self.agent()]})
        self.assertEqual(timeout, 30.0)
        a = agents[0]
        self.assertEqual((a["url"], a["request_id"], a["sse"]), ("http://127.0.0.1:1/api/generate", "r1", False))
        self.assertEqual(json.loads(a["body"]), {"model": "m", "prompt": "p"})

    def test_bad(self):
        for obj, words in [("{", "not JSON"),
                           ({"agents": [self.agent()]}, '"parbench_job": 1 missing'),
                           ({"parbench_job": 1, "agents": []}, "non-empty array"),
                           ({"parbench_job": 1, "agents": [self.agent(api="grpc")]}, 'unknown api "grpc"'),
                           ({"parbench_job": 1, "agents": [self.agent(endpoint="127.0.0.1:1")]}, "not an http:// URL"),
                           ({"parbench_job": 1, "agents": [self.agent(request={"path": "/x"})]}, "request.body"),
                           ({"parbench_job": 1, "agents": [{"id": "w", "api": "chat", "endpoint": "http://h",
                                                            "steps": [{"llm": {"prompt": "p"}}]}]},
                            'a workflow agent ("steps")')]:
            with self.assertRaises(pb_job.JobError) as e:
                self.load(obj)
            self.assertIn(words, str(e.exception))


if __name__ == "__main__":
    unittest.main()
