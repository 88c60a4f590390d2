import { test, expect } from '../fixtures';
import { KEYS } from '../support/keys';
import { prepareStack, removeStack, startStack, upStack } from '../support/lifecycle';
import { StatsFile } from '../support/stats-file';
import * as compose from 'docker-compose';
import { composeOptions, composeRun, containerStatus, dockerInspect, serviceLogs } from '../support/stack';

// These bring up stacks of their own, so they cannot disturb the shared one.
test.describe.configure({ mode: 'serial', timeout: 240_000 });

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
    const ps = await compose.ps({ ...composeOptions(info), commandOptions: ['--all', '--format', 'json'] }).catch((e: { out?: string }) => ({ out: e.out ?? '' }));
    const nginxLine = ps.out.split('\n').find((line) => line.includes('"nginx"') || line.includes('-nginx-'));
    if (nginxLine) {
      const id = (JSON.parse(nginxLine) as { ID: string }).ID;
      const state = (await dockerInspect(id))['State'] as { StartedAt: string; Status: string };
      expect(state.Status, await containerStatus(info)).toBe('created');
      expect(state.StartedAt.startsWith('0001-01-01')).toBe(true);
    }
  } finally {
    await removeStack(info);
  }
});

test('graceful stop: records the service holds in its buffer are all in the stats file after docker compose stop', async ({ run }) => {
  // A flush interval of an hour: only the stop can have written the lines.
  const info = await prepareStack({ standalone: run.standalone, label: 'graceful', env: { E2E_STATS_FLUSH_SECONDS: '3600' } });
  try {
    await startStack(info);
    const stats = new StatsFile(info.statsFile);
    const calls = 25;
    const statuses = await Promise.all(
      Array.from({ length: calls }, (_, i) =>
        fetch(`${info.gatewayURL}/openai/v1/chat/completions?lmgate_tag=graceful&i=${i}`, {
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
    // njs hands records over every second; give it a few rounds.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(stats.lines('graceful'), 'nothing flushed before the stop').toHaveLength(0);
    await composeRun(info, ['stop', '--timeout', '20', 'lmgate']);
    const lines = stats.lines('graceful');
    expect(lines).toHaveLength(calls);
    expect(new Set(lines.map((l) => l.endpoint)).size).toBe(calls);
  } finally {
    await removeStack(info);
  }
});
