/**
 * Load from wrk (Debian's package): a C event loop that sends 100,000+ requests a second on
 * one core here, so the proxy in front of a static upstream runs out of CPU before it does.
 * (autocannon, in Node.js, topped out near the plain proxy's own rate.) Each run lasts a
 * fixed time; wrk reports what completed in it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface WrkRequest {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
}

export interface WrkResult {
  /** Responses that completed within the run, any status. */
  completed: number;
  /** Completed responses with a status other than 2xx or 3xx. */
  non2xx: number;
  /** Connect, read, write errors and timeouts. */
  socketErrors: number;
  seconds: number;
  requestsPerSecond: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p99: number;
}

function luaString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function script(request: WrkRequest): string {
  return [
    `wrk.method = ${luaString(request.method)}`,
    `wrk.body = ${luaString(request.body)}`,
    ...Object.entries(request.headers).map(([name, value]) => `wrk.headers[${luaString(name)}] = ${luaString(value)}`),
  ].join('\n');
}

function milliseconds(value: string, unit: string): number {
  const n = Number(value);
  if (unit === 'us') return n / 1000;
  if (unit === 'ms') return n;
  if (unit === 's') return n * 1000;
  if (unit === 'm') return n * 60_000;
  throw new Error(`wrk printed a latency in an unknown unit: ${value}${unit}`);
}

export function parseWrk(out: string): WrkResult {
  const done = /(\d+) requests in ([\d.]+)(us|ms|s|m),/.exec(out);
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p50 = /^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(out);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(out);
  if (!done || !rate || !p50 || !p99) throw new Error(`unexpected wrk output:\n${out}`);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    completed: Number(done[1]),
    seconds: milliseconds(done[2]!, done[3]!) / 1000,
    requestsPerSecond: Number(rate[1]),
    p50: milliseconds(p50[1]!, p50[2]!),
    p99: milliseconds(p99[1]!, p99[2]!),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: socket ? socket.slice(1).reduce((n, v) => n + Number(v), 0) : 0,
  };
}

export async function wrk(request: WrkRequest, options: { threads: number; connections: number; seconds: number }): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'lmgate-wrk-'));
  try {
    const file = join(dir, 'request.lua');
    writeFileSync(file, script(request));
    const args = ['-t', String(options.threads), '-c', String(options.connections), '-d', `${options.seconds}s`, '--latency', '-s', file, request.url];
    const { stdout } = await promisify(execFile)('wrk', args, { timeout: (options.seconds + 30) * 1000 }).catch((error: NodeJS.ErrnoException & { stdout?: string }) => {
      if (error.code === 'ENOENT') throw new Error("wrk is not installed: run 'npm run setup' (Debian's wrk package) or install wrk");
      throw error;
    });
    return parseWrk(stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
