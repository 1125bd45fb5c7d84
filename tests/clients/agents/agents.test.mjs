// What agents send (issue 19), through the official `ollama` and `openai`
// npm clients (pinned in package.json; nobody here wrote them): tool-call
// round trips (call, tool result, final answer), structured output with a
// nested schema checked by ajv (an independent JSON-schema validator), the
// Responses API and thinking. run.sh starts ollama-emu and sets EMU_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import Ajv from 'ajv';

const base = process.env.EMU_URL;
if (!base) throw new Error('EMU_URL is not set (run this through run.sh)');
const ollama = new Ollama({ host: base });
const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'ollama', maxRetries: 0 });
const ajv = new Ajv({ allErrors: true, strict: false });
const model = 'qwen3:latest'; // tools + thinking (gemma3 has neither)

const weatherParams = {
  type: 'object',
  properties: {
    city: { type: 'string', minLength: 2, maxLength: 40 },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    days: { type: 'integer', minimum: 1, maximum: 7 },
  },
  required: ['city', 'unit'],
  additionalProperties: false,
};
const validWeather = ajv.compile(weatherParams);
const nativeTools = [{
  type: 'function',
  function: { name: 'get_weather', description: 'Weather for a city', parameters: weatherParams },
}];

const person = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 30 },
    age: { type: 'integer', minimum: 0, maximum: 130 },
    email: { type: 'string', format: 'email' },
    address: {
      type: 'object',
      properties: {
        street: { type: 'string' },
        city: { type: 'string' },
        geo: { type: 'object', properties: { lat: { type: 'number', minimum: -90, maximum: 90 },
          lon: { type: 'number', minimum: -180, maximum: 180 } }, required: ['lat', 'lon'] },
      },
      required: ['street', 'city', 'geo'],
      additionalProperties: false,
    },
    roles: { type: 'array', items: { type: 'string', enum: ['admin', 'dev', 'ops'] }, minItems: 1, maxItems: 3 },
    projects: {
      type: 'array',
      items: { type: 'object', properties: { id: { type: 'integer' }, active: { type: 'boolean' },
        tags: { type: 'array', items: { type: 'string' } } }, required: ['id', 'active', 'tags'] },
    },
    manager: { anyOf: [{ type: 'string' }, { type: 'null' }] },
  },
  required: ['name', 'age', 'address', 'roles', 'projects', 'manager'],
  additionalProperties: false,
};
const validPerson = ajv.compile({ ...person, properties: { ...person.properties,
  email: { type: 'string', pattern: '^[^@]+@[^@]+$' } } });
const ok = (validate, v) => assert.ok(validate(v), JSON.stringify(validate.errors) + ' ' + JSON.stringify(v));

const ask = [{ role: 'user', content: 'What is the weather in Oslo?' }];

// ---- /api/chat with the ollama client ----

for (const stream of [false, true]) {
  test(`ollama chat: tool round trip, stream=${stream}`, async () => {
    const once = async (messages) => {
      if (!stream) return (await ollama.chat({ model, messages, tools: nativeTools, think: false, options: { seed: 7 } })).message;
      const msg = { role: 'assistant', content: '', tool_calls: [] };
      for await (const part of await ollama.chat({ model, messages, tools: nativeTools, think: false, stream: true, options: { seed: 7, num_predict: 40 } })) {
        msg.content += part.message.content;
        msg.tool_calls.push(...(part.message.tool_calls ?? []));
      }
      return msg;
    };
    const first = await once(ask);
    assert.equal(first.content, '');
    assert.equal(first.tool_calls.length, 1);
    const call = first.tool_calls[0];
    assert.equal(call.function.name, 'get_weather');
    ok(validWeather, call.function.arguments);
    const messages = [...ask, { role: 'assistant', content: '', tool_calls: first.tool_calls },
      { role: 'tool', content: '-3 celsius, snow', tool_name: 'get_weather' }];
    const final = await once(messages);
    assert.ok(!final.tool_calls?.length, 'no second call after the tool result');
    assert.ok(final.content.length > 0);
  });
}

test('ollama chat: structured output, nested schema (stream and not)', async () => {
  const r = await ollama.chat({ model: 'gemma3', messages: [{ role: 'user', content: 'A person.' }], format: person });
  ok(validPerson, JSON.parse(r.message.content));
  let text = '';
  let parts = 0;
  for await (const p of await ollama.chat({ model: 'gemma3', messages: [{ role: 'user', content: 'A person.' }], format: person, stream: true })) {
    text += p.message.content;
    parts++;
  }
  assert.ok(parts > 5, 'streamed token by token');
  ok(validPerson, JSON.parse(text));
  const g = await ollama.generate({ model: 'gemma3', prompt: 'json please', format: 'json' });
  assert.equal(typeof JSON.parse(g.response), 'object');
});

test('ollama chat: thinking on, off, levels; 400 without the capability', async () => {
  const on = await ollama.chat({ model, messages: ask, think: true, options: { seed: 3 } });
  assert.ok(on.message.thinking.length > 0);
  const off = await ollama.chat({ model, messages: ask, think: false, options: { seed: 3 } });
  assert.equal(off.message.thinking, undefined);
  let thinking = 0;
  let sawContent = false;
  for await (const p of await ollama.chat({ model, messages: ask, think: 'low', stream: true, options: { seed: 3, num_predict: 200 } })) {
    if (p.message.thinking) { assert.ok(!sawContent, 'thinking comes first'); thinking++; }
    if (p.message.content) sawContent = true;
  }
  assert.ok(thinking > 0 && sawContent);
  await assert.rejects(ollama.chat({ model: 'gemma3', messages: ask, think: true }), /does not support thinking/);
  await assert.rejects(ollama.chat({ model: 'gemma3', messages: ask, tools: nativeTools }), /does not support tools/);
  const show = await ollama.show({ model });
  assert.deepEqual(show.capabilities, ['completion', 'tools', 'thinking']);
});

// ---- /v1/chat/completions with the openai client ----

for (const stream of [false, true]) {
  test(`openai chat: tool round trip, stream=${stream}`, async () => {
    const once = async (messages) => {
      const req = { model, messages, tools: nativeTools, seed: 7, reasoning_effort: 'none' };
      if (!stream) {
        const c = await openai.chat.completions.create(req);
        return { msg: c.choices[0].message, finish: c.choices[0].finish_reason };
      }
      const msg = { role: 'assistant', content: '', tool_calls: [] };
      let finish = null;
      for await (const chunk of await openai.chat.completions.create({ ...req, stream: true, max_tokens: 40 })) {
        const ch = chunk.choices[0];
        if (!ch) continue;
        msg.content += ch.delta.content ?? '';
        for (const tc of ch.delta.tool_calls ?? []) {
          const t = (msg.tool_calls[tc.index] ??= { id: tc.id, type: 'function', function: { name: '', arguments: '' } });
          t.function.name += tc.function?.name ?? '';
          t.function.arguments += tc.function?.arguments ?? '';
        }
        finish = ch.finish_reason ?? finish;
      }
      return { msg, finish };
    };
    const first = await once(ask);
    assert.equal(first.finish, 'tool_calls');
    assert.equal(first.msg.tool_calls.length, 1);
    const call = first.msg.tool_calls[0];
    assert.match(call.id, /^call_[a-z0-9]{8}$/);
    ok(validWeather, JSON.parse(call.function.arguments));
    const messages = [...ask, { role: 'assistant', content: null, tool_calls: first.msg.tool_calls },
      { role: 'tool', tool_call_id: call.id, content: '-3 celsius, snow' }];
    const final = await once(messages);
    assert.ok(final.finish === 'stop' || final.finish === 'length');
    assert.ok(!final.msg.tool_calls?.length);
    assert.ok(final.msg.content.length > 0);
  });
}

test('openai chat: response_format json_schema (nested) and json_object', async () => {
  const c = await openai.chat.completions.create({ model: 'gemma3', messages: [{ role: 'user', content: 'A person.' }],
    response_format: { type: 'json_schema', json_schema: { name: 'person', strict: true, schema: person } } });
  ok(validPerson, JSON.parse(c.choices[0].message.content));
  let text = '';
  for await (const chunk of await openai.chat.completions.create({ model: 'gemma3', stream: true,
    messages: [{ role: 'user', content: 'A person.' }],
    response_format: { type: 'json_schema', json_schema: { name: 'person', schema: person } } })) {
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  ok(validPerson, JSON.parse(text));
  const j = await openai.chat.completions.create({ model: 'gemma3', messages: [{ role: 'user', content: 'json' }],
    response_format: { type: 'json_object' } });
  assert.equal(typeof JSON.parse(j.choices[0].message.content), 'object');
});

test('openai chat: reasoning on and off', async () => {
  const on = await openai.chat.completions.create({ model, messages: ask, reasoning_effort: 'high', max_tokens: 500 });
  assert.ok(on.choices[0].message.reasoning.length > 0);
  const off = await openai.chat.completions.create({ model, messages: ask, reasoning_effort: 'none', max_tokens: 20 });
  assert.equal(off.choices[0].message.reasoning, undefined);
  let reasoning = 0;
  for await (const chunk of await openai.chat.completions.create({ model, messages: ask, stream: true, reasoning_effort: 'low', max_tokens: 50 }))
    if (chunk.choices[0]?.delta?.reasoning) reasoning++;
  assert.ok(reasoning > 0);
});

// ---- /v1/responses with the openai client ----

const respTools = [{ type: 'function', name: 'get_weather', description: 'Weather for a city', parameters: weatherParams, strict: false }];

test('responses.create: text, instructions, usage', async () => {
  const r = await openai.responses.create({ model, input: 'Why is the sky blue?', instructions: 'Be brief.',
    max_output_tokens: 60, reasoning: { effort: 'low' } });
  assert.equal(r.status, 'completed');
  assert.equal(r.instructions, 'Be brief.');
  assert.ok(r.output.some((o) => o.type === 'reasoning'));
  assert.equal(typeof r.output_text, 'string'); // the SDK's convenience field
  assert.equal(r.usage.output_tokens, 60);
});

test('responses.create: tool round trip', async () => {
  const r = await openai.responses.create({ model, input: 'Weather in Oslo?', tools: respTools, reasoning: { effort: 'none' } });
  const call = r.output.find((o) => o.type === 'function_call');
  assert.ok(call, JSON.stringify(r.output));
  assert.equal(call.name, 'get_weather');
  ok(validWeather, JSON.parse(call.arguments));
  const r2 = await openai.responses.create({ model, tools: respTools, reasoning: { effort: 'none' }, max_output_tokens: 20,
    input: [{ role: 'user', content: 'Weather in Oslo?' }, call,
      { type: 'function_call_output', call_id: call.call_id, output: '-3 celsius' }] });
  assert.ok(!r2.output.some((o) => o.type === 'function_call'));
  assert.ok(r2.output_text.length > 0);
});

test('responses.stream: text and tools', async () => {
  const s = openai.responses.stream({ model, input: 'Why?', max_output_tokens: 80, reasoning: { effort: 'none' } });
  const types = [];
  let text = '';
  for await (const ev of s) {
    types.push(ev.type);
    if (ev.type === 'response.output_text.delta') text += ev.delta;
  }
  const final = await s.finalResponse();
  assert.deepEqual(types.slice(0, 4), ['response.created', 'response.in_progress',
    'response.output_item.added', 'response.content_part.added']);
  assert.deepEqual(types.slice(-4), ['response.output_text.done', 'response.content_part.done',
    'response.output_item.done', 'response.completed']);
  assert.equal(types.filter((t) => t === 'response.output_text.delta').length, 80);
  assert.equal(final.output_text, text);

  const t = openai.responses.stream({ model, input: 'Weather in Oslo?', tools: respTools, reasoning: { effort: 'none' } });
  let args = '';
  for await (const ev of t)
    if (ev.type === 'response.function_call_arguments.done') args = ev.arguments;
  const tf = await t.finalResponse();
  ok(validWeather, JSON.parse(args));
  assert.equal(tf.output.find((o) => o.type === 'function_call').arguments, args);
});

test('responses streamed with reasoning: Ollama\'s events, in order', async () => {
  // The raw event stream (create with stream: true does not accumulate).
  const types = [];
  for await (const ev of await openai.responses.create({ model, input: 'Why?', stream: true,
    max_output_tokens: 200, reasoning: { effort: 'low' } }))
    types.push(ev.type);
  const first = (t) => types.indexOf(t);
  assert.equal(types[0], 'response.created');
  assert.equal(types[2], 'response.output_item.added');
  assert.equal(types[3], 'response.reasoning_summary_text.delta');
  assert.ok(first('response.reasoning_summary_text.done') < first('response.output_text.delta'));
  assert.equal(types.at(-1), 'response.completed');
  // Ollama sends no response.reasoning_summary_part.added before the
  // summary deltas (openai/responses.go processThinking), so the SDK's
  // accumulating responses.stream() fails on a thinking model; the
  // emulator reproduces it rather than hiding it.
  const s = openai.responses.stream({ model, input: 'Why?', max_output_tokens: 50, reasoning: { effort: 'low' } });
  await assert.rejects((async () => { for await (const _ of s); })(), /missing content at index 0/);
});

test('responses: text.format json_schema', async () => {
  const r = await openai.responses.create({ model: 'gemma3', input: 'A person.',
    text: { format: { type: 'json_schema', name: 'person', schema: person, strict: true } } });
  ok(validPerson, JSON.parse(r.output_text));
});
