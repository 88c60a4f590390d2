import { expect } from '@playwright/test';
import { KEYS } from './keys';
import type { StatsFile } from './stats-file';

/**
 * Calls the gateway from several loops at once, each call with its own number (`i`), and
 * keeps what the client saw of each: the base of spec §5's delivery guarantee, "for every
 * call the client saw answered, exactly one line".
 */
export interface CallTally {
  /** Numbers of the calls answered 2xx, with the time the client had the whole answer. */
  answered: Map<string, number>;
  /** Every number sent, answered or not. */
  sent: Set<string>;
  /** What the others got: a status, or the client's error. */
  others: Map<string, number>;
}

export interface Load {
  /** Stops the loops once their calls in flight are over. */
  stop(): Promise<CallTally>;
  /** Resolves once `count` calls were answered 2xx; fails after `timeoutMs`, saying what the calls got. */
  answeredAtLeast(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves once `count` more calls were answered 2xx than now. */
  answeredMore(count: number): Promise<void>;
}

export function startLoad(options: { gatewayURL: () => string; tag: string; loops: number }): Load {
  const tally: CallTally = { answered: new Map(), sent: new Set(), others: new Map() };
  let running = true;
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const settle = () => {
    for (const waiter of [...waiters]) {
      if (tally.answered.size >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  const loop = async (loopIndex: number) => {
    for (let n = 0; running; n++) {
      const i = `${loopIndex}-${n}`;
      tally.sent.add(i);
      let outcome: string;
      try {
        const response = await fetch(`${options.gatewayURL()}/openai/v1/chat/completions?lmgate_tag=${options.tag}&i=${i}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${KEYS.alpha.key}`, 'content-type': 'application/json' },
          body: '{"model":"gpt-4o-mini","messages":[]}',
          signal: AbortSignal.timeout(10_000),
        });
        await response.arrayBuffer();
        outcome = String(response.status);
        if (response.status >= 200 && response.status < 300) tally.answered.set(i, Date.now());
      } catch (error) {
        outcome = (error as Error).cause ? String(((error as Error).cause as Error).message) : (error as Error).message;
        // nginx away: do not spin on refused connections.
        await new Promise((r) => setTimeout(r, 20));
      }
      if (!tally.answered.has(i)) tally.others.set(outcome, (tally.others.get(outcome) ?? 0) + 1);
      settle();
    }
  };
  const loops = Array.from({ length: options.loops }, (_, index) => loop(index));
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return tally;
    },
    answeredMore(count) {
      return this.answeredAtLeast(tally.answered.size + count);
    },
    answeredAtLeast(count, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.findIndex((w) => w.resolve === done), 1);
          reject(new Error(`${tally.answered.size} calls answered 2xx after ${timeoutMs} ms, not ${count}; the others got ${JSON.stringify(Object.fromEntries(tally.others))}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        waiters.push({ count, resolve: done });
        settle();
      });
    },
  };
}

/** The call number of each stats line of the tag. */
export function callNumbers(stats: StatsFile, tag: string): string[] {
  return stats.lines(tag).map((line) => new URLSearchParams(line.endpoint.split('?')[1]).get('i') ?? '');
}

/**
 * Spec §5 for a tally: no call has two lines, every line is of a call that was sent, and
 * every call answered 2xx has its line, except those `excused` (a crash's stated window).
 */
export function expectExactlyOnce(tally: CallTally, numbers: string[], excused: (i: string) => boolean = () => false): { missing: string[] } {
  const seen = new Map<string, number>();
  for (const i of numbers) seen.set(i, (seen.get(i) ?? 0) + 1);
  const doubled = [...seen].filter(([, count]) => count > 1).map(([i]) => i);
  expect(doubled, 'calls with more than one stats line').toEqual([]);
  expect(numbers.filter((i) => !tally.sent.has(i)), 'stats lines of calls never sent').toEqual([]);
  const missing = [...tally.answered.keys()].filter((i) => !seen.has(i));
  expect(missing.filter((i) => !excused(i)), 'calls answered 2xx without a stats line').toEqual([]);
  return { missing };
}
