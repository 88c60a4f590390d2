import { test, expect } from '../fixtures';
import { KEYS } from '../support/keys';
import { scrape, sumOf } from '../support/metrics';
import { composeRun } from '../support/stack';

// A flush interval of an hour: only the stop can have written the lines.
test.use({ ownStack: { label: 'graceful', env: { E2E_STATS_FLUSH_SECONDS: '3600' } } });

test('graceful stop: records the service holds in its buffer are all in the stats file after docker compose stop', async ({ run, stats, tag }) => {
  const calls = 25;
  const statuses = await Promise.all(
    Array.from({ length: calls }, (_, i) =>
      fetch(`${run.gatewayURL}/openai/v1/chat/completions?lmgate_tag=${tag}&i=${i}`, {
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
  // The service has taken every record into its buffer (njs delivers once a second)...
  await expect.poll(async () => sumOf(await scrape(run.metricsURL), 'lmgate_calls_total'), { timeout: 10_000, intervals: [100] }).toBe(calls);
  // ...and written none of them: only the stop can.
  expect(stats.lines(tag), 'nothing flushed before the stop').toHaveLength(0);
  await composeRun(run, ['stop', '--timeout', '20', 'lmgate']);
  const lines = stats.lines(tag);
  expect(lines).toHaveLength(calls);
  expect(new Set(lines.map((l) => l.endpoint)).size).toBe(calls);
});
