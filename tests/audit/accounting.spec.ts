import { test, expect } from '../fixtures';
import { accountingMismatches } from '../support/accounting';
import { statsBarrier } from '../support/barrier';

// Every test's absence checks ("no stats line", "no second line") end here: once a barrier
// call's line is written, every record of the run is, and then every tag must have exactly
// as many stats lines as requests the mock received (plus what a test declared it made
// without one). A lost or doubled record anywhere in the run fails this one test. (Stacks
// a file starts for itself get the same accounting when their file is done.)
test('whole-run accounting: for every tag, the stats lines equal the requests the provider received', async ({ stack, stats, mock }) => {
  await statsBarrier(stack, stats, 'audit-accounting');
  const { tags, mismatches } = await accountingMismatches(stack, stats, mock);
  expect(tags, 'the mock saw the run').toBeGreaterThan(50);
  expect(mismatches).toEqual([]);
});
