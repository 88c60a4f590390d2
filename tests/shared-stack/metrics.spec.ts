import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test, expect } from '../fixtures';
import { INITIAL_KEYS, KEYS } from '../support/keys';
import { scrape, sumOf } from '../support/metrics';
import type { StatsLine } from '../support/stats-file';
import { mockUsage } from '../support/usage-cases';

// Spec §9: the service's Prometheus metrics, on a port of its own inside the compose
// network; counters move by exactly what the stats lines add up to.

function promtool(): string {
  const candidates = [process.env['PROMTOOL'], '/opt/lmgate/prometheus/usr/bin/promtool'].filter((p): p is string => Boolean(p));
  const found = candidates.find((p) => existsSync(p)) ?? (spawnSync('promtool', ['--version']).status === 0 ? 'promtool' : undefined);
  if (!found) throw new Error("promtool not found: run 'npm run setup' (it unpacks Debian's prometheus package) or set PROMTOOL");
  return found;
}

test.describe('metrics', () => {
  test('the allow-list size, the delivery lag and the dropped records are exported (spec §9)', async ({ stack, request, tagged, tag, stats }) => {
    const before = await scrape(stack.metricsURL);
    expect(await request.post(tagged('/openai/v1/chat/completions'), { headers: { authorization: `Bearer ${KEYS.alpha.key}` }, data: { model: 'gpt-4o-mini', messages: [] } })).toBeOK();
    await stats.waitForLines(tag);
    const after = await scrape(stack.metricsURL);
    const present = (name: string) => after.some((sample) => sample.name === name);
    expect(sumOf(after, 'lmgate_allowlist_keys'), 'the keys of the shared stack').toBe(INITIAL_KEYS.length);
    // Every record delivered is observed once: the call just made moved the count.
    expect(sumOf(after, 'lmgate_stats_delivery_lag_seconds_count')).toBeGreaterThan(sumOf(before, 'lmgate_stats_delivery_lag_seconds_count'));
    expect(present('lmgate_stats_records_dropped_total'), 'the dropped-records counter').toBe(true);
    expect(sumOf(after, 'lmgate_stats_records_dropped_total'), 'nothing dropped on the shared stack').toBe(0);
  });

  test('the service\'s metrics port passes promtool check metrics; the gateway has no /metrics', async ({ stack, request }) => {
    const text = await (await fetch(stack.metricsURL)).text();
    expect(text).toContain('# TYPE lmgate_calls_total counter');
    const check = spawnSync(promtool(), ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
    const throughGateway = await request.get('/metrics');
    expect(throughGateway.status()).toBe(404);
    expect(await throughGateway.json()).toMatchObject({ error: { type: 'not_found' } });
  });

  test("calls, tokens by kind and durations move by exactly what the test's stats lines add up to", async ({ stack, request, tagged, tag, stats }) => {
    // A model name of this test's own: no other test's calls carry its label.
    const model = `metrics-${tag}`;
    // Every kind of token non-zero somewhere: a kind the service never exported would sum to 0.
    const headers = { 'x-mock-model': model, 'x-mock-usage': mockUsage({ input: 13, output: 5, cached: 3, cache_write: 2, reasoning: 4 }) };
    const calls: Array<[string, Record<string, string>, object, number]> = [
      ['/openai/v1/chat/completions', { authorization: `Bearer ${KEYS.alpha.key}` }, { model, messages: [] }, 200],
      ['/openai/v1/chat/completions', { authorization: `Bearer ${KEYS.alpha.key}` }, { model, messages: [], stream: true, stream_options: { include_usage: true } }, 200],
      ['/openai/v1/responses', { authorization: `Bearer ${KEYS.alpha.key}` }, { model, input: 'hi' }, 200],
      ['/anthropic/v1/messages', { 'x-api-key': KEYS.beta.key }, { model, max_tokens: 8, messages: [] }, 200],
      ['/anthropic/v1/messages', { 'x-api-key': KEYS.beta.key }, { model, max_tokens: 8, messages: [], stream: true }, 200],
      ['/google/v1/projects/p/locations/l/publishers/google/models/m:generateContent', { authorization: `Bearer ${KEYS.gamma.key}` }, { contents: [] }, 200],
      ['/google/v1/projects/p/locations/l/publishers/google/models/m:streamGenerateContent?alt=sse', { authorization: `Bearer ${KEYS.gamma.key}` }, { contents: [] }, 200],
    ];
    for (const [path, key, body, status] of calls) {
      const response = await request.post(tagged(path), { headers: { ...headers, ...key }, data: body });
      expect(response.status(), path).toBe(status);
    }
    const lines = await stats.waitForLines(tag, calls.length);
    expect(lines.every((l) => l.model === model)).toBe(true);
    const samples = await scrape(stack.metricsURL);
    const sum = (field: keyof StatsLine) => lines.reduce((total, l) => total + ((l[field] as number | null) ?? 0), 0);
    expect(sumOf(samples, 'lmgate_calls_total', { model })).toBe(lines.length);
    for (const [kind, field] of [
      ['input', 'input_tokens'],
      ['output', 'output_tokens'],
      ['cached_input', 'cached_input_tokens'],
      ['cache_write_input', 'cache_write_input_tokens'],
      ['reasoning', 'reasoning_tokens'],
    ] as const) {
      expect(sum(field), kind).toBeGreaterThan(0);
      expect(sumOf(samples, 'lmgate_tokens_total', { model, kind }), kind).toBe(sum(field));
    }
    expect(sumOf(samples, 'lmgate_request_duration_seconds_count', { model })).toBe(lines.length);
    expect(sumOf(samples, 'lmgate_request_duration_seconds_sum', { model })).toBeCloseTo(sum('duration_ms') / 1000, 3);
    // By provider too: the labels say where the calls went.
    for (const provider of ['openai', 'anthropic', 'google']) {
      expect(sumOf(samples, 'lmgate_calls_total', { model, provider }), provider).toBe(lines.filter((l) => l.provider === provider).length);
    }
    // By status class and by allow-list row (spec §9).
    expect(sumOf(samples, 'lmgate_calls_total', { model, status_class: '2xx' })).toBe(lines.length);
    for (const key of [KEYS.alpha, KEYS.beta, KEYS.gamma]) {
      expect(sumOf(samples, 'lmgate_calls_total', { model, lmgate_id: key.id }), key.id).toBe(lines.filter((l) => l.lmgate_id === key.id).length);
    }
    expect(lines.filter((l) => l.lmgate_id === KEYS.alpha.id)).toHaveLength(3);
  });
});
