import { test, expect } from '../fixtures';
import { KEYS } from '../support/keys';

test.describe.configure({ timeout: 120_000 });

const TOTAL = Number(process.env['E2E_LOAD_CALLS'] ?? 600);
const CONCURRENCY = 50;

const shapes: Array<{ path: string; headers: Record<string, string>; body: string }> = [
  { path: '/openai/v1/chat/completions', headers: { authorization: `Bearer ${KEYS.alpha.key}` }, body: '{"model":"gpt-4o-mini","messages":[]}' },
  { path: '/openai/v1/chat/completions', headers: { authorization: `Bearer ${KEYS.alpha.key}` }, body: '{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[]}' },
  { path: '/anthropic/v1/messages', headers: { 'x-api-key': KEYS.beta.key }, body: '{"model":"claude-3-5-sonnet-20241022","max_tokens":8,"messages":[]}' },
  { path: '/anthropic/v1/messages', headers: { 'x-api-key': KEYS.beta.key }, body: '{"model":"claude-3-5-sonnet-20241022","max_tokens":8,"stream":true,"messages":[]}' },
  { path: '/google/v1/projects/p/locations/l/publishers/google/models/gemini-2.0-flash-001:generateContent', headers: { authorization: `Bearer ${KEYS.gamma.key}` }, body: '{"contents":[]}' },
  { path: '/google/v1/projects/p/locations/l/publishers/google/models/gemini-2.0-flash-001:streamGenerateContent?alt=sse', headers: { authorization: `Bearer ${KEYS.gamma.key}` }, body: '{"contents":[]}' },
];

test(`a burst of ${TOTAL} calls, ${CONCURRENCY} at a time, mixed providers and streaming: no errors, exactly one stats line per call`, async ({ stack, tag, stats }) => {
  let next = 0;
  const failures: string[] = [];
  const started = Date.now();
  const worker = async () => {
    while (next < TOTAL) {
      const i = next++;
      const shape = shapes[i % shapes.length]!;
      const url = `${stack.gatewayURL}${shape.path}${shape.path.includes('?') ? '&' : '?'}lmgate_tag=${tag}&i=${i}`;
      try {
        const response = await fetch(url, { method: 'POST', headers: { ...shape.headers, 'content-type': 'application/json' }, body: shape.body });
        const body = await response.text();
        if (response.status !== 200 || body.length === 0) failures.push(`${i}: ${response.status}`);
      } catch (error) {
        failures.push(`${i}: ${(error as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (Date.now() - started) / 1000;
  const throughput = `${TOTAL} calls in ${seconds.toFixed(1)} s (${(TOTAL / seconds).toFixed(0)}/s)`;
  test.info().annotations.push({ type: 'throughput', description: throughput });
  console.log(`[load] ${throughput}`);
  expect(failures.slice(0, 20), `${failures.length} failed calls`).toEqual([]);

  const lines = await stats.waitForLines(tag, TOTAL, 60_000);
  const seen = new Map<string, number>();
  for (const line of lines) {
    const i = new URLSearchParams(line.endpoint.split('?')[1]).get('i') ?? '?';
    seen.set(i, (seen.get(i) ?? 0) + 1);
  }
  expect(seen.size, 'distinct calls with a line').toBe(TOTAL);
  expect([...seen.values()].every((n) => n === 1), 'no call recorded twice').toBe(true);
  expect(lines.filter((l) => l.input_tokens === null).length, 'lines without tokens').toBe(0);
});
