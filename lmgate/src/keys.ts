const BEARER = /^\s*bearer\s+(.*)$/i;

/** Every value of each key header, in the order sent. */
export interface KeyHeaders {
  authorization: string[];
  xApiKey: string[];
}

/** Header names compare lower-cased, with `_` read as `-` (spec §3). */
export function canonicalHeaderName(name: string): string {
  return name.toLowerCase().replaceAll('_', '-');
}

/**
 * The key headers of a request from its raw name/value pairs (Node's `rawHeaders`), by the
 * one definition that nginx's lmgate_key_headers.js applies too: `Authorization`,
 * `x_api_key`, `X-API-KEY` are all key headers, and each value counts.
 */
export function keyHeadersOf(rawHeaders: readonly string[]): KeyHeaders {
  const found: KeyHeaders = { authorization: [], xApiKey: [] };
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = canonicalHeaderName(rawHeaders[i] as string);
    if (name === 'authorization') found.authorization.push(rawHeaders[i + 1] as string);
    else if (name === 'x-api-key') found.xApiKey.push(rawHeaders[i + 1] as string);
  }
  return found;
}

/**
 * The API key a request carries, first match wins: `Authorization: Bearer <key>` (scheme
 * case-insensitive, surrounding spaces trimmed), then `x-api-key`. Null when neither
 * yields a non-empty key, and when a key header is repeated: which copy counts would be a
 * guess that the provider might make differently.
 */
export function apiKeyOf(headers: KeyHeaders): string | null {
  if (headers.authorization.length > 1 || headers.xApiKey.length > 1) return null;
  return keyFromHeaderValues(headers.authorization[0], headers.xApiKey[0]);
}

export function keyFromHeaderValues(authorization: string | null | undefined, xApiKey: string | null | undefined): string | null {
  const bearer = authorization ? BEARER.exec(authorization)?.[1]?.trim() : undefined;
  if (bearer) return bearer;
  const apiKey = xApiKey?.trim();
  return apiKey ? apiKey : null;
}

/**
 * The last 6 characters of the key. A key of 12 characters or fewer shows at most half of
 * itself, so that the masked form never reveals a whole short key.
 */
export function maskKey(key: string): string {
  const visible = Math.min(6, Math.floor(key.length / 2));
  return visible > 0 ? key.slice(-visible) : '';
}
