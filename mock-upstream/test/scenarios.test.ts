import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { LARGE_MIN_BYTES, UTF8_SENTENCE, utf8SplitPlan } from '../src/scenarios.js';
import { postJson, rawRequest, records, localMockForFile, type Json } from './helpers.js';

const mock = localMockForFile();

const GOOGLE_PATH = '/v1beta1/projects/p/locations/europe-west4/publishers/google/models/gemini-1.5-pro-002:generateContent';

describe('errors', () => {
  it('answers x-mock-status with each provider’s error body', async () => {
    const openai = await postJson(`${mock.providerUrl}/v1/chat/completions`, {}, { 'x-mock-status': '429' });
    expect(openai.status).toBe(429);
    expect(await openai.json()).toMatchObject({ error: { type: 'rate_limit_exceeded', param: null, code: 'rate_limit_exceeded', message: expect.any(String) } });
    const unauthorized = (await (await postJson(`${mock.providerUrl}/v1/responses`, {}, { 'x-mock-status': '401' })).json()) as Json;
    expect(unauthorized.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key' });

    const anthropic = await postJson(`${mock.providerUrl}/v1/messages`, {}, { 'x-mock-status': '529' });
    expect(anthropic.status).toBe(529);
    expect(await anthropic.json()).toEqual({ type: 'error', error: { type: 'overloaded_error', message: expect.any(String) } });

    const google = await postJson(`${mock.providerUrl}${GOOGLE_PATH}`, {}, { 'x-mock-status': '403' });
    expect(google.status).toBe(403);
    expect(await google.json()).toEqual({ error: { code: 403, message: expect.any(String), status: 'PERMISSION_DENIED' } });

    const overridden = (await (await postJson(`${mock.providerUrl}/v1/messages`, {}, { 'x-mock-status': '400', 'x-mock-error-type': 'custom_error' })).json()) as Json;
    expect(overridden.error.type).toBe('custom_error');
    const googleOverridden = (await (await postJson(`${mock.providerUrl}${GOOGLE_PATH}`, {}, { 'x-mock-status': '503', 'x-mock-error-type': 'UNAVAILABLE' })).json()) as Json;
    expect(googleOverridden.error).toMatchObject({ code: 503, status: 'UNAVAILABLE' });
  });

  it('answers unknown paths with 404 and bad control headers with 400, both in the provider shape', async () => {
    const openai = await postJson(`${mock.providerUrl}/v1/nope`, {});
    expect(openai.status).toBe(404);
    expect(await openai.json()).toMatchObject({ error: { type: 'not_found_error', message: 'Invalid URL (POST /v1/nope)' } });
    const anthropic = await rawRequest(`${mock.providerUrl}/v1/nope`, { headers: { host: 'api.anthropic.com' }, body: '{}' });
    expect(JSON.parse(anthropic.body.toString())).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });

    const bad = await postJson(`${mock.providerUrl}/v1/chat/completions`, {}, { 'x-mock-usage': 'lots' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Json).error.message).toContain('x-mock-usage');
  });
});

describe('scenarios', () => {
  it('large: a valid reply over 3 MiB with usage as the last key', async () => {
    for (const [path, host] of [['/v1/chat/completions', 'api.openai.com'], ['/v1/messages', 'api.anthropic.com'], [GOOGLE_PATH, 'aiplatform.googleapis.com']] as const) {
      const response = await rawRequest(`${mock.providerUrl}${path}`, { headers: { host, 'x-mock-scenario': 'large', 'x-mock-usage': 'input=1000,output=2000' }, body: '{}' });
      expect(response.status).toBe(200);
      expect(response.body.length).toBeGreaterThan(LARGE_MIN_BYTES);
      expect(Number(response.headers['content-length'])).toBe(response.body.length);
      const body = JSON.parse(response.body.toString()) as Json;
      const lastKey = Object.keys(body).at(-1);
      expect(lastKey === 'usage' || lastKey === 'usageMetadata').toBe(true);
      expect(JSON.stringify(body[lastKey!])).toMatch(/1000/);
    }
  });

  it('gzip: the normal reply compressed, whatever accept-encoding said', async () => {
    const response = await rawRequest(`${mock.providerUrl}/v1/chat/completions`, {
      headers: { 'content-type': 'application/json', 'accept-encoding': 'identity', 'x-mock-scenario': 'gzip', 'x-mock-usage': 'input=3,output=4' },
      body: '{}',
    });
    expect(response.headers['content-encoding']).toBe('gzip');
    expect(Number(response.headers['content-length'])).toBe(response.body.length);
    const body = JSON.parse(gunzipSync(response.body).toString()) as Json;
    expect(body.object).toBe('chat.completion');
    expect(body.usage.total_tokens).toBe(7);
  });

  it('non-json, empty and x-mock-response-header', async () => {
    const nonJson = await rawRequest(`${mock.providerUrl}/v1/messages`, { headers: { 'x-mock-scenario': 'non-json' }, body: '{}' });
    expect(nonJson.status).toBe(200);
    expect(nonJson.headers['content-type']).toBe('text/plain');
    expect(nonJson.body.toString()).toBe('this is not json\n');

    const empty = await rawRequest(`${mock.providerUrl}/v1/messages`, { headers: { 'x-mock-scenario': 'empty', 'x-mock-response-header': 'x-extra: one, two', 'x-test-tag': 'empty' }, body: '{}' });
    expect(empty.status).toBe(204);
    expect(empty.body.length).toBe(0);
    expect(empty.headers['x-extra']).toBe('one, two');
    expect(empty.headers['x-mock-request-id']).toBeDefined();
    expect((await records(mock, 'empty'))[0]!.response).toMatchObject({ status: 204, bodyLength: 0 });
  });

  it('utf8-split: cuts land inside multibyte characters and the body still decodes', async () => {
    const plan = utf8SplitPlan({ text: UTF8_SENTENCE.repeat(20) }, 0);
    expect(plan.chunks.length).toBeGreaterThanOrEqual(3);
    for (const chunk of plan.chunks.slice(1)) expect(chunk[0]! & 0xc0).toBe(0x80);

    const response = await rawRequest(`${mock.providerUrl}/v1/messages`, { headers: { 'x-mock-scenario': 'utf8-split', 'x-mock-event-delay-ms': '15' }, body: '{}' });
    expect(response.chunks.length).toBeGreaterThanOrEqual(3);
    const decoder = new TextDecoder('utf-8', { fatal: true });
    expect(response.chunks.some((chunk) => { try { decoder.decode(chunk); return false; } catch { return true; } })).toBe(true);
    const body = JSON.parse(response.body.toString('utf8')) as Json;
    expect(body.content[0].text).toContain('你好 🙂');
    expect(body.usage.output_tokens).toBe(7);
  });
});

describe('timing', () => {
  it('honours x-mock-event-delay-ms and writes each event in two halves', async () => {
    const fast = await rawRequest(`${mock.providerUrl}/v1/messages`, { headers: { 'x-mock-event-delay-ms': '0' }, body: JSON.stringify({ stream: true }) });
    const slow = await rawRequest(`${mock.providerUrl}/v1/messages`, { headers: { 'x-mock-event-delay-ms': '60' }, body: JSON.stringify({ stream: true }) });
    const events = slow.body.toString().split('\n\n').filter(Boolean).length;
    expect(events).toBe(9);
    // 8 gaps of 60 ms between 9 events.
    const elapsed = slow.arrivals.at(-1)! - slow.arrivals[0]!;
    expect(elapsed).toBeGreaterThanOrEqual(8 * 60 - 20);
    expect(elapsed).toBeLessThan(8 * 60 + 1000);
    expect(fast.arrivals.at(-1)!).toBeLessThan(elapsed);
    // Two writes per event: the client sees more pieces than events.
    expect(slow.chunks.length).toBeGreaterThan(events);
    expect(slow.chunks.some((chunk) => !chunk.toString().endsWith('\n\n'))).toBe(true);
  });

  it('slow-headers delays the whole reply', async () => {
    const response = await rawRequest(`${mock.providerUrl}/v1/chat/completions`, { headers: { 'x-mock-scenario': 'slow-headers:300' }, body: '{}' });
    expect(response.status).toBe(200);
    expect(response.headersAfterMs).toBeGreaterThanOrEqual(280);
  });
});
