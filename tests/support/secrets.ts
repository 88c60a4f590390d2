import { ALL_SECRETS } from './keys';

const SECRET_HEADERS = new Set(['authorization', 'x-api-key', 'x-goog-api-key', 'api-key']);

function maskValue(value: string): string {
  const visible = Math.min(6, Math.floor(value.length / 4));
  return `***${value.slice(value.length - visible)}`;
}

/** Report text must never show a whole key: known keys are masked wherever they appear. */
export function maskSecrets(text: string, extraKeys: readonly string[] = []): string {
  let masked = text;
  for (const key of [...ALL_SECRETS, ...extraKeys]) {
    if (key.length >= 8) masked = masked.split(key).join(maskValue(key));
  }
  // Vertex AI's ?key=, whatever its value.
  return masked.replace(/([?&]key=)([^&\s"]+)/gi, (_m, name: string, value: string) => `${name}${maskValue(value)}`);
}

export function maskHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = SECRET_HEADERS.has(name.toLowerCase()) ? value.replace(/(\S{8,})\s*$/, (k) => maskValue(k)) : value;
  }
  return out;
}

/**
 * Characters of a secret in one run that a text may never show: more than a masked key's
 * 6 (the last ones), fewer than any secret's length, so that a mask showing all but a few
 * characters is caught, not only a whole secret.
 */
export const LEAKED_RUN = 10;

/** Every run of LEAKED_RUN characters of each secret, and the secrets it belongs to (two keys may share one). */
const LEAK_WINDOWS = new Map<string, string[]>();
for (const secret of ALL_SECRETS) {
  for (let at = 0; at + LEAKED_RUN <= secret.length; at++) {
    const window = secret.slice(at, at + LEAKED_RUN);
    LEAK_WINDOWS.set(window, [...(LEAK_WINDOWS.get(window) ?? []), secret]);
  }
}

/**
 * The runs of a text made only of characters that occur in some secret: a piece of a
 * secret shown anywhere lies inside one of them. One pass of a regular expression over the
 * text instead of a search of the whole text for each piece (a stack's stats file after a
 * backlog test is over 100 MB: about 280 searches of it took 14 CPU-seconds).
 */
const SECRET_ALPHABET_RUN = new RegExp(`[${[...new Set(ALL_SECRETS.join(''))].map((c) => c.replace(/[\\\]^-]/g, '\\$&')).join('')}]{${LEAKED_RUN},}`, 'g');

/** The known secrets of which `text` shows LEAKED_RUN or more characters in a row, each named by its first characters only. */
export function secretsIn(text: string): string[] {
  const found = new Set<string>();
  const seenRuns = new Set<string>();
  for (const [run] of text.matchAll(SECRET_ALPHABET_RUN)) {
    if (seenRuns.has(run)) continue;
    seenRuns.add(run);
    for (let at = 0; at + LEAKED_RUN <= run.length; at++) {
      for (const secret of LEAK_WINDOWS.get(run.slice(at, at + LEAKED_RUN)) ?? []) found.add(secret);
    }
  }
  return ALL_SECRETS.filter((secret) => found.has(secret)).map((secret) => `${secret.slice(0, 12)}…`);
}
