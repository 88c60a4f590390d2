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

  /** Waits for `count` lines with the tag, then checks for a moment that no more arrive. */
  async waitForLines(tag: string, count = 1, timeout = 15_000): Promise<StatsLine[]> {
    await expect
      .poll(() => this.lines(tag).length, { timeout, message: `stats lines tagged ${tag}` })
      .toBeGreaterThanOrEqual(count);
    // A doubled record would come a delivery tick (1 s) and a flush later: wait that out.
    await new Promise((r) => setTimeout(r, 1_300));
    const lines = this.lines(tag);
    expect(lines, `exactly ${count} stats line(s) tagged ${tag}`).toHaveLength(count);
    return lines;
  }

  /** Gateway refusals are not proxied and leave no line: checked over a window. */
  async expectNoLines(tag: string, windowMs = 2_000): Promise<void> {
    const until = Date.now() + windowMs;
    do {
      expect(this.lines(tag), `stats lines tagged ${tag}`).toEqual([]);
      await new Promise((r) => setTimeout(r, 250));
    } while (Date.now() < until);
  }
}
