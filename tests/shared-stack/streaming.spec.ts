import { test, expect } from '../fixtures';
import { KEYS } from '../support/keys';
import { arrivalOf, readTimedStream, type TimedStream } from '../support/stream-reader';

const EVENT_DELAY_MS = 300;

test.describe('streaming is not buffered', () => {
  // Events of an event stream end with a blank line (LF or CRLF, Google's); Google's
  // stream without alt=sse is one JSON array, its elements after "\r\n,".
  const sseEvents = (body: string) => (body.match(/\n\n|\r\n\r\n/g) ?? []).length;
  const arrayElements = (body: string) => body.split('\r\n,').length;
  const GEMINI = '/google/v1/projects/p/locations/us-central1/publishers/google/models/gemini-1.5-pro:streamGenerateContent';
  const streams: Array<{ name: string; path: string; headers: Record<string, string>; body: object; first: string; last: string; contentType?: string; events?: (body: string) => number }> = [
    {
      name: 'Anthropic messages',
      path: '/anthropic/v1/messages',
      headers: { 'x-api-key': KEYS.beta.key, 'anthropic-version': '2023-06-01' },
      body: { model: 'claude-3-5-sonnet-20241022', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'count' }] },
      first: 'event: message_start',
      last: 'event: message_stop',
    },
    {
      name: 'OpenAI chat completions',
      path: '/openai/v1/chat/completions',
      headers: { authorization: `Bearer ${KEYS.alpha.key}` },
      body: { model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'count' }] },
      first: '"chat.completion.chunk"',
      last: 'data: [DONE]',
    },
    {
      name: 'OpenAI responses',
      path: '/openai/v1/responses',
      headers: { authorization: `Bearer ${KEYS.alpha.key}` },
      body: { model: 'gpt-4o-mini', stream: true, input: 'count' },
      first: 'event: response.created',
      last: 'event: response.completed',
    },
    {
      name: 'Google streamGenerateContent?alt=sse (CRLF events)',
      path: `${GEMINI}?alt=sse`,
      headers: { authorization: `Bearer ${KEYS.gamma.key}` },
      body: { contents: [{ role: 'user', parts: [{ text: 'count' }] }] },
      first: 'data: ',
      last: '"finishReason":"STOP"',
    },
    {
      name: 'Google streamGenerateContent (one JSON array)',
      path: GEMINI,
      headers: { authorization: `Bearer ${KEYS.gamma.key}` },
      body: { contents: [{ role: 'user', parts: [{ text: 'count' }] }] },
      first: '[{',
      last: '"finishReason":"STOP"',
      contentType: 'application/json',
      events: arrayElements,
    },
  ];

  for (const s of streams) {
    test(`${s.name}: with events ${EVENT_DELAY_MS} ms apart, the first reaches the client long before the stream ends`, async ({ stack, tagged, tag, mock, stats, recordExchange }) => {
      const url = `${stack.gatewayURL}${tagged(s.path)}`;
      const headers = { ...s.headers, 'content-type': 'application/json', 'x-mock-event-delay-ms': String(EVENT_DELAY_MS) };
      let stream: TimedStream | undefined;
      try {
        stream = await readTimedStream(url, { method: 'POST', headers, body: JSON.stringify(s.body) });
      } finally {
        await recordExchange({
          method: 'POST', url, requestHeaders: headers, requestBody: JSON.stringify(s.body),
          ...(stream ? { status: stream.status, responseHeaders: stream.headers, responseBody: stream.body, note: `streamed in ${stream.chunks.length} chunk(s) over ${Math.round(stream.endedAt - stream.startedAt)} ms` } : { error: 'no stream' }),
        });
      }
      expect(stream.status).toBe(200);
      expect(stream.headers['content-type']).toContain(s.contentType ?? 'text/event-stream');
      const first = arrivalOf(stream, s.first);
      const last = arrivalOf(stream, s.last);
      const [recorded] = await mock.answered(tag);
      const events = (s.events ?? sseEvents)(stream.body);
      // Google's streams have three chunks, the others more: two delays at least.
      expect(events).toBeGreaterThanOrEqual(3);
      // The provider spent (events - 1) delays sending; a buffering gateway would deliver
      // everything at the end, so the first event would arrive with the last. The gap
      // between them is the proof: a bound on the first event's own time (from the
      // client's start, or from the provider's receipt) failed on a loaded machine, where
      // auth, connect and the mock's own first write took up to 0.9 s.
      const streamDuration = (events - 1) * EVENT_DELAY_MS;
      expect(last - first).toBeGreaterThanOrEqual(streamDuration * 0.7);
      expect(stream.chunks.length).toBeGreaterThanOrEqual(events / 2);
      expect(Buffer.byteLength(stream.body)).toBe(recorded!.response!.bodyLength);
      const [line] = await stats.waitForLines(tag);
      expect(line?.status).toBe(200);
      expect(line?.input_tokens).not.toBeNull();
    });
  }
});
