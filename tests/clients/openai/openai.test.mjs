// The official `openai` npm client (written by nobody here) against
// ollama-emu's /v1 routes. run.sh starts the emulator (ideal preset, time
// scale 20) and passes its base URL in EMU_URL. Run: node --test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const base = process.env.EMU_URL;
if (!base) throw new Error('EMU_URL is not set (run this through run.sh)');

// No retries: a failure must show, not be hidden by a second attempt.
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'ollama', maxRetries: 0 });
const model = 'gemma3:latest';
const messages = [{ role: 'user', content: 'Why is the sky blue?' }];

test('models: list and retrieve', async () => {
  const ids = [];
  for await (const m of client.models.list()) {
    assert.equal(m.object, 'model');
    assert.equal(m.owned_by, 'library');
    ids.push(m.id);
  }
  assert.deepEqual(ids, [model, 'qwen3:latest']); // the default catalogue
  const m = await client.models.retrieve(model);
  assert.equal(m.id, model);
});

test('chat: streaming with usage', async () => {
  const stream = await client.chat.completions.create({
    model, messages, stream: true, max_tokens: 12,
    stream_options: { include_usage: true },
  });
  let text = '';
  let contentChunks = 0;
  let finish = null;
  let usage = null;
  let ids = new Set();
  for await (const chunk of stream) {
    ids.add(chunk.id);
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      if (c.delta.content) {
        text += c.delta.content;
        contentChunks++;
      }
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.equal(ids.size, 1);
  assert.equal(contentChunks, 12);
  assert.ok(text.length > 0);
  assert.equal(finish, 'length');
  assert.ok(usage, 'a usage chunk arrived');
  assert.equal(usage.completion_tokens, 12);
  // "Why is the sky blue?": 20 bytes -> 5 tokens + 8 template tokens.
  assert.equal(usage.prompt_tokens, 13);
  assert.equal(usage.total_tokens, 25);
});

test('chat: not streamed', async () => {
  const r = await client.chat.completions.create({ model, messages, max_tokens: 7, seed: 3 });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 7);
  // Seeded: the streamed answer to the same request is the same text.
  const s = await client.chat.completions.create({ model, messages, max_tokens: 7, seed: 3, stream: true });
  let text = '';
  for await (const chunk of s) text += chunk.choices[0]?.delta?.content ?? '';
  assert.equal(text, r.choices[0].message.content);
});

test('completions: streamed and not', async () => {
  const r = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 5 });
  assert.equal(r.object, 'text_completion');
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 5);
  assert.ok(r.choices[0].text.length > 0);

  const s = await client.completions.create({
    model, prompt: 'Once upon a time', max_tokens: 5, stream: true,
    stream_options: { include_usage: true },
  });
  let pieces = 0;
  let finish = null;
  let usage = null;
  for await (const chunk of s) {
    const c = chunk.choices[0];
    if (c?.text) pieces++;
    if (c?.finish_reason) finish = c.finish_reason;
    if (chunk.usage && chunk.usage.total_tokens > 0) usage = chunk.usage;
  }
  assert.equal(pieces, 5);
  assert.equal(finish, 'length');
  assert.equal(usage.completion_tokens, 5);
});

test('embeddings: base64 (the client default) and float agree', async () => {
  const input = ['hello', 'world'];
  const a = await client.embeddings.create({ model, input });
  const b = await client.embeddings.create({ model, input, encoding_format: 'float' });
  assert.equal(a.data.length, 2);
  for (let i = 0; i < 2; i++) {
    const x = a.data[i].embedding;
    const y = b.data[i].embedding;
    assert.equal(x.length, 2560); // /api/embed's width: one handler, as in Ollama
    assert.equal(y.length, 2560);
    const norm = Math.sqrt(x.reduce((s, v) => s + v * v, 0));
    assert.ok(Math.abs(norm - 1) < 1e-5);
    for (let k = 0; k < x.length; k++) assert.ok(Math.abs(x[k] - y[k]) < 1e-6);
  }
  assert.ok(a.usage.prompt_tokens > 0);
});

test('errors: unknown model is a NotFoundError', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'nope', messages }),
    (err) => {
      assert.ok(err instanceof OpenAI.NotFoundError);
      assert.equal(err.status, 404);
      // Ollama 0.6.5 typed every handler error api_error; >= 0.32.6 by status.
      const want = process.env.EMU_FORMAT === '0.32' ? 'not_found_error' : 'api_error';
      assert.equal(err.error?.type ?? err.type, want);
      assert.match(err.message, /model 'nope' not found/);
      return true;
    });
});
