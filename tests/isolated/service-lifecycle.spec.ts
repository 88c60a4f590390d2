import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { test, expect } from '../fixtures';
import { AUTH_CACHE_SECONDS, KEYS } from '../support/keys';
import { publishedPorts } from '../support/lifecycle';
import type { RunInfo } from '../support/run-info';
import { composeRun, containerId, dockerInspect, waitUntilHealthy, type Service } from '../support/stack';

const execFileAsync = promisify(execFile);
const FORBIDDEN = { error: { type: 'forbidden', message: 'API key not authorized' } };
const CHAT = '/openai/v1/chat/completions';

// Changes the stack's state: a stack of its own, its tests one after another.
test.use({ ownStack: { label: 'lifecycle' } });

test.describe('the LMGate service is down: authorization fails closed', () => {
  // Every other way the service can fail is in service-outages.spec.ts and
  // service-answers.spec.ts; here the real service, and the decisions kept from before.
  const outages = [{ name: 'stopped', stop: ['stop', '--timeout', '10', 'lmgate'] }];

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
          const response = await request.post(tagged(path), { headers, data: '{}', timeout: 15_000 });
          expect(response.status(), path).toBe(403);
          expect(await response.json()).toEqual(FORBIDDEN);
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

/** The address of a service's container on the stack's network. */
async function addressOf(run: RunInfo, service: Service): Promise<string | undefined> {
  const networks = ((await dockerInspect(await containerId(run, service)))['NetworkSettings'] as { Networks: Record<string, { IPAddress: string }> }).Networks;
  return Object.values(networks)[0]?.IPAddress;
}

const nginxStartedAt = async (run: RunInfo) => ((await dockerInspect(await containerId(run, 'nginx')))['State'] as { StartedAt: string }).StartedAt;

/**
 * Recreates a service at another address. Docker hands out the lowest free address, which
 * would be the one just freed: placeholder containers take free addresses until one holds
 * the old one, as other containers would on a busy host.
 */
async function recreateElsewhere(run: RunInfo, service: Service): Promise<{ before?: string; after?: string; release: () => Promise<void> }> {
  const before = await addressOf(run, service);
  await composeRun(run, ['rm', '--stop', '--force', service]);
  const placeholders: string[] = [];
  const release = async () => void (placeholders.length > 0 && (await execFileAsync('docker', ['rm', '--force', ...placeholders])));
  try {
    for (let i = 0; i < 8; i++) {
      const { stdout } = await execFileAsync('docker', ['run', '--detach', '--rm', '--network', `${run.project}_default`, '--entrypoint', 'sleep', 'lmgate/mock-upstream:local', '300']);
      const id = stdout.trim();
      placeholders.push(id);
      const networks = ((await dockerInspect(id))['NetworkSettings'] as { Networks: Record<string, { IPAddress: string }> }).Networks;
      if (Object.values(networks)[0]?.IPAddress === before) break;
    }
    await composeRun(run, ['up', '--detach', '--no-build', '--no-deps', service]);
    await waitUntilHealthy(run, service);
    // A recreated container is published on new host ports.
    await publishedPorts(run);
    return { before, after: await addressOf(run, service), release };
  } catch (error) {
    await release();
    throw error;
  }
}

for (const { service, headers } of [
  // Header sets no other test sends, so no kept decision answers for the service.
  { service: 'lmgate' as const, headers: { 'x-api-key': KEYS.gamma.key } },
  { service: 'mock-upstream' as const, headers: { 'x-api-key': KEYS.beta.key } },
]) {
  const what = service === 'lmgate' ? 'the LMGate service' : 'a provider';
  test(`${what} moves: recreated at a new address, calls pass again within seconds, without an nginx restart`, async ({ request, run, tagged }) => {
    const startedBefore = await nginxStartedAt(run);
    const moved = await recreateElsewhere(run, service);
    try {
      expect(moved.after, 'the new container has another address').not.toBe(moved.before);
      const upAt = Date.now();
      await expect
        .poll(async () => (await request.post(tagged(`${CHAT}?moved=1`), { headers, data: '{}' })).status(), { timeout: 15_000, intervals: [250] })
        .toBe(200);
      const took = Date.now() - upAt;
      expect(took, `passing again after ${took} ms`).toBeLessThan(5_000);
    } finally {
      await moved.release();
    }
    expect(await nginxStartedAt(run)).toBe(startedBefore);
  });
}
