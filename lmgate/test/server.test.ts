import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AllowList, MAX_ID_LENGTH } from '../src/allowlist.js';
import { Ajv } from 'ajv';
import { AJV_OPTIONS, buildServer, FORBIDDEN_BODY, statsBodySchema, type RecordSink, type ServerOptions } from '../src/server.js';
import { statsPayloadSchema } from '../src/records.js';
import { StatsWriter } from '../src/stats-writer.js';
import { anthropicMessageSse, gzipGarbage, openAiChatJson, openAiChatSseWithUsage } from './fixtures/provider-bodies.js';
import { credentialSpellings } from './fixtures/key-header-spellings.js';
import { ALLOWLIST_HEADER, capturingLogger, FakeLogger, makeTempDir, removeDir, silentLogger } from './helpers.js';

const KEY_A = 'sk-proj-Tn4qW8eR2tY6uI0oP3aS5dF7gH9jK1lZxC2v';
const KEY_B = 'sk-ant-api03-Mn8bV6cX4zL2kJ0hG9fD7sA5pO3iU1yT-Qq9Ww';
const KEY_C = 'sk-proj-GONEgoneGONEgoneGONEgoneGONEgone000001';
const EXPECTED_403 = '{"error":{"type":"forbidden","message":"API key not authorized"}}';

class RecordingSink implements RecordSink {
  readonly records: Array<Record<string, unknown>> = [];
  accept = true;

  write(record: object): boolean {
    if (!this.accept) return false;
    this.records.push(record as Record<string, unknown>);
    return true;
  }
}

function allowCsv(...rows: string[]): string {
  return [ALLOWLIST_HEADER, ...rows].join('\n') + '\n';
}

const ROWS_V1 = [`1,${KEY_A},team-alpha,2025-01-15`, `2,${KEY_B},team-beta,2025-02-01`, `3,${KEY_C},team-gone,2025-02-02`];
const ROWS_V2 = [`1,${KEY_A},team-alpha,2025-01-15`, `2,${KEY_B},team-beta,2025-02-01`];

function statsPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    request_uri: '/openai/v1/chat/completions?trace=1',
    status: 200,
    lmgate_id: '1',
    upstream_host: 'api.openai.com',
    authorization: `Bearer ${KEY_A}`,
    x_api_key: null,
    body: openAiChatJson,
    body_truncated: false,
    timestamp: '2026-01-15T10:30:00.000Z',
    ...overrides,
  };
}

let dir: string;
let allowPath: string;
let allowList: AllowList;
let sink: RecordingSink;
let app: FastifyInstance;

async function setUp(options: Partial<ServerOptions> = {}): Promise<void> {
  dir = await makeTempDir('lmgate-server-');
  allowPath = join(dir, 'allowlist.csv');
  await writeFile(allowPath, allowCsv(...ROWS_V1));
  allowList = await AllowList.load(allowPath, new FakeLogger());
  sink = new RecordingSink();
  app = buildServer({ allowList, stats: sink, logger: silentLogger(), bodyLimitBytes: 64 * 1024, ...options });
  await app.ready();
}

afterEach(async () => {
  await app?.close();
  await removeDir(dir);
});

/** A GET with raw header pairs, repeated names and underscores as given (fetch would merge or refuse them). */
function rawGet(url: string, rawHeaders: string[]): Promise<{ status: number; id: string | undefined }> {
  return new Promise((resolve, reject) => {
    // Node adds no Host header to raw pairs.
    const req = httpRequest(url, { headers: ['Host', 'lmgate', ...rawHeaders] }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, id: res.headers['x-lmgate-id'] as string | undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

function auth(headers: Record<string, string>) {
  return app.inject({ method: 'GET', url: '/auth', headers });
}

function postStats(payload: unknown, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: '/stats', payload: JSON.stringify(payload), headers: { 'content-type': 'application/json', ...headers } });
}

describe('the schemas (the server compiles them without the meta-schema check)', () => {
  for (const [name, schema] of [
    ['stats body', statsBodySchema],
    ['stats record', statsPayloadSchema],
  ] as const) {
    it(`the ${name} schema is valid JSON Schema`, () => {
      const ajv = new Ajv({ ...AJV_OPTIONS, validateSchema: true });
      expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
      expect(() => ajv.compile(schema)).not.toThrow();
    });
  }

  it('a schema that breaks JSON Schema is caught by the check', () => {
    const ajv = new Ajv({ ...AJV_OPTIONS, validateSchema: true });
    expect(ajv.validateSchema({ type: 'object', maxProperties: 'many' })).toBe(false);
  });
});

describe('GET /healthz', () => {
  beforeEach(() => setUp());

  it('answers 200 with the body ok', async () => {
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    expect([response.statusCode, response.body, response.headers['content-type']]).toEqual([200, 'ok', 'text/plain; charset=utf-8']);
  });
});

describe('GET /auth', () => {
  beforeEach(() => setUp());

  it('allows a listed Bearer key and answers its row id in x-lmgate-id', async () => {
    const response = await auth({ authorization: `Bearer ${KEY_A}` });
    expect([response.statusCode, response.headers['x-lmgate-id'], response.body]).toEqual([200, '1', '']);
  });

  it('accepts the scheme in lowercase', async () => {
    const response = await auth({ authorization: `bearer ${KEY_B}` });
    expect([response.statusCode, response.headers['x-lmgate-id']]).toEqual([200, '2']);
  });

  it('trims extra spaces around scheme and key', async () => {
    const response = await auth({ authorization: `  Bearer     ${KEY_A}   ` });
    expect([response.statusCode, response.headers['x-lmgate-id']]).toEqual([200, '1']);
  });

  it('allows a listed x-api-key', async () => {
    const response = await auth({ 'x-api-key': KEY_B });
    expect([response.statusCode, response.headers['x-lmgate-id']]).toEqual([200, '2']);
  });

  it('refuses two listed keys in two places: the key checked must be the key the provider uses', async () => {
    const response = await auth({ authorization: `Bearer ${KEY_A}`, 'x-api-key': KEY_B });
    expect(response.statusCode).toBe(403);
  });

  it('allows the same listed key in every place, the query\'s `key` included', async () => {
    const response = await app.inject({ method: 'GET', url: `/auth?key=${KEY_A}`, headers: { authorization: `Bearer ${KEY_A}`, 'x-api-key': KEY_A, 'x-goog-api-key': KEY_A } });
    expect([response.statusCode, response.headers['x-lmgate-id']]).toEqual([200, '1']);
  });

  it('refuses an unknown Bearer key beside a listed x-api-key', async () => {
    const response = await auth({ authorization: 'Bearer sk-proj-unknown-000000000000000000', 'x-api-key': KEY_B });
    expect(response.statusCode).toBe(403);
  });

  it('refuses a listed x-api-key beside an Authorization that is not a Bearer credential', async () => {
    const response = await auth({ authorization: 'Basic dXNlcjpwYXNz', 'x-api-key': KEY_B });
    expect(response.statusCode).toBe(403);
  });

  it('answers 403 with the exact JSON error body and a JSON content type when no key is sent', async () => {
    const response = await auth({});
    expect(response.statusCode).toBe(403);
    expect(response.body).toBe(EXPECTED_403);
    expect(JSON.parse(response.body)).toEqual(FORBIDDEN_BODY);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
  });

  it('answers 403 to an empty key', async () => {
    const variants: Array<Record<string, string>> = [{ authorization: 'Bearer ' }, { 'x-api-key': '' }, { authorization: 'Bearer', 'x-api-key': '  ' }];
    for (const headers of variants) {
      const response = await auth(headers);
      expect([response.statusCode, response.body]).toEqual([403, EXPECTED_403]);
    }
  });

  it('answers 403 to an unknown key, and to a listed key in another case', async () => {
    const variants: Array<Record<string, string>> = [{ authorization: 'Bearer sk-not-on-the-list-1234567890' }, { 'x-api-key': KEY_A.toUpperCase() }, { authorization: `Bearer ${KEY_A}x` }];
    for (const headers of variants) {
      const response = await auth(headers);
      expect([response.statusCode, response.body, response.headers['x-lmgate-id']]).toEqual([403, EXPECTED_403, undefined]);
    }
  });

  it('ignores a client-sent x-lmgate-id, on success and on refusal', async () => {
    const allowed = await auth({ authorization: `Bearer ${KEY_A}`, 'x-lmgate-id': '999' });
    const refused = await auth({ 'x-api-key': 'sk-unknown-0000000000000', 'x-lmgate-id': '1' });
    expect([allowed.statusCode, allowed.headers['x-lmgate-id']]).toEqual([200, '1']);
    expect([refused.statusCode, refused.headers['x-lmgate-id']]).toEqual([403, undefined]);
  });

  it('refuses a key removed from the file once the list is reloaded', async () => {
    expect((await auth({ authorization: `Bearer ${KEY_C}` })).statusCode).toBe(200);
    await writeFile(allowPath, allowCsv(...ROWS_V2));
    await allowList.checkForChange();
    expect((await auth({ authorization: `Bearer ${KEY_C}` })).statusCode).toBe(403);
  });

  it('never refuses a key present in both versions while the list is reloaded under concurrent calls', async () => {
    let done = false;
    const reloader = (async () => {
      for (let round = 0; round < 16; round++) {
        const next = join(dir, 'next.csv');
        await writeFile(next, allowCsv(...(round % 2 === 0 ? ROWS_V2 : ROWS_V1)));
        await rename(next, allowPath);
        await allowList.checkForChange();
      }
      done = true;
    })();
    const statuses: number[] = [];
    const deadline = Date.now() + 10_000;
    while (!done && Date.now() < deadline) {
      const batch = await Promise.all(
        Array.from({ length: 25 }, (_, i) => auth(i % 2 === 0 ? { authorization: `Bearer ${KEY_A}` } : { 'x-api-key': KEY_B })),
      );
      statuses.push(...batch.map((response) => response.statusCode));
      // inject never waits for I/O: let the file system callbacks of the reloader run.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await reloader;
    expect(done).toBe(true);
    expect(statuses.length).toBeGreaterThan(100);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
  });
});

describe('POST /stats', () => {
  beforeEach(() => setUp());

  it('accepts one record with 202 and {accepted, received}', async () => {
    const response = await postStats(statsPayload());
    expect([response.statusCode, response.json()]).toEqual([202, { accepted: 1, received: 1, rejected: 0 }]);
  });

  it('writes the stats record built from the payload', async () => {
    await postStats(statsPayload({ request_id: '4b1d0c2e9a7f4e3b8c6d5a4f3e2d1c0b', duration_ms: 1532, first_byte_ms: 1490 }));
    expect(sink.records.map((record) => JSON.stringify(record))).toEqual([
      JSON.stringify({
        timestamp: '2026-01-15T10:30:00.000Z',
        lmgate_id: '1',
        provider: 'openai',
        endpoint: '/openai/v1/chat/completions?trace=1',
        model: 'gpt-4o-2024-08-06',
        status: 200,
        input_tokens: 1117,
        output_tokens: 46,
        cached_input_tokens: 0,
        cache_write_input_tokens: null,
        reasoning_tokens: 0,
        masked_key: KEY_A.slice(-6),
        error_type: null,
        request_id: '4b1d0c2e9a7f4e3b8c6d5a4f3e2d1c0b',
        duration_ms: 1532,
        first_byte_ms: 1490,
      }),
    ]);
  });

  it('accepts duration_ms and first_byte_ms as non-negative numbers or null', async () => {
    const response = await postStats([statsPayload({ duration_ms: 0, first_byte_ms: null }), statsPayload({ duration_ms: 12.5, first_byte_ms: 3 }), statsPayload({ duration_ms: null })]);
    expect(response.json()).toEqual({ accepted: 3, received: 3, rejected: 0 });
    expect(sink.records.map((record) => [record['duration_ms'], record['first_byte_ms']])).toEqual([
      [0, null],
      [12.5, 3],
      [null, null],
    ]);
  });

  it('accepts a batch (array) of records and writes them in order', async () => {
    const batch = [1, 2, 3].map((n) => statsPayload({ lmgate_id: String(n), request_id: `req-${n}` }));
    const response = await postStats(batch);
    expect([response.statusCode, response.json()]).toEqual([202, { accepted: 3, received: 3, rejected: 0 }]);
    expect(sink.records.map((record) => record['lmgate_id'])).toEqual(['1', '2', '3']);
  });

  it('accepts the minimal record with only the required fields', async () => {
    const response = await postStats({ request_uri: '/anthropic/v1/messages', status: 500, lmgate_id: '2', upstream_host: 'api.anthropic.com' });
    expect(response.statusCode).toBe(202);
    expect(sink.records[0]).toMatchObject({ provider: 'anthropic', masked_key: null, error_type: 'http_500', model: null });
  });

  it('accepts an empty batch and writes nothing', async () => {
    const response = await postStats([]);
    expect([response.statusCode, response.json(), sink.records.length]).toEqual([202, { accepted: 0, received: 0, rejected: 0 }, 0]);
  });

  it('never takes lmgate_id from a client-sent x-lmgate-id header', async () => {
    await postStats(statsPayload({ lmgate_id: '2' }), { 'x-lmgate-id': '1' });
    expect(sink.records[0]?.['lmgate_id']).toBe('2');
  });

  it('accepts odd bodies (binary, gzip, truncated SSE) with null tokens', async () => {
    const truncatedSse = openAiChatSseWithUsage.slice(0, openAiChatSseWithUsage.indexOf('"completion_tokens":10'));
    const bodies = ['\u0000\u0001\u0002\u00ff\ufffd', gzipGarbage, truncatedSse];
    const response = await postStats(bodies.map((body) => statsPayload({ body })));
    expect([response.statusCode, response.json()]).toEqual([202, { accepted: 3, received: 3, rejected: 0 }]);
    expect(sink.records.map((record) => [record['input_tokens'], record['output_tokens']])).toEqual([
      [null, null],
      [null, null],
      [null, null],
    ]);
  });

  it('writes a record sent twice with the same request_id once', async () => {
    const first = await postStats(statsPayload({ request_id: 'a1b2c3d4e5f6' }));
    const second = await postStats(statsPayload({ request_id: 'a1b2c3d4e5f6' }));
    expect([first.json(), second.json()]).toEqual([
      { accepted: 1, received: 1, rejected: 0 },
      { accepted: 0, received: 1, rejected: 0 },
    ]);
    expect(sink.records).toHaveLength(1);
  });

  it('writes a request_id repeated inside one batch once', async () => {
    const response = await postStats([statsPayload({ request_id: 'r-1' }), statsPayload({ request_id: 'r-1' }), statsPayload({ request_id: 'r-2' })]);
    expect([response.json(), sink.records.length]).toEqual([{ accepted: 2, received: 3, rejected: 0 }, 2]);
  });

  it('writes every record that has no request_id', async () => {
    await postStats([statsPayload(), statsPayload({ request_id: null })]);
    await postStats(statsPayload());
    expect(sink.records).toHaveLength(3);
  });

  it('reports a record the full buffer dropped as not accepted', async () => {
    sink.accept = false;
    const response = await postStats([statsPayload(), statsPayload()]);
    expect([response.statusCode, response.json()]).toEqual([202, { accepted: 0, received: 2, rejected: 0 }]);
  });

  it('writes every good record of a batch that holds bad ones, and counts the bad ones', async () => {
    const bad = [statsPayload({ status: 'ok' }), statsPayload({ lmgate_id: '' }), { note: 'not a record' }, statsPayload({ body: 7 })];
    const good = [statsPayload({ request_id: 'g1' }), statsPayload({ request_id: 'g2' }), statsPayload({ request_id: 'g3' })];
    const response = await postStats([bad[0], good[0], bad[1], bad[2], good[1], bad[3], good[2]]);
    expect([response.statusCode, response.json()]).toEqual([202, { accepted: 3, received: 7, rejected: 4 }]);
    expect(sink.records).toHaveLength(3);
  });

  it('accepts a record under every id the allow-list admits, the longest included', async () => {
    const id = '~'.repeat(MAX_ID_LENGTH);
    const response = await postStats([statsPayload({ lmgate_id: id }), statsPayload({ lmgate_id: ' !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}' })]);
    expect(response.json()).toEqual({ accepted: 2, received: 2, rejected: 0 });
    expect((sink.records[0] as { lmgate_id: string }).lmgate_id).toBe(id);
  });

  describe('rejects invalid payloads with a JSON 4xx and writes nothing', () => {
    const invalid: Array<[string, unknown]> = [
      ['status as a string', statsPayload({ status: '200' })],
      ['status out of range', statsPayload({ status: 1000 })],
      ['status as a float', statsPayload({ status: 200.5 })],
      ['missing request_uri', { status: 200, lmgate_id: '1', upstream_host: 'api.openai.com' }],
      ['missing lmgate_id', { request_uri: '/openai/v1/models', status: 200, upstream_host: 'api.openai.com' }],
      ['empty lmgate_id', statsPayload({ lmgate_id: '' })],
      ['body as an object', statsPayload({ body: { usage: 1 } })],
      ['body_truncated as a string', statsPayload({ body_truncated: 'true' })],
      ['a negative duration_ms', statsPayload({ duration_ms: -1 })],
      ['duration_ms as a string', statsPayload({ duration_ms: '1532' })],
      ['a negative first_byte_ms', statsPayload({ first_byte_ms: -0.5 })],
      ['first_byte_ms as a boolean', statsPayload({ first_byte_ms: false })],
      ['a JSON string', 'hello'],
      ['a JSON number', 42],
      ['null', null],
      ['a batch that is an array of strings', ['a', 'b']],
    ];
    for (const [name, payload] of invalid) {
      it(`400 for ${name}`, async () => {
        const response = await postStats(payload);
        expect(response.statusCode).toBe(400);
        expect(response.json()).toMatchObject({ error: { type: 'bad_request' } });
        expect(sink.records).toHaveLength(0);
      });
    }

    it('400 for a body that is not JSON', async () => {
      const response = await app.inject({ method: 'POST', url: '/stats', payload: '{"request_uri": "/openai/v1/x", "status": 2', headers: { 'content-type': 'application/json' } });
      expect([response.statusCode, response.json().error.type, sink.records.length]).toEqual([400, 'bad_request', 0]);
    });

    it('415 for a body without a JSON content type', async () => {
      const response = await app.inject({ method: 'POST', url: '/stats', payload: Buffer.from([1, 2, 3]), headers: { 'content-type': 'application/octet-stream' } });
      expect([response.statusCode, sink.records.length]).toEqual([415, 0]);
    });

    it('413 for a body over the body limit', async () => {
      const response = await postStats(statsPayload({ body: 'x'.repeat(70 * 1024) }));
      expect([response.statusCode, response.json().error.type, sink.records.length]).toEqual([413, 'bad_request', 0]);
    });
  });
});

describe('remembered request ids', () => {
  beforeEach(() => setUp({ rememberedIds: 2 }));

  it('forgets the oldest id beyond rememberedIds, so memory stays bounded', async () => {
    for (const id of ['r-1', 'r-2', 'r-3']) await postStats(statsPayload({ request_id: id }));
    const again = await postStats([statsPayload({ request_id: 'r-1' }), statsPayload({ request_id: 'r-3' })]);
    expect(again.json()).toEqual({ accepted: 1, received: 2, rejected: 0 });
  });
});

describe('ids written before a restart', () => {
  beforeEach(() => setUp({ writtenIds: ['w-1', 'w-2'] }));

  it('a record re-sent after a restart, whose line the previous process wrote, gets no second line', async () => {
    const response = await postStats([statsPayload({ request_id: 'w-1' }), statsPayload({ request_id: 'w-3' })]);
    expect(response.json()).toEqual({ accepted: 1, received: 2, rejected: 0 });
    expect(sink.records).toHaveLength(1);
  });
});

describe('unknown routes', () => {
  beforeEach(() => setUp());

  it('answers 404 with a not_found JSON error', async () => {
    for (const [method, url] of [
      ['GET', '/'],
      ['GET', '/openai/v1/models'],
      ['POST', '/auth'],
      ['GET', '/stats'],
      ['GET', '/metrics'],
    ] as const) {
      const response = await app.inject({ method, url });
      expect([url, response.statusCode, response.json().error.type]).toEqual([url, 404, 'not_found']);
    }
  });
});

describe('logging', () => {
  it('never logs a key, even at trace level and on rejected requests', async () => {
    const { logger, lines } = capturingLogger();
    await setUp({ logger });
    await auth({ authorization: `Bearer ${KEY_A}` });
    await auth({ 'x-api-key': 'sk-proj-REFUSEDrefusedREFUSED0000000' });
    await postStats(statsPayload({ x_api_key: KEY_B }));
    await postStats(statsPayload({ status: 'bad', authorization: `Bearer ${KEY_A}` }));
    await app.inject({ method: 'POST', url: '/stats', payload: `{"authorization":"Bearer ${KEY_A}",`, headers: { 'content-type': 'application/json' } });
    await app.inject({ method: 'POST', url: '/stats', payload: `Bearer ${KEY_A}`, headers: { 'content-type': 'text/plain' } });
    const log = lines.join('\n');
    expect(lines.length).toBeGreaterThan(0); // the capture works: rejected requests are logged at debug level
    for (const secret of [KEY_A, KEY_B, 'sk-proj-REFUSEDrefusedREFUSED0000000']) expect(log).not.toContain(secret);
  });
});

describe('over a real socket', () => {
  let base: string;
  let statsPath: string;
  let writer: StatsWriter;

  beforeEach(async () => {
    await setUp();
    await app.close();
    statsPath = join(dir, 'stats.jsonl');
    writer = new StatsWriter({ path: statsPath, flushIntervalSeconds: 3600, maxBufferedRecords: 1000, rotateBytes: 1024 * 1024 }, new FakeLogger());
    app = buildServer({ allowList, stats: writer, logger: silentLogger(), bodyLimitBytes: 64 * 1024 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await writer.close();
  });

  async function statsLines(): Promise<unknown[]> {
    await writer.flush();
    const text = await readFile(statsPath, 'utf8').catch(() => '');
    return text === '' ? [] : text.trimEnd().split('\n').map((line) => JSON.parse(line) as unknown);
  }

  it('answers /healthz with ok', async () => {
    const response = await fetch(`${base}/healthz`);
    expect([response.status, await response.text()]).toEqual([200, 'ok']);
  });

  it('answers /auth with 200 and x-lmgate-id for a listed key', async () => {
    const response = await fetch(`${base}/auth`, { headers: { authorization: `Bearer ${KEY_B}`, 'x-lmgate-id': '77' } });
    expect([response.status, response.headers.get('x-lmgate-id')]).toEqual([200, '2']);
  });

  describe('reads the key headers off the wire by the one definition (every spelling in fixtures/key-header-spellings.json)', () => {
    for (const { case: name, headers, query, reads } of credentialSpellings(KEY_B, 'sk-unknown-0000000000000000')) {
      it(`${name}: ${reads === KEY_B ? 200 : 403}`, async () => {
        const response = await rawGet(`${base}/auth${query ? `?${query}` : ''}`, headers.flat());
        expect([response.status, response.id]).toEqual(reads === KEY_B ? [200, '2'] : [403, undefined]);
      });
    }
  });

  it('answers /auth with the exact 403 bytes and a JSON content type for an unknown key', async () => {
    const response = await fetch(`${base}/auth`, { headers: { 'x-api-key': 'sk-unknown-99999999999999' } });
    expect([response.status, response.headers.get('content-type'), await response.text()]).toEqual([403, 'application/json; charset=utf-8', EXPECTED_403]);
  });

  it('accepts a batch on /stats and writes one line per record to the stats file', async () => {
    const response = await fetch(`${base}/stats`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([statsPayload(), statsPayload({ upstream_host: 'api.anthropic.com', authorization: null, x_api_key: KEY_B, body: anthropicMessageSse })]),
    });
    expect([response.status, await response.json()]).toEqual([202, { accepted: 2, received: 2, rejected: 0 }]);
    const lines = (await statsLines()) as Array<Record<string, unknown>>;
    expect(lines.map((line) => [line['provider'], line['input_tokens'], line['output_tokens'], line['cached_input_tokens'], line['cache_write_input_tokens'], line['reasoning_tokens']])).toEqual([
      ['openai', 1117, 46, 0, null, 0],
      ['anthropic', 25, 15, 0, 0, null],
    ]);
  });

  it('has the lines of a batch in the file when it answers, whatever the flush interval (a crash after the answer loses none)', async () => {
    const response = await fetch(`${base}/stats`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([statsPayload(), statsPayload()]) });
    expect(response.status).toBe(202);
    // Read straight from the file, without the flush statsLines() does: the interval here is an hour.
    const text = await readFile(statsPath, 'utf8').catch(() => '');
    expect(text.trimEnd().split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('answers a body over the limit with 413 quickly, keeps serving and writes nothing', async () => {
    const started = Date.now();
    const response = await fetch(`${base}/stats`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(8 * 1024 * 1024) });
    expect(response.status).toBe(413);
    await response.arrayBuffer();
    expect(Date.now() - started).toBeLessThan(2000);
    const health = await fetch(`${base}/healthz`);
    expect([health.status, await health.text()]).toEqual([200, 'ok']);
    expect(await statsLines()).toEqual([]);
  });

  it('answers broken JSON and schema-invalid records with 400, keeps serving and writes nothing', async () => {
    for (const body of ['{"request_uri":', JSON.stringify(statsPayload({ status: '200' })), '\u0000\u0001binary']) {
      const response = await fetch(`${base}/stats`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect([response.status, ((await response.json()) as { error: { type: string } }).error.type]).toEqual([400, 'bad_request']);
    }
    const ok = await fetch(`${base}/stats`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(statsPayload()) });
    expect(ok.status).toBe(202);
    expect(await statsLines()).toHaveLength(1);
    expect(await stat(statsPath).then((s) => s.size > 0)).toBe(true);
  });

  it('writes a record re-sent with the same request_id once to the file', async () => {
    for (let i = 0; i < 3; i++) {
      await fetch(`${base}/stats`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(statsPayload({ request_id: 'dup-1' })) });
    }
    expect(await statsLines()).toHaveLength(1);
  });

  it('answers unknown paths with a JSON 404', async () => {
    const response = await fetch(`${base}/openai/v1/chat/completions`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect([response.status, ((await response.json()) as { error: { type: string } }).error.type]).toEqual([404, 'not_found']);
  });

  it('never serves /metrics: metrics have a listener of their own', async () => {
    const response = await fetch(`${base}/metrics`);
    expect([response.status, ((await response.json()) as { error: { type: string } }).error.type]).toEqual([404, 'not_found']);
  });
});
