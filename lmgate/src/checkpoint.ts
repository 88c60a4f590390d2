import { open, readFile, rename } from 'node:fs/promises';
import type { Offsets } from './spool.js';

/** Where the recording stands: how long the stats file is and what of the spool it holds. */
export interface Position {
  /** Bytes of the stats file that hold every line of the spool read up to `offsets`. */
  stats_bytes: number;
  offsets: Offsets;
  /** The last record number seen of each nginx worker (sequences.ts). */
  producers: Record<string, number>;
}

/**
 * Written before each append to the stats file, and replaced atomically (rename): the
 * position before the append and the one after it. After a crash, the stats file's length
 * says which of the two holds (resume), so that a chunk of lines is never written twice
 * and never skipped: the offset checkpoint of spec §5, by construction.
 */
export interface Checkpoint {
  version: 1;
  before: Position;
  after: Position;
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

function isPosition(value: unknown): value is Position {
  const position = value as Position;
  return (
    typeof value === 'object' && value !== null &&
    Number.isSafeInteger(position.stats_bytes) && position.stats_bytes >= 0 &&
    isCounts(position.offsets) && isCounts(position.producers)
  );
}

function isCounts(value: unknown): value is Record<string, number> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) &&
    Object.values(value).every((count) => Number.isSafeInteger(count) && (count as number) >= 0);
}

/** The checkpoint, or null when there is none yet (a first start). */
export async function readCheckpoint(path: string): Promise<Checkpoint | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CheckpointError(`cannot read the stats checkpoint ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  const checkpoint = parsed as Checkpoint | null;
  if (checkpoint?.version !== 1 || !isPosition(checkpoint.before) || !isPosition(checkpoint.after)) {
    // Starting without it would write every spool line again: a person must decide.
    throw new CheckpointError(`the stats checkpoint ${path} is not one this service wrote; move it aside to start over (spool files still there are then recorded again)`);
  }
  return checkpoint;
}

export async function writeCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  const temporary = `${path}.tmp`;
  const file = await open(temporary, 'w', 0o644);
  try {
    await file.writeFile(JSON.stringify(checkpoint));
    // On disk before the rename and the append after it: a power cut must not leave a
    // checkpoint that is empty (start-up would refuse it) or behind the stats file.
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
}

export interface Resumption {
  position: Position;
  /** Cut the stats file back to this length first: the lines of an append that did not complete. */
  truncateTo: number | null;
}

/**
 * Where to go on from, given the checkpoint and the stats file's length now:
 * - at least `after`'s length: the last append completed;
 * - between `before`'s and `after`'s: it did not (or only in part): its lines are cut off
 *   and its chunk read again;
 * - shorter than `before`'s: the file was rotated (or removed) since, which happens only
 *   after an append completed.
 */
export function resume(checkpoint: Checkpoint | null, statsBytes: number): Resumption {
  if (checkpoint === null) return { position: { stats_bytes: statsBytes, offsets: {}, producers: {} }, truncateTo: null };
  const { before, after } = checkpoint;
  if (statsBytes >= after.stats_bytes) return { position: { ...after, stats_bytes: statsBytes }, truncateTo: null };
  if (statsBytes >= before.stats_bytes) return { position: before, truncateTo: before.stats_bytes };
  return { position: { ...after, stats_bytes: statsBytes }, truncateTo: null };
}
