import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import querySpellings from './fixtures/query-key-spellings.json' with { type: 'json' };
import { MAX_ID_LENGTH } from '../src/allowlist.js';
import { buildStatsRecord, recordingLagSeconds, spoolRecordSchema, type SpoolRecord } from '../src/records.js';
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
/** NOW as nginx's $msec writes it: epoch seconds with three decimals. */
const NOW_SECONDS = NOW.getTime() / 1000;
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

/** `seconds` (3 decimals at most) as nginx writes $msec or $request_time: no binary tail. */
function decimal(seconds: number): number {
  return Number(seconds.toFixed(3));
}

/** A whole spool line as nginx writes it; each test overrides what it is about. */
function spoolRecord(overrides: Partial<SpoolRecord> = {}): SpoolRecord {
  return {
    v: 1,
    producer: 'h/1',
    seq: 1,
    request_id: '9f86d081884c7d659a2feaa0c55ad015',
    end_ms: decimal(NOW_SECONDS + 1.34),
    request_time: 1.84,
    first_byte_ms: 1790,
    request_uri: '/openai/v1/chat/completions',
    status: 200,
    lmgate_id: '7',
    upstream_host: 'api.openai.com',
    masked_key: OPENAI_KEY.slice(-6),
    body_truncated: false,
    body: openAiChatJson,
    body_tail: '',
    ...overrides,
  };
}

describe('the query key: one rule (fixtures/query-key-spellings.json)', () => {
  const SECRET = 'AIzaSyFULLKEY123456';
  for (const { case: name, uri, masked } of querySpellings.cases) {
    it(name, () => {
      const record = buildStatsRecord(spoolRecord({ request_uri: uri.replaceAll('$S', SECRET) }));
      expect(record.endpoint).toBe(masked);
      expect(JSON.stringify(record)).not.toContain(SECRET);
    });
  }
});

describe('buildStatsRecord', () => {
  it('never records a key passed as ?key= in the endpoint (Vertex AI accepts one)', () => {
    const record = buildStatsRecord(spoolRecord({ request_uri: '/google/v1/x:generateContent?key=AIzaSyFULLKEY123456&alt=sse' }));
    expect(record.endpoint).toBe('/google/v1/x:generateContent?key=***&alt=sse');
    expect(JSON.stringify(record)).not.toContain('AIzaSyFULLKEY123456');
  });

  it('has exactly the fields of the stats line, in the order of the spec', () => {
    expect(Object.keys(buildStatsRecord(spoolRecord()))).toEqual(RECORD_FIELDS);
    const bare = spoolRecord({ request_id: '', request_uri: '/x', status: 0, lmgate_id: '1', upstream_host: '', masked_key: '', body: '', first_byte_ms: null, request_time: 0 });
    expect(Object.keys(buildStatsRecord(bare))).toEqual(RECORD_FIELDS);
  });

  it('builds the full record of an OpenAI chat completion', () => {
    expect(JSON.stringify(buildStatsRecord(spoolRecord()))).toBe(
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
      spoolRecord({ request_uri: '/openai/v1/responses', body: openAiResponsesReasoningCacheWriteSse, end_ms: decimal(NOW_SECONDS + 5.12), request_time: 5.12, request_id: 'r-1', first_byte_ms: 310 }),
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
      duration_ms: 5120,
      first_byte_ms: 310,
    });
  });

  it('derives the provider from the upstream host', () => {
    expect(buildStatsRecord(spoolRecord({ upstream_host: 'api.anthropic.com' })).provider).toBe('anthropic');
    expect(buildStatsRecord(spoolRecord({ upstream_host: 'us-east5-aiplatform.googleapis.com' })).provider).toBe('google');
    expect(buildStatsRecord(spoolRecord({ upstream_host: 'api.openai.com' })).provider).toBe('openai');
    expect(buildStatsRecord(spoolRecord({ upstream_host: 'mock-upstream:8443' })).provider).toBe('unknown');
  });

  it('keeps the endpoint exactly as the client sent it, prefix and query included', () => {
    const uri = '/google/v1/projects/p-1/locations/us-central1/publishers/google/models/gemini-2.0-flash-001:streamGenerateContent?alt=sse&x=%2F1';
    expect(buildStatsRecord(spoolRecord({ request_uri: uri })).endpoint).toBe(uri);
  });

  it('copies the status the client received and the lmgate id', () => {
    const record = buildStatsRecord(spoolRecord({ status: 201, lmgate_id: 'team-42' }));
    expect([record.status, record.lmgate_id]).toEqual([201, 'team-42']);
  });

  it('extracts model and tokens with the provider of the host', () => {
    const record = buildStatsRecord(spoolRecord({ upstream_host: 'api.anthropic.com', masked_key: 'Xy7Wq4', body: anthropicMessageSse }));
    expect([record.model, ...tokensOf(record)]).toEqual(['claude-sonnet-4-20250514', 25, 15, 0, 0, null]);
  });

  it('records the token totals and their breakdown (Anthropic: cache reads and writes are part of the input)', () => {
    const record = buildStatsRecord(spoolRecord({ upstream_host: 'api.anthropic.com', body: anthropicThinkingCacheReadSse }));
    expect(tokensOf(record)).toEqual([12 + 4986, 307, 4986, 0, null]);
  });

  it('gives null model and tokens when there is no body', () => {
    const record = buildStatsRecord(spoolRecord({ body: '' }));
    expect([record.model, ...tokensOf(record)]).toEqual([null, null, null, null, null, null]);
  });
});

describe('buildStatsRecord: masked_key (njs masks the key; the line only passes it on)', () => {
  it('writes the masked end njs sent', () => {
    expect(buildStatsRecord(spoolRecord({ masked_key: 'a0B7c9' })).masked_key).toBe('a0B7c9');
  });

  it('gives null for "", a call whose key njs did not find', () => {
    expect(buildStatsRecord(spoolRecord({ masked_key: '' })).masked_key).toBeNull();
  });

  it('keeps a masked end shorter than 6 characters as it is (njs shows at most half of a short key)', () => {
    expect(buildStatsRecord(spoolRecord({ masked_key: 'c9Z' })).masked_key).toBe('c9Z');
  });

  it('cuts a longer masked_key to its last 6 characters, even a whole key written by mistake', () => {
    expect(buildStatsRecord(spoolRecord({ masked_key: 'xa0B7c9' })).masked_key).toBe('a0B7c9');
    expect(buildStatsRecord(spoolRecord({ masked_key: OPENAI_KEY.slice(-40) })).masked_key).toBe(OPENAI_KEY.slice(-6));
    expect(buildStatsRecord(spoolRecord({ masked_key: 'k'.repeat(64) })).masked_key).toBe('kkkkkk');
  });

  it('never contains the full key, whichever field held it', () => {
    const variants: Array<Partial<SpoolRecord>> = [
      { masked_key: OPENAI_KEY },
      { masked_key: OPENAI_KEY.slice(-7) },
      { request_uri: `/google/v1/m:generateContent?key=${OPENAI_KEY}` },
      { request_uri: `/google/v1/m:generateContent?alt=sse&K%45y=${OPENAI_KEY}` },
      { status: 401, body: openAiErrorJson },
    ];
    for (const variant of variants) {
      const line = JSON.stringify(buildStatsRecord(spoolRecord(variant)));
      expect(line).not.toContain(OPENAI_KEY);
      expect(line).not.toContain(OPENAI_KEY.slice(-7));
    }
  });
});

describe('buildStatsRecord: error_type', () => {
  it('is null for a status under 400, even with an error-shaped body', () => {
    expect(buildStatsRecord(spoolRecord({ status: 200, body: openAiErrorJson })).error_type).toBeNull();
    expect(buildStatsRecord(spoolRecord({ status: 399, body: openAiErrorJson })).error_type).toBeNull();
  });

  it('is error.type of an OpenAI error body', () => {
    expect(buildStatsRecord(spoolRecord({ status: 401, body: openAiErrorJson })).error_type).toBe('invalid_request_error');
    expect(buildStatsRecord(spoolRecord({ status: 400, body: openAiErrorJson })).error_type).toBe('invalid_request_error');
  });

  it('is error.type of an Anthropic error body', () => {
    expect(buildStatsRecord(spoolRecord({ status: 529, upstream_host: 'api.anthropic.com', body: anthropicErrorJson })).error_type).toBe('overloaded_error');
  });

  it('is error.status of a Google error body, object or one-element array', () => {
    const host = 'aiplatform.googleapis.com';
    expect(buildStatsRecord(spoolRecord({ status: 429, upstream_host: host, body: googleErrorJson })).error_type).toBe('RESOURCE_EXHAUSTED');
    expect(buildStatsRecord(spoolRecord({ status: 400, upstream_host: host, body: googleErrorArrayJson })).error_type).toBe('INVALID_ARGUMENT');
  });

  it('falls back to http_<status> when the body has no provider error type', () => {
    expect(buildStatsRecord(spoolRecord({ status: 502, body: htmlErrorPage })).error_type).toBe('http_502');
    expect(buildStatsRecord(spoolRecord({ status: 404, body: '' })).error_type).toBe('http_404');
    expect(buildStatsRecord(spoolRecord({ status: 400, body: openAiChatJson })).error_type).toBe('http_400');
  });
});

describe('buildStatsRecord: truncated bodies', () => {
  it('reads the usage of a long reply from its two ends', () => {
    const sse = openAiChatSseWithUsage;
    const cut = sse.length >> 1;
    const record = buildStatsRecord(spoolRecord({ body: sse.slice(0, cut), body_tail: sse.slice(cut + 1), body_truncated: true }));
    expect(tokensOf(record)).toEqual(tokensOf(buildStatsRecord(spoolRecord({ body: sse }))));
    expect(tokensOf(record)[0]).not.toBeNull();
  });

  it('gives null tokens, and no provider error type, when the ends hold no usage', () => {
    const record = buildStatsRecord(spoolRecord({ status: 500, body: '{"error":{"type":"x"', body_tail: 'aaaa', body_truncated: true }));
    expect(tokensOf(record)).toEqual([null, null, null, null, null]);
    expect(record.error_type).toBe('http_500');
  });

  it('never takes the error type from the head of a cut body, even a whole error object', () => {
    const record = buildStatsRecord(spoolRecord({ status: 401, body: openAiErrorJson, body_tail: '', body_truncated: true }));
    expect(record.error_type).toBe('http_401');
  });

  it('reads tokens when body_truncated is false, and ignores body_tail then', () => {
    const record = buildStatsRecord(spoolRecord({ body: googleGenerateJson, upstream_host: 'aiplatform.googleapis.com', body_truncated: false }));
    expect(tokensOf(record)).toEqual([8, 17, null, null, null]);
    const withTail = buildStatsRecord(spoolRecord({ body: googleGenerateJson, upstream_host: 'aiplatform.googleapis.com', body_tail: openAiChatJson }));
    expect(tokensOf(withTail)).toEqual([8, 17, null, null, null]);
  });
});

describe('buildStatsRecord: timestamp (the request start: end_ms − request_time)', () => {
  it('is the end less the duration, in UTC ISO-8601 with milliseconds', () => {
    expect(buildStatsRecord(spoolRecord({ end_ms: decimal(NOW_SECONDS + 1.84), request_time: 1.84 })).timestamp).toBe('2026-01-15T10:30:00.000Z');
    expect(buildStatsRecord(spoolRecord({ end_ms: decimal(NOW_SECONDS + 0.25), request_time: 0 })).timestamp).toBe('2026-01-15T10:30:00.250Z');
    expect(buildStatsRecord(spoolRecord({ end_ms: decimal(NOW_SECONDS + 3), request_time: 61.001 })).timestamp).toBe('2026-01-15T10:29:01.999Z');
  });

  it('keeps every millisecond of end_ms and request_time, whatever their binary fraction', () => {
    for (let ms = 0; ms < 1000; ms++) {
      const end = buildStatsRecord(spoolRecord({ end_ms: decimal(NOW_SECONDS + ms / 1000), request_time: 0 }));
      expect(end.timestamp, `end +${ms} ms`).toBe(new Date(NOW.getTime() + ms).toISOString());
      const long = buildStatsRecord(spoolRecord({ end_ms: NOW_SECONDS, request_time: decimal(ms / 1000) }));
      expect(long.timestamp, `duration ${ms} ms`).toBe(new Date(NOW.getTime() - ms).toISOString());
    }
  });
});

describe('buildStatsRecord: request_id and timings', () => {
  it('writes request_id and first_byte_ms through', () => {
    const record = buildStatsRecord(spoolRecord({ request_id: 'c0ffee00c0ffee00c0ffee00c0ffee00', request_time: 0, first_byte_ms: 0 }));
    expect([record.request_id, record.duration_ms, record.first_byte_ms]).toEqual(['c0ffee00c0ffee00c0ffee00c0ffee00', 0, 0]);
  });

  it('gives a null request_id for an empty one', () => {
    expect(buildStatsRecord(spoolRecord({ request_id: '' })).request_id).toBeNull();
  });

  it('is duration_ms = request_time in whole milliseconds, rounded (1.005 s is 1005, not 1004.999…)', () => {
    expect(buildStatsRecord(spoolRecord({ request_time: 1.005 })).duration_ms).toBe(1005);
    expect(buildStatsRecord(spoolRecord({ request_time: 0.001 })).duration_ms).toBe(1);
    expect(buildStatsRecord(spoolRecord({ request_time: 3600.5 })).duration_ms).toBe(3_600_500);
    for (let ms = 0; ms < 5000; ms++) {
      expect(buildStatsRecord(spoolRecord({ request_time: decimal(ms / 1000) })).duration_ms).toBe(ms);
    }
  });

  it('keeps first_byte_ms null for a response without a body while duration_ms is known', () => {
    const record = buildStatsRecord(spoolRecord({ status: 204, body: '', request_time: 0.012, first_byte_ms: null }));
    expect([record.duration_ms, record.first_byte_ms]).toEqual([12, null]);
  });
});

describe('recordingLagSeconds', () => {
  it('is the time from the end of the call (end_ms) to the writing of its line', () => {
    expect(recordingLagSeconds(spoolRecord({ end_ms: decimal(NOW_SECONDS - 2.5) }), NOW)).toBe(2.5);
    expect(recordingLagSeconds(spoolRecord({ end_ms: decimal(NOW_SECONDS - 0.001) }), NOW)).toBe(0.001);
    expect(recordingLagSeconds(spoolRecord({ end_ms: decimal(NOW_SECONDS - 900) }), NOW)).toBe(900);
  });

  it('does not depend on how long the call took', () => {
    const end = decimal(NOW_SECONDS - 2.5);
    expect([0, 1.84, 300].map((request_time) => recordingLagSeconds(spoolRecord({ end_ms: end, request_time }), NOW))).toEqual([2.5, 2.5, 2.5]);
  });

  it('is 0, never negative, when the clock of nginx runs ahead', () => {
    expect(recordingLagSeconds(spoolRecord({ end_ms: decimal(NOW_SECONDS + 5) }), NOW)).toBe(0);
    expect(recordingLagSeconds(spoolRecord({ end_ms: decimal(NOW_SECONDS + 0.001) }), NOW)).toBe(0);
    expect(recordingLagSeconds(spoolRecord({ end_ms: NOW_SECONDS }), NOW)).toBe(0);
  });
});

/**
 * The recorder compiles spoolRecordSchema without the meta-schema check (that check was a
 * quarter of the start-up CPU), with these options of recorder.ts (AJV_OPTIONS, not exported):
 * the schema is checked here instead.
 */
const RECORDER_AJV_OPTIONS = { coerceTypes: false, removeAdditional: false, allErrors: false, allowUnionTypes: true } as const;

describe('spoolRecordSchema', () => {
  it('is valid JSON Schema', () => {
    const ajv = new Ajv({ ...RECORDER_AJV_OPTIONS, validateSchema: true });
    expect(ajv.validateSchema(spoolRecordSchema), JSON.stringify(ajv.errors)).toBe(true);
    expect(() => ajv.compile(spoolRecordSchema)).not.toThrow();
  });

  it('a schema that breaks JSON Schema is caught by the check', () => {
    const ajv = new Ajv({ ...RECORDER_AJV_OPTIONS, validateSchema: true });
    expect(ajv.validateSchema({ type: 'object', maxProperties: 'many' })).toBe(false);
  });

  const valid = new Ajv({ ...RECORDER_AJV_OPTIONS, validateSchema: false }).compile(spoolRecordSchema);

  it('accepts the lines nginx writes: with and without a body, key or first byte', () => {
    const lines: SpoolRecord[] = [
      spoolRecord(),
      spoolRecord({ seq: 0, request_id: '', masked_key: '', body: '', first_byte_ms: null, status: 0, upstream_host: '', request_time: 0, end_ms: 0 }),
      spoolRecord({ body_truncated: true, body_tail: 'tail', first_byte_ms: 0.5, end_ms: 1768473000.123 }),
      spoolRecord({ lmgate_id: '~'.repeat(MAX_ID_LENGTH) }),
      spoolRecord({ lmgate_id: ' !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}' }),
      spoolRecord({ status: 999, masked_key: 'k'.repeat(64), request_id: 'r'.repeat(128), producer: 'p'.repeat(512) }),
    ];
    for (const line of lines) expect(valid(line), JSON.stringify(valid.errors)).toBe(true);
    // A field nginx may add later does not make the line invalid.
    expect(valid({ ...spoolRecord(), upstream_status: '200' })).toBe(true);
  });

  it('requires every field of the line', () => {
    for (const field of Object.keys(spoolRecord())) {
      const line: Record<string, unknown> = { ...spoolRecord() };
      delete line[field];
      expect(valid(line), `without ${field}`).toBe(false);
    }
  });

  const invalid: Array<[string, unknown]> = [
    ['another version', { ...spoolRecord(), v: 2 }],
    ['the version as a string', { ...spoolRecord(), v: '1' }],
    ['an empty producer', spoolRecord({ producer: '' })],
    ['a producer over 512 characters', spoolRecord({ producer: 'p'.repeat(513) })],
    ['a negative seq', spoolRecord({ seq: -1 })],
    ['a fractional seq', spoolRecord({ seq: 1.5 })],
    ['seq as a string', { ...spoolRecord(), seq: '1' }],
    ['a request_id over 128 characters', spoolRecord({ request_id: 'r'.repeat(129) })],
    ['request_id null', { ...spoolRecord(), request_id: null }],
    ['a negative end_ms', spoolRecord({ end_ms: -1 })],
    ['end_ms as a string', { ...spoolRecord(), end_ms: '1768473000.000' }],
    ['a negative request_time', spoolRecord({ request_time: -0.001 })],
    ['request_time null', { ...spoolRecord(), request_time: null }],
    ['a negative first_byte_ms', spoolRecord({ first_byte_ms: -0.5 })],
    ['first_byte_ms as a boolean', { ...spoolRecord(), first_byte_ms: false }],
    ['first_byte_ms as a string', { ...spoolRecord(), first_byte_ms: '40' }],
    ['request_uri over 64 KiB', spoolRecord({ request_uri: '/'.repeat(65537) })],
    ['status as a string', { ...spoolRecord(), status: '200' }],
    ['status out of range', spoolRecord({ status: 1000 })],
    ['a negative status', spoolRecord({ status: -1 })],
    ['status as a float', spoolRecord({ status: 200.5 })],
    ['an empty lmgate_id', spoolRecord({ lmgate_id: '' })],
    ['an lmgate_id longer than the allow-list admits', spoolRecord({ lmgate_id: '~'.repeat(MAX_ID_LENGTH + 1) })],
    ['upstream_host over 1024 characters', spoolRecord({ upstream_host: 'h'.repeat(1025) })],
    ['masked_key over 64 characters', spoolRecord({ masked_key: 'k'.repeat(65) })],
    ['masked_key null', { ...spoolRecord(), masked_key: null }],
    ['body_truncated as a string', { ...spoolRecord(), body_truncated: 'true' }],
    ['body as an object', { ...spoolRecord(), body: { usage: 1 } }],
    ['body null', { ...spoolRecord(), body: null }],
    ['body_tail null', { ...spoolRecord(), body_tail: null }],
    ['a JSON string', 'hello'],
    ['a JSON number', 42],
    ['null', null],
    ['an array', [spoolRecord()]],
  ];
  for (const [name, line] of invalid) {
    it(`rejects ${name}`, () => {
      expect(valid(line)).toBe(false);
    });
  }
});
