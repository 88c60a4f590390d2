import { MAX_ID_LENGTH } from './allowlist.js';
import { callKeyOf, maskKey, queryKeysOf } from './keys.js';
import { providerFromHost, type Provider } from './providers.js';
import { extractErrorType, extractUsage, extractUsageFromEnds } from './usage.js';

/** What nginx (njs) reports about one proxied response; see statsPayloadSchema. */
export interface StatsPayload {
  request_uri: string;
  status: number;
  lmgate_id: string;
  upstream_host: string;
  /**
   * Raw credential headers as the client sent them (one value each); with the `key`
   * parameters of request_uri, the service reads the call's key from them and masks it.
   */
  authorization?: string | null;
  x_api_key?: string | null;
  x_goog_api_key?: string | null;
  /** Alternative to the raw headers, for a sender that masks the key itself. */
  masked_key?: string | null;
  /** The response body; when body_truncated, only its first bytes (njs keeps 64 KiB). */
  body?: string | null;
  /** With body_truncated: the body's last bytes (njs keeps 64 KiB); what lay between was not kept. */
  body_tail?: string | null;
  /** True when the body was longer than what was kept of it. */
  body_truncated?: boolean;
  /** When the request started: ISO-8601 text or epoch milliseconds. */
  timestamp?: string | number | null;
  /** Delivery id (nginx's $request_id): a record sent twice is written once. */
  request_id?: string | null;
  /** From the request's arrival at nginx to the last byte sent to the client. */
  duration_ms?: number | null;
  /** From the request's arrival to the first byte of the provider's body; null without a body. */
  first_byte_ms?: number | null;
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

export const statsPayloadSchema = {
  type: 'object',
  required: ['request_uri', 'status', 'lmgate_id', 'upstream_host'],
  properties: {
    request_uri: { type: 'string', maxLength: 65536 },
    status: { type: 'integer', minimum: 0, maximum: 999 },
    lmgate_id: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH },
    upstream_host: { type: 'string', maxLength: 1024 },
    authorization: { type: ['string', 'null'], maxLength: 65536 },
    x_api_key: { type: ['string', 'null'], maxLength: 65536 },
    x_goog_api_key: { type: ['string', 'null'], maxLength: 65536 },
    masked_key: { type: ['string', 'null'], maxLength: 64 },
    body: { type: ['string', 'null'] },
    body_tail: { type: ['string', 'null'] },
    body_truncated: { type: 'boolean' },
    timestamp: { type: ['string', 'number', 'null'] },
    request_id: { type: ['string', 'null'], maxLength: 128 },
    duration_ms: { type: ['number', 'null'], minimum: 0 },
    first_byte_ms: { type: ['number', 'null'], minimum: 0 },
  },
} as const;

/** When the request arrived, in epoch milliseconds; null when the sender gave no valid time. */
function requestStartMs(timestamp: StatsPayload['timestamp']): number | null {
  if (timestamp === null || timestamp === undefined || timestamp === '') return null;
  const ms = new Date(timestamp).getTime();
  return Number.isNaN(ms) ? null : ms;
}

function requestTime(timestamp: StatsPayload['timestamp'], now: Date): string {
  return new Date(requestStartMs(timestamp) ?? now.getTime()).toISOString();
}

/**
 * How long after the response ended the service received its record, in seconds (never
 * negative: clocks of nginx and the service may disagree by a little); null unless the
 * record says when the request started and how long it took.
 */
export function deliveryLagSeconds(payload: StatsPayload, receivedAt: Date): number | null {
  const startMs = requestStartMs(payload.timestamp);
  if (startMs === null || typeof payload.duration_ms !== 'number') return null;
  return Math.max(0, receivedAt.getTime() - (startMs + payload.duration_ms)) / 1000;
}

/** Vertex AI also takes the key as `?key=…`: the recorded endpoint never holds it. */
/**
 * A `key` parameter: after `?` or `&` (also percent-encoded, as `%3F`/`%26`), the name in
 * any case and any of its letters percent-encoded (`k%65y`). nginx's access log
 * (njs lmgate_secrets.js) and its error log (nginx/start.sh) mask by the same rule.
 */
export const QUERY_KEY = /((?:[?&]|%3f|%26)(?:k|%6b|%4b)(?:e|%65|%45)(?:y|%79|%59)=)[^&#?\s"]*/gi;

export function endpointWithoutKey(requestUri: string): string {
  return requestUri.replace(QUERY_KEY, '$1***');
}

function maskedKeyOf(payload: StatsPayload): string | null {
  const one = (value: string | null | undefined) => (value === null || value === undefined ? [] : [value]);
  const key = callKeyOf({
    authorization: one(payload.authorization),
    xApiKey: one(payload.x_api_key),
    xGoogApiKey: one(payload.x_goog_api_key),
    queryKey: queryKeysOf(payload.request_uri),
  });
  if (key !== null) return maskKey(key);
  // A sender-masked key is trusted only as far as its length: never store more than 6 characters.
  return payload.masked_key ? payload.masked_key.slice(-6) : null;
}

/** The stats line for one proxied response (spec §5). */
export function buildStatsRecord(payload: StatsPayload, now: Date = new Date()): StatsRecord {
  const provider = providerFromHost(payload.upstream_host);
  const body = payload.body ?? '';
  const truncated = payload.body_truncated === true;
  // A long reply comes as its two ends; usage is found there (spec §5).
  const { model, ...counts } = truncated ? extractUsageFromEnds(provider, body, payload.body_tail ?? '') : extractUsage(provider, body);
  let errorType: string | null = null;
  if (payload.status >= 400) errorType = (truncated ? null : extractErrorType(body)) ?? `http_${payload.status}`;
  return {
    timestamp: requestTime(payload.timestamp, now),
    lmgate_id: payload.lmgate_id,
    provider,
    endpoint: endpointWithoutKey(payload.request_uri),
    model,
    status: payload.status,
    input_tokens: counts.input_tokens,
    output_tokens: counts.output_tokens,
    cached_input_tokens: counts.cached_input_tokens,
    cache_write_input_tokens: counts.cache_write_input_tokens,
    reasoning_tokens: counts.reasoning_tokens,
    masked_key: maskedKeyOf(payload),
    error_type: errorType,
    request_id: payload.request_id || null,
    duration_ms: payload.duration_ms ?? null,
    first_byte_ms: payload.first_byte_ms ?? null,
  };
}
