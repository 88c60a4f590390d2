import { createHash } from 'node:crypto';
import { NOT_FOUND_TYPE } from '../support/contract';
import { test, expect } from '../fixtures';
import { KEYS } from '../support/keys';


const routes = [
  {
    provider: 'openai',
    host: 'api.openai.com',
    path: '/v1/chat/completions',
    headers: { authorization: `Bearer ${KEYS.alpha.key}`, 'openai-organization': 'org-e2e' },
  },
  {
    provider: 'anthropic',
    host: 'api.anthropic.com',
    path: '/v1/messages',
    headers: { 'x-api-key': KEYS.beta.key, 'anthropic-version': '2023-06-01', 'anthropic-beta': 'tools-2024-04-04' },
  },
  {
    provider: 'google',
    host: 'aiplatform.googleapis.com',
    path: '/v1/projects/e2e-project/locations/us-central1/publishers/google/models/gemini-2.0-flash-001:generateContent',
    headers: { authorization: `Bearer ${KEYS.gamma.key}`, 'x-goog-user-project': 'e2e-project' },
  },
] as const;

test.describe('routing', () => {
  for (const route of routes) {
    test(`${route.provider}: prefix stripped, query, method, body and headers forwarded, Host and SNI are ${route.host}`, async ({ request, tagged, tag, mock }) => {
      const body = `{"model":"m","messages":[{"role":"user","content":"héllo ✓ ${route.provider}"}],"odd":  [1,2 ,3]}`;
      const response = await request.post(tagged(`/${route.provider}${route.path}?alt=json&x=1&x=2&empty=`), {
        headers: { ...route.headers, 'content-type': 'application/json', 'x-e2e-trace': `trace-${tag}`, 'x-Custom_Underscore': 'kept' },
        data: body,
      });
      expect(response.status()).toBe(200);

      const [recorded] = await mock.waitForRequests(tag);
      expect(recorded).toBeDefined();
      expect(recorded!.method).toBe('POST');
      expect(recorded!.path).toBe(route.path);
      expect(recorded!.query).toBe(`alt=json&x=1&x=2&empty=&lmgate_tag=${encodeURIComponent(tag)}`);
      expect(Buffer.from(recorded!.bodyBase64, 'base64').equals(Buffer.from(body))).toBe(true);
      expect(recorded!.host).toBe(route.host);
      expect(recorded!.sni).toBe(route.host);
      for (const [name, value] of Object.entries(route.headers)) expect(recorded!.headers[name], name).toBe(value);
      expect(recorded!.headers['x-e2e-trace']).toBe(`trace-${tag}`);
      expect(recorded!.headers['x-custom_underscore']).toBe('kept');
      expect(recorded!.headers['content-type']).toBe('application/json');
    });
  }

  test('other methods pass as sent: GET, DELETE and PUT keep their method and body', async ({ request, tagged, tag, mock }) => {
    const headers = { authorization: `Bearer ${KEYS.alpha.key}` };
    await request.get(tagged('/openai/v1/models'), { headers });
    await request.delete(tagged('/openai/v1/files/file-abc'), { headers });
    await request.put(tagged('/openai/v1/files/file-abc'), { headers, data: 'raw put body' });
    const recorded = await mock.waitForRequests(tag, 3);
    expect(recorded.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/models', 'DELETE /v1/files/file-abc', 'PUT /v1/files/file-abc']);
    expect(recorded[2]!.bodyText).toBe('raw put body');
  });

  test('a binary request body arrives byte for byte', async ({ request, tagged, tag, mock }) => {
    const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37 + 11) % 256));
    const response = await request.post(tagged('/openai/v1/audio/transcriptions'), {
      headers: { authorization: `Bearer ${KEYS.alpha.key}`, 'content-type': 'application/octet-stream' },
      data: bytes,
    });
    expect(response.status()).toBeLessThan(500);
    const [recorded] = await mock.waitForRequests(tag);
    expect(Buffer.from(recorded!.bodyBase64, 'base64').equals(bytes)).toBe(true);
  });

  test('a malformed JSON body passes through unchanged: the gateway does not parse requests', async ({ request, tagged, tag, mock }) => {
    const body = '{"model": "gpt-4o", "messages": [ {"role": "user", "content": "unterminated';
    const response = await request.post(tagged('/openai/v1/chat/completions'), {
      headers: { authorization: `Bearer ${KEYS.alpha.key}`, 'content-type': 'application/json' },
      // A Buffer: Playwright would JSON-encode a string that is not valid JSON.
      data: Buffer.from(body),
    });
    const [recorded] = await mock.waitForRequests(tag);
    expect(recorded!.bodyText).toBe(body);
    // The provider, not the gateway, judged the body: its own 400 came back.
    expect(response.status()).toBe(400);
    expect(response.headers()['x-mock-request-id']).toBe(recorded!.id);
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });

  test("the client's Accept-Encoding is replaced by identity towards the provider", async ({ request, tagged, tag, mock }) => {
    await request.post(tagged('/openai/v1/chat/completions'), {
      headers: { authorization: `Bearer ${KEYS.alpha.key}`, 'accept-encoding': 'gzip, br' },
      data: { model: 'gpt-4o-mini', messages: [] },
    });
    const [recorded] = await mock.waitForRequests(tag);
    expect(recorded!.headers['accept-encoding']).toBe('identity');
  });

  for (const path of ['/v1/chat/completions', '/azure/openai/deployments/x/chat/completions', '/mistral/v1/chat/completions', '/openaiX/v1/chat/completions', '/openai', '/anthropic', '/google', '/']) {
    test(`unknown route ${path} → 404 JSON, reaches nothing, with a valid key and without one`, async ({ request, tagged, tag, mock, stats }) => {
      // Without a key: a 404, not a 403 (spec §3: unknown paths get the 404).
      const keyless = await request.post(`${tagged(path)}&keyless=1`, { data: '{}' });
      expect(keyless.status()).toBe(404);
      expect(((await keyless.json()) as { error: { type: string } }).error.type).toBe(NOT_FOUND_TYPE);
      const response = await request.post(tagged(path), { headers: { authorization: `Bearer ${KEYS.alpha.key}` }, data: '{}' });
      expect(response.status()).toBe(404);
      expect(response.headers()['content-type']).toMatch(/^application\/json/);
      expect(((await response.json()) as { error: { type: string } }).error.type).toBe(NOT_FOUND_TYPE);
      await mock.expectNoRequests(tag);
      stats.expectNoLines(tag);
    });
  }

  test("the provider's own error statuses and bodies pass through unchanged", async ({ request, tagged, tag, mock }) => {
    const response = await request.post(tagged('/anthropic/v1/messages'), {
      headers: { 'x-api-key': KEYS.beta.key, 'x-mock-status': '529' },
      data: { model: 'claude-3-5-sonnet-20241022', max_tokens: 8, messages: [] },
    });
    expect(response.status()).toBe(529);
    const [recorded] = await mock.answered(tag);
    const received = await response.body();
    // The very bytes the mock sent: its length and SHA-256 of what it wrote.
    expect([received.length, createHash('sha256').update(received).digest('hex')]).toEqual([recorded!.response!.bodyLength, recorded!.response!.bodySha256]);
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe('overloaded_error');
  });
});
