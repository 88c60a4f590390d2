import { appendFileSync, chmodSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect, useOwnStack } from '../fixtures';
import { declareRequestsWithoutLine } from '../support/accounting';
import { KEYS } from '../support/keys';
import { tagOfEndpoint, type StatsLine } from '../support/stats-file';

// Spec §5: the stats file is rotated at 100 MiB (stats.rotate_bytes, production's default
// on this stack too): the append that takes it past the size is the old file's last line,
// the next call's line the new file's first. On a stack of its own, whose stats file is
// filled to just under the size from the host first.

useOwnStack({ label: 'rotation' });

const ROTATE_BYTES = 100 * 1024 * 1024;
const rotatedFiles = (dir: string) => readdirSync(dir).filter((name) => name.startsWith('stats.jsonl.'));

test('the line that takes the stats file past 100 MiB ends it, the file is rotated, the next line starts a new one', async ({ stack, request, tagged, tag, stats }) => {
  const fillerTag = `${tag}-filler`;
  await test.step('the stats file is filled to 256 bytes under 100 MiB: less than any stats line', () => {
    // Lines the service could have written (the suite's reader parses every line): one
    // line repeated, and a last one that takes the file to the byte.
    const line = (padBytes: number) => `${JSON.stringify({ endpoint: `/openai/filler?lmgate_tag=${fillerTag}`, request_id: 'filler', pad: 'x'.repeat(padBytes) })}\n`;
    const target = ROTATE_BYTES - 256;
    const filler = line(1000);
    const count = Math.floor(target / filler.length) - 1;
    const rest = target - count * filler.length;
    const last = line(1000 + rest - filler.length);
    appendFileSync(stack.statsFile, filler.repeat(count) + last);
    // The service runs as a user of its own.
    chmodSync(stack.statsFile, 0o666);
    expect(statSync(stack.statsFile).size).toBe(target);
    expect(rotatedFiles(stack.dataDir)).toEqual([]);
  });

  const call = (step: string) => request.post(tagged(`/openai/v1/chat/completions?step=${step}`), { headers: { authorization: `Bearer ${KEYS.alpha.key}` }, data: '{}' });

  const rotated = await test.step('a call whose line takes the file past 100 MiB: its line ends the rotated file', async () => {
    expect((await call('over')).status()).toBe(200);
    await expect.poll(() => rotatedFiles(stack.dataDir), { timeout: 15_000, intervals: [100], message: 'a rotated stats file' }).toHaveLength(1);
    const path = join(stack.dataDir, rotatedFiles(stack.dataDir)[0]!);
    expect(rotatedFiles(stack.dataDir)[0]).toMatch(/^stats\.jsonl\.\d{8}T\d{9}Z$/);
    expect(statSync(path).size).toBeGreaterThanOrEqual(ROTATE_BYTES);
    const last = JSON.parse(readFileSync(path, 'utf8').trimEnd().split('\n').pop()!) as StatsLine;
    expect([tagOfEndpoint(last.endpoint), new URLSearchParams(last.endpoint.split('?')[1]).get('step')]).toEqual([tag, 'over']);
    await expect.poll(() => stack.logsOrReason(['lmgate'], 200), { intervals: [100] }).toContain('stats file rotated');
    // Its line is in the rotated file, which the stack's accounting does not read.
    declareRequestsWithoutLine(stack, tag, 1);
    return path;
  });

  await test.step('the next call starts a new stats file', async () => {
    expect((await call('after')).status()).toBe(200);
    const [line] = await stats.waitForLines(tag, 1);
    expect(new URLSearchParams(line!.endpoint.split('?')[1]).get('step')).toBe('after');
    const current = readFileSync(stack.statsFile, 'utf8').split('\n').filter(Boolean);
    expect(current).toHaveLength(1);
    expect(rotatedFiles(stack.dataDir)).toEqual([rotated.split('/').pop()]);
  });
});
