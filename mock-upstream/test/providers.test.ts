import { describe, expect, it } from 'vitest';
import { parseSse, postJson, rawRequest, sseJson, localMockForFile, type Json } from './helpers.js';

const mock = localMockForFile();

const GOOGLE_PATH = '/v1/projects/my-project/locations/us-central1/publishers/google/models/gemini-2.0-flash-001';

describe('OpenAI', () => {
  it('answers chat completions with a chat.completion and the asked usage and model', async () => {
    const response = await postJson(`${mock.providerUrl}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [] }, { 'x-mock-usage': 'input=123,output=45' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    const body = (await response.json()) as Json;
    expect(body).toMatchObject({ object: 'chat.completion', model: 'gpt-4o-mini-2024-07-18', choices: [{ index: 0, message: { role: 'assistant' }, finish_reason: 'stop' }] });
    expect(body.id).toMatch(/^chatcmpl-/);
    expect(body.usage).toMatchObject({ prompt_tokens: 123, completion_tokens: 45, total_tokens: 168 });

    const renamed = (await (await postJson(`${mock.providerUrl}/v1/chat/completions`, {}, { 'x-mock-model': 'gpt-x' })).json()) as Json;
    expect(renamed.model).toBe('gpt-x');
    expect(renamed.usage.prompt_tokens).toBe(11);
    expect(renamed.usage.completion_tokens).toBe(7);
  });

  it('streams chat chunks, with the usage chunk only when include_usage asks for it', async () => {
    const plain = await postJson(`${mock.providerUrl}/v1/chat/completions`, { stream: true });
    expect(plain.headers.get('content-type')).toBe('text/event-stream');
    expect(plain.headers.get('cache-control')).toBe('no-cache');
    expect(plain.headers.get('content-length')).toBeNull();
    const plainText = await plain.text();
    expect(parseSse(plainText).at(-1)!.data).toBe('[DONE]');
    const plainChunks = sseJson(plainText);
    expect(plainChunks.length).toBeGreaterThanOrEqual(5);
    for (const chunk of plainChunks) {
      expect(chunk.object).toBe('chat.completion.chunk');
      expect(chunk.model).toBe('gpt-4o-mini-2024-07-18');
      expect('usage' in chunk).toBe(false);
    }
    expect(plainChunks[0].choices[0].delta.role).toBe('assistant');
    expect(plainChunks.at(-1).choices[0].finish_reason).toBe('stop');

    const withUsage = sseJson(await (await postJson(`${mock.providerUrl}/v1/chat/completions`, { stream: true, stream_options: { include_usage: true } }, { 'x-mock-usage': 'input=30,output=12' })).text());
    const last = withUsage.at(-1);
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 30, completion_tokens: 12, total_tokens: 42 });
    for (const chunk of withUsage.slice(0, -1)) expect(chunk.usage).toBeNull();
  });

  it('answers the responses API, plain and streamed', async () => {
    const plain = (await (await postJson(`${mock.providerUrl}/v1/responses`, { model: 'gpt-4.1', input: 'hi' }, { 'x-mock-usage': 'input=8,output=3' })).json()) as Json;
    expect(plain).toMatchObject({ object: 'response', model: 'gpt-4.1-2025-04-14', status: 'completed', usage: { input_tokens: 8, output_tokens: 3, total_tokens: 11 } });
    expect(plain.id).toMatch(/^resp_/);
    expect(plain.output[0].content[0].type).toBe('output_text');

    const streamed = await postJson(`${mock.providerUrl}/v1/responses`, { stream: true }, { 'x-mock-usage': 'input=20,output=6', 'x-mock-model': 'gpt-5' });
    const events = parseSse(await streamed.text());
    for (const event of events) expect(JSON.parse(event.data).type).toBe(event.event);
    const types = events.map((event) => event.event);
    expect(types[0]).toBe('response.created');
    expect(types.filter((type) => type === 'response.output_text.delta').length).toBeGreaterThanOrEqual(2);
    expect(types.at(-1)).toBe('response.completed');
    expect(JSON.parse(events[0]!.data).response.model).toBe('gpt-5');
    expect(JSON.parse(events.at(-1)!.data).response.usage).toMatchObject({ input_tokens: 20, output_tokens: 6, total_tokens: 26 });
  });

  it('answers embeddings', async () => {
    const body = (await (await postJson(`${mock.providerUrl}/v1/embeddings`, { model: 'text-embedding-3-small', input: 'hello' }, { 'x-mock-usage': 'input=4,output=0' })).json()) as Json;
    expect(body).toMatchObject({ object: 'list', model: 'text-embedding-3-small', usage: { prompt_tokens: 4, total_tokens: 4 } });
    expect(body.data).toHaveLength(1);
    expect(body.data[0]).toMatchObject({ object: 'embedding', index: 0 });
    expect(body.data[0].embedding).toHaveLength(8);
  });
});

describe('Anthropic', () => {
  it('answers messages with a message object', async () => {
    const body = (await (await postJson(`${mock.providerUrl}/v1/messages`, { model: 'claude', max_tokens: 10, messages: [] }, { 'x-mock-usage': 'input=50,output=9' })).json()) as Json;
    expect(body).toMatchObject({ type: 'message', role: 'assistant', model: 'claude-3-5-sonnet-20241022', stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 50, output_tokens: 9 } });
    expect(body.id).toMatch(/^msg_/);
    expect(body.content[0].type).toBe('text');
  });

  it('streams the Anthropic event sequence with input in message_start and output in message_delta', async () => {
    const response = await postJson(`${mock.providerUrl}/v1/messages`, { stream: true }, { 'x-mock-usage': 'input=77,output=31', 'x-mock-model': 'claude-opus' });
    const events = parseSse(await response.text());
    const names = events.map((event) => event.event);
    expect(names[0]).toBe('message_start');
    expect(names.slice(1, 3)).toEqual(['content_block_start', 'ping']);
    expect(names.filter((name) => name === 'content_block_delta').length).toBeGreaterThanOrEqual(2);
    expect(names.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    const start = JSON.parse(events[0]!.data);
    expect(start.message.model).toBe('claude-opus');
    expect(start.message.usage).toMatchObject({ input_tokens: 77, output_tokens: 1 });
    const delta = JSON.parse(events.at(-2)!.data);
    expect(delta).toMatchObject({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 31 } });
  });
});

describe('Google Vertex AI', () => {
  it('answers generateContent with the model of the path, on v1 and v1beta1, chosen by Host', async () => {
    const body = (await (await postJson(`${mock.providerUrl}${GOOGLE_PATH}:generateContent`, { contents: [] }, { 'x-mock-usage': 'input=14,output=6' })).json()) as Json;
    expect(body.modelVersion).toBe('gemini-2.0-flash-001');
    expect(body.candidates[0]).toMatchObject({ content: { role: 'model', parts: [{ text: expect.any(String) }] }, finishReason: 'STOP' });
    expect(body.usageMetadata).toMatchObject({ promptTokenCount: 14, candidatesTokenCount: 6, totalTokenCount: 20 });

    const beta = await rawRequest(`${mock.providerUrl}${GOOGLE_PATH.replace('/v1/', '/v1beta1/')}:generateContent`, { headers: { host: 'us-central1-aiplatform.googleapis.com' }, body: '{}' });
    expect(beta.status).toBe(200);
    expect(JSON.parse(beta.body.toString()).modelVersion).toBe('gemini-2.0-flash-001');

    // Host decides the provider: a Google host on an OpenAI path gets Google's 404 shape.
    const wrong = await rawRequest(`${mock.providerUrl}/v1/chat/completions`, { headers: { host: 'aiplatform.googleapis.com' }, body: '{}' });
    expect(wrong.status).toBe(404);
    expect(JSON.parse(wrong.body.toString())).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
  });

  it('streams SSE with CRLF framing and the full usage in the last chunk only', async () => {
    const response = await rawRequest(`${mock.providerUrl}${GOOGLE_PATH}:streamGenerateContent?alt=sse`, { body: '{}', headers: { 'x-mock-usage': 'input=40,output=15' } });
    expect(response.headers['content-type']).toBe('text/event-stream');
    const text = response.body.toString();
    expect(text).toMatch(/^data: \{.*\}\r\n\r\n/);
    const chunks = sseJson(text);
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    for (const chunk of chunks.slice(0, -1)) expect(chunk.usageMetadata.totalTokenCount).toBeUndefined();
    expect(chunks.at(-1).usageMetadata).toMatchObject({ promptTokenCount: 40, candidatesTokenCount: 15, totalTokenCount: 55 });
    expect(chunks.at(-1).candidates[0].finishReason).toBe('STOP');
  });

  it('streams one JSON array over several writes without alt=sse', async () => {
    const response = await rawRequest(`${mock.providerUrl}${GOOGLE_PATH}:streamGenerateContent`, { body: '{}', headers: { 'x-mock-usage': 'input=9,output=2', 'x-mock-event-delay-ms': '20' } });
    expect(response.headers['content-type']).toBe('application/json; charset=UTF-8');
    expect(response.chunks.length).toBeGreaterThan(2);
    const text = response.body.toString();
    expect(text.startsWith('[{')).toBe(true);
    expect(text).toContain('}\r\n,{');
    expect(text.endsWith('}]')).toBe(true);
    const array = JSON.parse(text) as Json[];
    expect(array.at(-1).usageMetadata).toMatchObject({ promptTokenCount: 9, candidatesTokenCount: 2, totalTokenCount: 11 });
  });
});
