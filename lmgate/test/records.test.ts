import { describe, expect, it } from 'vitest';
import { buildStatsRecord, type StatsPayload } from '../src/records.js';
import {
  anthropicErrorJson,
  anthropicMessageSse,
  googleErrorArrayJson,
  googleErrorJson,
  googleGenerateJson,
  htmlErrorPage,
  openAiChatJson,
  openAiChatSseWithUsage,
  openAiErrorJson,
} from './fixtures/provider-bodies.js';

const NOW = new Date('2026-01-15T10:30:00.000Z');
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

describe('buildStatsRecord', () => {
  it('never records a key passed as ?key= in the endpoint (Vertex AI accepts one)', () => {
    const record = buildStatsRecord(payload({ request_uri: '/google/v1/x:generateContent?key=AIzaSyFULLKEY123456&alt=sse' }), NOW);
    expect(record.endpoint).toBe('/google/v1/x:generateContent?key=***&alt=sse');
    expect(JSON.stringify(record)).not.toContain('AIzaSyFULLKEY123456');
  });

  it('has exactly the fields of the stats line', () => {
    expect(Object.keys(buildStatsRecord(payload(), NOW)).sort()).toEqual(
      ['endpoint', 'error_type', 'input_tokens', 'lmgate_id', 'masked_key', 'model', 'output_tokens', 'provider', 'status', 'timestamp'].sort(),
    );
  });

  it('builds the full record of an OpenAI chat completion', () => {
    expect(buildStatsRecord(payload({ timestamp: '2026-01-15T10:29:59.500Z' }), NOW)).toEqual({
      timestamp: '2026-01-15T10:29:59.500Z',
      lmgate_id: '7',
      provider: 'openai',
      endpoint: '/openai/v1/chat/completions',
      model: 'gpt-4o-2024-08-06',
      status: 200,
      input_tokens: 1117,
      output_tokens: 46,
      masked_key: 'aB7c9Z',
      error_type: null,
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
    expect([record.model, record.input_tokens, record.output_tokens]).toEqual(['claude-sonnet-4-20250514', 25, 15]);
  });

  it('gives null model and tokens when there is no body', () => {
    const record = buildStatsRecord(payload({ body: null }), NOW);
    expect([record.model, record.input_tokens, record.output_tokens]).toEqual([null, null, null]);
  });
});

describe('buildStatsRecord: masked_key', () => {
  it('masks a Bearer key to its last 6 characters', () => {
    expect(buildStatsRecord(payload(), NOW).masked_key).toBe(OPENAI_KEY.slice(-6));
  });

  it('masks an x-api-key to its last 6 characters', () => {
    expect(buildStatsRecord(payload({ authorization: null, x_api_key: ANTHROPIC_KEY }), NOW).masked_key).toBe('Xy7Wq4');
  });

  it('takes the Bearer key over x-api-key, as /auth does', () => {
    expect(buildStatsRecord(payload({ x_api_key: ANTHROPIC_KEY }), NOW).masked_key).toBe(OPENAI_KEY.slice(-6));
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
  it('gives null tokens when the body was cut at the capture cap, even if usage is readable', () => {
    const record = buildStatsRecord(payload({ body: openAiChatSseWithUsage, body_truncated: true }), NOW);
    expect([record.input_tokens, record.output_tokens]).toEqual([null, null]);
  });

  it('reads tokens when body_truncated is false', () => {
    const record = buildStatsRecord(payload({ body: googleGenerateJson, upstream_host: 'aiplatform.googleapis.com', body_truncated: false }), NOW);
    expect([record.input_tokens, record.output_tokens]).toEqual([8, 17]);
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
