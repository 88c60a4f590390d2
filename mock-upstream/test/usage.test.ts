import { describe, expect, it } from 'vitest';
import { parseSse, postJson, rawRequest, sseJson, localMockForFile, type Json } from './helpers.js';

const mock = localMockForFile();

const GOOGLE_PATH = '/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro';
const FULL = 'input=100,output=40,cached=30,cache_write=20,reasoning=12,tool_prompt=5';
const MINIMAL = 'input=100,output=40';
const OMITTED = 'input=100,output=40,cached=none,cache_write=none,reasoning=none,tool_prompt=none';
const NULLS = 'input=100,output=40,cached=null,cache_write=null,reasoning=null,tool_prompt=null';

type Fetch = (usage: string | undefined, extra?: Record<string, string>) => Promise<Json>;

function usageHeaders(usage: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
  return usage === undefined ? extra : { 'x-mock-usage': usage, ...extra };
}

async function jsonBody(path: string, body: unknown, usage: string | undefined): Promise<Json> {
  const response = await postJson(`${mock.providerUrl}${path}`, body, usageHeaders(usage));
  expect(response.status).toBe(200);
  return response.json();
}

async function sseText(path: string, body: unknown, usage: string | undefined, extra?: Record<string, string>): Promise<string> {
  const response = await postJson(`${mock.providerUrl}${path}`, body, usageHeaders(usage, extra));
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/event-stream');
  return response.text();
}

describe('OpenAI chat completions usage', () => {
  const json: Fetch = async (usage) => (await jsonBody('/v1/chat/completions', {}, usage)).usage;
  const stream: Fetch = async (usage) => {
    const chunks = sseJson(await sseText('/v1/chat/completions', { stream: true, stream_options: { include_usage: true } }, usage));
    for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).toBeNull();
    expect(chunks.at(-1).choices).toEqual([]);
    return chunks.at(-1).usage;
  };
  const details = { audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 };

  describe.each([
    ['JSON', json],
    ['stream', stream],
  ])('%s', (_form, fetchUsage) => {
    it('carries every breakdown it is given, cache writes included', async () => {
      expect(await fetchUsage(FULL)).toEqual({
        prompt_tokens: 100,
        completion_tokens: 40,
        total_tokens: 140,
        prompt_tokens_details: { cached_tokens: 30, audio_tokens: 0, cache_write_tokens: 20 },
        completion_tokens_details: { reasoning_tokens: 12, ...details },
      });
    });

    it('sends cached and reasoning 0 and no cache writes when not asked', async () => {
      const expected = (input: number, output: number) => ({
        prompt_tokens: input,
        completion_tokens: output,
        total_tokens: input + output,
        prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0, ...details },
      });
      expect(await fetchUsage(undefined)).toEqual(expected(11, 7));
      expect(await fetchUsage(MINIMAL)).toEqual(expected(100, 40));
    });

    it('leaves out what is "none" and sends null for "null"', async () => {
      const omitted = await fetchUsage(OMITTED);
      expect(omitted).toEqual({ prompt_tokens: 100, completion_tokens: 40, total_tokens: 140, prompt_tokens_details: { audio_tokens: 0 }, completion_tokens_details: details });
      const nulls = await fetchUsage(NULLS);
      expect(nulls.prompt_tokens_details).toEqual({ cached_tokens: null, audio_tokens: 0, cache_write_tokens: null });
      expect(nulls.completion_tokens_details).toEqual({ reasoning_tokens: null, ...details });
    });
  });

  it('keeps embeddings to prompt_tokens and total_tokens whatever the breakdown', async () => {
    const body = await jsonBody('/v1/embeddings', { input: 'x' }, FULL);
    expect(body.usage).toEqual({ prompt_tokens: 100, total_tokens: 100 });
  });
});

describe('OpenAI responses usage', () => {
  const RESPONSES_EVENTS = [
    'response.created',
    'response.in_progress',
    'response.output_item.added',
    'response.content_part.added',
    'response.output_text.delta',
    'response.output_text.delta',
    'response.output_text.delta',
    'response.output_text.done',
    'response.content_part.done',
    'response.output_item.done',
    'response.completed',
  ];

  async function streamEvents(usage: string | undefined, extra?: Record<string, string>): Promise<Array<{ event: string | null; data: Json }>> {
    const text = await sseText('/v1/responses', { stream: true }, usage, extra);
    return parseSse(text).map((event) => ({ event: event.event, data: JSON.parse(event.data) }));
  }

  const json: Fetch = async (usage) => (await jsonBody('/v1/responses', { input: 'hi' }, usage)).usage;
  const stream: Fetch = async (usage) => (await streamEvents(usage)).at(-1)!.data.response.usage;

  describe.each([
    ['JSON', json],
    ['stream', stream],
  ])('%s', (_form, fetchUsage) => {
    it('carries every breakdown it is given', async () => {
      expect(await fetchUsage(FULL)).toEqual({
        input_tokens: 100,
        input_tokens_details: { cached_tokens: 30, cache_write_tokens: 20 },
        output_tokens: 40,
        output_tokens_details: { reasoning_tokens: 12 },
        total_tokens: 140,
      });
    });

    it('sends cached and reasoning 0 and no cache writes when not asked', async () => {
      const expected = { input_tokens: 100, input_tokens_details: { cached_tokens: 0 }, output_tokens: 40, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 140 };
      expect(await fetchUsage('input=100,output=40')).toEqual(expected);
      expect(await fetchUsage(MINIMAL)).toEqual(expected);
      expect(await fetchUsage(undefined)).toEqual({ ...expected, input_tokens: 11, output_tokens: 7, total_tokens: 18 });
    });

    it('leaves out a details object with nothing left in it, and sends null for "null"', async () => {
      expect(await fetchUsage(OMITTED)).toEqual({ input_tokens: 100, output_tokens: 40, total_tokens: 140 });
      expect(await fetchUsage(NULLS)).toEqual({
        input_tokens: 100,
        input_tokens_details: { cached_tokens: null, cache_write_tokens: null },
        output_tokens: 40,
        output_tokens_details: { reasoning_tokens: null },
        total_tokens: 140,
      });
    });
  });

  it('streams the full event sequence, numbered, with the usage and model in response.completed only', async () => {
    const events = await streamEvents(FULL, { 'x-mock-model': 'o3-2025-04-16' });
    expect(events.map((event) => event.event)).toEqual(RESPONSES_EVENTS);
    events.forEach(({ event, data }, index) => {
      expect(data.type).toBe(event);
      expect(data.sequence_number).toBe(index);
    });
    const byType = (type: string) => events.filter((event) => event.event === type).map((event) => event.data);
    const [created] = byType('response.created');
    const [inProgress] = byType('response.in_progress');
    for (const early of [created, inProgress]) expect(early.response).toMatchObject({ object: 'response', status: 'in_progress', model: 'o3-2025-04-16', output: [], usage: null });
    const deltas = byType('response.output_text.delta');
    const [done] = byType('response.output_text.done');
    expect(deltas.map((delta) => delta.delta).join('')).toBe(done.text);
    for (const delta of [...deltas, done]) expect(delta).toMatchObject({ item_id: expect.stringMatching(/^msg_/), output_index: 0, content_index: 0, logprobs: [] });
    const [completed] = byType('response.completed');
    expect(completed.response).toMatchObject({ object: 'response', status: 'completed', model: 'o3-2025-04-16', output: [{ type: 'message', status: 'completed', content: [{ type: 'output_text', text: done.text }] }] });
    expect(completed.response.id).toBe(created.response.id);
    expect(completed.response.usage).toEqual(await json(FULL));
  });
});

interface AnthropicStream {
  start: Json;
  deltas: Json[];
  names: Array<string | null>;
}

async function anthropicStream(usage: string | undefined, deltas?: string): Promise<AnthropicStream> {
  const events = parseSse(await sseText('/v1/messages', { stream: true }, usage, deltas === undefined ? {} : { 'x-mock-anthropic-deltas': deltas }));
  const data = events.map((event) => JSON.parse(event.data));
  return {
    start: data[0].message.usage,
    deltas: data.filter((event) => event.type === 'message_delta'),
    names: events.map((event) => event.event),
  };
}

/** The spec's reading of an Anthropic stream: message_start's usage, then each message_delta's, the latest value of each field winning. */
function latestWins(stream: AnthropicStream): Json {
  return Object.assign({}, stream.start, ...stream.deltas.map((delta) => delta.usage));
}

describe('Anthropic messages usage', () => {
  const fullUsage = {
    input_tokens: 100,
    cache_creation_input_tokens: 20,
    cache_read_input_tokens: 30,
    cache_creation: { ephemeral_5m_input_tokens: 20, ephemeral_1h_input_tokens: 0 },
    output_tokens: 40,
    output_tokens_details: { thinking_tokens: 12 },
    service_tier: 'standard',
  };
  const plainUsage = (input: number, output: number) => ({
    input_tokens: input,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    output_tokens: output,
    service_tier: 'standard',
  });
  const json: Fetch = async (usage) => (await jsonBody('/v1/messages', { max_tokens: 5, messages: [] }, usage)).usage;

  it('JSON: carries every breakdown it is given, input_tokens being the uncached part', async () => {
    expect(await json(FULL)).toEqual(fullUsage);
  });

  it('JSON: sends cache counts of 0 when not asked', async () => {
    expect(await json(undefined)).toEqual(plainUsage(11, 7));
    expect(await json(MINIMAL)).toEqual(plainUsage(100, 40));
  });

  it('JSON: leaves out what is "none" and sends null for "null"', async () => {
    expect(await json(OMITTED)).toEqual({ input_tokens: 100, output_tokens: 40, service_tier: 'standard' });
    expect(await json(NULLS)).toEqual({
      input_tokens: 100,
      cache_creation_input_tokens: null,
      cache_read_input_tokens: null,
      cache_creation: null,
      output_tokens: 40,
      output_tokens_details: null,
      service_tier: 'standard',
    });
  });

  it('stream: message_start has the input counts and a placeholder output, one message_delta restates them with the totals', async () => {
    const stream = await anthropicStream(FULL);
    expect(stream.names.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    const { output_tokens_details: _details, ...startExpected } = fullUsage;
    expect(stream.start).toEqual({ ...startExpected, output_tokens: 1 });
    expect(stream.deltas).toHaveLength(1);
    expect(stream.deltas[0]).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: 100, cache_creation_input_tokens: 20, cache_read_input_tokens: 30, output_tokens: 40, output_tokens_details: { thinking_tokens: 12 } },
    });
    expect(latestWins(stream)).toEqual(fullUsage);
  });

  it('stream: without a breakdown the counts match the JSON body', async () => {
    for (const usage of [undefined, MINIMAL, OMITTED, NULLS]) {
      expect(latestWins(await anthropicStream(usage))).toEqual(await json(usage));
    }
    const omitted = await anthropicStream(OMITTED);
    expect(omitted.start).toEqual({ input_tokens: 100, output_tokens: 1, service_tier: 'standard' });
    expect(omitted.deltas[0].usage).toEqual({ input_tokens: 100, output_tokens: 40 });
  });

  it('stream: x-mock-anthropic-deltas spreads cumulative output over n message_delta events ending at the totals', async () => {
    const stream = await anthropicStream(FULL, '4');
    expect(stream.names.slice(-6)).toEqual(['content_block_stop', 'message_delta', 'message_delta', 'message_delta', 'message_delta', 'message_stop']);
    const outputs = stream.deltas.map((delta) => delta.usage.output_tokens);
    expect(outputs).toEqual([10, 20, 30, 40]);
    expect(stream.deltas.map((delta) => delta.delta.stop_reason)).toEqual([null, null, null, 'end_turn']);
    for (const delta of stream.deltas.slice(0, -1)) expect(Object.keys(delta.usage)).toEqual(['output_tokens']);
    expect(stream.deltas.at(-1).usage).toEqual({ input_tokens: 100, cache_creation_input_tokens: 20, cache_read_input_tokens: 30, output_tokens: 40, output_tokens_details: { thinking_tokens: 12 } });
    expect(latestWins(stream)).toEqual(fullUsage);
  });

  it('stream: cumulative output never falls below the start placeholder, even when n exceeds the output', async () => {
    const stream = await anthropicStream('input=5,output=3', '7');
    const outputs = [stream.start.output_tokens, ...stream.deltas.map((delta) => delta.usage.output_tokens)];
    expect(outputs).toEqual([1, 1, 1, 1, 2, 2, 3, 3]);
    const zero = await anthropicStream('input=5,output=0', '3');
    expect([zero.start.output_tokens, ...zero.deltas.map((delta) => delta.usage.output_tokens)]).toEqual([0, 0, 0, 0]);
  });

  it('stream: output-only deltas leave the input counts to message_start', async () => {
    const stream = await anthropicStream(FULL, '2,output-only');
    expect(stream.deltas.map((delta) => delta.usage)).toEqual([{ output_tokens: 20 }, { output_tokens: 40, output_tokens_details: { thinking_tokens: 12 } }]);
    expect(latestWins(stream)).toEqual(fullUsage);
  });

  it('stream: growing-input starts with smaller input counts that the last delta raises to the totals', async () => {
    const stream = await anthropicStream(FULL, '3,growing-input');
    expect(stream.start).toMatchObject({ input_tokens: 50, cache_creation_input_tokens: 10, cache_read_input_tokens: 15, cache_creation: { ephemeral_5m_input_tokens: 10 }, output_tokens: 1 });
    expect(stream.deltas.at(-1).usage).toMatchObject({ input_tokens: 100, cache_creation_input_tokens: 20, cache_read_input_tokens: 30, output_tokens: 40 });
    const { cache_creation: _startOnly, ...final } = fullUsage;
    expect(latestWins(stream)).toMatchObject(final);
  });
});

describe('Google Vertex AI usage', () => {
  const fullMetadata = {
    promptTokenCount: 100,
    candidatesTokenCount: 40,
    totalTokenCount: 157,
    cachedContentTokenCount: 30,
    toolUsePromptTokenCount: 5,
    thoughtsTokenCount: 12,
    trafficType: 'ON_DEMAND',
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: 100 }],
    cacheTokensDetails: [{ modality: 'TEXT', tokenCount: 30 }],
    candidatesTokensDetails: [{ modality: 'TEXT', tokenCount: 40 }],
    toolUsePromptTokensDetails: [{ modality: 'TEXT', tokenCount: 5 }],
  };
  const plainMetadata = (input: number, output: number) => ({
    promptTokenCount: input,
    candidatesTokenCount: output,
    totalTokenCount: input + output,
    trafficType: 'ON_DEMAND',
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: input }],
    candidatesTokensDetails: [{ modality: 'TEXT', tokenCount: output }],
  });

  async function chunks(query: string, usage: string | undefined): Promise<Json[]> {
    const response = await rawRequest(`${mock.providerUrl}${GOOGLE_PATH}:streamGenerateContent${query}`, { body: '{}', headers: usageHeaders(usage) });
    expect(response.status).toBe(200);
    const text = response.body.toString();
    return query === '' ? JSON.parse(text) : sseJson(text);
  }

  const json: Fetch = async (usage) => (await jsonBody(`${GOOGLE_PATH}:generateContent`, {}, usage)).usageMetadata;
  const lastOf = (query: string): Fetch => async (usage) => {
    const all = await chunks(query, usage);
    for (const chunk of all.slice(0, -1)) expect(chunk.usageMetadata).toEqual({ promptTokenCount: 100, trafficType: 'ON_DEMAND' });
    return all.at(-1).usageMetadata;
  };

  describe.each([
    ['JSON', json],
    ['SSE stream', lastOf('?alt=sse')],
    ['JSON-array stream', lastOf('')],
  ])('%s', (_form, fetchUsage) => {
    it('carries every count it is given; thoughts and the tool-use prompt add to the total, the cached part does not', async () => {
      expect(await fetchUsage(FULL)).toEqual(fullMetadata);
    });

    it('leaves out the counts it is not given, and for "none"', async () => {
      expect(await fetchUsage(MINIMAL)).toEqual(plainMetadata(100, 40));
      expect(await fetchUsage(OMITTED)).toEqual(plainMetadata(100, 40));
    });

    it('sends null for "null", adding nothing to the total', async () => {
      expect(await fetchUsage(NULLS)).toEqual({ ...plainMetadata(100, 40), cachedContentTokenCount: null, toolUsePromptTokenCount: null, thoughtsTokenCount: null });
    });
  });

  it('JSON: the default usage has no breakdown', async () => {
    expect(await json(undefined)).toEqual(plainMetadata(11, 7));
  });
});

describe('malformed usage controls', () => {
  it.each([
    ['OpenAI', '/v1/chat/completions', { stream: true }, (body: Json) => body.error.message],
    ['Anthropic', '/v1/messages', { stream: true }, (body: Json) => body.error.message],
    ['Google', `${GOOGLE_PATH}:streamGenerateContent?alt=sse`, {}, (body: Json) => body.error.message],
  ])('%s: 400 in the provider shape naming the known keys', async (_provider, path, body, message) => {
    const response = await postJson(`${mock.providerUrl}${path}`, body, { 'x-mock-usage': 'input=1,output=2,thinking=3' });
    expect(response.status).toBe(400);
    expect(message(await response.json())).toBe('mock-upstream: x-mock-usage: unknown key "thinking" (known: input, output, cached, cache_write, reasoning, tool_prompt)');
  });

  it('400 for an input-less usage and for a bad x-mock-anthropic-deltas', async () => {
    const missing = await postJson(`${mock.providerUrl}/v1/responses`, {}, { 'x-mock-usage': 'output=2,cached=1' });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as Json).error.message).toMatch(/^mock-upstream: x-mock-usage: input and output are required/);
    const deltas = await postJson(`${mock.providerUrl}/v1/messages`, { stream: true }, { 'x-mock-anthropic-deltas': '0' });
    expect(deltas.status).toBe(400);
    expect(((await deltas.json()) as Json).error.message).toMatch(/^mock-upstream: x-mock-anthropic-deltas:/);
  });
});
