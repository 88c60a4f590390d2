import { expect } from '@playwright/test';
import type { RequestRecord } from '../../mock-upstream/src/recorder';

/** One request as the mock provider received it (the mock's own record type). */
export type RecordedRequest = RequestRecord;

export class MockAdmin {
  constructor(private readonly baseURL: string) {}

  /** How many requests arrived with each tag ("" for none), over the whole run. */
  async countByTag(): Promise<Record<string, number>> {
    const response = await fetch(`${this.baseURL}/tags`);
    if (!response.ok) throw new Error(`mock admin answered ${response.status} for /tags`);
    return (await response.json()) as Record<string, number>;
  }

  async requests(tag: string): Promise<RecordedRequest[]> {
    const response = await fetch(`${this.baseURL}/requests?tag=${encodeURIComponent(tag)}`);
    if (!response.ok) throw new Error(`mock admin answered ${response.status} for /requests`);
    return (await response.json()) as RecordedRequest[];
  }

  /** Waits until the mock has recorded `count` requests with the tag, and returns them. */
  async waitForRequests(tag: string, count = 1, timeout = 10_000): Promise<RecordedRequest[]> {
    let found: RecordedRequest[] = [];
    await expect
      .poll(async () => (found = await this.requests(tag)).length, { timeout, intervals: [50, 100], message: `mock upstream requests tagged ${tag}` })
      .toBeGreaterThanOrEqual(count);
    return found;
  }

  /**
   * The requests with the tag once the mock has also recorded its answer to each (it does
   * so when it has sent the last byte, which may be just after the client read it).
   */
  async answered(tag: string, count = 1, timeout = 10_000): Promise<RecordedRequest[]> {
    let found: RecordedRequest[] = [];
    await expect
      .poll(async () => (found = await this.requests(tag)).filter((r) => r.response !== null).length, { timeout, intervals: [50, 100], message: `answered mock requests tagged ${tag}` })
      .toBeGreaterThanOrEqual(count);
    return found;
  }

  /**
   * "Never reached the upstream". A refusal is decided before nginx proxies anything, so
   * when the client has its answer the request has either reached the mock or never will:
   * one read of the journal is the proof.
   */
  async expectNoRequests(tag: string): Promise<void> {
    expect(await this.requests(tag), `requests tagged ${tag} reached the mock upstream`).toEqual([]);
  }
}
