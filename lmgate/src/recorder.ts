import { Ajv } from 'ajv';
import { constants } from 'node:fs';
import { access, appendFile, mkdir, rename, stat, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { readCheckpoint, resume, writeCheckpoint, type Position } from './checkpoint.js';
import { buildStatsRecord, recordingLagSeconds, spoolRecordSchema, type SpoolRecord, type StatsRecord } from './records.js';
import { ProducerSequences } from './sequences.js';
import { Spool } from './spool.js';

/** Told about each line as it is written, and about records rejected or found missing. */
export interface RecorderMonitor {
  recordWritten(record: StatsRecord, lagSeconds: number): void;
  recordsRejected(count: number): void;
  recordsDropped(count: number): void;
}

export interface RecorderLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RecorderOptions {
  statsPath: string;
  checkpointPath: string;
  spoolDir: string;
  /** How often the spool is read and its new lines written (the stats line's delay). */
  intervalSeconds: number;
  /** Spool bytes and lines held at once: the service's memory for recording. */
  maxChunkBytes: number;
  maxChunkLines: number;
  rotateBytes: number;
  /** A spool file read to its end is deleted once nginx has not written it for this long. */
  spoolQuietMs: number;
  monitor?: RecorderMonitor;
}

/** Options of the spool line validator; the schema is records.ts's constant (unit-tested). */
export const AJV_OPTIONS = { coerceTypes: false, removeAdditional: false, allErrors: false, allowUnionTypes: true, validateSchema: false } as const;
const validRecord = new Ajv(AJV_OPTIONS).compile<SpoolRecord>(spoolRecordSchema);

/** A recording problem a person must fix; the message names the path. */
export class RecorderError extends Error {
  override name = 'RecorderError';
}

/** `stats.jsonl` → `stats.jsonl.20260115T103000123Z`: sorts by time, safe in every file system. */
export function rotatedName(path: string, now: Date): string {
  return `${path}.${now.toISOString().replace(/[-:.]/g, '')}`;
}

/** The name itself, or with `-1`, `-2`… appended: a rotation never replaces an earlier one. */
async function freeName(name: string): Promise<string> {
  for (let n = 0; ; n++) {
    const candidate = n === 0 ? name : `${name}-${n}`;
    try {
      await access(candidate);
    } catch {
      return candidate;
    }
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

/** What is logged of a rejected line: where it failed, never its values (bodies). */
function rejectionReason(): string {
  const error = validRecord.errors?.[0];
  return error ? `${error.instancePath || 'record'} ${error.message ?? 'is invalid'}` : 'invalid record';
}

/**
 * The only writer of the stats file: every interval it reads the spool's new lines from
 * where its checkpoint says, turns each into its stats line and appends them, a chunk at a
 * time, until it has caught up. Each append is preceded by the checkpoint of the position
 * before and after it (checkpoint.ts), so a crash at any point neither loses nor doubles a
 * line. Memory holds one chunk; what waits beyond it waits on disk, in the spool.
 */
export class StatsRecorder {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private droppedTotal = 0;

  private constructor(
    private readonly options: RecorderOptions,
    private readonly logger: RecorderLogger,
    private position: Position,
    private sequences: ProducerSequences,
    private readonly spool: Spool,
    private readonly clock: () => Date,
  ) {}

  /** Resumes from the checkpoint (cutting off a partial append first). */
  static async open(options: RecorderOptions, logger: RecorderLogger, clock: () => Date = () => new Date()): Promise<StatsRecorder> {
    // A stats directory the service may not write (a data directory left to root) is a
    // deployment mistake too: said at start, instead of a healthy service whose records
    // pile up in the spool with an error in its log every interval.
    const statsDir = dirname(options.statsPath);
    await mkdir(statsDir, { recursive: true })
      .then(() => access(statsDir, constants.W_OK))
      .catch((error: Error) => {
        throw new RecorderError(`the stats directory ${statsDir} cannot be written by the service's user (uid ${process.getuid?.() ?? '?'}; stats.output_path, the data directory: see README, Deploying): ${error.message}`);
      });
    const checkpoint = await readCheckpoint(options.checkpointPath);
    const size = await sizeOf(options.statsPath);
    const { position, truncateTo } = resume(checkpoint, size);
    // Cut only what is there: a file that is gone (moved aside while the service was
    // stopped) has nothing to cut, and its chunk is written to a new one.
    if (truncateTo !== null && size > truncateTo) {
      await truncate(options.statsPath, truncateTo);
      logger.warn({ path: options.statsPath, cut_bytes: size - truncateTo }, 'the last append before the stop did not complete: its lines are written again');
    }
    logger.info({ spool: options.spoolDir, checkpoint: options.checkpointPath, files: Object.keys(position.offsets).length }, 'stats recording resumes from the checkpoint');
    const spool = new Spool({ dir: options.spoolDir, maxChunkBytes: options.maxChunkBytes, maxChunkLines: options.maxChunkLines });
    // A spool that cannot be read is a deployment mistake (the volume not mounted): say so
    // at start, not in a log line every interval.
    const segments = await spool.segments().catch((error: Error) => {
      throw new RecorderError(`the stats spool ${options.spoolDir} cannot be read (stats.spool_dir, the volume nginx writes to): ${error.message}`);
    });
    // No checkpoint, yet records wait: a first start after nginx ran, or a checkpoint left
    // behind (stats.output_path moved to another directory, the file removed), in which
    // case lines already written elsewhere are written again. Only a person can tell.
    if (checkpoint === null && segments.length > 0) {
      logger.warn(
        { checkpoint: options.checkpointPath, spool_files: segments.length },
        'no stats checkpoint, but the spool holds records: every one of them is written now; if a checkpoint was left beside an earlier stats path, those already written there are written again',
      );
    }
    return new StatsRecorder(options, logger, position, new ProducerSequences(position.producers), spool, clock);
  }

  /** Records found missing from the spool since start. */
  get droppedCount(): number {
    return this.droppedTotal;
  }

  /** Writes what waits in the spool now (a restart's backlog), then every interval. */
  start(): void {
    void this.record();
    this.timer = setInterval(() => void this.record(), this.options.intervalSeconds * 1000);
    this.timer.unref();
  }

  /** Writes every spool line there is now. Runs never overlap; each waits for the one before. */
  record(): Promise<void> {
    // A failed run must not poison the chain: the next one starts from the checkpoint.
    this.running = this.running.then(() => this.catchUp()).catch((error: unknown) => {
      this.logger.error({ err: (error as Error).message }, 'recording stats failed; the spool keeps the records for the next run');
    });
    return this.running;
  }

  /** Stops the timer and writes what the spool holds: a graceful stop loses nothing. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.record();
  }

  private async catchUp(): Promise<void> {
    for (;;) {
      const chunk = await this.spool.read(this.position.offsets);
      if (chunk.bytes === 0) break;
      await this.write(chunk.lines, chunk.offsets);
    }
    const offsets = await this.spool.removeRead(this.position.offsets, this.options.spoolQuietMs, this.clock().getTime());
    if (Object.keys(offsets).length !== Object.keys(this.position.offsets).length) {
      this.position = { ...this.position, offsets };
      await writeCheckpoint(this.options.checkpointPath, { version: 1, before: this.position, after: this.position });
    }
  }

  private async write(spoolLines: string[], offsets: Position['offsets']): Promise<void> {
    const now = this.clock();
    const written: Array<{ record: StatsRecord; lag: number }> = [];
    let rejected = 0;
    let dropped = 0;
    for (const line of spoolLines) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = undefined;
      }
      if (parsed === undefined || !validRecord(parsed)) {
        rejected++;
        this.logger.warn({ reason: parsed === undefined ? 'not JSON' : rejectionReason(), bytes: Buffer.byteLength(line) }, 'spool line rejected');
        continue;
      }
      dropped += this.sequences.observe(parsed.producer, parsed.seq);
      written.push({ record: buildStatsRecord(parsed), lag: recordingLagSeconds(parsed, now) });
    }
    const text = written.map(({ record }) => JSON.stringify(record) + '\n').join('');
    // The file as it is (an operator may have moved it away), not as this process left it.
    const before: Position = { ...this.position, stats_bytes: await sizeOf(this.options.statsPath) };
    const after: Position = { stats_bytes: before.stats_bytes + Buffer.byteLength(text), offsets, producers: this.sequences.snapshot() };
    await writeCheckpoint(this.options.checkpointPath, { version: 1, before, after });
    try {
      if (text !== '') await appendFile(this.options.statsPath, text, { encoding: 'utf8', mode: 0o644 });
    } catch (error) {
      // Its lines are read again by the next run; a partial append is cut off first.
      await truncate(this.options.statsPath, before.stats_bytes).catch(() => undefined);
      await writeCheckpoint(this.options.checkpointPath, { version: 1, before, after: before });
      this.sequences = new ProducerSequences(before.producers);
      throw new Error(`appending to ${this.options.statsPath} failed: ${(error as Error).message}`);
    }
    this.position = after;
    for (const { record, lag } of written) this.options.monitor?.recordWritten(record, lag);
    if (rejected > 0) this.options.monitor?.recordsRejected(rejected);
    if (dropped > 0) {
      this.droppedTotal += dropped;
      this.options.monitor?.recordsDropped(dropped);
      this.logger.warn({ dropped, dropped_total: this.droppedTotal }, 'stats records missing from the spool (record numbers skipped): nginx could not write them, or their line was rejected');
    }
    await this.rotateIfNeeded();
  }

  private async rotateIfNeeded(): Promise<void> {
    const bytes = this.position.stats_bytes;
    if (bytes < this.options.rotateBytes) return;
    const target = await freeName(rotatedName(this.options.statsPath, this.clock()));
    // The checkpoint first: stopped before the rename, the file is longer than it says, so
    // a restart goes on from here (and rotates with the next chunk); after it, the new file
    // is as long. Either way no chunk is read again.
    this.position = { ...this.position, stats_bytes: 0 };
    await writeCheckpoint(this.options.checkpointPath, { version: 1, before: this.position, after: this.position });
    await rename(this.options.statsPath, target);
    this.logger.info({ path: this.options.statsPath, rotated_to: target, bytes }, 'stats file rotated');
  }
}
