import { Agent, request as httpRequest } from 'node:http';
import { createHash } from 'node:crypto';
import { test, expect } from '../fixtures';
import { KEYS, type TestKey } from '../support/keys';
import { rawFetch } from '../support/raw-http';
import type { StatsLine } from '../support/stats-file';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const GOOGLE_MODEL_PATH = '/google/v1/projects/e2e/locations/us-central1/publishers/google/models/gemini-2.0-flash-001';

interface Case {
  name: string;
  key: TestKey;
  path: string;
  body: object;
  /** Extra request headers (mock controls). */
  headers?: Record<string, string>;
  expected: Partial<StatsLine>;
  /** Read the reply without any decoding (HTTP clients gunzip on their own). */
  raw?: boolean;
}

const bearer = (key: TestKey) => ({ authorization: `Bearer ${key.key}` });
const anthropicHeaders = (key: TestKey) => ({ 'x-api-key': key.key, 'anthropic-version': '2023-06-01' });

const cases: Case[] = [
  {
    name: 'OpenAI chat completion, JSON',
    key: KEYS.alpha,
    path: '/openai/v1/chat/completions',
    body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
    headers: { 'x-mock-usage': '21,8' },
    expected: { provider: 'openai', model: 'gpt-4o-mini-2024-07-18', input_tokens: 21, output_tokens: 8 },
  },
  {
    name: 'OpenAI chat completion, streaming with include_usage',
    key: KEYS.alpha,
    path: '/openai/v1/chat/completions',
    body: { model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] },
    headers: { 'x-mock-usage': '33,14' },
    expected: { provider: 'openai', model: 'gpt-4o-mini-2024-07-18', input_tokens: 33, output_tokens: 14 },
  },
  {
    name: 'OpenAI chat completion, streaming without include_usage: model, no tokens',
    key: KEYS.alpha,
    path: '/openai/v1/chat/completions',
    body: { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] },
    headers: { 'x-mock-usage': '33,14' },
    expected: { provider: 'openai', model: 'gpt-4o-mini-2024-07-18', input_tokens: null, output_tokens: null },
  },
  {
    name: 'OpenAI responses API, JSON',
    key: KEYS.alpha,
    path: '/openai/v1/responses',
    body: { model: 'gpt-4.1', input: 'hi' },
    headers: { 'x-mock-usage': '40,12', 'x-mock-model': 'gpt-4.1-2025-04-14' },
    expected: { provider: 'openai', model: 'gpt-4.1-2025-04-14', input_tokens: 40, output_tokens: 12 },
  },
  {
    name: 'OpenAI responses API, streaming (response.completed)',
    key: KEYS.alpha,
    path: '/openai/v1/responses',
    body: { model: 'gpt-4.1', input: 'hi', stream: true },
    headers: { 'x-mock-usage': '41,13', 'x-mock-model': 'gpt-4.1-2025-04-14' },
    expected: { provider: 'openai', model: 'gpt-4.1-2025-04-14', input_tokens: 41, output_tokens: 13 },
  },
  {
    name: 'OpenAI embeddings: prompt tokens, no output tokens',
    key: KEYS.alpha,
    path: '/openai/v1/embeddings',
    body: { model: 'text-embedding-3-small', input: 'hi' },
    headers: { 'x-mock-usage': '5,0' },
    expected: { provider: 'openai', model: 'text-embedding-3-small', input_tokens: 5, output_tokens: null },
  },
  {
    name: 'Anthropic messages, JSON',
    key: KEYS.beta,
    path: '/anthropic/v1/messages',
    body: { model: 'claude-3-5-sonnet-20241022', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] },
    headers: { 'x-mock-usage': '25,11' },
    expected: { provider: 'anthropic', model: 'claude-3-5-sonnet-20241022', input_tokens: 25, output_tokens: 11 },
  },
  {
    name: 'Anthropic messages, streaming: input from message_start, output from the last message_delta',
    key: KEYS.beta,
    path: '/anthropic/v1/messages',
    body: { model: 'claude-3-5-sonnet-20241022', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }] },
    headers: { 'x-mock-usage': '26,17', 'x-mock-model': 'claude-3-5-haiku-20241022' },
    expected: { provider: 'anthropic', model: 'claude-3-5-haiku-20241022', input_tokens: 26, output_tokens: 17 },
  },
  {
    name: 'Google generateContent, JSON',
    key: KEYS.gamma,
    path: `${GOOGLE_MODEL_PATH}:generateContent`,
    body: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] },
    headers: { 'x-mock-usage': '9,4' },
    expected: { provider: 'google', model: 'gemini-2.0-flash-001', input_tokens: 9, output_tokens: 4 },
  },
  {
    name: 'Google streamGenerateContent with alt=sse',
    key: KEYS.gamma,
    path: `${GOOGLE_MODEL_PATH}:streamGenerateContent?alt=sse`,
    body: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] },
    headers: { 'x-mock-usage': '19,23' },
    expected: { provider: 'google', model: 'gemini-2.0-flash-001', input_tokens: 19, output_tokens: 23 },
  },
  {
    name: 'Google streamGenerateContent as one JSON array',
    key: KEYS.gamma,
    path: `${GOOGLE_MODEL_PATH}:streamGenerateContent`,
    body: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] },
    headers: { 'x-mock-usage': '18,22' },
    expected: { provider: 'google', model: 'gemini-2.0-flash-001', input_tokens: 18, output_tokens: 22 },
  },
  {
    name: 'OpenAI upstream error: error_type from error.type',
    key: KEYS.alpha,
    path: '/openai/v1/chat/completions',
    body: { model: 'gpt-4o-mini', messages: [] },
    headers: { 'x-mock-status': '429' },
    expected: { provider: 'openai', status: 429, error_type: 'rate_limit_exceeded', input_tokens: null, output_tokens: null },
  },
  {
    name: 'Anthropic upstream error: error_type from error.type',
    key: KEYS.beta,
    path: '/anthropic/v1/messages',
    body: { model: 'claude-3-5-sonnet-20241022', max_tokens: 8, messages: [] },
    headers: { 'x-mock-status': '529' },
    expected: { provider: 'anthropic', status: 529, error_type: 'overloaded_error' },
  },
  {
    name: 'Google upstream error: error_type from error.status',
    key: KEYS.gamma,
    path: `${GOOGLE_MODEL_PATH}:generateContent`,
    body: { contents: [] },
    headers: { 'x-mock-status': '429' },
    expected: { provider: 'google', status: 429, error_type: 'RESOURCE_EXHAUSTED' },
  },
  {
    name: 'a custom upstream error type is recorded as sent',
    key: KEYS.alpha,
    path: '/openai/v1/chat/completions',
    body: { model: 'gpt-4o-mini', messages: [] },
    headers: { 'x-mock-status': '400', 'x-mock-error-type': 'context_length_exceeded' },
    expected: { provider: 'openai', status: 400, error_type: 'context_length_exceeded' },
  },
  {
    name: 'a non-JSON body: null tokens, no error',
    key: KEYS.alpha,
    path: '/openai/v1/chat/completions',
    body: { model: 'gpt-4o-mini', messages: [] },
    headers: { 'x-mock-scenario': 'non-json' },
    expected: { provider: 'openai', status: 200, model: null, input_tokens: null, output_tokens: null, error_type: null },
  },
  // Replies over 3 MiB (the mock's `large` scenario: some 3,400 stream events, sent
  // without pauses): nginx
  // keeps their first and last 64 KiB only, and the usage is found there (spec §5).
  {
    name: 'a chat completion over 3 MiB: tokens found',
    key: KEYS.alpha,
    path: '/openai/v1/chat/completions',
    body: { model: 'gpt-4o-mini', messages: [] },
    headers: { 'x-mock-scenario': 'large', 'x-mock-usage': '1000,2000' },
    expected: { provider: 'openai', status: 200, model: 'gpt-4o-mini-2024-07-18', input_tokens: 1000, output_tokens: 2000 },
  },
  {
    name: 'a chat stream over 3 MiB: tokens found',
    key: KEYS.alpha,
    path: '/openai/v1/chat/completions',
    body: { model: 'gpt-4o-mini', messages: [], stream: true, stream_options: { include_usage: true } },
    headers: { 'x-mock-scenario': 'large', 'x-mock-event-delay-ms': '0', 'x-mock-usage': 'input=1001,output=20000,reasoning=30' },
    expected: { provider: 'openai', status: 200, input_tokens: 1001, output_tokens: 20000, reasoning_tokens: 30 },
  },
  {
    name: 'a Responses stream over 3 MiB, its response.completed event alone over 3 MiB: tokens found',
    key: KEYS.alpha,
    path: '/openai/v1/responses',
    body: { model: 'gpt-4o-mini', input: 'hi', stream: true },
    headers: { 'x-mock-scenario': 'large', 'x-mock-event-delay-ms': '0', 'x-mock-usage': 'input=1002,output=20001,cached=5' },
    expected: { provider: 'openai', status: 200, input_tokens: 1002, output_tokens: 20001, cached_input_tokens: 5 },
  },
  {
    name: 'an Anthropic stream over 3 MiB (usage at the start and the end): tokens found',
    key: KEYS.beta,
    path: '/anthropic/v1/messages',
    body: { model: 'claude-3-5-sonnet-20241022', max_tokens: 8, messages: [], stream: true },
    headers: { 'x-mock-scenario': 'large', 'x-mock-event-delay-ms': '0', 'x-mock-usage': 'input=1003,output=20002,cached=7' },
    expected: { provider: 'anthropic', status: 200, model: 'claude-3-5-sonnet-20241022', input_tokens: 1010, output_tokens: 20002, cached_input_tokens: 7 },
  },
  {
    name: 'a Gemini SSE stream over 3 MiB: tokens found',
    key: KEYS.gamma,
    path: `${GOOGLE_MODEL_PATH}:streamGenerateContent?alt=sse`,
    body: { contents: [] },
    headers: { 'x-mock-scenario': 'large', 'x-mock-event-delay-ms': '0', 'x-mock-usage': '1004,20003' },
    expected: { provider: 'google', status: 200, model: 'gemini-2.0-flash-001', input_tokens: 1004, output_tokens: 20003 },
  },
  {
    name: 'a Gemini JSON-array stream over 3 MiB: tokens found',
    key: KEYS.gamma,
    path: `${GOOGLE_MODEL_PATH}:streamGenerateContent`,
    body: { contents: [] },
    headers: { 'x-mock-scenario': 'large', 'x-mock-event-delay-ms': '0', 'x-mock-usage': '1005,20004' },
    expected: { provider: 'google', status: 200, model: 'gemini-2.0-flash-001', input_tokens: 1005, output_tokens: 20004 },
  },
  {
    name: 'embeddings over 3 MiB in floats: tokens found',
    key: KEYS.alpha,
    path: '/openai/v1/embeddings',
    body: { model: 'text-embedding-3-small', input: ['a'] },
    headers: { 'x-mock-scenario': 'large', 'x-mock-usage': '1006,0' },
    expected: { provider: 'openai', status: 200, input_tokens: 1006, output_tokens: null },
  },
  {
    name: 'embeddings over 3 MiB in base64 (as the openai SDK asks): tokens found',
    key: KEYS.alpha,
    path: '/openai/v1/embeddings',
    body: { model: 'text-embedding-3-small', input: ['a', 'b'], encoding_format: 'base64' },
    headers: { 'x-mock-scenario': 'large', 'x-mock-usage': '1007,0' },
    expected: { provider: 'openai', status: 200, input_tokens: 1007, output_tokens: null },
  },
  {
    name: 'a provider error whose body is not JSON (gzip-encoded): error_type http_<status>',
    key: KEYS.alpha,
    path: '/openai/v1/chat/completions',
    body: { model: 'gpt-4o-mini', messages: [] },
    headers: { 'x-mock-status': '503', 'x-mock-scenario': 'gzip' },
    expected: { provider: 'openai', status: 503, error_type: 'http_503', input_tokens: null },
    raw: true,
  },
  {
    name: 'a gzip body the provider sent anyway: passed unchanged, null tokens',
    key: KEYS.beta,
    path: '/anthropic/v1/messages',
    body: { model: 'claude-3-5-sonnet-20241022', max_tokens: 8, messages: [] },
    headers: { 'x-mock-scenario': 'gzip', 'x-mock-usage': '3,4' },
    expected: { provider: 'anthropic', status: 200, input_tokens: null, output_tokens: null },
    raw: true,
  },
  {
    name: 'multi-byte UTF-8 split across writes: tokens still found',
    key: KEYS.alpha,
    path: '/openai/v1/chat/completions',
    body: { model: 'gpt-4o-mini', messages: [] },
    headers: { 'x-mock-scenario': 'utf8-split', 'x-mock-usage': '7,70' },
    expected: { provider: 'openai', status: 200, input_tokens: 7, output_tokens: 70 },
  },
];

test.describe('stats records', () => {
  for (const c of cases) {
    test(`${c.name}`, async ({ request, run, tagged, tag, mock, stats, recordExchange }) => {
      const endpoint = tagged(c.path);
      const headers = { ...(c.key === KEYS.beta ? anthropicHeaders(c.key) : bearer(c.key)), 'content-type': 'application/json', ...c.headers };
      const started = Date.now();
      let status: number;
      let received: Buffer;
      let responseHeaders: Record<string, string>;
      if (c.raw) {
        const raw = await rawFetch(run.gatewayURL + endpoint, 'POST', headers, JSON.stringify(c.body));
        await recordExchange({ method: 'POST', url: run.gatewayURL + endpoint, requestHeaders: headers, requestBody: JSON.stringify(c.body), status: raw.status, responseHeaders: raw.headers, responseBody: `(${raw.body.length} raw bytes) ${raw.body.toString('base64')}` });
        ({ status, body: received, headers: responseHeaders } = raw);
      } else {
        const response = await request.post(endpoint, { headers, data: JSON.stringify(c.body) });
        status = response.status();
        received = await response.body();
        responseHeaders = response.headers();
      }

      // The client's response is exactly what the provider sent, whatever stats made of it.
      const [recorded] = await mock.answered(tag);
      expect(status).toBe(recorded!.response!.status);
      expect(received.length).toBe(recorded!.response!.bodyLength);
      expect(sha256(received)).toBe(recorded!.response!.bodySha256);
      expect(responseHeaders['content-encoding']).toBe(recorded!.response!.headers['content-encoding']);

      const [line] = await stats.waitForLines(tag);
      expect(line).toMatchObject({
        lmgate_id: c.key.id,
        endpoint,
        status,
        masked_key: c.key.key.slice(-6),
        error_type: status >= 400 ? expect.any(String) : null,
        ...c.expected,
      });
      // Spec §5's fields, in its order.
      expect(Object.keys(line!)).toEqual([
        'timestamp', 'lmgate_id', 'provider', 'endpoint', 'model', 'status', 'input_tokens', 'output_tokens',
        'cached_input_tokens', 'cache_write_input_tokens', 'reasoning_tokens', 'masked_key', 'error_type', 'request_id', 'duration_ms', 'first_byte_ms',
      ]);
      const at = Date.parse(line!.timestamp);
      expect(at).toBeGreaterThanOrEqual(started - 2_000);
      expect(at).toBeLessThanOrEqual(Date.now());
    });
  }

  test('a key passed in the query string (?key=, as Vertex AI allows) is masked in the recorded endpoint', async ({ request, tagged, tag, stats, mock }) => {
    const path = tagged(`${GOOGLE_MODEL_PATH}:generateContent?key=${KEYS.gamma.key}`);
    const response = await request.post(path, { headers: bearer(KEYS.gamma), data: { contents: [] } });
    expect(response.status()).toBe(200);
    // The provider still gets the query as sent.
    const [recorded] = await mock.waitForRequests(tag);
    expect(new URLSearchParams(recorded!.query).get('key')).toBe(KEYS.gamma.key);
    const [line] = await stats.waitForLines(tag);
    expect(line!.endpoint).toContain('key=***');
    expect(line!.endpoint).not.toContain(KEYS.gamma.key);
  });

  test('no full API key appears anywhere in the stats file', async ({ request, tagged, tag, stats }) => {
    await request.post(tagged('/openai/v1/chat/completions'), { headers: bearer(KEYS.alpha), data: { model: 'gpt-4o-mini', messages: [] } });
    await request.post(tagged('/anthropic/v1/messages'), { headers: anthropicHeaders(KEYS.beta), data: { model: 'claude', max_tokens: 8, messages: [] } });
    await stats.waitForLines(tag, 2);
    const text = stats.text();
    for (const key of Object.values(KEYS)) {
      expect(text).not.toContain(key.key);
      expect(text).not.toContain(key.key.slice(0, -6));
    }
  });

  test('each proxied call gives exactly one line, also for back-to-back calls on one connection', async ({ run, tagged, tag, stats }) => {
    // One kept-alive socket for all ten, checked: the request fixture would not say.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    try {
      for (let i = 0; i < 10; i++) {
        const status = await new Promise<number>((resolve, reject) => {
          const req = httpRequest(run.gatewayURL + tagged(`/openai/v1/chat/completions?i=${i}`), { agent, method: 'POST', headers: { ...bearer(KEYS.alpha), 'content-type': 'application/json' } }, (res) => {
            sockets.add(res.socket);
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
            res.on('error', reject);
          });
          req.on('error', reject);
          req.end('{"model":"gpt-4o-mini","messages":[]}');
        });
        expect(status, `call ${i}`).toBe(200);
      }
    } finally {
      agent.destroy();
    }
    expect(sockets.size, 'all ten calls on one connection').toBe(1);
    const lines = await stats.waitForLines(tag, 10);
    expect(lines.map((l) => new URLSearchParams(l.endpoint.split('?')[1]).get('i')).sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });
});
