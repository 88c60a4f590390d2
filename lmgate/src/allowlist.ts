import { readFile, stat } from 'node:fs/promises';
import { parse as parseCsv } from 'csv-parse/sync';

export interface AllowListEntry {
  id: string;
  api_key: string;
  owner: string;
  added: string;
}

export const REQUIRED_COLUMNS = ['id', 'api_key', 'owner', 'added'] as const;

/**
 * An id travels as the X-LMGate-ID header and in every stats record of its key: it must
 * fit in a header (printable ASCII) and in a record (records.ts takes this same bound), so
 * that no row the list admits can make its calls fail or its records undeliverable.
 */
export const MAX_ID_LENGTH = 256;
// Printable ASCII, spaces only inside: HTTP drops a header value's outer spaces.
const ID_CHARACTERS = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/** The allow-list file is missing, unreadable or malformed; the message names file and problem. */
export class AllowListError extends Error {
  override name = 'AllowListError';
}

/** Told about every list that takes effect and every reload that failed (metrics follow the list this way). */
export interface AllowListMonitor {
  allowListLoaded(keys: number, reload: boolean): void;
  allowListReloadFailed(): void;
}

const NO_MONITOR: AllowListMonitor = { allowListLoaded: () => {}, allowListReloadFailed: () => {} };

export interface AllowListLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Parses allow-list CSV text into a map keyed by api_key. */
export function parseAllowList(text: string, path: string): Map<string, AllowListEntry> {
  let rows: string[][];
  try {
    rows = parseCsv(text, { bom: true, skip_empty_lines: true, trim: true, relax_column_count: false }) as string[][];
  } catch (error) {
    throw new AllowListError(`allow-list ${path} is not valid CSV: ${(error as Error).message}`);
  }
  const header = rows[0];
  if (!header) throw new AllowListError(`allow-list ${path} is empty: it needs a header row ${REQUIRED_COLUMNS.join(',')}`);
  const columns = header.map((name) => name.toLowerCase());
  const missing = REQUIRED_COLUMNS.filter((name) => !columns.includes(name));
  if (missing.length > 0) {
    throw new AllowListError(`allow-list ${path} lacks column(s) ${missing.join(', ')}: the header must name ${REQUIRED_COLUMNS.join(',')}`);
  }
  const index = Object.fromEntries(REQUIRED_COLUMNS.map((name) => [name, columns.indexOf(name)])) as Record<
    (typeof REQUIRED_COLUMNS)[number],
    number
  >;
  const entries = new Map<string, AllowListEntry>();
  for (let line = 1; line < rows.length; line++) {
    const row = rows[line] as string[];
    const entry: AllowListEntry = {
      id: row[index.id] ?? '',
      api_key: row[index.api_key] ?? '',
      owner: row[index.owner] ?? '',
      added: row[index.added] ?? '',
    };
    if (entry.id === '' || entry.api_key === '') {
      throw new AllowListError(`allow-list ${path} row ${line + 1} has an empty id or api_key`);
    }
    if (entry.id.length > MAX_ID_LENGTH || !ID_CHARACTERS.test(entry.id)) {
      throw new AllowListError(
        `allow-list ${path} row ${line + 1}: the id must be 1 to ${MAX_ID_LENGTH} printable ASCII characters, without spaces at either end (it is sent as the X-LMGate-ID header)`,
      );
    }
    if (entries.has(entry.api_key)) {
      throw new AllowListError(`allow-list ${path} row ${line + 1} repeats an api_key of an earlier row (id ${entries.get(entry.api_key)?.id})`);
    }
    entries.set(entry.api_key, entry);
  }
  return entries;
}

export async function readAllowList(path: string): Promise<Map<string, AllowListEntry>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'does not exist' : `cannot be read (${(error as Error).message})`;
    throw new AllowListError(`allow-list ${path} ${problem}`);
  }
  return parseAllowList(text, path);
}

const MISSING = 'missing';

function fingerprint(stats: { mtimeMs: number; size: number; ino: number }): string {
  return `${stats.mtimeMs}:${stats.size}:${stats.ino}`;
}

/**
 * The allow-list in memory. Lookups read one Map reference; a reload builds a whole new
 * Map and swaps the reference, so no lookup ever sees a half-loaded list.
 */
export class AllowList {
  private entries: Map<string, AllowListEntry>;
  private loadedFingerprint: string;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;

  private constructor(
    readonly path: string,
    entries: Map<string, AllowListEntry>,
    loadedFingerprint: string,
    private readonly logger: AllowListLogger,
    private readonly monitor: AllowListMonitor,
  ) {
    this.entries = entries;
    this.loadedFingerprint = loadedFingerprint;
  }

  static async load(path: string, logger: AllowListLogger, monitor: AllowListMonitor = NO_MONITOR): Promise<AllowList> {
    const before = await stat(path).catch(() => undefined);
    const entries = await readAllowList(path);
    logger.info({ path, keys: entries.size }, 'allow-list loaded');
    monitor.allowListLoaded(entries.size, false);
    return new AllowList(path, entries, before ? fingerprint(before) : '', logger, monitor);
  }

  get size(): number {
    return this.entries.size;
  }

  lookup(apiKey: string): AllowListEntry | undefined {
    return this.entries.get(apiKey);
  }

  /** Re-reads the file when its modification time, size or inode changed. */
  checkForChange(): Promise<void> {
    this.checking ??= this.reloadIfChanged().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async reloadIfChanged(): Promise<void> {
    let current: string;
    try {
      current = fingerprint(await stat(this.path));
    } catch (error) {
      if (this.loadedFingerprint !== MISSING) {
        this.logger.warn({ path: this.path, err: (error as Error).message }, 'allow-list not readable; keeping the previous list');
        this.monitor.allowListReloadFailed();
      }
      this.loadedFingerprint = MISSING;
      return;
    }
    if (current === this.loadedFingerprint) return;
    try {
      const entries = await readAllowList(this.path);
      this.entries = entries;
      this.loadedFingerprint = current;
      this.logger.info({ path: this.path, keys: entries.size }, 'allow-list reloaded');
      this.monitor.allowListLoaded(entries.size, true);
    } catch (error) {
      // Remember the broken version so the warning is logged (and counted) once, not on every poll.
      this.loadedFingerprint = current;
      this.logger.warn({ path: this.path, err: (error as Error).message }, 'allow-list reload failed; keeping the previous list');
      this.monitor.allowListReloadFailed();
    }
  }

  startPolling(intervalSeconds: number): void {
    this.stopPolling();
    this.timer = setInterval(() => void this.checkForChange(), intervalSeconds * 1000);
    this.timer.unref();
  }

  stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
