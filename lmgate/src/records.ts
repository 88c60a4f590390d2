import { MAX_ID_LENGTH } from './allowlist.js';
import { providerFromHost, type Provider } from './providers.js';
import { extractErrorType, extractUsage, extractUsageFromEnds } from './usage.js';

/**
 * One line of nginx's stats spool (nginx.conf, log_format lmgate_record): what nginx and
 * njs saw of one proxied call. It holds no secret: the URI comes masked, the key as its
 * masked end only.
 */
export interface SpoolRecord {
  v: 1;
  /** The writing nginx worker (`host/pid`); with seq, finds records that never reached the spool. */
  producer: string;
  /** The worker's record number: 1, 2, … in the order it wrote them; 0 when njs had none. */
  seq: number;
  /** nginx's $request_id, as in its access log. */
  request_id: string;
  /** When nginx logged the call (its end), epoch seconds with milliseconds ($msec). */
  end_ms: number;
  /** From the request's first bytes to the last byte sent, seconds with milliseconds. */
  request_time: number;
  /** From the request's arrival to the first byte of the provider's body; null without a body. */
  first_byte_ms: number | null;
  request_uri: string;
  status: number;
  lmgate_id: string;
  upstream_host: string;
  /** The key's masked end (keys.ts maskKey, sent by the service with its decision); "" when none. */
  masked_key: string;
  /** True when the body was longer than what was kept of it (njs keeps 64 KiB at each end). */
  body_truncated: boolean;
  /** The response body; when body_truncated, only its first bytes. */
  body: string;
  /** With body_truncated: the body's last bytes; "" otherwise. */
  body_tail: string;
}

export interface StatsRecord {
  timestamp: string;
  lmgate_id: string;
  provider: Provider;
  endpoint: string;
  model: string | null;
  status: number;
  input_tokens: number | null;
  output_tokens: number | null;
  cached_input_tokens: number | null;
  cache_write_input_tokens: number | null;
  reasoning_tokens: number | null;
  masked_key: string | null;
  error_type: string | null;
  request_id: string | null;
  duration_ms: number | null;
  first_byte_ms: number | null;
}

export const spoolRecordSchema = {
  type: 'object',
  required: ['v', 'producer', 'seq', 'request_id', 'end_ms', 'request_time', 'first_byte_ms', 'request_uri', 'status', 'lmgate_id', 'upstream_host', 'masked_key', 'body_truncated', 'body', 'body_tail'],
  properties: {
    v: { const: 1 },
    producer: { type: 'string', minLength: 1, maxLength: 512 },
    seq: { type: 'integer', minimum: 0 },
    request_id: { type: 'string', maxLength: 128 },
    end_ms: { type: 'number', minimum: 0 },
    request_time: { type: 'number', minimum: 0 },
    first_byte_ms: { type: ['number', 'null'], minimum: 0 },
    request_uri: { type: 'string', maxLength: 65536 },
    status: { type: 'integer', minimum: 0, maximum: 999 },
    lmgate_id: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH },
    upstream_host: { type: 'string', maxLength: 1024 },
    masked_key: { type: 'string', maxLength: 64 },
    body_truncated: { type: 'boolean' },
    body: { type: 'string' },
    body_tail: { type: 'string' },
  },
} as const;

/** When the call ended (nginx logged it), in epoch milliseconds. */
function endMs(record: SpoolRecord): number {
  // $msec is seconds with three decimals: rounding undoes the binary fraction.
  return Math.round(record.end_ms * 1000);
}

function durationMs(record: SpoolRecord): number {
  return Math.round(record.request_time * 1000);
}

/**
 * How long after the call ended the service wrote its line, in seconds (never negative:
 * clocks of nginx and the service may disagree by a little).
 */
export function recordingLagSeconds(record: SpoolRecord, writtenAt: Date): number {
  return Math.max(0, writtenAt.getTime() - endMs(record)) / 1000;
}

/**
 * A credential parameter (keys.ts QUERY_KEY_NAMES: `key`, `access_token`, `oauth_token`,
 * each also after `$`): after `?` or `&` (also percent-encoded, as `%3F`/`%26`), the name
 * in any case and any of its characters percent-encoded (`k%65y`, `%24key`, `access%5Ftoken`),
 * written out letter by letter. nginx's access log (njs lmgate_secrets.js) and its error
 * log (nginx/start.sh) mask by the same rule.
 */
export const QUERY_KEY = /((?:[?&]|%3f|%26)(?:\$|%24)?(?:(?:k|%6b|%4b)(?:e|%65|%45)(?:y|%79|%59)|(?:a|%61|%41)(?:c|%63|%43)(?:c|%63|%43)(?:e|%65|%45)(?:s|%73|%53)(?:s|%73|%53)(?:_|%5f)(?:t|%74|%54)(?:o|%6f|%4f)(?:k|%6b|%4b)(?:e|%65|%45)(?:n|%6e|%4e)|(?:o|%6f|%4f)(?:a|%61|%41)(?:u|%75|%55)(?:t|%74|%54)(?:h|%68|%48)(?:_|%5f)(?:t|%74|%54)(?:o|%6f|%4f)(?:k|%6b|%4b)(?:e|%65|%45)(?:n|%6e|%4e))=)[^&#?\s"]*/gi;

export function endpointWithoutKey(requestUri: string): string {
  return requestUri.replace(QUERY_KEY, '$1***');
}

/** The stats line for one proxied response (spec §5). */
export function buildStatsRecord(record: SpoolRecord): StatsRecord {
  const provider = providerFromHost(record.upstream_host);
  const truncated = record.body_truncated;
  // A long reply comes as its two ends; usage is found there (spec §5).
  const { model, ...counts } = truncated ? extractUsageFromEnds(provider, record.body, record.body_tail) : extractUsage(provider, record.body);
  let errorType: string | null = null;
  if (record.status >= 400) errorType = (truncated ? null : extractErrorType(record.body)) ?? `http_${record.status}`;
  const duration = durationMs(record);
  return {
    timestamp: new Date(endMs(record) - duration).toISOString(),
    lmgate_id: record.lmgate_id,
    provider,
    endpoint: endpointWithoutKey(record.request_uri),
    model,
    status: record.status,
    input_tokens: counts.input_tokens,
    output_tokens: counts.output_tokens,
    cached_input_tokens: counts.cached_input_tokens,
    cache_write_input_tokens: counts.cache_write_input_tokens,
    reasoning_tokens: counts.reasoning_tokens,
    // Never more than 6 characters, whatever the spool line says.
    masked_key: record.masked_key === '' ? null : record.masked_key.slice(-6),
    error_type: errorType,
    request_id: record.request_id || null,
    duration_ms: duration,
    first_byte_ms: record.first_byte_ms,
  };
}
