import { access, appendFile, mkdir, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Told about every record dropped, as it happens (the log reports drops only once per flush). */
export interface StatsWriterMonitor {
  recordsDropped(count: number): void;
}

export interface StatsWriterOptions {
  path: string;
  flushIntervalSeconds: number;
  maxBufferedRecords: number;
  rotateBytes: number;
  monitor?: StatsWriterMonitor;
}

export interface StatsWriterLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
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

/**
 * The only writer of the stats file. Records are buffered in memory (bounded: overflow is
 * dropped and counted) and appended in one write per flush; a failed write keeps them for
 * the next flush. The file is renamed aside once it has passed the rotation size.
 */
export class StatsWriter {
  private buffer: string[] = [];
  private droppedSinceReport = 0;
  private droppedTotal = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: StatsWriterOptions,
    private readonly logger: StatsWriterLogger,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  get bufferedCount(): number {
    return this.buffer.length;
  }

  /** Records dropped because the buffer was full, since start. */
  get droppedCount(): number {
    return this.droppedTotal;
  }

  /** Buffers one record; false when the buffer was full and the record was dropped. */
  write(record: object): boolean {
    if (this.buffer.length >= this.options.maxBufferedRecords) {
      this.countDrops(1);
      return false;
    }
    this.buffer.push(JSON.stringify(record));
    return true;
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.options.flushIntervalSeconds * 1000);
    this.timer.unref();
  }

  /** Writes everything buffered so far. Flushes never overlap; each waits for the one before. */
  flush(): Promise<void> {
    // A failed flush must not poison the chain: the next one runs regardless.
    this.flushing = this.flushing.then(() => this.writeBuffered()).catch((error: unknown) => {
      this.logger.error({ err: (error as Error).message }, 'stats flush failed');
    });
    return this.flushing;
  }

  /** Stops the timer and flushes what is left: a graceful stop loses nothing. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private countDrops(count: number): void {
    if (count === 0) return;
    this.droppedSinceReport += count;
    this.droppedTotal += count;
    this.options.monitor?.recordsDropped(count);
  }

  private async writeBuffered(): Promise<void> {
    this.reportDrops();
    if (this.buffer.length === 0) return;
    const lines = this.buffer;
    this.buffer = [];
    try {
      await mkdir(dirname(this.options.path), { recursive: true });
      await this.rotateIfNeeded();
      await appendFile(this.options.path, lines.join('\n') + '\n', { encoding: 'utf8', mode: 0o644 });
    } catch (error) {
      const room = Math.max(0, this.options.maxBufferedRecords - this.buffer.length);
      const kept = lines.slice(0, room);
      this.countDrops(lines.length - kept.length);
      this.buffer = kept.concat(this.buffer);
      this.logger.error(
        { path: this.options.path, err: (error as Error).message, buffered: this.buffer.length },
        'writing stats failed; records stay buffered for the next flush',
      );
    }
  }

  private async rotateIfNeeded(): Promise<void> {
    let size: number;
    try {
      size = (await stat(this.options.path)).size;
    } catch {
      return;
    }
    if (size < this.options.rotateBytes) return;
    const target = await freeName(rotatedName(this.options.path, this.clock()));
    await rename(this.options.path, target);
    this.logger.info({ path: this.options.path, rotated_to: target, bytes: size }, 'stats file rotated');
  }

  private reportDrops(): void {
    if (this.droppedSinceReport === 0) return;
    this.logger.warn(
      { dropped: this.droppedSinceReport, dropped_total: this.droppedTotal, max_buffered_records: this.options.maxBufferedRecords },
      'stats buffer full: records dropped since the last flush',
    );
    this.droppedSinceReport = 0;
  }
}
