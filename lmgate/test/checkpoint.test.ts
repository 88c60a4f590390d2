import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointError, readCheckpoint, resume, writeCheckpoint, type Checkpoint, type Position } from '../src/checkpoint.js';
import { makeTempDir, removeDir } from './helpers.js';

const SEGMENT = 'records-2026-01-15T10-30.jsonl';

function position(stats_bytes: number, offset: number, seq: number): Position {
  return { stats_bytes, offsets: { [SEGMENT]: offset }, producers: { 'h/1': seq } };
}

/** An append of 400 bytes of stats lines for 2 spool lines (900 spool bytes) not yet known to have completed. */
const BEFORE = position(1000, 2000, 10);
const AFTER = position(1400, 2900, 12);
const CHECKPOINT: Checkpoint = { version: 1, before: BEFORE, after: AFTER };

let dir: string;
let path: string;

beforeEach(async () => {
  dir = await makeTempDir('lmgate-checkpoint-');
  path = join(dir, 'lmgate-checkpoint.json');
});

afterEach(async () => {
  await removeDir(dir);
});

async function expectCheckpointError(fragments: string[]): Promise<void> {
  const error = await readCheckpoint(path).then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(CheckpointError);
  expect((error as Error).name).toBe('CheckpointError');
  for (const fragment of fragments) expect((error as Error).message).toContain(fragment);
}

describe('readCheckpoint', () => {
  it('is null when there is no checkpoint yet: a first start', async () => {
    expect(await readCheckpoint(path)).toBeNull();
  });

  it('reads what writeCheckpoint wrote', async () => {
    await writeCheckpoint(path, CHECKPOINT);
    expect(await readCheckpoint(path)).toEqual(CHECKPOINT);
  });

  it('reads a checkpoint with no spool file and no producer yet', async () => {
    const empty: Checkpoint = { version: 1, before: { stats_bytes: 0, offsets: {}, producers: {} }, after: { stats_bytes: 0, offsets: {}, producers: {} } };
    await writeCheckpoint(path, empty);
    expect(await readCheckpoint(path)).toEqual(empty);
  });

  const garbage: Array<[string, string]> = [
    ['an empty file', ''],
    ['text that is not JSON', 'stats_bytes=1000'],
    ['a cut-off checkpoint', JSON.stringify(CHECKPOINT).slice(0, 40)],
    ['null', 'null'],
    ['a number', '1'],
    ['an array', '[]'],
    ['another version', JSON.stringify({ ...CHECKPOINT, version: 2 })],
    ['the version as a string', JSON.stringify({ ...CHECKPOINT, version: '1' })],
    ['no version', JSON.stringify({ before: BEFORE, after: AFTER })],
    ['no before', JSON.stringify({ version: 1, after: AFTER })],
    ['no after', JSON.stringify({ version: 1, before: BEFORE })],
    ['a position that is not an object', JSON.stringify({ version: 1, before: 1000, after: AFTER })],
    ['a negative stats_bytes', JSON.stringify({ ...CHECKPOINT, after: { ...AFTER, stats_bytes: -1 } })],
    ['a fractional stats_bytes', JSON.stringify({ ...CHECKPOINT, before: { ...BEFORE, stats_bytes: 10.5 } })],
    ['stats_bytes as a string', JSON.stringify({ ...CHECKPOINT, before: { ...BEFORE, stats_bytes: '1000' } })],
    ['no offsets', JSON.stringify({ ...CHECKPOINT, after: { stats_bytes: 1400, producers: {} } })],
    ['offsets as an array', JSON.stringify({ ...CHECKPOINT, after: { ...AFTER, offsets: [2900] } })],
    ['a negative offset', JSON.stringify({ ...CHECKPOINT, before: { ...BEFORE, offsets: { [SEGMENT]: -5 } } })],
    ['an offset as a string', JSON.stringify({ ...CHECKPOINT, after: { ...AFTER, offsets: { [SEGMENT]: '2900' } } })],
    ['producers null', JSON.stringify({ ...CHECKPOINT, after: { ...AFTER, producers: null } })],
    ['a fractional record number', JSON.stringify({ ...CHECKPOINT, after: { ...AFTER, producers: { 'h/1': 1.5 } } })],
  ];
  for (const [name, text] of garbage) {
    it(`throws a CheckpointError naming the file and what to do for ${name}`, async () => {
      await writeFile(path, text);
      await expectCheckpointError([path, 'move it aside']);
    });
  }

  it('throws a CheckpointError naming the file when it cannot be read', async () => {
    await mkdir(path);
    await expectCheckpointError([path, 'cannot read']);
  });
});

describe('writeCheckpoint', () => {
  it('replaces the checkpoint whole: nothing of the one before is left', async () => {
    await writeCheckpoint(path, { version: 1, before: position(123_456_789, 987_654_321, 99_999), after: position(123_456_789, 987_654_321, 99_999) });
    await writeCheckpoint(path, { version: 1, before: position(0, 0, 0), after: position(1, 1, 1) });
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ version: 1, before: position(0, 0, 0), after: position(1, 1, 1) });
  });

  it('writes a file of its own and renames it over the checkpoint, so a reader never sees half of one', async () => {
    await writeCheckpoint(path, CHECKPOINT);
    const first = await stat(path);
    await writeCheckpoint(path, { ...CHECKPOINT, before: AFTER });
    const second = await stat(path);
    // Written in place, the file would keep its inode; renamed over, it is another file.
    expect(second.ino).not.toBe(first.ino);
    expect(await readdir(dir)).toEqual(['lmgate-checkpoint.json']);
  });

  it('leaves the checkpoint as it was when the new one cannot be written', async () => {
    await writeCheckpoint(path, CHECKPOINT);
    await mkdir(`${path}.tmp`);
    await expect(writeCheckpoint(path, { ...CHECKPOINT, before: AFTER })).rejects.toThrow();
    expect(await readCheckpoint(path)).toEqual(CHECKPOINT);
  });

  it('writes over a temporary file a crash left behind', async () => {
    await writeFile(`${path}.tmp`, '{"version":1,"before":'.repeat(100));
    await writeCheckpoint(path, CHECKPOINT);
    expect(await readCheckpoint(path)).toEqual(CHECKPOINT);
  });
});

describe('resume', () => {
  it('starts with no spool read and the stats file as it is when there is no checkpoint', () => {
    expect(resume(null, 0)).toEqual({ position: { stats_bytes: 0, offsets: {}, producers: {} }, truncateTo: null });
    expect(resume(null, 5000)).toEqual({ position: { stats_bytes: 5000, offsets: {}, producers: {} }, truncateTo: null });
  });

  it('goes on after the append when the stats file holds it: at least after.stats_bytes', () => {
    expect(resume(CHECKPOINT, 1400)).toEqual({ position: AFTER, truncateTo: null });
    // Longer: an operator's edit, never cut (the position takes the real length).
    expect(resume(CHECKPOINT, 1500)).toEqual({ position: { ...AFTER, stats_bytes: 1500 }, truncateTo: null });
  });

  it('cuts the file back to before.stats_bytes and reads the chunk again when the append did not complete', () => {
    for (const statsBytes of [1000, 1001, 1200, 1399]) {
      expect(resume(CHECKPOINT, statsBytes), `${statsBytes} bytes`).toEqual({ position: BEFORE, truncateTo: 1000 });
    }
  });

  it('goes on after the append when the file is shorter than before.stats_bytes: it was rotated since', () => {
    expect(resume(CHECKPOINT, 0)).toEqual({ position: { ...AFTER, stats_bytes: 0 }, truncateTo: null });
    expect(resume(CHECKPOINT, 999)).toEqual({ position: { ...AFTER, stats_bytes: 999 }, truncateTo: null });
  });

  it('goes on from a checkpoint whose before and after are one position (no append pending)', () => {
    const settled: Checkpoint = { version: 1, before: AFTER, after: AFTER };
    expect(resume(settled, 1400)).toEqual({ position: AFTER, truncateTo: null });
    expect(resume(settled, 0)).toEqual({ position: { ...AFTER, stats_bytes: 0 }, truncateTo: null });
  });

  it('leaves the checkpoint it was given as it was', () => {
    const copy = structuredClone(CHECKPOINT);
    resume(copy, 1500);
    resume(copy, 1200);
    resume(copy, 0);
    expect(copy).toEqual(CHECKPOINT);
  });
});
