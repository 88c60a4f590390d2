import { open } from 'node:fs/promises';

/** A bounded set of recently seen ids; the oldest are forgotten first. */
export class RecentIds {
  private readonly seen = new Set<string>();
  // Insertion order kept in a ring: asking a Set for its oldest entry walks over every
  // entry deleted since its last rehash, which made each add cost O(capacity) once full.
  private readonly order: Array<string | undefined>;
  private next = 0;

  constructor(private readonly capacity: number) {
    this.order = new Array<string | undefined>(capacity);
  }

  has(id: string): boolean {
    return this.seen.has(id);
  }

  /** Adds the id; false when it was already there. */
  add(id: string): boolean {
    if (this.seen.has(id)) return false;
    if (this.capacity <= 0) return true;
    const oldest = this.order[this.next];
    if (oldest !== undefined) this.seen.delete(oldest);
    this.order[this.next] = id;
    this.next = (this.next + 1) % this.capacity;
    this.seen.add(id);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }
}

/**
 * The request_ids of the whole lines in the last `maxBytes` of a stats file, oldest first;
 * none when there is no file. The service remembers them at start: a record it wrote just
 * before a restart, whose delivery njs saw time out, comes again afterwards and must not
 * get a second line.
 */
export async function requestIdsInTail(path: string, maxBytes: number): Promise<string[]> {
  let file;
  try {
    file = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  try {
    const { size } = await file.stat();
    const start = Math.max(0, size - maxBytes);
    const buffer = Buffer.alloc(size - start);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, start);
    const lines = buffer.subarray(0, bytesRead).toString('utf8').split('\n');
    // A tail that starts mid-file starts mid-line; the last line may be half-written.
    if (start > 0) lines.shift();
    lines.pop();
    const ids: string[] = [];
    for (const line of lines) {
      try {
        const id = (JSON.parse(line) as { request_id?: unknown }).request_id;
        if (typeof id === 'string' && id !== '') ids.push(id);
      } catch {
        // Not a record line: nothing to remember.
      }
    }
    return ids;
  } finally {
    await file.close();
  }
}
