const BEARER = /^\s*bearer\s+(.*)$/i;

/**
 * The credentials of a call (spec §3): every value of every place a provider may read a
 * key from, in the order sent. Header values as sent; query values still percent-encoded.
 */
export interface Credentials {
  authorization: string[];
  xApiKey: string[];
  xGoogApiKey: string[];
  queryKey: string[];
}

/** Header names compare lower-cased, with `_` read as `-` (spec §3). */
export function canonicalHeaderName(name: string): string {
  return name.toLowerCase().replaceAll('_', '-');
}

const HEADER_PLACES: Record<string, keyof Credentials> = {
  authorization: 'authorization',
  'x-api-key': 'xApiKey',
  'x-goog-api-key': 'xGoogApiKey',
};

/**
 * The query parameters Google's APIs read a credential from (its "system parameters"):
 * `key` and `$key` (an API key), `access_token` and `oauth_token` (an OAuth token, as a
 * Bearer). One place, as the `key` of spec §3: every one of them must carry the call's key.
 */
export const QUERY_KEY_NAMES: readonly string[] = ['key', '$key', 'access_token', 'oauth_token'];

/** Only A-Z lower-cased: JavaScript's toLowerCase() turns the Kelvin sign into `k`, which no provider reads as one. */
function asciiLowerCase(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/** The credential parameters of the query (the part after the first `?`), by name percent-decoded, ASCII letters in any case. */
export function queryKeysOf(requestUri: string): string[] {
  const start = requestUri.indexOf('?');
  if (start < 0) return [];
  const found: string[] = [];
  for (const parameter of requestUri.slice(start + 1).split('#')[0]!.split('&')) {
    const equals = parameter.indexOf('=');
    const rawName = equals < 0 ? parameter : parameter.slice(0, equals);
    let name: string;
    try {
      name = decodeURIComponent(rawName);
    } catch {
      // A name that cannot be read might be `key`: counted as a `key` without a value, a refusal.
      found.push('');
      continue;
    }
    if (QUERY_KEY_NAMES.includes(asciiLowerCase(name))) found.push(equals < 0 ? '' : parameter.slice(equals + 1));
  }
  return found;
}

/**
 * The credentials of a request from its raw header name/value pairs (Node's `rawHeaders`)
 * and its request URI, by the one definition that nginx's lmgate_credentials.js applies too:
 * `Authorization`, `x_api_key`, `X-Goog-Api-Key`, `?KEY=` all count, and each value counts.
 */
export function credentialsOf(rawHeaders: readonly string[], requestUri = ''): Credentials {
  const found: Credentials = { authorization: [], xApiKey: [], xGoogApiKey: [], queryKey: queryKeysOf(requestUri) };
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = canonicalHeaderName(rawHeaders[i] as string);
    // hasOwn: a header named `constructor` is no place.
    if (Object.hasOwn(HEADER_PLACES, name)) found[HEADER_PLACES[name]!].push(rawHeaders[i + 1] as string);
  }
  return found;
}

function decodedQueryValue(value: string): string | null {
  try {
    return decodeURIComponent(value.replaceAll('+', ' '));
  } catch {
    return null;
  }
}

/** The key one credential carries, or null when it carries none (which refuses the call). */
function keyIn(place: keyof Credentials, value: string): string | null {
  let key: string | null | undefined;
  if (place === 'authorization') key = BEARER.exec(value)?.[1]?.trim();
  else if (place === 'queryKey') key = decodedQueryValue(value);
  else key = value.trim();
  return key ? key : null;
}

/**
 * The one key a call carries, or null: null when no place carries a credential, when a
 * place is repeated (which copy counts would be a guess the provider might make
 * differently), when a credential carries no key (an empty value, a Basic scheme), and
 * when two places carry different keys — so the key checked is the key the provider uses.
 */
export function callKeyOf(credentials: Credentials): string | null {
  let key: string | null = null;
  for (const place of Object.keys(credentials) as Array<keyof Credentials>) {
    const values = credentials[place];
    if (values.length > 1) return null;
    if (values.length === 0) continue;
    const found = keyIn(place, values[0] as string);
    if (found === null || (key !== null && found !== key)) return null;
    key = found;
  }
  return key;
}

/**
 * The last 6 characters of the key. A key of 12 characters or fewer shows at most half of
 * itself, so that the masked form never reveals a whole short key.
 */
export function maskKey(key: string): string {
  const visible = Math.min(6, Math.floor(key.length / 2));
  return visible > 0 ? key.slice(-visible) : '';
}
