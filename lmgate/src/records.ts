import { MAX_ID_LENGTH } from './allowlist.js';
import { keyFromHeaderValues, maskKey } from './keys.js';
import { providerFromHost, type Provider } from './providers.js';
import { extractErrorType, extractUsage } from './usage.js';

/** What nginx (njs) reports about one proxied response; see statsPayloadSchema. */
export interface StatsPayload {
  request_uri: string;
  status: number;
  lmgate_id: string;
  upstream_host: string;
  /** Raw key headers as the client sent them; the service extracts and masks the key. */
  authorization?: string | null;
  x_api_key?: string | null;
  /** Alternative to the raw headers, for a sender that masks the key itself. */
  masked_key?: string | null;
  /** Captured response body, up to the capture cap. */
  body?: string | null;
  /** True when the response was longer than the capture cap. */
  body_truncated?: boolean;
  /** When the request started: ISO-8601 text or epoch milliseconds. */
  timestamp?: string | number | null;
  /** Delivery id (nginx's $request_id): a record sent twice is written once. */
  request_id?: string | null;
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
  masked_key: string | null;
  error_type: string | null;
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
    masked_key: { type: ['string', 'null'], maxLength: 64 },
    body: { type: ['string', 'null'] },
    body_truncated: { type: 'boolean' },
    timestamp: { type: ['string', 'number', 'null'] },
    request_id: { type: ['string', 'null'], maxLength: 128 },
  },
} as const;

function requestTime(timestamp: StatsPayload['timestamp'], now: Date): string {
  if (timestamp === null || timestamp === undefined || timestamp === '') return now.toISOString();
  const date = typeof timestamp === 'number' ? new Date(timestamp) : new Date(timestamp);
  return Number.isNaN(date.getTime()) ? now.toISOString() : date.toISOString();
}

/** Vertex AI also takes the key as `?key=…`: the recorded endpoint never holds it. */
export function endpointWithoutKey(requestUri: string): string {
  return requestUri.replace(/([?&])key=[^&#]*/g, '$1key=***');
}

function maskedKeyOf(payload: StatsPayload): string | null {
  const key = keyFromHeaderValues(payload.authorization, payload.x_api_key);
  if (key !== null) return maskKey(key);
  // A sender-masked key is trusted only as far as its length: never store more than 6 characters.
  return payload.masked_key ? payload.masked_key.slice(-6) : null;
}

/** The stats line for one proxied response (spec §5). */
export function buildStatsRecord(payload: StatsPayload, now: Date = new Date()): StatsRecord {
  const provider = providerFromHost(payload.upstream_host);
  const body = payload.body ?? '';
  const usage = extractUsage(provider, body);
  const truncated = payload.body_truncated === true;
  let errorType: string | null = null;
  if (payload.status >= 400) errorType = (truncated ? null : extractErrorType(body)) ?? `http_${payload.status}`;
  return {
    timestamp: requestTime(payload.timestamp, now),
    lmgate_id: payload.lmgate_id,
    provider,
    endpoint: endpointWithoutKey(payload.request_uri),
    model: usage.model,
    status: payload.status,
    // A body cut at the capture cap may end before its final usage figures: report none.
    input_tokens: truncated ? null : usage.input_tokens,
    output_tokens: truncated ? null : usage.output_tokens,
    masked_key: maskedKeyOf(payload),
    error_type: errorType,
  };
}
