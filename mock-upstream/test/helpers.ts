import { afterAll, beforeAll, beforeEach } from 'vitest';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { RequestRecord } from '../src/recorder.js';
import { startMockUpstream, type MockUpstream, type MockUpstreamOptions } from '../src/server.js';

export function startLocal(options: MockUpstreamOptions = {}): Promise<MockUpstream> {
  return startMockUpstream({ host: '127.0.0.1', ...options });
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** As the client's socket delivered them: shows how the server split its writes. */
  chunks: Buffer[];
  /** Milliseconds from the request start to each chunk. */
  arrivals: number[];
  headersAfterMs: number;
  body: Buffer;
}

export interface RawRequestOptions {
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** For https URLs. */
  ca?: Buffer;
  servername?: string;
}

/** node:http rather than fetch: no transparent gunzip, and the chunk boundaries stay visible. */
export function rawRequest(url: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  const target = new URL(url);
  const started = performance.now();
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      { method: options.method ?? (options.body === undefined ? 'GET' : 'POST'), headers: options.headers, ca: options.ca, servername: options.servername },
      (res) => {
        const headersAfterMs = performance.now() - started;
        const chunks: Buffer[] = [];
        const arrivals: number[] = [];
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          arrivals.push(performance.now() - started);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, chunks, arrivals, headersAfterMs, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

export async function records(mock: MockUpstream, tag?: string): Promise<RequestRecord[]> {
  const query = tag === undefined ? '' : `?tag=${encodeURIComponent(tag)}`;
  const response = await fetch(`${mock.adminUrl}/requests${query}`);
  return (await response.json()) as RequestRecord[];
}

export interface SseEvent {
  event: string | null;
  data: string;
}

export function parseSse(text: string): SseEvent[] {
  return text
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      let event: string | null = null;
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      return { event, data: data.join('\n') };
    });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export function sseJson(text: string): Json[] {
  return parseSse(text)
    .filter((event) => event.data !== '[DONE]')
    .map((event) => JSON.parse(event.data) as Json);
}

/**
 * A mock of the file's own, started before its tests and closed after them (optionally its
 * journal emptied before each test). The object stands for the mock once it has started.
 */
export function localMockForFile(options: { emptyJournalBeforeEach?: boolean } = {}): MockUpstream {
  let started: MockUpstream | undefined;
  beforeAll(async () => {
    started = await startLocal();
  });
  afterAll(async () => {
    await started?.close();
  });
  if (options.emptyJournalBeforeEach) {
    beforeEach(async () => {
      await fetch(`${started!.adminUrl}/requests`, { method: 'DELETE' });
    });
  }
  return new Proxy({} as MockUpstream, {
    get: (_target, property) => {
      if (!started) throw new Error('the mock starts in beforeAll');
      const value: unknown = Reflect.get(started, property);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(started) : value;
    },
  });
}
