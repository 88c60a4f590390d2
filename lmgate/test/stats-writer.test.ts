import { mkdir, readdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rotatedName, StatsWriter, type StatsWriterOptions } from '../src/stats-writer.js';
import { FakeLogger, makeTempDir, removeDir, waitFor } from './helpers.js';

/** Watches the appends the writer makes: how many run at once, and an optional delay to widen races. */
const appends = vi.hoisted(() => ({ active: 0, maxActive: 0, delayMs: 0 }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    appendFile: async (...args: Parameters<typeof actual.appendFile>): Promise<void> => {
      appends.active++;
      appends.maxActive = Math.max(appends.maxActive, appends.active);
      try {
        if (appends.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, appends.delayMs));
        await actual.appendFile(...args);
      } finally {
        appends.active--;
      }
    },
  };
});

let dir: string;
let path: string;
let logger: FakeLogger;

beforeEach(async () => {
  dir = await makeTempDir('lmgate-stats-');
  path = join(dir, 'stats.jsonl');
  logger = new FakeLogger();
  appends.active = 0;
  appends.maxActive = 0;
  appends.delayMs = 0;
});

afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  await removeDir(dir);
});

function writer(options: Partial<StatsWriterOptions> = {}, clock?: () => Date): StatsWriter {
  return new StatsWriter({ path, flushIntervalSeconds: 10, maxBufferedRecords: 1000, rotateBytes: 100 * 1024 * 1024, ...options }, logger, clock);
}

function record(n: number, extra: object = {}): object {
  return { timestamp: '2026-01-15T10:30:00.000Z', lmgate_id: String(n), provider: 'openai', seq: n, ...extra };
}

async function readLines(file = path): Promise<unknown[]> {
  const text = await readFile(file, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n').map((line) => JSON.parse(line) as unknown);
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

describe('StatsWriter: writing', () => {
  it('writes nothing before a flush', async () => {
    const w = writer();
    w.write(record(1));
    w.write(record(2));
    expect(w.bufferedCount).toBe(2);
    expect(await exists(path)).toBe(false);
  });

  it('writes one JSON line per record, in order, on flush', async () => {
    const w = writer();
    for (let n = 1; n <= 3; n++) expect(w.write(record(n))).toBe(true);
    await w.flush();
    expect(await readLines()).toEqual([record(1), record(2), record(3)]);
    expect(w.bufferedCount).toBe(0);
  });

  it('appends across flushes', async () => {
    const w = writer();
    w.write(record(1));
    w.write(record(2));
    await w.flush();
    w.write(record(3));
    await w.flush();
    expect(await readLines()).toEqual([record(1), record(2), record(3)]);
  });

  it('appends to an existing stats file instead of replacing it', async () => {
    await writeFile(path, JSON.stringify(record(0)) + '\n');
    const w = writer();
    w.write(record(1));
    await w.flush();
    expect(await readLines()).toEqual([record(0), record(1)]);
  });

  it('creates the missing directory of the stats file', async () => {
    const nested = join(dir, 'a', 'b', 'stats.jsonl');
    const w = writer({ path: nested });
    w.write(record(1));
    await w.flush();
    expect(await readLines(nested)).toEqual([record(1)]);
  });

  it('keeps a record that contains newlines on one line', async () => {
    const w = writer();
    w.write(record(1, { endpoint: '/openai/v1/x\n{"forged":true}\r\n' }));
    await w.flush();
    expect(await readLines()).toEqual([record(1, { endpoint: '/openai/v1/x\n{"forged":true}\r\n' })]);
  });

  it('a flush with nothing buffered creates no file', async () => {
    await writer().flush();
    expect(await exists(path)).toBe(false);
  });
});

describe('StatsWriter: interval', () => {
  it('flushes every flushIntervalSeconds once started, not before', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const w = writer({ flushIntervalSeconds: 10 });
    const flush = vi.spyOn(w, 'flush');
    w.start();
    w.write(record(1));
    vi.advanceTimersByTime(9_999);
    expect(flush).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(flush).toHaveBeenCalledTimes(1);
    await flush.mock.results[0]?.value;
    expect(await readLines()).toEqual([record(1)]);
    vi.advanceTimersByTime(10_000);
    expect(flush).toHaveBeenCalledTimes(2);
    await w.close();
  });

  it('writes buffered records by itself on a real short interval', async () => {
    const w = writer({ flushIntervalSeconds: 0.02 });
    w.start();
    w.write(record(1));
    w.write(record(2));
    await waitFor(async () => (await exists(path)) && (await readLines()).length === 2, 3000, 'the interval flush');
    expect(await readLines()).toEqual([record(1), record(2)]);
    await w.close();
  });
});

describe('StatsWriter: bounded buffer', () => {
  it('refuses a record when the buffer is full and counts it as dropped', () => {
    const w = writer({ maxBufferedRecords: 3 });
    expect([1, 2, 3, 4, 5].map((n) => w.write(record(n)))).toEqual([true, true, true, false, false]);
    expect([w.bufferedCount, w.droppedCount]).toEqual([3, 2]);
  });

  it('never writes the dropped records', async () => {
    const w = writer({ maxBufferedRecords: 3 });
    for (let n = 1; n <= 5; n++) w.write(record(n));
    await w.flush();
    expect(await readLines()).toEqual([record(1), record(2), record(3)]);
  });

  it('logs the number of drops at the next flush, and only the new drops after that', async () => {
    const w = writer({ maxBufferedRecords: 2 });
    for (let n = 1; n <= 5; n++) w.write(record(n));
    expect(logger.at('warn')).toHaveLength(0);
    await w.flush();
    expect(logger.at('warn').map((call) => call.obj)).toEqual([expect.objectContaining({ dropped: 3 })]);
    await w.flush();
    expect(logger.at('warn')).toHaveLength(1);
    for (let n = 6; n <= 9; n++) w.write(record(n));
    await w.flush();
    expect(logger.at('warn').map((call) => call.obj)).toEqual([expect.objectContaining({ dropped: 3 }), expect.objectContaining({ dropped: 2, dropped_total: 5 })]);
    expect(w.droppedCount).toBe(5);
  });

  it('has room again after a flush', async () => {
    const w = writer({ maxBufferedRecords: 1 });
    expect(w.write(record(1))).toBe(true);
    expect(w.write(record(2))).toBe(false);
    await w.flush();
    expect(w.write(record(3))).toBe(true);
  });
});

describe('StatsWriter: rotation', () => {
  it('names a rotated file <path>.<compact UTC timestamp>', () => {
    expect(rotatedName('/data/stats.jsonl', new Date('2026-01-15T10:30:00.123Z'))).toBe('/data/stats.jsonl.20260115T103000123Z');
  });

  it('renames the file aside once it has passed rotateBytes and writes new records to a fresh file', async () => {
    const clock = () => new Date('2026-01-15T10:30:00.123Z');
    const w = writer({ rotateBytes: 200 }, clock);
    const big = (n: number) => record(n, { endpoint: '/openai/v1/chat/completions?' + 'q'.repeat(250) });
    w.write(big(1));
    await w.flush();
    w.write(big(2));
    await w.flush();
    expect(await readLines(`${path}.20260115T103000123Z`)).toEqual([big(1)]);
    expect(await readLines()).toEqual([big(2)]);
    expect(logger.at('info').some((call) => call.msg.includes('rotated'))).toBe(true);
  });

  it('does not rotate while the file is under rotateBytes', async () => {
    const w = writer({ rotateBytes: 10_000 });
    for (let n = 1; n <= 3; n++) {
      w.write(record(n));
      await w.flush();
    }
    expect(await readdir(dir)).toEqual(['stats.jsonl']);
    expect(await readLines()).toHaveLength(3);
  });
});

describe('StatsWriter: failed writes', () => {
  it('keeps the records buffered and logs an error when the file cannot be written', async () => {
    await mkdir(path); // a directory where the file should be
    const w = writer();
    w.write(record(1));
    w.write(record(2));
    await expect(w.flush()).resolves.toBeUndefined();
    expect(w.bufferedCount).toBe(2);
    expect(logger.at('error')).toHaveLength(1);
  });

  it('writes the kept records, oldest first, once the path is fixed', async () => {
    await mkdir(path);
    const w = writer();
    w.write(record(1));
    w.write(record(2));
    await w.flush();
    w.write(record(3));
    await w.flush();
    await rmdir(path);
    await w.flush();
    expect(await readLines()).toEqual([record(1), record(2), record(3)]);
    expect(w.bufferedCount).toBe(0);
  });

  it('holds no more than maxBufferedRecords after a failed write and counts what it had to drop', async () => {
    await mkdir(path);
    appends.delayMs = 30;
    const w = writer({ maxBufferedRecords: 3 });
    for (let n = 1; n <= 3; n++) w.write(record(n));
    const failing = w.flush();
    await waitFor(() => appends.active === 1, 2000, 'the append to start');
    w.write(record(4));
    w.write(record(5));
    await failing;
    expect([w.bufferedCount, w.droppedCount]).toEqual([3, 2]);
  });

  it('tells its monitor of every drop as it happens, on a full buffer and after a failed write', async () => {
    await mkdir(path);
    appends.delayMs = 30;
    const drops: number[] = [];
    const w = writer({ maxBufferedRecords: 3, monitor: { recordsDropped: (count) => drops.push(count) } });
    for (let n = 1; n <= 4; n++) w.write(record(n));
    expect(drops).toEqual([1]);
    const failing = w.flush();
    await waitFor(() => appends.active === 1, 2000, 'the append to start');
    w.write(record(5));
    w.write(record(6));
    await failing;
    expect(drops).toEqual([1, 2]);
    await w.flush();
    expect(drops).toEqual([1, 2]);
    expect(drops.reduce((a, b) => a + b, 0)).toBe(w.droppedCount);
  });
});

describe('StatsWriter: close and ordering', () => {
  it('close() writes everything still buffered', async () => {
    const w = writer({ flushIntervalSeconds: 3600 });
    w.start();
    for (let n = 1; n <= 4; n++) w.write(record(n));
    await w.close();
    expect(await readLines()).toEqual([record(1), record(2), record(3), record(4)]);
  });

  it('close() stops the interval', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const w = writer({ flushIntervalSeconds: 1 });
    w.start();
    await w.close();
    const flush = vi.spyOn(w, 'flush');
    vi.advanceTimersByTime(60_000);
    expect(flush).not.toHaveBeenCalled();
  });

  it('never runs two flushes at once, and the lines stay whole and in order', async () => {
    appends.delayMs = 5;
    const w = writer();
    const flushes: Array<Promise<void>> = [];
    let n = 0;
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 10; i++) w.write(record(n++, { body: 'x'.repeat(2000) }));
      flushes.push(w.flush());
    }
    await Promise.all(flushes);
    expect(appends.maxActive).toBe(1);
    const lines = (await readLines()) as Array<{ seq: number }>;
    expect(lines.map((line) => line.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('a flush requested during another one also writes the records buffered meanwhile', async () => {
    appends.delayMs = 20;
    const w = writer();
    w.write(record(1));
    const first = w.flush();
    w.write(record(2));
    await w.flush();
    expect(await readLines()).toEqual([record(1), record(2)]);
    await first;
  });
});
