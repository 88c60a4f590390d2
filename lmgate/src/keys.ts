export type HeaderValue = string | string[] | undefined;
export type Headers = Record<string, HeaderValue>;

function firstValue(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

const BEARER = /^\s*bearer\s+(.*)$/i;

/**
 * The API key a request carries, first match wins: `Authorization: Bearer <key>` (scheme
 * case-insensitive, surrounding spaces trimmed), then `x-api-key`. Null when neither
 * yields a non-empty key.
 */
export function extractApiKey(headers: Headers): string | null {
  return keyFromHeaderValues(firstValue(headers['authorization']), firstValue(headers['x-api-key']));
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
