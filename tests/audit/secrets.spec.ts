import { test, expect } from '../fixtures';
import { HOT_RELOAD_KEY, INITIAL_KEYS, UNKNOWN_KEY } from '../support/keys';
import { SERVICES, serviceLogs } from '../support/stack';

test('after the whole suite, no full API key appears in the stats file or in any container log', async ({ run, stats }) => {
  const logs = await serviceLogs(run, SERVICES, 100_000);
  const statsText = stats.text();
  expect(statsText.length).toBeGreaterThan(0);
  expect(logs.length).toBeGreaterThan(0);
  for (const key of [...INITIAL_KEYS.map((k) => k.key), UNKNOWN_KEY, HOT_RELOAD_KEY.key]) {
    expect(statsText.includes(key), 'key in the stats file').toBe(false);
    expect(logs.includes(key), 'key in the container logs').toBe(false);
  }
});
