import { mkdirSync, renameSync, rmSync, existsSync } from 'node:fs';
import { test, expect } from '../fixtures';
import { KEYS } from '../support/keys';
import { composeRun, serviceLogs } from '../support/stack';

// Changes the stack's state: a stack of its own, its tests one after another.
test.use({ ownStack: { label: 'stats-path' } });

const chat = { authorization: `Bearer ${KEYS.alpha.key}` };

test('stats file unwritable (a directory in its place): calls stay prompt and unchanged, records wait in the buffer and are written once the path is fixed', async ({ run, request, tagged, tag, stats }) => {
  const aside = `${run.statsFile}.aside-${tag}`;
  if (existsSync(run.statsFile)) renameSync(run.statsFile, aside);
  mkdirSync(run.statsFile);
  try {
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      const response = await request.post(tagged(`/openai/v1/chat/completions?i=${i}`), { headers: chat, data: '{}' });
      expect(response.status()).toBe(200);
      expect(Date.now() - started).toBeLessThan(2_000);
    }
    await expect.poll(async () => serviceLogs(run, ['lmgate'], 50), { timeout: 10_000 }).toContain('writing stats failed; records stay buffered');
  } finally {
    // Frozen while the file is swapped back, so no flush lands between the two steps.
    await composeRun(run, ['pause', 'lmgate']);
    try {
      rmSync(run.statsFile, { recursive: true, force: true });
      if (existsSync(aside)) renameSync(aside, run.statsFile);
    } finally {
      await composeRun(run, ['unpause', 'lmgate']);
    }
  }
  const lines = await stats.waitForLines(tag, 5);
  expect(lines.every((l) => l.status === 200)).toBe(true);
});
