import { test, expect } from '../fixtures';
import { KEYS } from '../support/keys';
import { readTimedStream } from '../support/stream-reader';

// Replies without a body and a stream that lasts: proxied like any other, and recorded
// with what the client saw and when the request arrived.
const ALPHA = { authorization: `Bearer ${KEYS.alpha.key}` };

test.describe('edges of proxying', () => {
  test('a 204 reply (no body) reaches the client as sent and is recorded', async ({ request, tagged, tag, mock, stats }) => {
    const response = await request.post(tagged('/openai/v1/chat/completions'), { headers: { ...ALPHA, 'x-mock-scenario': 'empty' }, data: { model: 'gpt-4o-mini', messages: [] } });
    expect(response.status()).toBe(204);
    expect((await response.body()).length).toBe(0);
    expect((await mock.answered(tag))[0]?.response?.status).toBe(204);
    const [line] = await stats.waitForLines(tag);
    // No body: no first byte of one (spec §5).
    expect(line).toMatchObject({ provider: 'openai', status: 204, model: null, input_tokens: null, error_type: null, first_byte_ms: null });
  });

  test('a HEAD request is proxied as HEAD and recorded with the status the client got', async ({ request, tagged, tag, mock, stats }) => {
    const response = await request.head(tagged('/openai/v1/models'), { headers: ALPHA });
    const [recorded] = await mock.answered(tag);
    expect(recorded?.method).toBe('HEAD');
    expect(response.status()).toBe(recorded?.response?.status);
    const [line] = await stats.waitForLines(tag);
    expect(line).toMatchObject({ provider: 'openai', status: response.status(), endpoint: expect.stringContaining('/openai/v1/models'), first_byte_ms: null });
  });

  test('the recorded timestamp is when the request arrived, also for a stream that lasts seconds', async ({ stack, tagged, tag, stats, recordExchange }) => {
    const url = stack.gatewayURL + tagged('/anthropic/v1/messages');
    const headers = { 'x-api-key': KEYS.beta.key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json', 'x-mock-event-delay-ms': '250' };
    const body = JSON.stringify({ model: 'claude-3-5-sonnet-20241022', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'count' }] });
    const sentAt = Date.now();
    const stream = await readTimedStream(url, { method: 'POST', headers, body });
    const endedAt = Date.now();
    await recordExchange({ method: 'POST', url, requestHeaders: headers, requestBody: body, status: stream.status, responseHeaders: stream.headers, responseBody: stream.body });
    expect(endedAt - sentAt, 'the stream lasted').toBeGreaterThan(1_500);
    const [line] = await stats.waitForLines(tag);
    const recordedAt = Date.parse(line!.timestamp);
    // Same kernel clock on both sides; nginx's request time has millisecond resolution.
    expect(recordedAt).toBeGreaterThanOrEqual(sentAt - 50);
    expect(recordedAt).toBeLessThan(sentAt + 500);
  });

  test('first_byte_ms is the time to the first body byte, duration_ms the time to the last, for a slow start and a long stream', async ({ stack, tagged, tag, stats }) => {
    // The provider answers after 600 ms (slow-headers), then streams for about 1.5 s more.
    const url = stack.gatewayURL + tagged('/openai/v1/chat/completions');
    const stream = await readTimedStream(url, {
      method: 'POST',
      headers: { ...ALPHA, 'content-type': 'application/json', 'x-mock-scenario': 'slow-headers:600', 'x-mock-event-delay-ms': '300' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [], stream: true, stream_options: { include_usage: true } }),
    });
    expect(stream.status).toBe(200);
    const clientFirst = stream.chunks[0]!.at - stream.startedAt;
    const clientTotal = stream.endedAt - stream.startedAt;
    const [line] = await stats.waitForLines(tag);
    expect(line!.first_byte_ms).toBeGreaterThanOrEqual(600);
    expect(line!.first_byte_ms).toBeLessThanOrEqual(clientFirst + 50);
    expect(line!.duration_ms).toBeGreaterThanOrEqual(line!.first_byte_ms! + 1_000);
    expect(line!.duration_ms).toBeLessThanOrEqual(clientTotal + 50);
  });
});
