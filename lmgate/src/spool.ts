import { open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * nginx's stats spool (nginx.conf, record-log.conf): a directory of files, one per minute
 * (`records-2026-12-06T22-45.jsonl`), each a line per call, appended by nginx's workers
 * with one write() per line. The service reads them from positions it keeps in its
 * checkpoint, and deletes a file once it has read all of it and nginx has long stopped
 * writing to it.
 */
export const SEGMENT_NAME = /^records-[^/]+\.jsonl$/;

/** How far each spool file has been read: file name → bytes. */
export type Offsets = Record<string, number>;

export interface SpoolChunk {
  /** Whole lines, without their newline, in the order they were read. */
  lines: string[];
  /** The positions after those lines: where the next read starts. */
  offsets: Offsets;
  /** Bytes of spool those lines took. */
  bytes: number;
}

export interface SpoolOptions {
  dir: string;
  /**
   * Bytes a read takes at most. Above the longest line nginx can write (the kept body's
   * 128 KiB, escaped, plus the URI), so every line fits one read.
   */
  maxChunkBytes: number;
  /** Lines a read takes at most. */
  maxChunkLines: number;
}

const NEWLINE = 0x0a;
/** An older file's last line without its newline, untouched this long, was cut short. */
export const CUT_LINE_QUIET_MS = 5_000;

export class Spool {
  constructor(private readonly options: SpoolOptions) {}

  /** The spool's files, oldest first (their names sort by time). */
  async segments(): Promise<string[]> {
    const names = await readdir(this.options.dir);
    return names.filter((name) => SEGMENT_NAME.test(name)).sort();
  }

  /**
   * The whole lines after `from`, file by file, oldest first, up to the chunk's bounds.
   * A line nginx is still writing (no newline yet) waits for the next read.
   */
  async read(from: Offsets): Promise<SpoolChunk> {
    const names = await this.segments();
    // Sizes newest file first: a worker writes its lines in order, so whatever of its
    // lines this read sees in a newer file, it also sees its earlier lines in the older
    // ones (their sizes are taken after). Read in the other order, a line written to the
    // older file between the two looks-ups would come after a later line of the newer one.
    const files = new Map<string, { size: number; mtimeMs: number }>();
    for (const name of [...names].reverse()) {
      const info = await stat(join(this.options.dir, name)).catch(() => null);
      if (info !== null) files.set(name, { size: info.size, mtimeMs: info.mtimeMs });
    }
    const newest = names.at(-1);
    const chunk: SpoolChunk = { lines: [], offsets: { ...from }, bytes: 0 };
    for (const name of names) {
      const file = files.get(name);
      const start = from[name] ?? 0;
      if (file === undefined || file.size <= start) continue;
      const size = file.size;
      const room = this.options.maxChunkBytes - chunk.bytes;
      const lineRoom = this.options.maxChunkLines - chunk.lines.length;
      if (room <= 0 || lineRoom <= 0) break;
      const piece = await readAt(join(this.options.dir, name), start, Math.min(size - start, room));
      let end = piece.lastIndexOf(NEWLINE) + 1;
      if (end === 0) {
        // No whole line in what fits. A line longer than a chunk cannot come from nginx
        // (see maxChunkBytes): it is taken as one line, and rejected as such. Nor can the
        // end of a line in an older file that nginx has left alone for a while: it writes
        // a line with one write(), so this is a write cut short (a full disk); taken as a
        // line too (rejected, its record counted missing), so the files after it are read.
        const tooLong = chunk.bytes === 0 && piece.length === this.options.maxChunkBytes;
        const cutShort = name !== newest && piece.length === size - start && Date.now() - file.mtimeMs >= CUT_LINE_QUIET_MS;
        if (tooLong || cutShort) end = piece.length;
        else break;
      }
      // At most lineRoom lines: cut after the lineRoom-th newline (bytes, not characters).
      let newlines = 0;
      for (let at = piece.indexOf(NEWLINE); at !== -1 && at < end; at = piece.indexOf(NEWLINE, at + 1)) {
        if (++newlines === lineRoom) {
          end = at + 1;
          break;
        }
      }
      const lines = piece.subarray(0, end).toString('utf8').split('\n');
      if (piece[end - 1] === NEWLINE) lines.pop();
      chunk.lines.push(...lines);
      chunk.offsets[name] = start + end;
      chunk.bytes += end;
      // What did not fit stays for the next read, and so do the newer files: lines are
      // taken in the order above.
      if (start + end < size) break;
    }
    return chunk;
  }

  /**
   * Deletes the files read to their end that nginx has not written for `quietMs` (a minute's
   * file gets no line once its minute is over), the newest one never. Returns the offsets
   * without them, and without files no longer there.
   */
  async removeRead(offsets: Offsets, quietMs: number, now: number): Promise<Offsets> {
    const names = await this.segments();
    const kept: Offsets = {};
    for (const [index, name] of names.entries()) {
      const offset = offsets[name];
      if (offset === undefined) continue;
      const path = join(this.options.dir, name);
      const info = await stat(path).catch(() => null);
      if (info === null) continue;
      const newest = index === names.length - 1;
      if (!newest && info.size === offset && now - info.mtimeMs >= quietMs) {
        await unlink(path);
        continue;
      }
      kept[name] = offset;
    }
    return kept;
  }
}

async function readAt(path: string, position: number, length: number): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const { bytesRead } = await file.read(buffer, read, length - read, position + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return buffer.subarray(0, read);
  } finally {
    await file.close();
  }
}
