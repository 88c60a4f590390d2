import { test, expect, useOwnStack } from '../fixtures';
import { FORBIDDEN } from '../support/contract';
import { AUTH_CACHE_SECONDS, KEYS } from '../support/keys';

// The service stopping. On a stack of its own (its tests one after another): a graceful
// stop keeps every record, and while it is down calls are refused. A flush interval of an
// hour: the graceful test's lines are in the file because the stop writes what the spool
// holds, not because a flush came. (Starts that must fail: service-start.spec.ts.)
useOwnStack({ label: 'service-stop', env: { E2E_STATS_FLUSH_SECONDS: '3600' } });

const CHAT = '/openai/v1/chat/completions';

test('graceful stop: every answered call has its line once, written by the stop itself (an hour\'s flush interval), and once still after a restart', async ({ stack, stats, tag }) => {
  const calls = 25;
  const statuses = await Promise.all(
    Array.from({ length: calls }, (_, i) =>
      fetch(`${stack.gatewayURL}/openai/v1/chat/completions?lmgate_tag=${tag}&i=${i}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEYS.alpha.key}`, 'content-type': 'application/json' },
        body: '{"model":"gpt-4o-mini","messages":[]}',
      }).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      }),
    ),
  );
  expect(statuses.every((s) => s === 200)).toBe(true);
  await test.step('before the stop: no line yet (the records wait in the spool for the next flush, an hour away)', () => {
    expect(stats.lines(tag)).toHaveLength(0);
  });
  await test.step('docker compose stop: SIGTERM writes what the spool holds', async () => {
    await stack.compose(['stop', '--timeout', '20', 'lmgate']);
    const lines = stats.lines(tag);
    expect(lines).toHaveLength(calls);
    expect(new Set(lines.map((l) => l.endpoint)).size).toBe(calls);
  });
  await test.step('started again, then stopped by SIGINT (Ctrl-C): it resumes from its checkpoint, writes the new call, nothing twice', async () => {
    await stack.compose(['start', 'lmgate']);
    await stack.waitUntilHealthy('lmgate');
    const after = await fetch(`${stack.gatewayURL}/openai/v1/chat/completions?lmgate_tag=${tag}-after`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.alpha.key}` }, body: '{}' });
    expect(after.status).toBe(200);
    const service = await stack.containerId('lmgate');
    await stack.compose(['kill', '-s', 'INT', 'lmgate']);
    await expect.poll(async () => ((await stack.inspect('lmgate', service))['State'] as { Running: boolean }).Running, { timeout: 20_000, intervals: [100] }).toBe(false);
    expect(((await stack.inspect('lmgate', service))['State'] as { ExitCode: number }).ExitCode, 'exit status after SIGINT').toBe(0);
    expect(stats.lines(`${tag}-after`)).toHaveLength(1);
    expect(stats.lines(tag)).toHaveLength(calls);
  });
});

test.describe('the LMGate service is down: authorization fails closed', () => {
  // Every other way the service can fail is in service-answers.spec.ts; here the real
  // service, and the decisions kept from before.
  // (The graceful stop above left it stopped; this test starts it again.)
  const outages = [{ name: 'stopped', stop: ['stop', '--timeout', '10', 'lmgate'] }];

  for (const outage of outages) {
    test(`service ${outage.name}: every call gets the 403 JSON quickly and none reaches the upstream; it recovers without an nginx restart`, async ({ request, stack, tagged, tag, mock }) => {
      const nginxStartedBefore = ((await stack.inspect('nginx'))['State'] as { StartedAt: string }).StartedAt;
      await test.step(`the service is ${outage.name}`, () => stack.compose(outage.stop));
      try {
        await test.step(`calls are refused once the decisions kept from before have run out (within ${AUTH_CACHE_SECONDS + 1.5} s)`, async () => {
          // nginx may still hold a decision for this key from before the outage: no longer
          // than the auth cache lifetime.
          const stoppedAt = Date.now();
          await expect
            .poll(async () => (await request.post(`${CHAT}?lmgate_tag=${tag}-drain`, { headers: { authorization: `Bearer ${KEYS.alpha.key}` }, data: '{}' })).status(), {
              timeout: 10_000,
              intervals: [100],
            })
            .toBe(403);
          expect(Date.now() - stoppedAt).toBeLessThan((AUTH_CACHE_SECONDS + 1.5) * 1000);
        });
        await test.step('every provider: the 403 JSON, nothing proxied', async () => {
          for (const [path, headers] of [
            [CHAT, { authorization: `Bearer ${KEYS.alpha.key}` }],
            ['/anthropic/v1/messages', { 'x-api-key': KEYS.beta.key }],
            ['/google/v1/projects/p/locations/l/publishers/google/models/m:generateContent', { authorization: `Bearer ${KEYS.gamma.key}` }],
          ] as const) {
            const response = await request.post(tagged(path), { headers, data: '{}', timeout: 15_000 });
            expect(response.status(), path).toBe(403);
            expect(await response.json()).toEqual(FORBIDDEN);
          }
          await mock.expectNoRequests(tag);
        });
      } finally {
        await test.step('the service is started again and healthy', async () => {
          await stack.compose(['start', 'lmgate']);
          await stack.waitUntilHealthy('lmgate');
        });
      }
      await test.step('calls are authorized again, without an nginx restart', () =>
        expect
          .poll(async () => (await request.post(tagged(`${CHAT}?after=1`), { headers: { authorization: `Bearer ${KEYS.alpha.key}` }, data: '{}' })).status(), {
            timeout: 15_000,
          })
          .toBe(200),
      );
      const nginxStartedAfter = ((await stack.inspect('nginx'))['State'] as { StartedAt: string }).StartedAt;
      expect(nginxStartedAfter).toBe(nginxStartedBefore);
    });
  }
});
