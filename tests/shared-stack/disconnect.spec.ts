import { test, expect } from '../fixtures';
import { KEYS } from '../support/keys';
import { mockUsage } from '../support/usage-cases';

test('a client that disconnects mid-stream still gets its stats line, and the gateway keeps serving', async ({ stack, request, tagged, tag, stats, mock }) => {
  const controller = new AbortController();
  const response = await fetch(`${stack.gatewayURL}${tagged('/anthropic/v1/messages')}`, {
    method: 'POST',
    headers: { 'x-api-key': KEYS.beta.key, 'content-type': 'application/json', 'x-mock-event-delay-ms': '700', 'x-mock-usage': mockUsage({ input: 61, output: 40 }) },
    body: JSON.stringify({ model: 'claude-3-5-sonnet-20241022', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'long story' }] }),
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  let text = '';
  while (!text.includes('event: content_block_start')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  expect(text).toContain('event: message_start');
  controller.abort();

  const [line] = await stats.waitForLines(tag, 1, 20_000);
  // The status the client received: the headers had come.
  expect(line).toMatchObject({ status: 200, provider: 'anthropic', lmgate_id: KEYS.beta.id, input_tokens: 61, model: 'claude-3-5-sonnet-20241022' });
  // The final message_delta never came: output tokens are what the capture saw, if anything.
  expect(line!.output_tokens === null || line!.output_tokens < 40).toBe(true);
  await mock.waitForRequests(tag);

  const next = await request.post(tagged('/openai/v1/chat/completions?after=1'), { headers: { authorization: `Bearer ${KEYS.alpha.key}` }, data: '{}' });
  expect(next.status()).toBe(200);
});

test('a client that disconnects before the provider answered gets its line with nginx\'s 499 (it received no status), no body, no time to first byte', async ({ stack, tagged, tag, stats, mock }) => {
  const controller = new AbortController();
  const pending = fetch(`${stack.gatewayURL}${tagged('/openai/v1/chat/completions')}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEYS.alpha.key}`, 'content-type': 'application/json', 'x-mock-scenario': 'slow-headers:3000' },
    body: '{"model":"gpt-4o-mini","messages":[]}',
    signal: controller.signal,
  }).catch((error: Error) => error);
  // The provider has the request (an event, not a wait): the client leaves before its answer.
  await mock.waitForRequests(tag);
  controller.abort();
  expect(await pending).toBeInstanceOf(Error);
  const [line] = await stats.waitForLines(tag, 1, 20_000);
  expect(line).toMatchObject({ status: 499, error_type: 'http_499', first_byte_ms: null, input_tokens: null, model: null });
});
