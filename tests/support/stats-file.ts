import { existsSync, readFileSync } from 'node:fs';
import { expect } from '@playwright/test';
import type { StatsRecord } from '../../lmgate/src/records';

/** A line of the stats file (spec §5), as the service writes it. */
export type StatsLine = StatsRecord;

export function tagOfEndpoint(endpoint: string): string | null {
  const query = endpoint.split('?')[1];
  return query === undefined ? null : new URLSearchParams(query).get('lmgate_tag');
}

export class StatsFile {
  constructor(readonly path: string) {}

  text(): string {
    return existsSync(this.path) ? readFileSync(this.path, 'utf8') : '';
  }

  all(): StatsLine[] {
    // The service may be half-way through appending: only whole lines count.
    const text = this.text();
    return text
      .slice(0, text.lastIndexOf('\n') + 1)
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as StatsLine);
  }

  lines(tag: string): StatsLine[] {
    return this.all().filter((line) => tagOfEndpoint(line.endpoint) === tag);
  }

  /**
   * Waits for `count` lines with the tag and returns them; more than `count` at that moment
   * fails. A line doubled later is caught by the whole-run accounting
   * (tests/audit/accounting.spec.ts), which compares every tag's lines with the mock's
   * journal at the end of the run: no test waits for it.
   */
  async waitForLines(tag: string, count = 1, timeout = 15_000): Promise<StatsLine[]> {
    let lines: StatsLine[] = [];
    await expect
      .poll(() => (lines = this.lines(tag)).length, { timeout, intervals: [100], message: `stats lines tagged ${tag}` })
      .toBeGreaterThanOrEqual(count);
    expect(lines, `exactly ${count} stats line(s) tagged ${tag}`).toHaveLength(count);
    return lines;
  }

  /**
   * No line with the tag now. That none arrives later either is proven by the whole-run
   * accounting: a tag the mock never saw must end the run without a line.
   */
  expectNoLines(tag: string): void {
    expect(this.lines(tag), `stats lines tagged ${tag}`).toEqual([]);
  }
}
