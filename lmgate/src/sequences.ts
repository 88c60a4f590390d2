/**
 * Each nginx worker numbers its spool lines 1, 2, … (njs recordFields) and writes them in
 * that order. A number skipped is a record that never reached the spool (a failed write,
 * a line that could not be read): counted as dropped. A number that goes back is a new
 * worker under an old name (nginx restarted, its pid reused): it starts a new count.
 */
export class ProducerSequences {
  private readonly last = new Map<string, number>();

  /**
   * @param limit producers remembered; the one seen longest ago is forgotten first (workers
   *   of past reloads), far more than one nginx ever runs at once.
   */
  constructor(known: Record<string, number> = {}, private readonly limit = 1024) {
    for (const [producer, seq] of Object.entries(known)) this.last.set(producer, seq);
  }

  /** Records missing before this one of `producer`. A seq of 0 (njs had no number) proves nothing. */
  observe(producer: string, seq: number): number {
    if (seq === 0) return 0;
    const last = this.last.get(producer);
    this.last.delete(producer);
    this.last.set(producer, seq);
    if (this.last.size > this.limit) this.last.delete(this.last.keys().next().value as string);
    if (last === undefined || seq <= last) return seq - 1;
    return seq - last - 1;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.last);
  }
}
