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

/** The known secrets that appear whole in `text`, each named by its first characters only. */
export function secretsIn(text: string): string[] {
  return ALL_SECRETS.filter((secret) => text.includes(secret)).map((secret) => `${secret.slice(0, 12)}…`);
}
