import { createHash, randomBytes } from 'node:crypto';
import { test, expect } from '../fixtures';
import querySpellings from '../../lmgate/test/fixtures/query-key-spellings.json';
import { KEYS } from '../support/keys';
import { rawExchange, rawFetch } from '../support/raw-http';
import { recordingFetch } from '../support/recording-fetch';
import { loadAnthropic, loadOpenAI } from '../support/sdks';
import { arrivalOf, readTimedStream } from '../support/stream-reader';

// Spec §10: replies cannot steer nginx; the gateway's own errors are JSON in the providers'
// error shape; no secret reaches a log on an error path.
const CHAT = '/openai/v1/chat/completions';
const BODY = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
const ALPHA = { authorization: `Bearer ${KEYS.alpha.key}` };

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

test.describe('a provider reply cannot steer nginx', () => {
  for (const target of ['/_lmgate_auth_service', '/_lmgate_auth', '/anthropic/v1/messages', '/_lmgate_error/403']) {
    test(`X-Accel-Redirect: ${target} is ignored: the client gets the provider's reply unchanged, recorded as the call it was`, async ({ request, tagged, tag, mock, stats }) => {
      const response = await request.post(tagged(CHAT), { headers: { ...ALPHA, 'x-mock-response-header': `X-Accel-Redirect: ${target}` }, data: BODY });
      expect(response.status()).toBe(200);
      const [recorded] = await mock.answered(tag);
      expect(recorded?.response?.headers['x-accel-redirect'], 'the mock did send the header').toBe(target);
      expect(sha256(await response.body())).toBe(recorded?.response?.bodySha256);
      expect(response.headers()['x-lmgate-id']).toBeUndefined();
      const [line] = await stats.waitForLines(tag);
      expect(line).toMatchObject({ provider: 'openai', status: 200, lmgate_id: KEYS.alpha.id, model: 'gpt-4o-mini-2024-07-18' });
    });
  }

  test('X-Accel-Buffering: yes on a stream is ignored: events still reach the client as they are sent', async ({ stack, tagged, tag, mock, recordExchange }) => {
    const delayMs = 300;
    const url = stack.gatewayURL + tagged(CHAT);
    const headers = { ...ALPHA, 'content-type': 'application/json', 'x-mock-event-delay-ms': String(delayMs), 'x-mock-response-header': 'X-Accel-Buffering: yes' };
    const body = JSON.stringify({ ...BODY, stream: true });
    const stream = await readTimedStream(url, { method: 'POST', headers, body });
    await recordExchange({ method: 'POST', url, requestHeaders: headers, requestBody: body, status: stream.status, responseHeaders: stream.headers, responseBody: stream.body });
    expect(stream.status).toBe(200);
    const events = (stream.body.match(/\n\n/g) ?? []).length;
    expect(events).toBeGreaterThanOrEqual(4);
    const first = arrivalOf(stream, 'chat.completion.chunk');
    expect(arrivalOf(stream, 'data: [DONE]') - first).toBeGreaterThanOrEqual((events - 1) * delayMs * 0.7);
    const [recorded] = await mock.answered(tag);
    expect(recorded?.response?.headers['x-accel-buffering'], 'the mock did send the header').toBe('yes');
  });

  // Driven, but not proved by this test alone: with these three taken out of
  // proxy_ignore_headers it still passes (nginx 1.26 obeys none of them on this
  // unbuffered, uncached path); it guards the reply's bytes and content type.
  test('a reply carrying X-Accel-Limit-Rate, -Expires and -Charset reaches the client at once, its bytes and content type unchanged', async ({ stack, tagged, tag, mock, recordExchange }) => {
    const steering = { 'x-accel-limit-rate': '1', 'x-accel-expires': '@1', 'x-accel-charset': 'koi8-r' };
    const url = stack.gatewayURL + tagged(CHAT);
    const headers: Array<readonly [string, string]> = [
      ...Object.entries(ALPHA),
      ['content-type', 'application/json'],
      ...Object.entries(steering).map(([name, value]) => ['x-mock-response-header', `${name}: ${value}`] as const),
    ];
    // Obeyed, a limit of 1 byte per second would hold this reply of some 500 bytes for
    // minutes: the test's own timeout would end it.
    const response = await rawFetch(url, 'POST', headers, JSON.stringify(BODY));
    await recordExchange({ method: 'POST', url, requestHeaders: Object.fromEntries(headers), requestBody: JSON.stringify(BODY), status: response.status, responseHeaders: response.headers, responseBody: response.body });
    expect(response.status).toBe(200);
    const [recorded] = await mock.answered(tag);
    for (const [name, value] of Object.entries(steering)) expect(recorded?.response?.headers[name], `the mock did send ${name}`).toBe(value);
    expect(sha256(response.body)).toBe(recorded?.response?.bodySha256);
    expect(response.headers['content-type']).toBe(recorded?.response?.headers['content-type']);
  });
});

test.describe("the gateway's own errors are JSON in the providers' error shape", () => {
  test('413: a body over 64 MiB, before it is read; a ?key= in that request reaches no log in full', async ({ stack, tagged, tag, mock }) => {
    const secret = `AIza-e2e-querykey-${randomBytes(12).toString('hex')}`;
    const url = `${stack.gatewayURL}${tagged('/google/v1/projects/p/locations/l/publishers/google/models/m:generateContent')}&key=${secret}`;
    const response = await rawFetch(url, 'POST', { ...ALPHA, 'content-type': 'application/json', 'content-length': String(65 * 1024 * 1024) }, '{}');
    expect(response.status).toBe(413);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(response.body.toString('utf8'))).toMatchObject({ error: { type: 'request_too_large' } });
    expect(await mock.requests(tag)).toEqual([]);
    // nginx logs this refusal with the request line: the line must be there, masked.
    await expect.poll(async () => (await stack.logsOrReason(['nginx'], 500)).split('\n').filter((l) => l.includes(tag) && l.includes('too large body')).length).toBeGreaterThan(0);
    const logs = await stack.logsOrReason(['nginx'], 500);
    expect(logs).not.toContain(secret);
    expect(logs.split('\n').find((l) => l.includes(tag) && l.includes('too large body'))).toContain('key=***');
  });

  test('414: a request line over the header buffers', async ({ request, tag }) => {
    const response = await request.get(`/openai/v1/models?lmgate_tag=${tag}&pad=${'x'.repeat(40_000)}`, { headers: ALPHA });
    expect(response.status()).toBe(414);
    expect(response.headers()['content-type']).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({ error: { type: 'uri_too_long' } });
  });

  test('431: one request header over the header buffers (nginx calls it 494)', async ({ request, tagged }) => {
    const response = await request.get(tagged('/openai/v1/models'), { headers: { ...ALPHA, 'x-pad': 'x'.repeat(40_000) } });
    expect(response.status()).toBe(431);
    expect(response.headers()['content-type']).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({ error: { type: 'request_header_too_large' } });
  });

  test('400: a request nginx cannot parse (an invalid Host)', async ({ stack }) => {
    const reply = await rawExchange(stack.gatewayURL, 'GET /openai/v1/models HTTP/1.1\r\nHost: bad/host\r\nConnection: close\r\n\r\n');
    const [head, body] = reply.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(head).toMatch(/content-type: application\/json/i);
    expect(JSON.parse(body ?? '')).toMatchObject({ error: { type: 'bad_request' } });
  });

  test('the official SDKs parse them: openai sees a 414 and anthropic a 431 with the gateway message', async ({ stack, tag, recordExchange }) => {
    const pending: Array<Promise<void>> = [];
    const OpenAI = await loadOpenAI();
    const Anthropic = await loadAnthropic();
    const openai = new OpenAI({ apiKey: KEYS.alpha.key, baseURL: `${stack.gatewayURL}/openai/v1`, maxRetries: 0, fetch: recordingFetch(recordExchange, pending) });
    const openaiError = await openai.models.list({ query: { lmgate_tag: tag, pad: 'x'.repeat(40_000) } }).then(() => null, (e: unknown) => e);
    expect(openaiError).toBeInstanceOf(OpenAI.APIError);
    expect((openaiError as InstanceType<typeof OpenAI.APIError>).status).toBe(414);
    expect((openaiError as InstanceType<typeof OpenAI.APIError>).type).toBe('uri_too_long');
    const anthropic = new Anthropic({ apiKey: KEYS.beta.key, baseURL: `${stack.gatewayURL}/anthropic`, maxRetries: 0, defaultHeaders: { 'x-pad': 'x'.repeat(40_000) }, fetch: recordingFetch(recordExchange, pending) });
    const anthropicError = await anthropic.messages.create({ model: 'claude-3-5-sonnet-20241022', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }, { query: { lmgate_tag: tag } }).then(() => null, (e: unknown) => e);
    expect(anthropicError).toBeInstanceOf(Anthropic.APIError);
    expect((anthropicError as InstanceType<typeof Anthropic.APIError>).status).toBe(431);
    expect((anthropicError as Error).message).toContain('a request header is larger than the gateway accepts');
    await Promise.all(pending);
  });
});

test.describe('the `key` query parameter, every spelling, reaches no log and no stats line in full', () => {
  for (const spelling of querySpellings.cases) {
    const { case: name, uri, masked } = spelling;
    const refused = 'refused' in spelling && spelling.refused === true;
    test(name, async ({ stack, tag, stats, mock }) => {
      // The Bearer's own key: every credential of a call must carry the same key (spec §3).
      const secret = KEYS.alpha.key;
      const withTag = (path: string) => `${path}${path.includes('?') ? '&' : '?'}lmgate_tag=${tag}`;
      const sent = withTag(uri.replaceAll('$S', secret));
      // Proxied (a stats line, an access log line) or refused (an access log line), then
      // refused by nginx itself (413: an error log line with the request line, and an
      // access log line).
      const first = await rawFetch(stack.gatewayURL + sent, 'POST', { ...ALPHA, 'content-type': 'application/json' }, '{}');
      expect((await rawFetch(stack.gatewayURL + sent, 'POST', { ...ALPHA, 'content-length': String(65 * 1024 * 1024) }, '{}')).status).toBe(413);
      if (refused) {
        expect(first.status).toBe(403);
        expect(await mock.requests(tag)).toEqual([]);
      } else {
        // Proxied: the mock answers this made-up path with its own 404.
        expect(first.status).toBe(404);
        const [line] = await stats.waitForLines(tag);
        expect(line?.endpoint).toBe(withTag(masked));
      }
      const mine = async () => (await stack.logsOrReason(['nginx'], 2000)).split('\n').filter((l) => l.includes(tag));
      // Both access log lines and the error log line, once nginx has flushed them.
      await expect.poll(async () => (await mine()).length, { intervals: [200] }).toBeGreaterThanOrEqual(3);
      const lines = await mine();
      expect(lines.join('\n')).not.toContain(secret);
      expect(lines.some((l) => l.includes('too large body')), 'the error log line is among them').toBe(true);
    });
  }
});
