/** Latency without load: one keep-alive connection per target, calls one at a time. */
import { Agent, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface Target {
  label: string;
  url: (tag: string) => string;
  headers: Record<string, string>;
  body: string;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One call on the agent's single keep-alive connection, timed to the microsecond. */
function timedCall(target: Target, tag: string, agent: Agent): Promise<number> {
  const url = target.url(tag);
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = send(url, { agent, method: 'POST', headers: { 'content-type': 'application/json', ...target.headers } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`${target.label}: status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(target.body);
  });
}

export interface UnloadedLatency {
  /** p50 in milliseconds of each target's calls. */
  p50: [number, number];
  /** Median of (second - first) over the pairs: the added latency, with shared noise cancelled. */
  addedMs: number;
}

/**
 * Sequential calls to two targets, each on its own keep-alive connection, interleaved call
 * by call (ABBA, so neither always goes first): both see the same machine at the same time.
 */
export async function unloadedPairs(first: Target, second: Target, tag: string, pairs: number): Promise<UnloadedLatency> {
  const agents = [new Agent({ keepAlive: true, maxSockets: 1 }), new Agent({ keepAlive: true, maxSockets: 1 })] as const;
  const firstTimes: number[] = [];
  const secondTimes: number[] = [];
  try {
    for (let i = 0; i < pairs; i++) {
      if (i % 2 === 0) {
        firstTimes.push(await timedCall(first, tag, agents[0]));
        secondTimes.push(await timedCall(second, tag, agents[1]));
      } else {
        secondTimes.push(await timedCall(second, tag, agents[1]));
        firstTimes.push(await timedCall(first, tag, agents[0]));
      }
    }
  } finally {
    agents.forEach((agent) => agent.destroy());
  }
  return {
    p50: [median(firstTimes), median(secondTimes)],
    addedMs: median(secondTimes.map((t, i) => t - firstTimes[i]!)),
  };
}
