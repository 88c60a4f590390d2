import { request as httpRequest } from 'node:http';

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
