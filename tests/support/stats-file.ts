import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { expect } from '@playwright/test';
import type { StatsRecord } from '../../lmgate/src/records';

/** A line of the stats file (spec §5), as the service writes it. */
export type StatsLine = StatsRecord;

export function tagOfEndpoint(endpoint: string): string | null {
  const query = endpoint.split('?')[1];
  return query === undefined ? null : new URLSearchParams(query).get('lmgate_tag');
}

/**
 * What a worker has read of one stats file so far: the file only grows (the e2e stacks
 * never rotate it), so each read parses just the bytes appended since the last one, and
 * only whole lines. A file replaced (another inode) or shortened is read again from the
 * start.
 */
interface ReadState {
  ino: number;
  offset: number;
  lines: StatsLine[];
  byTag: Map<string | null, StatsLine[]>;
}

const readStates = new Map<string, ReadState>();

function freshState(ino: number): ReadState {
  return { ino, offset: 0, lines: [], byTag: new Map() };
}

function readNewLines(path: string): ReadState {
  let state = readStates.get(path);
  let stats;
  try {
    stats = statSync(path);
  } catch {
    state = freshState(-1);
    readStates.set(path, state);
    return state;
  }
  if (!stats.isFile()) return state ?? freshState(-1);
  if (!state || state.ino !== stats.ino || stats.size < state.offset) {
    state = freshState(stats.ino);
    readStates.set(path, state);
  }
  if (stats.size === state.offset) return state;
  const fd = openSync(path, 'r');
  try {
    const fresh = Buffer.alloc(stats.size - state.offset);
    const read = readSync(fd, fresh, 0, fresh.length, state.offset);
    // The service may be half-way through appending: only whole lines count.
    const end = fresh.subarray(0, read).lastIndexOf(0x0a) + 1;
    for (const text of fresh.subarray(0, end).toString('utf8').split('\n')) {
      if (text.trim() === '') continue;
      const line = JSON.parse(text) as StatsLine;
      state.lines.push(line);
      const tag = tagOfEndpoint(line.endpoint);
      const tagged = state.byTag.get(tag) ?? [];
      tagged.push(line);
      state.byTag.set(tag, tagged);
    }
    state.offset += end;
  } finally {
    closeSync(fd);
  }
  return state;
}

export class StatsFile {
  constructor(readonly path: string) {}

  text(): string {
    return existsSync(this.path) && statSync(this.path).isFile() ? readFileSync(this.path, 'utf8') : '';
  }

  all(): StatsLine[] {
    return [...readNewLines(this.path).lines];
  }

  /** The lines of the tag and of the tags derived from it (`<tag>-…`). */
  linesOfTagAndDerived(tag: string): StatsLine[] {
    const found: StatsLine[] = [];
    for (const [lineTag, lines] of readNewLines(this.path).byTag) {
      if (lineTag === tag || (lineTag?.startsWith(`${tag}-`) ?? false)) for (const line of lines) found.push(line);
    }
    return found;
  }

  lines(tag: string): StatsLine[] {
    return [...(readNewLines(this.path).byTag.get(tag) ?? [])];
  }

  /**
   * Waits for `count` lines with the tag and returns them; more than `count` at that moment
   * fails. A line doubled later is caught by the whole-run accounting
   * (tests/audit/accounting.spec.ts), which compares every tag's lines with the mock's
   * journal at the end of the run: no test waits for it.
   */
  async waitForLines(tag: string, count = 1, timeout = 15_000): Promise<StatsLine[]> {
    let lines: StatsLine[] = [];
    await expect
      .poll(() => (lines = this.lines(tag)).length, { timeout, intervals: [100], message: `stats lines tagged ${tag}` })
      .toBeGreaterThanOrEqual(count);
    expect(lines, `exactly ${count} stats line(s) tagged ${tag}`).toHaveLength(count);
    return lines;
  }

  /**
   * No line with the tag now. That none arrives later either is proven by the whole-run
   * accounting: a tag the mock never saw must end the run without a line.
   */
  expectNoLines(tag: string): void {
    expect(this.lines(tag), `stats lines tagged ${tag}`).toEqual([]);
  }
}
