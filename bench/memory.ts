/**
 * Memory with many streaming calls in flight (#23): the resident memory of each container
 * (its cgroup's anonymous memory: the spool's page cache is not the process's) idle, then
 * while `streams` paced streaming calls are open at once. The mock paces its events, so
 * every stream is still open when the memory is read.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import type { Stack } from '../tests/support/stack';
import type { MemoryInFlight } from './types';

const MiB = 1024 * 1024;

/** cgroup v1 (memory.stat total_rss) or v2 (memory.stat anon), cgroupfs or systemd driver. */
function residentReader(containerId: string): (() => number) | null {
  const candidates = [
    { file: `/sys/fs/cgroup/memory/docker/${containerId}/memory.stat`, field: 'total_rss' },
    { file: `/sys/fs/cgroup/docker/${containerId}/memory.stat`, field: 'anon' },
    { file: `/sys/fs/cgroup/system.slice/docker-${containerId}.scope/memory.stat`, field: 'anon' },
  ];
  const found = candidates.find((c) => existsSync(c.file));
  if (!found) return null;
  return () => {
    const line = readFileSync(found.file, 'utf8').split('\n').find((l) => l.startsWith(`${found.field} `));
    return Number(line?.split(' ')[1] ?? NaN);
  };
}

export interface StreamTarget {
  label: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The containers whose memory this target's calls use. */
  containers: string[];
}

/** Opens `count` streaming calls; resolves once every one has its first bytes, with a way to wait for their ends. */
async function openStreams(target: StreamTarget, count: number): Promise<{ started: number; outcomes: Record<string, number>; firstFailure: string; ended: Promise<void>; agent: Agent }> {
  const agent = new Agent({ keepAlive: false, maxSockets: count });
  let started = 0;
  // What each call got: its status (and content type), or its error.
  const outcomes: Record<string, number> = {};
  const count1 = (outcome: string) => (outcomes[outcome] = (outcomes[outcome] ?? 0) + 1);
  let firstFailure = '';
  const ends: Array<Promise<void>> = [];
  const firsts: Array<Promise<void>> = [];
  for (let i = 0; i < count; i++) {
    let first!: () => void;
    firsts.push(new Promise<void>((resolve) => (first = resolve)));
    ends.push(
      new Promise<void>((resolve) => {
        const req = request(target.url, { method: 'POST', agent, headers: { 'content-type': 'application/json', ...target.headers } }, (res) => {
          count1(`${res.statusCode ?? 0} ${String(res.headers['content-type'] ?? '').split(';')[0]}`);
          if (res.statusCode !== 200 && firstFailure === '') {
            firstFailure = '(reading)';
            res.once('data', (chunk: Buffer) => (firstFailure = chunk.toString('utf8').slice(0, 300)));
          }
          res.once('data', () => {
            if (res.statusCode === 200 && String(res.headers['content-type']).startsWith('text/event-stream')) started++;
            first();
          });
          res.on('end', resolve);
          res.on('error', () => resolve());
        });
        req.on('error', (error: NodeJS.ErrnoException) => {
          count1(error.code ?? error.message);
          first();
          resolve();
        });
        req.end(target.body);
      }),
    );
  }
  await Promise.race([Promise.all(firsts), new Promise((r) => setTimeout(r, 60_000))]);
  return { started, outcomes, get firstFailure() { return firstFailure; }, ended: Promise.all(ends).then(() => undefined), agent };
}

export async function memoryInFlight(stack: Stack, target: StreamTarget, streams: number): Promise<MemoryInFlight> {
  const containers = await stack.containers();
  const readers = target.containers.map((name) => {
    const id = containers.find((c) => c.Labels['com.docker.compose.service'] === name && c.State === 'running')?.Id;
    const reader = id ? residentReader(id) : null;
    if (!reader) throw new Error(`the memory of ${name} cannot be read here (cgroup memory.stat)`);
    return { name, reader };
  });
  const idle = readers.map((r) => r.reader());
  const open = await openStreams(target, streams);
  const inFlight = readers.map((r) => r.reader());
  await open.ended;
  open.agent.destroy();
  return {
    target: target.label,
    streams,
    started: open.started,
    outcomes: open.outcomes,
    firstFailure: open.firstFailure,
    containers: readers.map((r, i) => ({ name: r.name, idleMiB: idle[i]! / MiB, inFlightMiB: inFlight[i]! / MiB })),
  };
}
