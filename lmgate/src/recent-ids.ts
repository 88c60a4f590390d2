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
