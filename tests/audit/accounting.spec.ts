import { test, expect } from '../fixtures';
import { linesWithoutUpstream } from '../support/accounting';
import { afterStatsBarrier } from '../support/barrier';
import { tagOfEndpoint } from '../support/stats-file';

// Every test's absence checks ("no stats line", "no second line") end here: once a barrier
// call's line is written, every record of the run is, and then every tag must have exactly
// as many stats lines as requests the mock received (plus what a test declared it made
// without one). A lost or doubled record anywhere in the run fails this one test.
test('whole-run accounting: for every tag, the stats lines equal the requests the provider received', async ({ request, run, stats, mock }) => {
  await afterStatsBarrier(request, stats, 'audit-accounting');
  const received = new Map(Object.entries(await mock.countByTag()).map(([tag, count]) => [tag === '' ? '(no tag)' : tag, count]));
  const written = new Map<string, number>();
  for (const line of stats.all()) {
    const tag = tagOfEndpoint(line.endpoint) ?? '(no tag)';
    written.set(tag, (written.get(tag) ?? 0) + 1);
  }
  const declared = linesWithoutUpstream(run);
  const mismatches: string[] = [];
  for (const tag of new Set([...received.keys(), ...written.keys(), ...declared.keys()])) {
    const expected = (received.get(tag) ?? 0) + (declared.get(tag) ?? 0);
    if ((written.get(tag) ?? 0) !== expected) mismatches.push(`${tag}: ${written.get(tag) ?? 0} line(s), expected ${expected} (${received.get(tag) ?? 0} received by the mock)`);
  }
  expect(received.size, 'the mock saw the run').toBeGreaterThan(50);
  expect(mismatches).toEqual([]);
});
