import { test, expect } from '../fixtures';
import { prepareStack, removeStack, upStack } from '../support/lifecycle';
import { containerStatus, serviceLogs } from '../support/stack';
import { inspectContainer, projectContainers } from '../support/docker-engine';

// A stack that must fail to start: brought up (and down) by the test itself.
test.describe.configure({ mode: 'default', timeout: 120_000 });

test('startup order, negative: with a broken allow-list the service never becomes healthy, up fails naming the problem, and nginx never starts', async ({ run }) => {
  const info = await prepareStack({ standalone: run.standalone, label: 'broken', allowList: 'id,api_key,owner\n1,sk-e2e-x,team\n' });
  try {
    const failure = await upStack(info).then(
      () => null,
      (error: Error) => error,
    );
    expect(failure, 'docker compose up must fail').not.toBeNull();
    const logs = await serviceLogs(info, ['lmgate']);
    expect(logs).toContain('allow-list /data/allowlist.csv lacks column(s) added');
    // Compose may not even have created nginx's container; if it did, it never ran.
    for (const { Id } of await projectContainers(info.project, 'nginx')) {
      const state = (await inspectContainer(Id))['State'] as { StartedAt: string; Status: string };
      expect(state.Status, await containerStatus(info)).toBe('created');
      expect(state.StartedAt.startsWith('0001-01-01')).toBe(true);
    }
  } finally {
    await removeStack(info);
  }
});
