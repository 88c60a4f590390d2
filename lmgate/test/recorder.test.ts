import { readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rmdir, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CheckpointError, readCheckpoint, writeCheckpoint, type Checkpoint } from '../src/checkpoint.js';
import { buildStatsRecord, type SpoolRecord, type StatsRecord } from '../src/records.js';
import { rotatedName, RecorderError, StatsRecorder, type RecorderMonitor, type RecorderOptions } from '../src/recorder.js';
import { openAiChatJson } from './fixtures/provider-bodies.js';
import { FakeLogger, makeTempDir, removeDir, waitFor } from './helpers.js';

/**
 * Watches the recorder's appends to the stats file (only the recorder calls appendFile;
 * the tests write with writeFile): how many run at once, a delay to widen races, a
 * failure after half of the data, as a full disk gives, and what the checkpoint and the
 * stats file were the moment each append began.
 */
const appends = vi.hoisted(() => ({
  calls: 0,
  active: 0,
  maxActive: 0,
  delayMs: 0,
  failHalfway: 0,
  seen: [] as Array<{ checkpoint: string; statsBytes: number; bytes: number }>,
  checkpointPath: '',
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    appendFile: async (...args: Parameters<typeof actual.appendFile>): Promise<void> => {
      appends.calls++;
      const [target, payload] = args;
      appends.seen.push({
        checkpoint: readFileSync(appends.checkpointPath, 'utf8'),
        statsBytes: (() => {
          try {
            return statSync(target as string).size;
          } catch {
            return 0;
          }
        })(),
        bytes: Buffer.byteLength(String(payload)),
      });
      appends.active++;
      appends.maxActive = Math.max(appends.maxActive, appends.active);
      try {
        if (appends.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, appends.delayMs));
        if (appends.failHalfway > 0) {
          appends.failHalfway--;
          const [path, data, options] = args;
          const text = String(data);
          await actual.appendFile(path, text.slice(0, text.length >> 1), options);
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        }
        await actual.appendFile(...args);
      } finally {
        appends.active--;
      }
    },
  };
});

const NOW = new Date('2026-01-15T10:30:00.000Z');
const MINUTE_1 = 'records-2026-01-15T10-28.jsonl';
const MINUTE_2 = 'records-2026-01-15T10-29.jsonl';
const MINUTE_3 = 'records-2026-01-15T10-30.jsonl';
const SECRET = 'sk-proj-SPOOLsecretNEVERlogged0000000000';

class RecordingMonitor implements RecorderMonitor {
  readonly written: Array<{ record: StatsRecord; lag: number }> = [];
  readonly rejected: number[] = [];
  readonly dropped: number[] = [];

  recordWritten(record: StatsRecord, lagSeconds: number): void {
    this.written.push({ record, lag: lagSeconds });
  }

  recordsRejected(count: number): void {
    this.rejected.push(count);
  }

  recordsDropped(count: number): void {
    this.dropped.push(count);
  }
}

let dir: string;
let spoolDir: string;
let statsPath: string;
let checkpointPath: string;
let logger: FakeLogger;
let monitor: RecordingMonitor;
let opened: StatsRecorder[];

beforeEach(async () => {
  dir = await makeTempDir('lmgate-recorder-');
  spoolDir = join(dir, 'spool');
  await mkdir(spoolDir);
  statsPath = join(dir, 'data', 'stats.jsonl');
  checkpointPath = join(dir, 'data', 'lmgate-checkpoint.json');
  logger = new FakeLogger();
  monitor = new RecordingMonitor();
  opened = [];
  Object.assign(appends, { calls: 0, active: 0, maxActive: 0, delayMs: 0, failHalfway: 0, seen: [], checkpointPath });
});

afterEach(async () => {
  // No timer outlives its test.
  for (const recorder of opened) await recorder.close();
  vi.useRealTimers();
  vi.restoreAllMocks();
  await removeDir(dir);
});

function options(overrides: Partial<RecorderOptions> = {}): RecorderOptions {
  return {
    statsPath,
    checkpointPath,
    spoolDir,
    intervalSeconds: 3600,
    maxChunkBytes: 1024 * 1024,
    maxChunkLines: 1000,
    rotateBytes: 100 * 1024 * 1024,
    spoolQuietMs: 120_000,
    monitor,
    ...overrides,
  };
}

async function open(overrides: Partial<RecorderOptions> = {}, clock: () => Date = () => NOW): Promise<StatsRecorder> {
  const recorder = await StatsRecorder.open(options(overrides), logger, clock);
  opened.push(recorder);
  return recorder;
}

/** Spool record `seq` of worker h/1, as nginx writes it: the call ended 2 s before NOW. */
function spoolRecord(seq: number, overrides: Partial<SpoolRecord> = {}): SpoolRecord {
  return {
    v: 1,
    producer: 'h/1',
    seq,
    request_id: `req-${seq}`,
    end_ms: (NOW.getTime() - 2000) / 1000,
    request_time: 1.5,
    first_byte_ms: 400,
    request_uri: `/openai/v1/chat/completions?n=${seq}`,
    status: 200,
    lmgate_id: '1',
    upstream_host: 'api.openai.com',
    masked_key: 'aB7c9Z',
    body_truncated: false,
    body: openAiChatJson,
    body_tail: '',
    ...overrides,
  };
}

/** Appends lines to a spool file as nginx does: a record as its JSON, a string as it is. */
async function spool(name: string, ...lines: Array<SpoolRecord | string>): Promise<void> {
  const text = lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line)) + '\n').join('');
  await writeFile(join(spoolDir, name), text, { flag: 'a' });
}

/** The stats line the recorder must write for a spool record. */
function statsLineOf(record: SpoolRecord): string {
  return JSON.stringify(buildStatsRecord(record));
}

async function statsText(path = statsPath): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}

/** The stats file's lines, each checked to be whole JSON. */
async function statsLines(path = statsPath): Promise<string[]> {
  const text = await statsText(path);
  if (text === '') return [];
  expect(text.endsWith('\n')).toBe(true);
  const lines = text.slice(0, -1).split('\n');
  for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
  return lines;
}

async function requestIds(path = statsPath): Promise<Array<string | null>> {
  return (await statsLines(path)).map((line) => (JSON.parse(line) as StatsRecord).request_id);
}

function ids(...seqs: number[]): string[] {
  return seqs.map((seq) => `req-${seq}`);
}

async function sizeOf(path: string): Promise<number> {
  return (await stat(path)).size;
}

async function spoolSize(name: string): Promise<number> {
  return sizeOf(join(spoolDir, name));
}

describe('StatsRecorder: recording', () => {
  it('writes one stats line per spool line, in spool order, each the line buildStatsRecord makes', async () => {
    const records = [spoolRecord(1), spoolRecord(2, { upstream_host: 'api.anthropic.com', status: 529 }), spoolRecord(3)];
    await spool(MINUTE_1, records[0] as SpoolRecord, records[1] as SpoolRecord);
    await spool(MINUTE_2, records[2] as SpoolRecord);
    const recorder = await open();
    await recorder.record();
    expect(await statsLines()).toEqual(records.map(statsLineOf));
  });

  it('tells its monitor of each line written, with the time from the call\'s end to its writing', async () => {
    await spool(MINUTE_1, spoolRecord(1), spoolRecord(2, { end_ms: (NOW.getTime() - 4500) / 1000 }));
    const recorder = await open();
    await recorder.record();
    expect(monitor.written).toEqual([
      { record: buildStatsRecord(spoolRecord(1)), lag: 2 },
      { record: buildStatsRecord(spoolRecord(2, { end_ms: (NOW.getTime() - 4500) / 1000 })), lag: 4.5 },
    ]);
    expect([monitor.rejected, monitor.dropped]).toEqual([[], []]);
  });

  it('writes nothing new when it runs again without new spool lines: no line twice', async () => {
    await spool(MINUTE_1, spoolRecord(1), spoolRecord(2));
    const recorder = await open();
    await recorder.record();
    const before = await statsText();
    await recorder.record();
    await recorder.record();
    expect(await statsText()).toBe(before);
    expect(monitor.written).toHaveLength(2);
    expect(appends.calls).toBe(1);
  });

  it('writes the lines added since, after the earlier ones, from the files they were added to', async () => {
    await spool(MINUTE_1, spoolRecord(1));
    const recorder = await open();
    await recorder.record();
    await spool(MINUTE_1, spoolRecord(2));
    await spool(MINUTE_2, spoolRecord(3), spoolRecord(4));
    await recorder.record();
    expect(await requestIds()).toEqual(ids(1, 2, 3, 4));
  });

  it('waits for a line nginx is still writing, and writes it once it is whole', async () => {
    const line = JSON.stringify(spoolRecord(2));
    await spool(MINUTE_1, spoolRecord(1));
    await writeFile(join(spoolDir, MINUTE_1), line.slice(0, 100), { flag: 'a' });
    const recorder = await open();
    await recorder.record();
    expect(await requestIds()).toEqual(ids(1));
    await writeFile(join(spoolDir, MINUTE_1), line.slice(100) + '\n', { flag: 'a' });
    await recorder.record();
    expect(await requestIds()).toEqual(ids(1, 2));
    expect(monitor.rejected).toEqual([]);
  });

  it('creates the missing directory of the stats file, and no stats file while the spool is empty', async () => {
    const recorder = await open();
    expect((await stat(join(dir, 'data'))).isDirectory()).toBe(true);
    await recorder.record();
    expect(await readdir(join(dir, 'data'))).not.toContain('stats.jsonl');
  });

  it('appends to a stats file that exists instead of replacing it', async () => {
    await mkdir(join(dir, 'data'));
    await writeFile(statsPath, '{"earlier":true}\n');
    await spool(MINUTE_1, spoolRecord(1));
    const recorder = await open();
    await recorder.record();
    expect(await statsLines()).toEqual(['{"earlier":true}', statsLineOf(spoolRecord(1))]);
  });

  it('reads the spool a chunk at a time and catches up in one run', async () => {
    await spool(MINUTE_1, ...[1, 2, 3, 4, 5].map((seq) => spoolRecord(seq)));
    const recorder = await open({ maxChunkLines: 2 });
    await recorder.record();
    expect(await requestIds()).toEqual(ids(1, 2, 3, 4, 5));
    expect(appends.calls).toBe(3);
  });

  it('keeps its position in the checkpoint: the stats file\'s length, the spool read and each worker\'s last number', async () => {
    await spool(MINUTE_1, spoolRecord(1), spoolRecord(2, { producer: 'h/2' }));
    await spool(MINUTE_2, spoolRecord(3));
    const recorder = await open();
    await recorder.record();
    const checkpoint = await readCheckpoint(checkpointPath);
    expect(checkpoint?.after).toEqual({
      stats_bytes: await sizeOf(statsPath),
      offsets: { [MINUTE_1]: await spoolSize(MINUTE_1), [MINUTE_2]: await spoolSize(MINUTE_2) },
      producers: { 'h/1': 3, 'h/2': 2 },
    });
  });

  it('writes the checkpoint of an append before the append: where the file ends now, where it will end, and the spool read', async () => {
    await spool(MINUTE_1, spoolRecord(1), spoolRecord(2));
    const recorder = await open({ maxChunkLines: 1 });
    await recorder.record();
    const firstLine = Buffer.byteLength(statsLineOf(spoolRecord(1)) + '\n');
    const lineLength = Buffer.byteLength(JSON.stringify(spoolRecord(1)) + '\n');
    expect(appends.seen.map(({ checkpoint, statsBytes, bytes }) => ({ checkpoint: JSON.parse(checkpoint) as Checkpoint, statsBytes, bytes }))).toEqual([
      {
        checkpoint: {
          version: 1,
          before: { stats_bytes: 0, offsets: {}, producers: {} },
          after: { stats_bytes: firstLine, offsets: { [MINUTE_1]: lineLength }, producers: { 'h/1': 1 } },
        },
        statsBytes: 0,
        bytes: firstLine,
      },
      {
        checkpoint: {
          version: 1,
          before: { stats_bytes: firstLine, offsets: { [MINUTE_1]: lineLength }, producers: { 'h/1': 1 } },
          after: { stats_bytes: firstLine + Buffer.byteLength(statsLineOf(spoolRecord(2)) + '\n'), offsets: { [MINUTE_1]: await spoolSize(MINUTE_1) }, producers: { 'h/1': 2 } },
        },
        statsBytes: firstLine,
        bytes: Buffer.byteLength(statsLineOf(spoolRecord(2)) + '\n'),
      },
    ]);
  });

  it('goes on after a restart from where the checkpoint says: no line twice, none lost', async () => {
    await spool(MINUTE_1, spoolRecord(1), spoolRecord(2));
    await (await open()).close();
    await spool(MINUTE_1, spoolRecord(3));
    await spool(MINUTE_2, spoolRecord(4));
    const again = await open();
    await again.record();
    expect(await requestIds()).toEqual(ids(1, 2, 3, 4));
    expect(monitor.dropped).toEqual([]);
  });
});

describe('StatsRecorder: a crash', () => {
  /**
   * Lines 1 and 2 recorded (so the stats file is not empty), then lines 3 and 4 in the
   * spool and the checkpoint the recorder writes before appending their stats lines: the
   * state a crash during that append leaves, short of the append itself.
   */
  async function crashBeforeAppendOf3And4(): Promise<{ recordedBytes: number; pendingText: string }> {
    await spool(MINUTE_1, spoolRecord(1), spoolRecord(2));
    await (await open()).record();
    const settled = (await readCheckpoint(checkpointPath)) as Checkpoint;
    const recordedBytes = await sizeOf(statsPath);
    expect(settled.after.stats_bytes).toBe(recordedBytes);
    await spool(MINUTE_1, spoolRecord(3), spoolRecord(4));
    const pendingText = [spoolRecord(3), spoolRecord(4)].map((record) => statsLineOf(record) + '\n').join('');
    await writeCheckpoint(checkpointPath, {
      version: 1,
      before: settled.after,
      after: { stats_bytes: recordedBytes + Buffer.byteLength(pendingText), offsets: { [MINUTE_1]: await spoolSize(MINUTE_1) }, producers: { 'h/1': 4 } },
    });
    monitor = new RecordingMonitor();
    logger = new FakeLogger();
    return { recordedBytes, pendingText };
  }

  it('cuts off a partial append found at start and writes its lines again, exactly once', async () => {
    const { recordedBytes, pendingText } = await crashBeforeAppendOf3And4();
    const half = pendingText.slice(0, pendingText.length >> 1);
    await writeFile(statsPath, half, { flag: 'a' });
    const recorder = await open();
    expect(await sizeOf(statsPath)).toBe(recordedBytes);
    expect(logger.at('warn')).toEqual([expect.objectContaining({ obj: { path: statsPath, cut_bytes: Buffer.byteLength(half) } })]);
    await recorder.record();
    expect(await requestIds()).toEqual(ids(1, 2, 3, 4));
    expect(monitor.written.map(({ record }) => record.request_id)).toEqual(ids(3, 4));
    expect(monitor.dropped).toEqual([]);
  });

  it('writes the lines of an append that never began, exactly once', async () => {
    await crashBeforeAppendOf3And4();
    const recorder = await open();
    await recorder.record();
    expect(await requestIds()).toEqual(ids(1, 2, 3, 4));
  });

  it('writes no line again of an append that completed before the crash', async () => {
    const { pendingText } = await crashBeforeAppendOf3And4();
    await writeFile(statsPath, pendingText, { flag: 'a' });
    const recorder = await open();
    expect(logger.at('warn')).toEqual([]);
    await recorder.record();
    expect(await requestIds()).toEqual(ids(1, 2, 3, 4));
    expect(monitor.written).toEqual([]);
    // And goes on from there, each worker's numbers included.
    await spool(MINUTE_1, spoolRecord(5));
    await recorder.record();
    expect([await requestIds(), monitor.dropped]).toEqual([ids(1, 2, 3, 4, 5), []]);
  });

  it('goes on into a fresh file when the stats file was moved away while it was stopped, writing nothing again', async () => {
    await spool(MINUTE_1, spoolRecord(1));
    const first = await open();
    await first.record();
    await spool(MINUTE_1, spoolRecord(2));
    await first.record();
    await first.close();
    await rename(statsPath, `${statsPath}.moved`);
    await spool(MINUTE_1, spoolRecord(3));
    const again = await open();
    await again.record();
    expect([await requestIds(`${statsPath}.moved`), await requestIds()]).toEqual([ids(1, 2), ids(3)]);
  });

  it('starts when the first append into an empty file was cut and the file is gone since: nothing to cut, its lines written once', async () => {
    // The checkpoint of a first append says the file was 0 bytes before it.
    await spool(MINUTE_1, spoolRecord(1), spoolRecord(2));
    await mkdir(join(dir, 'data'));
    const text = [spoolRecord(1), spoolRecord(2)].map((record) => statsLineOf(record) + '\n').join('');
    const empty = { stats_bytes: 0, offsets: {}, producers: {} };
    await writeCheckpoint(checkpointPath, { version: 1, before: empty, after: { stats_bytes: Buffer.byteLength(text), offsets: { [MINUTE_1]: await spoolSize(MINUTE_1) }, producers: { 'h/1': 2 } } });
    const recorder = await open();
    await recorder.record();
    expect(await requestIds()).toEqual(ids(1, 2));
  });

  it('refuses to start when the spool cannot be read, naming stats.spool_dir', async () => {
    await expect(StatsRecorder.open(options({ spoolDir: join(dir, 'no-such-spool') }), logger)).rejects.toThrow(/stats\.spool_dir/);
    await expect(StatsRecorder.open(options({ spoolDir: join(dir, 'no-such-spool') }), logger)).rejects.toBeInstanceOf(RecorderError);
  });

  it('refuses to start when the stats directory cannot be made or written, naming it and stats.output_path', async () => {
    // A file where the directory should be (as root, a directory's mode bits would not stop the test).
    await writeFile(join(dir, 'data'), 'not a directory');
    const failure = StatsRecorder.open(options(), logger);
    await expect(failure).rejects.toBeInstanceOf(RecorderError);
    await expect(failure).rejects.toThrow(`the stats directory ${join(dir, 'data')} cannot be written`);
    await expect(failure).rejects.toThrow(/stats\.output_path/);
  });

  it('warns when it starts without a checkpoint while the spool holds records, and not when it has one', async () => {
    await spool(MINUTE_1, spoolRecord(1));
    const first = await open();
    expect(logger.at('warn').filter((call) => call.msg.startsWith('no stats checkpoint'))).toHaveLength(1);
    await first.record();
    await first.close();
    const warnings = logger.at('warn').length;
    await open();
    expect(logger.at('warn')).toHaveLength(warnings);
  });

  it('refuses to start on a checkpoint it did not write: starting over would write every spool line again', async () => {
    await mkdir(join(dir, 'data'));
    await writeFile(checkpointPath, '{"offsets":');
    await expect(StatsRecorder.open(options(), logger)).rejects.toBeInstanceOf(CheckpointError);
  });
});

describe('StatsRecorder: rejected lines', () => {
  it('counts lines that are not JSON or not a record as rejected, logs them without their contents, and writes the others', async () => {
    const notJson = `Bearer ${SECRET} {`;
    const notRecord = JSON.stringify({ v: 1, body: SECRET });
    const wrongType = JSON.stringify({ ...spoolRecord(3), status: '200', masked_key: SECRET.slice(-6), body: SECRET });
    await spool(MINUTE_1, spoolRecord(1), notJson, notRecord, spoolRecord(2), wrongType, '', spoolRecord(4));
    const recorder = await open();
    await recorder.record();
    expect(await requestIds()).toEqual(ids(1, 2, 4));
    expect(monitor.rejected).toEqual([4]);
    expect(logger.at('warn').filter((call) => call.msg === 'spool line rejected').map((call) => call.obj)).toEqual([
      { reason: 'not JSON', bytes: Buffer.byteLength(notJson) },
      { reason: "record must have required property 'producer'", bytes: Buffer.byteLength(notRecord) },
      { reason: '/status must be integer', bytes: Buffer.byteLength(wrongType) },
      { reason: 'not JSON', bytes: 0 },
    ]);
    expect(JSON.stringify(logger.calls)).not.toContain(SECRET);
    expect(JSON.stringify(logger.calls)).not.toContain(SECRET.slice(-6));
  });

  it('counts a rejected line once: the next run does not read it again', async () => {
    await spool(MINUTE_1, 'garbage', spoolRecord(1));
    const recorder = await open();
    await recorder.record();
    await recorder.record();
    await spool(MINUTE_1, '{}');
    await recorder.record();
    expect(monitor.rejected).toEqual([1, 1]);
    expect(await requestIds()).toEqual(ids(1));
  });

  it('rejects a line longer than a chunk and goes on with the lines after it', async () => {
    await spool(MINUTE_1, spoolRecord(1), spoolRecord(2, { body: 'x'.repeat(5000) }), spoolRecord(3));
    const recorder = await open({ maxChunkBytes: 2000 });
    await recorder.record();
    expect(await requestIds()).toEqual(ids(1, 3));
    expect(monitor.rejected.reduce((sum, count) => sum + count, 0)).toBeGreaterThanOrEqual(1);
  });
});

describe('StatsRecorder: records missing from the spool', () => {
  it('counts the record numbers a worker skipped as dropped, tells its monitor and logs a warning', async () => {
    await spool(MINUTE_1, spoolRecord(1), spoolRecord(2), spoolRecord(5), spoolRecord(1, { producer: 'h/2' }), spoolRecord(3, { producer: 'h/2' }));
    const recorder = await open();
    await recorder.record();
    expect([monitor.dropped, recorder.droppedCount]).toEqual([[3], 3]);
    // (Beside the warning that it started without a checkpoint.)
    expect(logger.at('warn').filter((call) => 'dropped' in call.obj).map((call) => call.obj)).toEqual([{ dropped: 3, dropped_total: 3 }]);
    await spool(MINUTE_1, spoolRecord(6), spoolRecord(4, { producer: 'h/2' }));
    await recorder.record();
    expect(monitor.dropped).toEqual([3]);
    await spool(MINUTE_1, spoolRecord(9));
    await recorder.record();
    expect([monitor.dropped, recorder.droppedCount]).toEqual([[3, 2], 5]);
    expect(logger.at('warn').at(-1)?.obj).toEqual({ dropped: 2, dropped_total: 5 });
    // Missing records have no line; every record there is has one.
    expect(await requestIds()).toEqual(ids(1, 2, 5, 1, 3, 6, 4, 9));
  });

  it('counts nothing for records without a number (seq 0)', async () => {
    await spool(MINUTE_1, spoolRecord(0), spoolRecord(1), spoolRecord(0), spoolRecord(2));
    const recorder = await open();
    await recorder.record();
    expect([monitor.dropped, await requestIds()]).toEqual([[], ids(0, 1, 0, 2)]);
  });

  it('remembers each worker\'s last number across a restart', async () => {
    await spool(MINUTE_1, spoolRecord(1), spoolRecord(2));
    await (await open()).close();
    await spool(MINUTE_1, spoolRecord(3), spoolRecord(5));
    const again = await open();
    await again.record();
    expect(monitor.dropped).toEqual([1]);
  });
});

describe('StatsRecorder: rotation', () => {
  it('names a rotated file <path>.<compact UTC timestamp>', () => {
    expect(rotatedName('/data/stats.jsonl', new Date('2026-01-15T10:30:00.123Z'))).toBe('/data/stats.jsonl.20260115T103000123Z');
  });

  /** The stats files, rotated ones oldest first, the current one last. */
  async function statsFiles(): Promise<string[]> {
    const names = (await readdir(join(dir, 'data'))).filter((name) => name.startsWith('stats.jsonl.')).sort();
    return [...names.map((name) => join(dir, 'data', name)), statsPath];
  }

  it('renames the file aside once it has passed rotateBytes and goes on into a fresh file: no line lost or doubled', async () => {
    let tick = 0;
    const clock = () => new Date(NOW.getTime() + 1000 * tick++);
    const lineBytes = Buffer.byteLength(statsLineOf(spoolRecord(1)) + '\n');
    // Three lines pass rotateBytes; one spool line per chunk, so the file is checked after each.
    const recorder = await open({ rotateBytes: 3 * lineBytes - 10, maxChunkLines: 1 }, clock);
    await spool(MINUTE_1, ...[1, 2, 3, 4].map((seq) => spoolRecord(seq)));
    await recorder.record();
    await spool(MINUTE_2, ...[5, 6, 7].map((seq) => spoolRecord(seq)));
    await recorder.record();
    const files = await statsFiles();
    expect(files).toHaveLength(3);
    const perFile = await Promise.all(files.map((file) => requestIds(file)));
    expect(perFile).toEqual([ids(1, 2, 3), ids(4, 5, 6), ids(7)]);
    expect(logger.at('info').filter((call) => call.msg === 'stats file rotated')).toHaveLength(2);
    expect(files[0]).toMatch(/stats\.jsonl\.20260115T1030\d{5}Z$/);
  });

  it('never replaces an earlier rotation of the same instant: it adds -1, -2 …', async () => {
    const recorder = await open({ rotateBytes: 1, maxChunkLines: 1 });
    await spool(MINUTE_1, spoolRecord(1), spoolRecord(2), spoolRecord(3));
    await recorder.record();
    const rotated = rotatedName(statsPath, NOW);
    expect(await Promise.all([rotated, `${rotated}-1`, `${rotated}-2`].map((file) => requestIds(file)))).toEqual([ids(1), ids(2), ids(3)]);
    expect(await statsText()).toBe('');
  });

  it('rotates once the file has reached rotateBytes exactly', async () => {
    const recorder = await open({ rotateBytes: Buffer.byteLength(statsLineOf(spoolRecord(1)) + '\n') });
    await spool(MINUTE_1, spoolRecord(1));
    await recorder.record();
    expect([await requestIds(rotatedName(statsPath, NOW)), await statsText()]).toEqual([ids(1), '']);
  });

  it('checkpoints the fresh file\'s length after a rotation', async () => {
    const recorder = await open({ rotateBytes: 1 });
    await spool(MINUTE_1, spoolRecord(1));
    await recorder.record();
    const checkpoint = await readCheckpoint(checkpointPath);
    expect([checkpoint?.before.stats_bytes, checkpoint?.after.stats_bytes]).toEqual([0, 0]);
    expect(checkpoint?.after.offsets).toEqual({ [MINUTE_1]: await spoolSize(MINUTE_1) });
  });

  it('does not rotate while the file is under rotateBytes', async () => {
    const recorder = await open({ rotateBytes: 100_000, maxChunkLines: 1 });
    await spool(MINUTE_1, spoolRecord(1), spoolRecord(2), spoolRecord(3));
    await recorder.record();
    expect((await readdir(join(dir, 'data'))).sort()).toEqual(['lmgate-checkpoint.json', 'stats.jsonl']);
  });

  it('stopped between the rotation\'s checkpoint and its rename, it goes on from there: no line written again, the file rotated later', async () => {
    await spool(MINUTE_1, spoolRecord(1), spoolRecord(2));
    await (await open()).record();
    const settled = (await readCheckpoint(checkpointPath)) as Checkpoint;
    // What rotateIfNeeded writes before its rename: the fresh file's length, 0.
    const fresh = { ...settled.after, stats_bytes: 0 };
    await writeCheckpoint(checkpointPath, { version: 1, before: fresh, after: fresh });
    const again = await open({ rotateBytes: 1 });
    await spool(MINUTE_1, spoolRecord(3));
    await again.record();
    const all = (await Promise.all((await statsFiles()).map((file) => requestIds(file)))).flat();
    expect(all).toEqual(ids(1, 2, 3));
  });

  it('writes nothing again after a restart that follows a rotation', async () => {
    const first = await open({ rotateBytes: 1 });
    await spool(MINUTE_1, spoolRecord(1), spoolRecord(2));
    await first.record();
    await first.close();
    const again = await open({ rotateBytes: 1 });
    await again.record();
    await spool(MINUTE_1, spoolRecord(3));
    await again.record();
    const all = (await Promise.all((await statsFiles()).map((file) => requestIds(file)))).flat();
    expect(all).toEqual(ids(1, 2, 3));
  });
});

describe('StatsRecorder: a failed append', () => {
  it('keeps the records in the spool, logs an error, and writes each exactly once once the file can be written', async () => {
    await mkdir(statsPath, { recursive: true }); // a directory where the file should be
    await spool(MINUTE_1, spoolRecord(1), spoolRecord(2));
    const recorder = await open();
    await expect(recorder.record()).resolves.toBeUndefined();
    expect(logger.at('error')).toEqual([expect.objectContaining({ msg: 'recording stats failed; the spool keeps the records for the next run' })]);
    expect(monitor.written).toEqual([]);
    await spool(MINUTE_1, spoolRecord(3));
    await recorder.record();
    expect(logger.at('error')).toHaveLength(2);
    await rmdir(statsPath);
    await recorder.record();
    expect(await requestIds()).toEqual(ids(1, 2, 3));
    expect(monitor.written.map(({ record }) => record.request_id)).toEqual(ids(1, 2, 3));
    await recorder.record();
    expect(await requestIds()).toEqual(ids(1, 2, 3));
  });

  it('counts the drops and rejections of a failed chunk once, when it is finally written', async () => {
    await mkdir(statsPath, { recursive: true });
    await spool(MINUTE_1, spoolRecord(1), 'garbage', spoolRecord(3));
    const recorder = await open();
    await recorder.record();
    await recorder.record();
    expect([monitor.dropped, monitor.rejected, recorder.droppedCount]).toEqual([[], [], 0]);
    await rmdir(statsPath);
    await recorder.record();
    expect([monitor.dropped, monitor.rejected, recorder.droppedCount]).toEqual([[1], [1], 1]);
  });

  it('cuts off what a failed append wrote of its lines before writing them again', async () => {
    await spool(MINUTE_1, spoolRecord(1));
    const recorder = await open();
    await recorder.record();
    const recordedBytes = await sizeOf(statsPath);
    await spool(MINUTE_1, spoolRecord(2), spoolRecord(3));
    appends.failHalfway = 1;
    await recorder.record();
    expect(logger.at('error')).toHaveLength(1);
    expect(await sizeOf(statsPath)).toBe(recordedBytes);
    await recorder.record();
    expect(await requestIds()).toEqual(ids(1, 2, 3));
    // The numbers of the failed chunk were forgotten with it: read again, 2 follows 1.
    expect(monitor.dropped).toEqual([]);
  });

  it('goes on after a restart from a failed append without a line lost or doubled', async () => {
    await spool(MINUTE_1, spoolRecord(1));
    const first = await open();
    await first.record();
    await spool(MINUTE_1, spoolRecord(2));
    appends.failHalfway = 1;
    await first.record();
    const again = await open();
    await again.record();
    expect(await requestIds()).toEqual(ids(1, 2));
  });
});

describe('StatsRecorder: spool files', () => {
  async function age(name: string, ageMs: number): Promise<void> {
    const seconds = Math.floor((NOW.getTime() - ageMs) / 1000);
    await utimes(join(spoolDir, name), seconds, seconds);
  }

  it('deletes the spool files it has written and nginx no longer writes, never the newest, and forgets them', async () => {
    await spool(MINUTE_1, spoolRecord(1));
    await spool(MINUTE_2, spoolRecord(2));
    await spool(MINUTE_3, spoolRecord(3));
    await age(MINUTE_1, 300_000);
    await age(MINUTE_2, 60_000);
    await age(MINUTE_3, 300_000);
    const recorder = await open();
    await recorder.record();
    expect((await readdir(spoolDir)).sort()).toEqual([MINUTE_2, MINUTE_3]);
    expect(Object.keys((await readCheckpoint(checkpointPath))?.after.offsets ?? {}).sort()).toEqual([MINUTE_2, MINUTE_3]);
    const again = await open();
    await again.record();
    expect(await requestIds()).toEqual(ids(1, 2, 3));
  });

  it('takes the cut-short last line of an older file nginx left alone as a rejected line, and goes on with the newer files', async () => {
    // nginx writes a line with one write(): an older file ending without a newline, quiet
    // for CUT_LINE_QUIET_MS, holds a write a full disk cut short. Waiting for its end would
    // stop recording for good.
    const line = JSON.stringify(spoolRecord(3));
    await spool(MINUTE_1, spoolRecord(1), spoolRecord(2));
    await writeFile(join(spoolDir, MINUTE_1), line.slice(0, 50), { flag: 'a' });
    await spool(MINUTE_2, spoolRecord(4));
    await age(MINUTE_1, 300_000);
    const recorder = await open({ maxChunkLines: 1 });
    await recorder.record();
    expect(await requestIds()).toEqual(ids(1, 2, 4));
    expect(monitor.rejected).toEqual([1]);
  });

  it('waits for the end of a line in an older file nginx wrote a moment ago, and in the newest file', async () => {
    const line = JSON.stringify(spoolRecord(2));
    await spool(MINUTE_1, spoolRecord(1));
    await writeFile(join(spoolDir, MINUTE_1), line.slice(0, 50), { flag: 'a' });
    await writeFile(join(spoolDir, MINUTE_2), JSON.stringify(spoolRecord(3)).slice(0, 40));
    const recorder = await open();
    await recorder.record();
    expect(await requestIds()).toEqual(ids(1));
    await writeFile(join(spoolDir, MINUTE_1), line.slice(50) + '\n', { flag: 'a' });
    await writeFile(join(spoolDir, MINUTE_2), JSON.stringify(spoolRecord(3)).slice(40) + '\n', { flag: 'a' });
    await recorder.record();
    expect(await requestIds()).toEqual(ids(1, 2, 3));
  });
});

describe('StatsRecorder: interval and stop', () => {
  it('writes what waits in the spool as soon as it is started (a restart\'s backlog), then every intervalSeconds', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    await spool(MINUTE_1, spoolRecord(1));
    const recorder = await open({ intervalSeconds: 10 });
    const record = vi.spyOn(recorder, 'record');
    recorder.start();
    expect(record).toHaveBeenCalledTimes(1);
    await record.mock.results[0]?.value;
    expect(await requestIds()).toEqual(ids(1));
    vi.advanceTimersByTime(9_999);
    expect(record).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(record).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(10_000);
    expect(record).toHaveBeenCalledTimes(3);
  });

  it('writes the spool\'s lines by itself on a real short interval', async () => {
    const recorder = await open({ intervalSeconds: 0.02 });
    recorder.start();
    await spool(MINUTE_1, spoolRecord(1), spoolRecord(2));
    await waitFor(async () => (await statsText()).split('\n').length === 3, 3000, 'the interval run');
    expect(await requestIds()).toEqual(ids(1, 2));
  });

  it('close() writes what the spool holds', async () => {
    const recorder = await open({ intervalSeconds: 3600 });
    recorder.start();
    await spool(MINUTE_1, spoolRecord(1), spoolRecord(2), spoolRecord(3));
    await recorder.close();
    expect(await requestIds()).toEqual(ids(1, 2, 3));
  });

  it('close() stops the interval', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const recorder = await open({ intervalSeconds: 1 });
    recorder.start();
    await recorder.close();
    const record = vi.spyOn(recorder, 'record');
    vi.advanceTimersByTime(60_000);
    expect(record).not.toHaveBeenCalled();
  });

  it('never runs two appends at once, however often it is asked: each line once, in order', async () => {
    appends.delayMs = 5;
    const recorder = await open({ maxChunkLines: 7 });
    const runs: Array<Promise<void>> = [];
    let seq = 1;
    for (let round = 0; round < 10; round++) {
      await spool(MINUTE_1, ...Array.from({ length: 10 }, () => spoolRecord(seq++)));
      runs.push(recorder.record(), recorder.record());
    }
    await Promise.all(runs);
    expect(appends.maxActive).toBe(1);
    expect(await requestIds()).toEqual(ids(...Array.from({ length: 100 }, (_, n) => n + 1)));
    expect(monitor.dropped).toEqual([]);
  });

  it('a failed run does not stop the next ones', async () => {
    await spool(MINUTE_1, spoolRecord(1));
    const recorder = await open();
    appends.failHalfway = 1;
    const failed = recorder.record();
    const next = recorder.record();
    await Promise.all([failed, next]);
    expect(await requestIds()).toEqual(ids(1));
  });
});

describe('StatsRecorder: the stats file shrinking under it', () => {
  it('appends after what is there, not at the length it remembers', async () => {
    await spool(MINUTE_1, spoolRecord(1), spoolRecord(2));
    const recorder = await open();
    await recorder.record();
    // An operator empties the file (truncate -s 0) while the service runs.
    await truncate(statsPath, 0);
    await spool(MINUTE_1, spoolRecord(3));
    await recorder.record();
    expect(await requestIds()).toEqual(ids(3));
    expect((await readCheckpoint(checkpointPath))?.after.stats_bytes).toBe(await sizeOf(statsPath));
  });
});
