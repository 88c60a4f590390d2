import { createHash } from 'node:crypto';
import { FORBIDDEN } from '../support/contract';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from '../fixtures';
import { KEYS, UNKNOWN_KEY } from '../support/keys';
import { mockUsage } from '../support/usage-cases';


const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

test.describe('seed acceptance criteria', () => {
  test('an authorized call passes through nginx to the upstream and comes back unchanged', async ({ request, mock, tagged, tag }) => {
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hi' }] });
    const response = await request.post(tagged('/openai/v1/chat/completions'), {
      headers: { authorization: `Bearer ${KEYS.alpha.key}`, 'content-type': 'application/json', 'x-mock-usage': mockUsage({ input: 12, output: 5 }) },
      data: body,
    });
    expect(response.status()).toBe(200);
    const received = await response.body();

    const [recorded] = await mock.answered(tag);
    expect(recorded?.method).toBe('POST');
    expect(recorded?.path).toBe('/v1/chat/completions');
    expect(Buffer.from(recorded?.bodyBase64 ?? '', 'base64').toString()).toBe(body);
    // What the client got is byte for byte what the provider sent.
    expect(recorded?.response?.status).toBe(200);
    expect(sha256(received)).toBe(recorded?.response?.bodySha256);
    expect(received.length).toBe(recorded?.response?.bodyLength);
    expect(response.headers()['content-type']).toBe(recorded?.response?.headers['content-type']);
    expect(response.headers()['x-mock-request-id']).toBe(recorded?.id);
    expect(JSON.parse(received.toString()).usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 5 });
  });

  test('an invalid key gets 403 from nginx and never reaches the upstream', async ({ request, mock, tagged, tag, stats }) => {
    const response = await request.post(tagged('/openai/v1/chat/completions'), {
      headers: { authorization: `Bearer ${UNKNOWN_KEY}`, 'content-type': 'application/json' },
      data: { model: 'gpt-4o-mini', messages: [] },
    });
    expect(response.status()).toBe(403);
    expect(response.headers()['content-type']).toContain('application/json');
    expect(await response.json()).toEqual(FORBIDDEN);
    await mock.expectNoRequests(tag);
    stats.expectNoLines(tag);
  });

  test('after a proxied call a stats line has the right provider, endpoint and status', async ({ request, tagged, stats, tag }) => {
    const path = tagged('/anthropic/v1/messages?beta=true');
    const response = await request.post(path, {
      headers: { 'x-api-key': KEYS.beta.key, 'anthropic-version': '2023-06-01', 'x-mock-usage': mockUsage({ input: 30, output: 9 }) },
      data: { model: 'claude-3-5-sonnet-20241022', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] },
    });
    expect(response.status()).toBe(200);
    const [line] = await stats.waitForLines(tag);
    expect(line).toMatchObject({
      provider: 'anthropic',
      endpoint: path,
      status: 200,
      lmgate_id: KEYS.beta.id,
      input_tokens: 30,
      output_tokens: 9,
      error_type: null,
    });
  });

  test('the health check passes and nginx started only after the service was healthy', async ({ request, stack: info }) => {
    const health = await request.get('/healthz');
    expect(health.status()).toBe(200);
    expect(await health.text()).toBe('ok');

    const lmgate = await info.inspect('lmgate');
    const nginx = await info.inspect('nginx');
    const lmgateState = lmgate['State'] as { Health: { Status: string; Log: Array<{ ExitCode: number }> } };
    expect(lmgateState.Health.Status).toBe('healthy');
    // -1 marks a probe still running.
    const finished = lmgateState.Health.Log.filter((probe) => probe.ExitCode !== -1);
    expect(finished.at(-1)?.ExitCode).toBe(0);
    const check = (lmgate['Config'] as { Healthcheck: { Test: string[] } }).Healthcheck.Test.join(' ');
    expect(check).toContain('/healthz');

    // The health log keeps only the last probes; the stack's events, recorded from `up` on
    // (tests/support/stack.ts, Stack.up), have the order.
    const events = readFileSync(join(info.runDir, 'events.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { status?: string; Action?: string; id: string; timeNano: number });
    const action = (e: { status?: string; Action?: string }) => e.Action ?? e.status ?? '';
    const lmgateId = lmgate['Id'] as string;
    const nginxId = nginx['Id'] as string;
    const healthy = events.find((e) => e.id === lmgateId && action(e) === 'health_status: healthy');
    const nginxStart = events.find((e) => e.id === nginxId && action(e) === 'start');
    expect(healthy, 'a health_status: healthy event for the service').toBeDefined();
    expect(nginxStart, 'a start event for nginx').toBeDefined();
    expect(nginxStart!.timeNano).toBeGreaterThan(healthy!.timeNano);
    const nginxStartedAt = Date.parse((nginx['State'] as { StartedAt: string }).StartedAt);
    expect(nginxStartedAt).toBeGreaterThanOrEqual(Math.floor(healthy!.timeNano / 1e6) - 1);
  });
});
