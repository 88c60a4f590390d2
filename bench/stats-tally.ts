/**
 * Stats lines per tag, read incrementally: a bench writes hundreds of thousands of lines,
 * and the service rotates the file at its size limit, so the tally reads only new bytes of
 * every stats.jsonl* file (followed by inode across a rename) instead of re-reading one file.
 */
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { tagOfEndpoint } from '../tests/support/stats-file';

export class StatsTally {
  private readonly offsets = new Map<number, number>();
  private readonly partial = new Map<number, string>();
  private readonly counts = new Map<string, number>();
  private readonly requestIds = new Map<string, Set<string>>();

  constructor(private readonly statsFile: string) {}

  /** Whole lines with this tag written so far, in the file and its rotated predecessors. */
  count(tag: string): number {
    this.readNew();
    return this.counts.get(tag) ?? 0;
  }

  /** Lines with this tag whose request_id an earlier line of the tag already had. */
  duplicates(tag: string): number {
    this.readNew();
    return (this.counts.get(tag) ?? 0) - (this.requestIds.get(tag)?.size ?? 0);
  }

  private readNew(): void {
    const dir = dirname(this.statsFile);
    const name = basename(this.statsFile);
    for (const entry of readdirSync(dir)) {
      if (entry !== name && !entry.startsWith(`${name}.`)) continue;
      const path = join(dir, entry);
      const { ino, size } = statSync(path);
      const offset = this.offsets.get(ino) ?? 0;
      if (size <= offset) continue;
      const buffer = Buffer.alloc(size - offset);
      const fd = openSync(path, 'r');
      try {
        readSync(fd, buffer, 0, buffer.length, offset);
      } finally {
        closeSync(fd);
      }
      this.offsets.set(ino, size);
      const text = (this.partial.get(ino) ?? '') + buffer.toString('utf8');
      const end = text.lastIndexOf('\n');
      // The service may be half-way through appending: a line counts once it is whole.
      this.partial.set(ino, text.slice(end + 1));
      for (const line of text.slice(0, end + 1).split('\n')) {
        if (line.trim() === '') continue;
        const record = JSON.parse(line) as { endpoint: string; request_id?: string | null };
        const tag = tagOfEndpoint(record.endpoint);
        if (tag === null) continue;
        this.counts.set(tag, (this.counts.get(tag) ?? 0) + 1);
        const ids = this.requestIds.get(tag) ?? new Set<string>();
        ids.add(record.request_id ?? `(none ${ids.size})`);
        this.requestIds.set(tag, ids);
      }
    }
  }
}
