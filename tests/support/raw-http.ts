import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  /** The bytes as they came off the wire: never decompressed. */
  body: Buffer;
}

/** Header pairs sent exactly as given: repeated names, any case, underscores. */
export type RawHeaderPairs = ReadonlyArray<readonly [string, string]>;

function wireHeaders(url: string, headers: Record<string, string> | RawHeaderPairs): Record<string, string> | string[] {
  if (!Array.isArray(headers)) return headers as Record<string, string>;
  const pairs = headers as RawHeaderPairs;
  // Node adds no Host header to raw pairs.
  const host = pairs.some(([name]) => name.toLowerCase() === 'host') ? [] : ['Host', new URL(url).host];
  return [...host, ...pairs.flat()];
}

/** An HTTP exchange with no client-side decoding, for checking bytes the gateway must not touch. */
export function rawFetch(url: string, method: string, headers: Record<string, string> | RawHeaderPairs, body?: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: wireHeaders(url, headers) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const flat: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
        resolve({ status: res.statusCode ?? 0, headers: flat, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * One request written byte for byte to the gateway's socket (no client library normalizes
 * it); resolves with the whole reply once nginx closes the connection (send
 * `Connection: close`). The client keeps its side open — a half-close would read to nginx
 * as a client gone — and gives up after 2 s for a reply nginx holds open (a 413 it lingers on).
 */
export function rawExchange(gatewayURL: string, text: string): Promise<string> {
  const { hostname, port } = new URL(gatewayURL);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(text));
    const chunks: Buffer[] = [];
    const giveUp = setTimeout(() => socket.end(), 2_000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      clearTimeout(giveUp);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.on('error', reject);
  });
}
