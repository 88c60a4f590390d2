import { Agent, request as httpRequest } from 'node:http';
import { createHash } from 'node:crypto';
import { test, expect } from '../fixtures';
import { anthropicHeaders, bearerHeaders, KEYS, type TestKey } from '../support/keys';
import { rawFetch } from '../support/raw-http';
import type { StatsLine } from '../support/stats-file';
import { expectedTokens, mockUsage, usageForm, USAGE_FORMS, type MockUsage } from '../support/usage-cases';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

interface Case {
  name: string;
  /** The allow-list row whose key the call sends (lmgate_id, masked_key). */
  key: TestKey;
  path: string;
  body: object;
  /** Every request header: the key's, the content type, the mock's controls. */
  headers: Record<string, string>;
  expected: Partial<StatsLine>;
  /** Read the reply without any decoding (HTTP clients gunzip on their own). */
  raw?: boolean;
}


/** A call in one of spec §5's forms (tests/support/usage-cases.ts), with more mock controls or another body. */
function onForm(formName: string, name: string, more: { headers?: Record<string, string>; body?: object; expected: Partial<StatsLine>; raw?: boolean }): Case {
  const f = usageForm(formName);
  return { name, key: f.key, path: f.path, body: more.body ?? f.body, headers: { ...f.headers, ...more.headers }, expected: { provider: f.provider, ...more.expected }, ...(more.raw ? { raw: true } : {}) };
}

/** A call in a form with a usage: the line has the form's model and spec §5's tokens for it. */
function withUsage(formName: string, name: string, usage: MockUsage, more: { headers?: Record<string, string>; body?: object } = {}): Case {
  const f = usageForm(formName);
  return onForm(formName, name, { ...more, headers: { ...more.headers, 'x-mock-usage': mockUsage(usage) }, expected: { status: 200, model: f.model, ...expectedTokens(f.api, usage) } });
}

const cases: Case[] = [
  // Every form, its usage in input and output only: the breakdown is what the provider
  // sends when it has nothing to report (tests/shared-stack/usage.spec.ts gives it all).
  ...USAGE_FORMS.map((f, i) => withUsage(f.name, f.name, { input: 21 + 2 * i, output: 8 + i })),
  onForm('OpenAI chat, stream with include_usage', 'OpenAI chat, stream without include_usage: model, no tokens', {
    body: { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] },
    headers: { 'x-mock-usage': mockUsage({ input: 33, output: 14 }) },
    expected: { model: usageForm('OpenAI chat, JSON').model, input_tokens: null, output_tokens: null, cached_input_tokens: null, reasoning_tokens: null },
  }),
  onForm('OpenAI chat, JSON', 'OpenAI upstream error: error_type from error.type', {
    headers: { 'x-mock-status': '429' },
    expected: { status: 429, error_type: 'rate_limit_exceeded', input_tokens: null, output_tokens: null },
  }),
  onForm('Anthropic messages, JSON', 'Anthropic upstream error: error_type from error.type', {
    headers: { 'x-mock-status': '529' },
    expected: { status: 529, error_type: 'overloaded_error' },
  }),
  onForm('Google generateContent, JSON', 'Google upstream error: error_type from error.status', {
    headers: { 'x-mock-status': '429' },
    expected: { status: 429, error_type: 'RESOURCE_EXHAUSTED' },
  }),
  onForm('OpenAI chat, JSON', 'a custom upstream error type is recorded as sent', {
    headers: { 'x-mock-status': '400', 'x-mock-error-type': 'context_length_exceeded' },
    expected: { status: 400, error_type: 'context_length_exceeded' },
  }),
  onForm('OpenAI chat, JSON', 'a non-JSON body: null tokens, no error', {
    headers: { 'x-mock-scenario': 'non-json' },
    expected: { status: 200, model: null, input_tokens: null, output_tokens: null, error_type: null },
  }),
  // Replies over 3 MiB (the mock's `large` scenario: some 3,400 stream events, sent
  // without pauses): nginx keeps their first and last 64 KiB only, and the usage is found
  // there (spec §5).
  withUsage('OpenAI chat, JSON', 'a chat completion over 3 MiB: tokens found', { input: 1000, output: 2000 }, { headers: { 'x-mock-scenario': 'large' } }),
  withUsage('OpenAI chat, stream with include_usage', 'a chat stream over 3 MiB: tokens found', { input: 1001, output: 20000, reasoning: 30 }, { headers: { 'x-mock-scenario': 'large', 'x-mock-event-delay-ms': '0' } }),
  withUsage('OpenAI responses, stream (response.completed)', 'a Responses stream over 3 MiB, its response.completed event alone over 3 MiB: tokens found', { input: 1002, output: 20001, cached: 5 }, { headers: { 'x-mock-scenario': 'large', 'x-mock-event-delay-ms': '0' } }),
  withUsage('Anthropic messages, stream', 'an Anthropic stream over 3 MiB (usage at the start and the end): tokens found', { input: 1003, output: 20002, cached: 7 }, { headers: { 'x-mock-scenario': 'large', 'x-mock-event-delay-ms': '0' } }),
  withUsage('Google streamGenerateContent, SSE (alt=sse)', 'a Gemini SSE stream over 3 MiB: tokens found', { input: 1004, output: 20003 }, { headers: { 'x-mock-scenario': 'large', 'x-mock-event-delay-ms': '0' } }),
  withUsage('Google streamGenerateContent, one JSON array', 'a Gemini JSON-array stream over 3 MiB: tokens found', { input: 1005, output: 20004 }, { headers: { 'x-mock-scenario': 'large', 'x-mock-event-delay-ms': '0' } }),
  withUsage('OpenAI embeddings', 'embeddings over 3 MiB in floats: tokens found', { input: 1006, output: 0 }, { headers: { 'x-mock-scenario': 'large' }, body: { model: 'text-embedding-3-small', input: ['a'] } }),
  withUsage('OpenAI embeddings', 'embeddings over 3 MiB in base64 (as the openai SDK asks): tokens found', { input: 1007, output: 0 }, { headers: { 'x-mock-scenario': 'large' }, body: { model: 'text-embedding-3-small', input: ['a', 'b'], encoding_format: 'base64' } }),
  onForm('OpenAI chat, JSON', 'a provider error whose body is not JSON (gzip-encoded): error_type http_<status>', {
    headers: { 'x-mock-status': '503', 'x-mock-scenario': 'gzip' },
    expected: { status: 503, error_type: 'http_503', input_tokens: null },
    raw: true,
  }),
  onForm('Anthropic messages, JSON', 'a gzip body the provider sent anyway: passed unchanged, null tokens', {
    headers: { 'x-mock-scenario': 'gzip', 'x-mock-usage': mockUsage({ input: 3, output: 4 }) },
    expected: { status: 200, input_tokens: null, output_tokens: null },
    raw: true,
  }),
  withUsage('OpenAI chat, JSON', 'multi-byte UTF-8 split across writes: tokens still found', { input: 7, output: 70 }, { headers: { 'x-mock-scenario': 'utf8-split' } }),
];

test.describe('stats records', () => {
  for (const c of cases) {
    test(`${c.name}`, async ({ request, stack, tagged, tag, mock, stats, recordExchange }) => {
      const endpoint = tagged(c.path);
      const headers = c.headers;
      const started = Date.now();
      let status: number;
      let received: Buffer;
      let responseHeaders: Record<string, string>;
      if (c.raw) {
        const raw = await rawFetch(stack.gatewayURL + endpoint, 'POST', headers, JSON.stringify(c.body));
        await recordExchange({ method: 'POST', url: stack.gatewayURL + endpoint, requestHeaders: headers, requestBody: JSON.stringify(c.body), status: raw.status, responseHeaders: raw.headers, responseBody: `(${raw.body.length} raw bytes) ${raw.body.toString('base64')}` });
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
    const path = tagged(`${usageForm('Google generateContent, JSON').path}?key=${KEYS.gamma.key}`);
    const response = await request.post(path, { headers: bearerHeaders(KEYS.gamma), data: { contents: [] } });
    expect(response.status()).toBe(200);
    // The provider still gets the query as sent.
    const [recorded] = await mock.waitForRequests(tag);
    expect(new URLSearchParams(recorded!.query).get('key')).toBe(KEYS.gamma.key);
    const [line] = await stats.waitForLines(tag);
    expect(line!.endpoint).toContain('key=***');
    expect(line!.endpoint).not.toContain(KEYS.gamma.key);
  });

  test('no full API key appears anywhere in the stats file', async ({ request, tagged, tag, stats }) => {
    await request.post(tagged('/openai/v1/chat/completions'), { headers: bearerHeaders(KEYS.alpha), data: { model: 'gpt-4o-mini', messages: [] } });
    await request.post(tagged('/anthropic/v1/messages'), { headers: anthropicHeaders(KEYS.beta), data: { model: 'claude', max_tokens: 8, messages: [] } });
    await stats.waitForLines(tag, 2);
    const text = stats.text();
    for (const key of Object.values(KEYS)) {
      expect(text).not.toContain(key.key);
      expect(text).not.toContain(key.key.slice(0, -6));
    }
  });

  test('each proxied call gives exactly one line, also for back-to-back calls on one connection', async ({ stack, tagged, tag, stats }) => {
    // One kept-alive socket for all ten, checked: the request fixture would not say.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    try {
      for (let i = 0; i < 10; i++) {
        const status = await new Promise<number>((resolve, reject) => {
          const req = httpRequest(stack.gatewayURL + tagged(`/openai/v1/chat/completions?i=${i}`), { agent, method: 'POST', headers: { ...bearerHeaders(KEYS.alpha), 'content-type': 'application/json' } }, (res) => {
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
