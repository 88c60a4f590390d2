import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export interface LogCall {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: object;
  msg: string;
}

/** A logger that records every call, for the modules that take a small logger interface. */
export class FakeLogger {
  readonly calls: LogCall[] = [];

  debug(obj: object, msg: string): void {
    this.calls.push({ level: 'debug', obj, msg });
  }

  info(obj: object, msg: string): void {
    this.calls.push({ level: 'info', obj, msg });
  }

  warn(obj: object, msg: string): void {
    this.calls.push({ level: 'warn', obj, msg });
  }

  error(obj: object, msg: string): void {
    this.calls.push({ level: 'error', obj, msg });
  }

  at(level: LogCall['level']): LogCall[] {
    return this.calls.filter((call) => call.level === level);
  }
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A pino logger at the most verbose level whose output lines are kept in memory. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
      callback();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), lines };
}

export async function makeTempDir(prefix = 'lmgate-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}

/** Polls `check` until it returns true or the deadline passes; never a fixed sleep. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const ALLOWLIST_HEADER = 'id,api_key,owner,added';
