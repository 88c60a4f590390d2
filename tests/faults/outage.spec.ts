import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { test, expect } from '../fixtures';
import { AUTH_CACHE_SECONDS, KEYS } from '../support/keys';
import { composeRun, containerId, dockerInspect, waitUntilHealthy } from '../support/stack';

const execFileAsync = promisify(execFile);
const FORBIDDEN = { error: { type: 'forbidden', message: 'API key not authorized' } };
const CHAT = '/openai/v1/chat/completions';

test.describe.configure({ mode: 'serial' });

test.describe('the LMGate service is down: authorization fails closed', () => {
  const outages = [
    { name: 'stopped', stop: ['stop', '--timeout', '10', 'lmgate'] },
    { name: 'killed with SIGKILL', stop: ['kill', '-s', 'SIGKILL', 'lmgate'] },
  ];

  for (const outage of outages) {
    test(`service ${outage.name}: every call gets the 403 JSON quickly and none reaches the upstream; it recovers without an nginx restart`, async ({ request, run, tagged, tag, mock }) => {
      const nginxStartedBefore = ((await dockerInspect(await containerId(run, 'nginx')))['State'] as { StartedAt: string }).StartedAt;
      await composeRun(run, outage.stop);
      try {
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
        for (const [path, headers] of [
          [CHAT, { authorization: `Bearer ${KEYS.alpha.key}` }],
          ['/anthropic/v1/messages', { 'x-api-key': KEYS.beta.key }],
          ['/google/v1/projects/p/locations/l/publishers/google/models/m:generateContent', { authorization: `Bearer ${KEYS.gamma.key}` }],
        ] as const) {
          const started = Date.now();
          const response = await request.post(tagged(path), { headers, data: '{}', timeout: 15_000 });
          const took = Date.now() - started;
          expect(response.status(), path).toBe(403);
          expect(await response.json()).toEqual(FORBIDDEN);
          expect(took, `${path} answered after ${took} ms`).toBeLessThan(5_000);
        }
        await mock.expectNoRequests(tag);
      } finally {
        await composeRun(run, ['start', 'lmgate']);
        await waitUntilHealthy(run, 'lmgate');
      }
      await expect
        .poll(async () => (await request.post(tagged(`${CHAT}?after=1`), { headers: { authorization: `Bearer ${KEYS.alpha.key}` }, data: '{}' })).status(), {
          timeout: 15_000,
        })
        .toBe(200);
      const nginxStartedAfter = ((await dockerInspect(await containerId(run, 'nginx')))['State'] as { StartedAt: string }).StartedAt;
      expect(nginxStartedAfter).toBe(nginxStartedBefore);
    });
  }
});

test('the service moves: recreated at a new address, it authorizes calls again within seconds, without an nginx restart', async ({ request, run, tagged }) => {
  const address = async () => Object.values(((await dockerInspect(await containerId(run, 'lmgate')))['NetworkSettings'] as { Networks: Record<string, { IPAddress: string }> }).Networks)[0]?.IPAddress;
  const nginxStartedBefore = ((await dockerInspect(await containerId(run, 'nginx')))['State'] as { StartedAt: string }).StartedAt;
  const addressBefore = await address();
  await composeRun(run, ['rm', '--stop', '--force', 'lmgate']);
  // Docker would hand the freed address straight back: another container takes it first,
  // as happens on a busy host, so the service comes back somewhere else.
  const { stdout } = await execFileAsync('docker', ['run', '--detach', '--rm', '--network', `${run.project}_default`, '--entrypoint', 'sleep', 'lmgate/mock-upstream:local', '300']);
  const placeholder = stdout.trim();
  try {
    await composeRun(run, ['up', '--detach', '--no-build', '--no-deps', 'lmgate']);
    await waitUntilHealthy(run, 'lmgate');
    const addressAfter = await address();
    expect(addressAfter, 'the new container has another address').not.toBe(addressBefore);
    const upAt = Date.now();
    // A header set no other test sends, so no kept decision answers: the new container must.
    await expect
      .poll(async () => (await request.post(tagged(`${CHAT}?moved=1`), { headers: { 'x-api-key': KEYS.gamma.key }, data: '{}' })).status(), { timeout: 15_000, intervals: [250] })
      .toBe(200);
    const took = Date.now() - upAt;
    expect(took, `authorized again after ${took} ms`).toBeLessThan(5_000);
  } finally {
    await execFileAsync('docker', ['rm', '--force', placeholder]);
  }
  const nginxStartedAfter = ((await dockerInspect(await containerId(run, 'nginx')))['State'] as { StartedAt: string }).StartedAt;
  expect(nginxStartedAfter).toBe(nginxStartedBefore);
});
