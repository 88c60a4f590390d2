import { describe, expect, it } from 'vitest';
import querySpellings from './fixtures/query-key-spellings.json' with { type: 'json' };
import { buildStatsRecord, deliveryLagSeconds, type StatsPayload } from '../src/records.js';
import {
  anthropicErrorJson,
  anthropicMessageSse,
  anthropicThinkingCacheReadSse,
  googleErrorArrayJson,
  googleErrorJson,
  googleGenerateJson,
  htmlErrorPage,
  openAiChatJson,
  openAiChatSseWithUsage,
  openAiErrorJson,
  openAiResponsesReasoningCacheWriteSse,
} from './fixtures/provider-bodies.js';

const NOW = new Date('2026-01-15T10:30:00.000Z');
const TOKEN_FIELDS = ['input_tokens', 'output_tokens', 'cached_input_tokens', 'cache_write_input_tokens', 'reasoning_tokens'];
const RECORD_FIELDS = [
  'timestamp',
  'lmgate_id',
  'provider',
  'endpoint',
  'model',
  'status',
  ...TOKEN_FIELDS,
  'masked_key',
  'error_type',
  'request_id',
  'duration_ms',
  'first_byte_ms',
];

function tokensOf(record: object): unknown[] {
  return TOKEN_FIELDS.map((field) => (record as Record<string, unknown>)[field]);
}
const OPENAI_KEY = 'sk-proj-9fKq2LmN8vBxR4tY6uW1zA3cD5eG7hJ0aB7c9Z';
const ANTHROPIC_KEY = 'sk-ant-api03-Qw3rTy8uIoP1aSdF4gHjK6lZxC9vBnM2-Xy7Wq4';

function payload(overrides: Partial<StatsPayload> = {}): StatsPayload {
  return {
    request_uri: '/openai/v1/chat/completions',
    status: 200,
    lmgate_id: '7',
    upstream_host: 'api.openai.com',
    authorization: `Bearer ${OPENAI_KEY}`,
    body: openAiChatJson,
    ...overrides,
  };
}

describe('the query key: one rule (fixtures/query-key-spellings.json)', () => {
  const SECRET = 'AIzaSyFULLKEY123456';
  for (const { case: name, uri, masked } of querySpellings.cases) {
    it(name, () => {
      const record = buildStatsRecord(payload({ request_uri: uri.replaceAll('$S', SECRET) }), NOW);
      expect(record.endpoint).toBe(masked);
      expect(JSON.stringify(record)).not.toContain(SECRET);
    });
  }
});

describe('buildStatsRecord', () => {
  it('never records a key passed as ?key= in the endpoint (Vertex AI accepts one)', () => {
    const record = buildStatsRecord(payload({ request_uri: '/google/v1/x:generateContent?key=AIzaSyFULLKEY123456&alt=sse' }), NOW);
    expect(record.endpoint).toBe('/google/v1/x:generateContent?key=***&alt=sse');
    expect(JSON.stringify(record)).not.toContain('AIzaSyFULLKEY123456');
  });

  it('has exactly the fields of the stats line, in the order of the spec', () => {
    expect(Object.keys(buildStatsRecord(payload(), NOW))).toEqual(RECORD_FIELDS);
    expect(Object.keys(buildStatsRecord({ request_uri: '/x', status: 0, lmgate_id: '1', upstream_host: '' }, NOW))).toEqual(RECORD_FIELDS);
  });

  it('builds the full record of an OpenAI chat completion', () => {
    const record = buildStatsRecord(payload({ timestamp: '2026-01-15T10:29:59.500Z', request_id: '9f86d081884c7d659a2feaa0c55ad015', duration_ms: 1840, first_byte_ms: 1790 }), NOW);
    expect(JSON.stringify(record)).toBe(
      JSON.stringify({
        timestamp: '2026-01-15T10:29:59.500Z',
        lmgate_id: '7',
        provider: 'openai',
        endpoint: '/openai/v1/chat/completions',
        model: 'gpt-4o-2024-08-06',
        status: 200,
        input_tokens: 1117,
        output_tokens: 46,
        cached_input_tokens: 0,
        cache_write_input_tokens: null,
        reasoning_tokens: 0,
        masked_key: 'aB7c9Z',
        error_type: null,
        request_id: '9f86d081884c7d659a2feaa0c55ad015',
        duration_ms: 1840,
        first_byte_ms: 1790,
      }),
    );
  });

  it('builds the full record of a streamed responses API call with cache write and reasoning', () => {
    const record = buildStatsRecord(
      payload({ request_uri: '/openai/v1/responses', body: openAiResponsesReasoningCacheWriteSse, timestamp: 1768473000000, request_id: 'r-1', duration_ms: 5120.5, first_byte_ms: 310 }),
      NOW,
    );
    expect(record).toEqual({
      timestamp: '2026-01-15T10:30:00.000Z',
      lmgate_id: '7',
      provider: 'openai',
      endpoint: '/openai/v1/responses',
      model: 'gpt-5-2025-08-07',
      status: 200,
      input_tokens: 5120,
      output_tokens: 770,
      cached_input_tokens: 0,
      cache_write_input_tokens: 4864,
      reasoning_tokens: 704,
      masked_key: 'aB7c9Z',
      error_type: null,
      request_id: 'r-1',
      duration_ms: 5120.5,
      first_byte_ms: 310,
    });
  });

  it('derives the provider from the upstream host', () => {
    expect(buildStatsRecord(payload({ upstream_host: 'api.anthropic.com' }), NOW).provider).toBe('anthropic');
    expect(buildStatsRecord(payload({ upstream_host: 'us-east5-aiplatform.googleapis.com' }), NOW).provider).toBe('google');
    expect(buildStatsRecord(payload({ upstream_host: 'api.openai.com' }), NOW).provider).toBe('openai');
    expect(buildStatsRecord(payload({ upstream_host: 'mock-upstream:8443' }), NOW).provider).toBe('unknown');
  });

  it('keeps the endpoint exactly as the client sent it, prefix and query included', () => {
    const uri = '/google/v1/projects/p-1/locations/us-central1/publishers/google/models/gemini-2.0-flash-001:streamGenerateContent?alt=sse&x=%2F1';
    expect(buildStatsRecord(payload({ request_uri: uri }), NOW).endpoint).toBe(uri);
  });

  it('copies the status the client received and the lmgate id', () => {
    const record = buildStatsRecord(payload({ status: 201, lmgate_id: 'team-42' }), NOW);
    expect([record.status, record.lmgate_id]).toEqual([201, 'team-42']);
  });

  it('extracts model and tokens with the provider of the host', () => {
    const record = buildStatsRecord(payload({ upstream_host: 'api.anthropic.com', authorization: null, x_api_key: ANTHROPIC_KEY, body: anthropicMessageSse }), NOW);
    expect([record.model, ...tokensOf(record)]).toEqual(['claude-sonnet-4-20250514', 25, 15, 0, 0, null]);
  });

  it('records the token totals and their breakdown (Anthropic: cache reads and writes are part of the input)', () => {
    const record = buildStatsRecord(payload({ upstream_host: 'api.anthropic.com', body: anthropicThinkingCacheReadSse }), NOW);
    expect(tokensOf(record)).toEqual([12 + 4986, 307, 4986, 0, null]);
  });

  it('gives null model and tokens when there is no body', () => {
    const record = buildStatsRecord(payload({ body: null }), NOW);
    expect([record.model, ...tokensOf(record)]).toEqual([null, null, null, null, null, null]);
  });
});

describe('buildStatsRecord: masked_key', () => {
  it('masks a Bearer key to its last 6 characters', () => {
    expect(buildStatsRecord(payload(), NOW).masked_key).toBe(OPENAI_KEY.slice(-6));
  });

  it('masks an x-api-key to its last 6 characters', () => {
    expect(buildStatsRecord(payload({ authorization: null, x_api_key: ANTHROPIC_KEY }), NOW).masked_key).toBe('Xy7Wq4');
  });

  it('masks an x-goog-api-key, and a `key` query parameter, to their last 6 characters', () => {
    expect(buildStatsRecord(payload({ authorization: null, x_goog_api_key: ANTHROPIC_KEY }), NOW).masked_key).toBe('Xy7Wq4');
    expect(buildStatsRecord(payload({ authorization: null, request_uri: `/google/v1/m:generateContent?K%45y=${ANTHROPIC_KEY}` }), NOW).masked_key).toBe('Xy7Wq4');
  });

  it('reads the key as /auth does: the same key in every place, else none', () => {
    expect(buildStatsRecord(payload({ x_api_key: OPENAI_KEY, x_goog_api_key: OPENAI_KEY, request_uri: `/v1/x?key=${OPENAI_KEY}` }), NOW).masked_key).toBe(OPENAI_KEY.slice(-6));
    expect(buildStatsRecord(payload({ x_api_key: ANTHROPIC_KEY }), NOW).masked_key).toBeNull();
    expect(buildStatsRecord(payload({ request_uri: `/v1/x?key=${ANTHROPIC_KEY}` }), NOW).masked_key).toBeNull();
  });

  it('uses a key the sender already masked', () => {
    expect(buildStatsRecord(payload({ authorization: null, masked_key: 'a0B7c9' }), NOW).masked_key).toBe('a0B7c9');
  });

  it('keeps at most 6 characters of a sender-masked key, even a whole key sent by mistake', () => {
    expect(buildStatsRecord(payload({ authorization: null, masked_key: OPENAI_KEY.slice(-40) }), NOW).masked_key).toBe(OPENAI_KEY.slice(-6));
  });

  it('gives null when no key is known', () => {
    expect(buildStatsRecord(payload({ authorization: null, x_api_key: null, masked_key: null }), NOW).masked_key).toBeNull();
    expect(buildStatsRecord(payload({ authorization: 'Basic dXNlcjpwYXNz' }), NOW).masked_key).toBeNull();
  });

  it('never contains the full key, whichever way it was sent', () => {
    const variants: Array<Partial<StatsPayload>> = [
      { authorization: `Bearer ${OPENAI_KEY}` },
      { authorization: `bearer   ${OPENAI_KEY}  ` },
      { authorization: null, x_api_key: OPENAI_KEY },
      { authorization: `Bearer ${OPENAI_KEY}`, x_api_key: OPENAI_KEY },
      { authorization: null, masked_key: OPENAI_KEY },
      { status: 401, body: openAiErrorJson },
    ];
    for (const variant of variants) {
      const line = JSON.stringify(buildStatsRecord(payload(variant), NOW));
      expect(line).not.toContain(OPENAI_KEY);
      expect(line).not.toContain(OPENAI_KEY.slice(-7));
    }
  });
});

describe('buildStatsRecord: error_type', () => {
  it('is null for a status under 400, even with an error-shaped body', () => {
    expect(buildStatsRecord(payload({ status: 200, body: openAiErrorJson }), NOW).error_type).toBeNull();
    expect(buildStatsRecord(payload({ status: 399, body: openAiErrorJson }), NOW).error_type).toBeNull();
  });

  it('is error.type of an OpenAI error body', () => {
    expect(buildStatsRecord(payload({ status: 401, body: openAiErrorJson }), NOW).error_type).toBe('invalid_request_error');
  });

  it('is error.type of an Anthropic error body', () => {
    expect(buildStatsRecord(payload({ status: 529, upstream_host: 'api.anthropic.com', body: anthropicErrorJson }), NOW).error_type).toBe('overloaded_error');
  });

  it('is error.status of a Google error body, object or one-element array', () => {
    const host = 'aiplatform.googleapis.com';
    expect(buildStatsRecord(payload({ status: 429, upstream_host: host, body: googleErrorJson }), NOW).error_type).toBe('RESOURCE_EXHAUSTED');
    expect(buildStatsRecord(payload({ status: 400, upstream_host: host, body: googleErrorArrayJson }), NOW).error_type).toBe('INVALID_ARGUMENT');
  });

  it('falls back to http_<status> when the body has no provider error type', () => {
    expect(buildStatsRecord(payload({ status: 502, body: htmlErrorPage }), NOW).error_type).toBe('http_502');
    expect(buildStatsRecord(payload({ status: 404, body: '' }), NOW).error_type).toBe('http_404');
    expect(buildStatsRecord(payload({ status: 500, body: null }), NOW).error_type).toBe('http_500');
    expect(buildStatsRecord(payload({ status: 400, body: openAiChatJson }), NOW).error_type).toBe('http_400');
  });
});

describe('buildStatsRecord: truncated bodies', () => {
  it('reads the usage of a long reply from its two ends', () => {
    const sse = openAiChatSseWithUsage;
    const cut = sse.length >> 1;
    const record = buildStatsRecord(payload({ body: sse.slice(0, cut), body_tail: sse.slice(cut + 1), body_truncated: true }), NOW);
    expect(tokensOf(record)).toEqual(tokensOf(buildStatsRecord(payload({ body: sse }), NOW)));
    expect(tokensOf(record)[0]).not.toBeNull();
  });

  it('gives null tokens, and no provider error type, when the ends hold no usage', () => {
    const record = buildStatsRecord(payload({ status: 500, body: '{"error":{"type":"x"', body_tail: 'aaaa', body_truncated: true }), NOW);
    expect(tokensOf(record)).toEqual([null, null, null, null, null]);
    expect(record.error_type).toBe('http_500');
  });

  it('reads tokens when body_truncated is false', () => {
    const record = buildStatsRecord(payload({ body: googleGenerateJson, upstream_host: 'aiplatform.googleapis.com', body_truncated: false }), NOW);
    expect(tokensOf(record)).toEqual([8, 17, null, null, null]);
  });
});

describe('buildStatsRecord: timestamp', () => {
  it('normalises an ISO-8601 time to UTC ISO-8601', () => {
    expect(buildStatsRecord(payload({ timestamp: '2026-01-15T12:29:59.250+02:00' }), NOW).timestamp).toBe('2026-01-15T10:29:59.250Z');
  });

  it('converts epoch milliseconds', () => {
    expect(buildStatsRecord(payload({ timestamp: Date.UTC(2025, 6, 4, 8, 0, 1, 5) }), NOW).timestamp).toBe('2025-07-04T08:00:01.005Z');
  });

  it('uses now for an invalid, empty, out-of-range or missing timestamp', () => {
    for (const timestamp of ['yesterday', '', null, undefined, Number.NaN, 1e20]) {
      expect(buildStatsRecord(payload({ timestamp }), NOW).timestamp).toBe(NOW.toISOString());
    }
  });
});

describe('buildStatsRecord: request_id and timings', () => {
  it('writes request_id, duration_ms and first_byte_ms through', () => {
    const record = buildStatsRecord(payload({ request_id: 'c0ffee00c0ffee00c0ffee00c0ffee00', duration_ms: 0, first_byte_ms: 0 }), NOW);
    expect([record.request_id, record.duration_ms, record.first_byte_ms]).toEqual(['c0ffee00c0ffee00c0ffee00c0ffee00', 0, 0]);
  });

  it('gives null for each when the sender did not send it', () => {
    const record = buildStatsRecord(payload(), NOW);
    expect([record.request_id, record.duration_ms, record.first_byte_ms]).toEqual([null, null, null]);
    const nulls = buildStatsRecord(payload({ request_id: null, duration_ms: null, first_byte_ms: null }), NOW);
    expect([nulls.request_id, nulls.duration_ms, nulls.first_byte_ms]).toEqual([null, null, null]);
  });

  it('keeps first_byte_ms null for a response without a body while duration_ms is known', () => {
    const record = buildStatsRecord(payload({ status: 204, body: '', duration_ms: 12, first_byte_ms: null }), NOW);
    expect([record.duration_ms, record.first_byte_ms]).toEqual([12, null]);
  });
});

describe('deliveryLagSeconds', () => {
  const end = NOW.getTime() - 2500;

  it('is the time from the end of the call (timestamp + duration_ms) to receipt', () => {
    expect(deliveryLagSeconds(payload({ timestamp: end - 800, duration_ms: 800 }), NOW)).toBe(2.5);
    expect(deliveryLagSeconds(payload({ timestamp: new Date(end - 800).toISOString(), duration_ms: 800 }), NOW)).toBe(2.5);
  });

  it('is 0, never negative, when the sender clock runs ahead', () => {
    expect(deliveryLagSeconds(payload({ timestamp: NOW.getTime() + 5000, duration_ms: 10 }), NOW)).toBe(0);
  });

  it('is null without a valid timestamp or without duration_ms', () => {
    for (const timing of [{ duration_ms: 800 }, { timestamp: 'yesterday', duration_ms: 800 }, { timestamp: end }, { timestamp: end, duration_ms: null }]) {
      expect(deliveryLagSeconds(payload(timing), NOW)).toBeNull();
    }
  });
});
