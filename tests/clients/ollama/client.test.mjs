// The official `ollama` npm client (pinned in package.json) against
// ollama-emu: every call a harness makes, as issue 11 lists them. Run by
// run.sh, which starts the emulator and sets OLLAMA_EMU_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama } from 'ollama';

const host = process.env.OLLAMA_EMU_URL;
const model = 'gemma3';
const client = new Ollama({ host });

test('version', async () => {
  const v = await client.version();
  assert.equal(typeof v.version, 'string');
  assert.match(v.version, /^\d+\.\d+\.\d+/);
});

test('list', async () => {
  const l = await client.list();
  assert.ok(l.models.some((m) => m.name === 'gemma3:latest'));
  assert.equal(typeof l.models[0].digest, 'string');
});

test('show', async () => {
  const s = await client.show({ model });
  assert.equal(s.details.format, 'gguf');
  assert.equal(typeof s.model_info, 'object');
  assert.ok(s.capabilities.includes('completion'));
  await assert.rejects(client.show({ model: 'no-such-model' }), /not found/);
});

test('pull, streamed and not', async () => {
  const statuses = [];
  for await (const p of await client.pull({ model, stream: true }))
    statuses.push(p.status);
  assert.equal(statuses[0], 'pulling manifest');
  assert.equal(statuses.at(-1), 'success');
  const one = await client.pull({ model, stream: false });
  assert.equal(one.status, 'success');
});

test('embed and embeddings', async () => {
  const e = await client.embed({ model, input: ['one', 'two'] });
  assert.equal(e.embeddings.length, 2);
  assert.ok(e.embeddings[0].length > 0);
  const norm = Math.hypot(...e.embeddings[0]);
  assert.ok(Math.abs(norm - 1) < 1e-4, `norm ${norm}`);
  const old = await client.embeddings({ model, prompt: 'one' });
  assert.equal(old.embedding.length, e.embeddings[0].length);
});

test('generate, not streamed', async () => {
  const r = await client.generate({ model, prompt: 'hi', options: { num_predict: 7 } });
  assert.equal(r.done, true);
  assert.equal(r.done_reason, 'length');
  assert.equal(r.eval_count, 7);
  assert.equal(typeof r.response, 'string');
  assert.ok(r.response.length > 0);
});

test('generate, streamed', async () => {
  const parts = [];
  for await (const p of await client.generate({ model, prompt: 'hi', stream: true,
                                                options: { num_predict: 5 } }))
    parts.push(p);
  assert.equal(parts.length, 6);
  assert.equal(parts.at(-1).done, true);
  assert.equal(parts.at(-1).eval_count, 5);
  assert.ok(!Number.isNaN(Date.parse(parts[0].created_at)));
});

test('chat, not streamed and streamed', async () => {
  const messages = [{ role: 'user', content: 'hello' }];
  const r = await client.chat({ model, messages, options: { num_predict: 4 } });
  assert.equal(r.message.role, 'assistant');
  assert.ok(r.message.content.length > 0);
  assert.equal(r.eval_count, 4);
  let n = 0, last;
  for await (const p of await client.chat({ model, messages, stream: true,
                                            options: { num_predict: 4 } })) {
    n++;
    last = p;
  }
  assert.equal(n, 5);
  assert.equal(last.done, true);
});

test('abort mid-stream, then reuse the client', async () => {
  const it = await client.generate({ model, prompt: 'long', stream: true,
                                     options: { num_predict: 400 } });
  let got = 0;
  await assert.rejects(async () => {
    for await (const p of it) {
      assert.equal(p.done, false);
      if (++got === 3)
        client.abort();
    }
  }, (err) => err.name === 'AbortError');
  // Lines already read in the same network chunk are still yielded after
  // abort(); the stream must stop long before its 400 tokens.
  assert.ok(got >= 3 && got < 400, `got ${got}`);
  const r = await client.generate({ model, prompt: 'again', options: { num_predict: 2 } });
  assert.equal(r.eval_count, 2);
});

test('ps, and keep_alive 0 unloads', async () => {
  await client.generate({ model, prompt: 'load', options: { num_predict: 1 } });
  const before = await client.ps();
  assert.equal(before.models.length, 1);
  assert.ok(Date.parse(before.models[0].expires_at) > Date.now());
  const r = await client.generate({ model, prompt: '', keep_alive: 0 });
  assert.equal(r.done_reason, 'unload');
  const after = await client.ps();
  assert.equal(after.models.length, 0);
});
