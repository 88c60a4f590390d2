import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { test, expect, useOwnStack } from '../fixtures';
import { KEYS } from '../support/keys';
import { publishedPorts } from '../support/lifecycle';
import type { RunInfo } from '../support/run-info';
import { composeRun, containerId, waitUntilHealthy, type Service } from '../support/stack';
import { inspectContainer } from '../support/docker-engine';

const execFileAsync = promisify(execFile);
const CHAT = '/openai/v1/chat/completions';

// Moves the service and a provider to new addresses: a stack of its own.
useOwnStack({ label: 'moves' });

/** The address of a service's container on the stack's network. */
async function addressOf(run: RunInfo, service: Service): Promise<string | undefined> {
  const networks = ((await inspectContainer(await containerId(run, service)))['NetworkSettings'] as { Networks: Record<string, { IPAddress: string }> }).Networks;
  return Object.values(networks)[0]?.IPAddress;
}

const nginxStartedAt = async (run: RunInfo) => ((await inspectContainer(await containerId(run, 'nginx')))['State'] as { StartedAt: string }).StartedAt;

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
      const networks = ((await inspectContainer(id))['NetworkSettings'] as { Networks: Record<string, { IPAddress: string }> }).Networks;
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
