import { readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AllowList } from '../src/allowlist.js';
import { buildMetricsServer } from '../src/metrics-server.js';
import { Metrics, statusClass } from '../src/metrics.js';
import { buildServer } from '../src/server.js';
import { StatsWriter } from '../src/stats-writer.js';
import {
  anthropicMessageSse,
  anthropicThinkingCacheReadSse,
  googleErrorJson,
  googleThinkingCachedJson,
  googleThinkingStreamSse,
  openAiChatJson,
  openAiChatSseCacheWrite,
  openAiEmbeddingsJson,
  openAiResponsesReasoningCacheWriteSse,
} from './fixtures/provider-bodies.js';
import { ALLOWLIST_HEADER, FakeLogger, makeTempDir, removeDir, silentLogger } from './helpers.js';

const KEY_A = 'sk-proj-METRICSaaaaaaaaaaaaaaaaaaaaaaaaaa01';
const KEY_B = 'sk-ant-api03-METRICSbbbbbbbbbbbbbbbbbbbbbbb02';
const KEY_C = 'AIzaSyMETRICScccccccccccccccccccccccccc03';
const ROWS = [`1,${KEY_A},team-alpha,2025-01-15`, `2,${KEY_B},team-beta,2025-02-01`, `3,${KEY_C},team-gamma,2025-03-01`];
const TOKEN_KINDS: Record<string, string> = {
  input_tokens: 'input',
  output_tokens: 'output',
  cached_input_tokens: 'cached_input',
  cache_write_input_tokens: 'cache_write_input',
  reasoning_tokens: 'reasoning',
};

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[name as string] = value as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** name{labels} → value for every sample of one metric, labels in a fixed order. */
function series(samples: Sample[], name: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const sample of samples) {
    if (sample.name !== name) continue;
    const key = Object.keys(sample.labels)
      .filter((label) => label !== 'le')
      .sort()
      .map((label) => `${label}=${sample.labels[label]}`)
      .join(',');
    if (sample.labels['le'] === undefined) found.set(key, sample.value);
  }
  return found;
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((sample) => sample.name === name && Object.entries(labels).every(([label, wanted]) => sample.labels[label] === wanted))?.value;
}

function callKey(line: Record<string, unknown>, extra: Record<string, string> = {}): string {
  const labels: Record<string, string> = {
    provider: line['provider'] as string,
    model: (line['model'] as string | null) ?? '',
    status_class: statusClass(line['status'] as number),
    lmgate_id: line['lmgate_id'] as string,
    ...extra,
  };
  return Object.keys(labels)
    .sort()
    .map((label) => `${label}=${labels[label]}`)
    .join(',');
}

function add(map: Map<string, number>, key: string, amount: number): void {
  map.set(key, (map.get(key) ?? 0) + amount);
}

let dir: string;
let allowPath: string;
let statsPath: string;
let metrics: Metrics;
let allowList: AllowList;
let writer: StatsWriter;
let app: FastifyInstance;
let metricsApp: FastifyInstance;
let metricsBase: string;

async function setUp(maxBufferedRecords = 10_000): Promise<void> {
  dir = await makeTempDir('lmgate-metrics-');
  allowPath = join(dir, 'allowlist.csv');
  statsPath = join(dir, 'stats.jsonl');
  await writeFile(allowPath, [ALLOWLIST_HEADER, ...ROWS].join('\n') + '\n');
  metrics = new Metrics();
  allowList = await AllowList.load(allowPath, new FakeLogger(), metrics);
  writer = new StatsWriter({ path: statsPath, flushIntervalSeconds: 3600, maxBufferedRecords, rotateBytes: 1024 * 1024 * 1024, monitor: metrics }, new FakeLogger());
  app = buildServer({ allowList, stats: writer, logger: silentLogger(), bodyLimitBytes: 8 * 1024 * 1024, monitor: metrics });
  await app.ready();
  metricsApp = buildMetricsServer({ metrics, logger: silentLogger() });
  await metricsApp.listen({ host: '127.0.0.1', port: 0 });
  metricsBase = `http://127.0.0.1:${(metricsApp.server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  await app?.close();
  await metricsApp?.close();
  await writer?.close();
  allowList?.stopPolling();
  await removeDir(dir);
});

async function scrape(): Promise<Sample[]> {
  const response = await fetch(`${metricsBase}/metrics`);
  expect(response.status).toBe(200);
  return parseExposition(await response.text());
}

function postStats(payload: unknown, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: '/stats', payload: JSON.stringify(payload), headers: { 'content-type': 'application/json', ...headers } });
}

async function statsLines(): Promise<Array<Record<string, unknown>>> {
  await writer.flush();
  const text = await readFile(statsPath, 'utf8').catch(() => '');
  return text === '' ? [] : text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

let nextId = 0;

function record(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  nextId++;
  return {
    request_id: `req-${nextId}`,
    timestamp: Date.now() - 2000,
    duration_ms: 1500,
    first_byte_ms: 400,
    request_uri: '/openai/v1/chat/completions',
    status: 200,
    lmgate_id: '1',
    upstream_host: 'api.openai.com',
    authorization: `Bearer ${KEY_A}`,
    body: openAiChatJson,
    body_truncated: false,
    ...overrides,
  };
}

/** A day's mix: every provider, streams and JSON, caches, reasoning, errors, a cut body, missing timings. */
function mixedRecords(): Array<Record<string, unknown>> {
  const anthropic = { upstream_host: 'api.anthropic.com', lmgate_id: '2', authorization: null, x_api_key: KEY_B, request_uri: '/anthropic/v1/messages' };
  const google = { upstream_host: 'aiplatform.googleapis.com', lmgate_id: '3', authorization: `Bearer ${KEY_C}` };
  return [
    record(),
    record(),
    record({ body: openAiChatSseCacheWrite, duration_ms: 9000 }),
    record({ request_uri: '/openai/v1/responses', body: openAiResponsesReasoningCacheWriteSse, duration_ms: 61_000 }),
    record({ request_uri: '/openai/v1/embeddings', body: openAiEmbeddingsJson, duration_ms: 30 }),
    record({ ...anthropic, body: anthropicMessageSse }),
    record({ ...anthropic, body: anthropicThinkingCacheReadSse, duration_ms: null, first_byte_ms: null }),
    record({ ...anthropic, body: anthropicThinkingCacheReadSse, body_truncated: true }),
    record({ ...google, body: googleThinkingCachedJson }),
    record({ ...google, body: googleThinkingStreamSse, timestamp: null }),
    record({ ...google, status: 429, body: googleErrorJson, first_byte_ms: null }),
    record({ status: 502, body: '<html>Bad Gateway</html>', lmgate_id: '2' }),
  ];
}

describe('metrics of the stats lines', () => {
  beforeEach(() => setUp());

  it('counts calls and tokens by exactly what the written lines add up to', async () => {
    const response = await postStats(mixedRecords());
    expect(response.json()).toEqual({ accepted: 12, received: 12, rejected: 0 });
    await postStats(record({ lmgate_id: '3', body: openAiChatSseCacheWrite }));
    const lines = await statsLines();
    expect(lines).toHaveLength(13);

    const calls = new Map<string, number>();
    const tokens = new Map<string, number>();
    for (const line of lines) {
      add(calls, callKey(line), 1);
      for (const [field, kind] of Object.entries(TOKEN_KINDS)) {
        const count = line[field] as number | null;
        if (count !== null) add(tokens, callKey(line, { kind }), count);
      }
    }
    const samples = await scrape();
    expect(series(samples, 'lmgate_calls_total')).toEqual(calls);
    expect(series(samples, 'lmgate_tokens_total')).toEqual(tokens);
    // The mix really exercises every kind, so the comparison above is not vacuous.
    expect(new Set(samples.filter((s) => s.name === 'lmgate_tokens_total' && s.value > 0).map((s) => s.labels['kind']))).toEqual(
      new Set(['input', 'output', 'cached_input', 'cache_write_input', 'reasoning']),
    );
  });

  it('labels a call without a model with model="" and its status class', async () => {
    await postStats(record({ status: 502, body: '<html>Bad Gateway</html>', lmgate_id: '2' }));
    expect(value(await scrape(), 'lmgate_calls_total', { provider: 'openai', model: '', status_class: '5xx', lmgate_id: '2' })).toBe(1);
  });

  it('observes request durations of the lines that have duration_ms, in seconds', async () => {
    await postStats(mixedRecords());
    const lines = await statsLines();
    const timed = lines.filter((line) => line['duration_ms'] !== null);
    const samples = await scrape();
    const counts = [...series(samples, 'lmgate_request_duration_seconds_count').values()].reduce((a, b) => a + b, 0);
    const sum = [...series(samples, 'lmgate_request_duration_seconds_sum').values()].reduce((a, b) => a + b, 0);
    expect(counts).toBe(timed.length);
    expect(counts).toBe(lines.length - 1);
    expect(sum).toBeCloseTo(timed.reduce((total, line) => total + (line['duration_ms'] as number), 0) / 1000, 6);
    const slow = { provider: 'openai', model: 'gpt-5-2025-08-07', status_class: '2xx', lmgate_id: '1' };
    expect(value(samples, 'lmgate_request_duration_seconds_bucket', { ...slow, le: '60' })).toBe(0);
    expect(value(samples, 'lmgate_request_duration_seconds_bucket', { ...slow, le: '120' })).toBe(1);
  });

  it('does not move when a record is re-sent with the same request_id, alone or within a batch', async () => {
    const once = record({ body: anthropicThinkingCacheReadSse, upstream_host: 'api.anthropic.com' });
    await postStats(once);
    const before = await scrape();
    const again = await postStats([once, once]);
    const third = await postStats(once);
    expect([again.json(), third.json()]).toEqual([
      { accepted: 0, received: 2, rejected: 0 },
      { accepted: 0, received: 1, rejected: 0 },
    ]);
    const after = await scrape();
    for (const name of ['lmgate_calls_total', 'lmgate_tokens_total', 'lmgate_request_duration_seconds_count', 'lmgate_stats_delivery_lag_seconds_count']) {
      expect([name, series(after, name)]).toEqual([name, series(before, name)]);
    }
    expect(await statsLines()).toHaveLength(1);
    expect(value(after, 'lmgate_calls_total')).toBe(1);
  });

  it('counts the records the full buffer dropped, and no call for them', async () => {
    await app.close();
    await metricsApp.close();
    await writer.close();
    await removeDir(dir);
    await setUp(2);
    const response = await postStats([record(), record(), record(), record(), record()]);
    expect(response.json()).toEqual({ accepted: 2, received: 5, rejected: 0 });
    const samples = await scrape();
    expect(value(samples, 'lmgate_stats_records_dropped_total')).toBe(3);
    expect(value(samples, 'lmgate_calls_total')).toBe(2);
    expect(await statsLines()).toHaveLength(2);
  });

  it('observes the delivery lag: receipt minus (timestamp + duration_ms), only when both are present', async () => {
    await postStats([record({ timestamp: Date.now() - 4000, duration_ms: 1000 }), record({ timestamp: null }), record({ duration_ms: null })]);
    const samples = await scrape();
    expect(value(samples, 'lmgate_stats_delivery_lag_seconds_count')).toBe(1);
    const lag = value(samples, 'lmgate_stats_delivery_lag_seconds_sum') as number;
    expect(lag).toBeGreaterThanOrEqual(3);
    expect(lag).toBeLessThan(10);
    expect(value(samples, 'lmgate_stats_delivery_lag_seconds_bucket', { le: '2' })).toBe(0);
    expect(value(samples, 'lmgate_stats_delivery_lag_seconds_bucket', { le: '5' })).toBe(1);
  });
});

describe('records nginx dropped', () => {
  beforeEach(() => setUp());

  it('adds the drops nginx reports with a batch to lmgate_stats_records_dropped_total', async () => {
    expect((await postStats([record()], { 'x-lmgate-dropped-records': '7' })).statusCode).toBe(202);
    expect((await postStats([record()], { 'x-lmgate-dropped-records': '0' })).statusCode).toBe(202);
    expect(value(await scrape(), 'lmgate_stats_records_dropped_total')).toBe(7);
  });

  it('ignores a report that is not a count, and still writes the batch', async () => {
    for (const bad of ['-1', 'many', '1e3', '99999999999']) {
      expect((await postStats([record()], { 'x-lmgate-dropped-records': bad })).json(), bad).toMatchObject({ accepted: 1 });
    }
    expect(value(await scrape(), 'lmgate_stats_records_dropped_total')).toBe(0);
  });
});

describe('rejected records', () => {
  beforeEach(() => setUp());

  it('counts each invalid record of a batch, and nothing for the good ones', async () => {
    const response = await postStats([record({ status: 'ok' }), record(), record({ lmgate_id: '' }), record({ duration_ms: -5 })]);
    expect(response.json()).toEqual({ accepted: 1, received: 4, rejected: 3 });
    const samples = await scrape();
    expect([value(samples, 'lmgate_stats_records_rejected_total'), value(samples, 'lmgate_calls_total')]).toEqual([3, 1]);
  });

  it('counts a lone invalid record, refused with 400', async () => {
    const response = await postStats(record({ status: '200' }));
    expect(response.statusCode).toBe(400);
    expect(value(await scrape(), 'lmgate_stats_records_rejected_total')).toBe(1);
  });

  it('starts at 0', async () => {
    expect(value(await scrape(), 'lmgate_stats_records_rejected_total')).toBe(0);
  });
});

describe('allow-list metrics', () => {
  beforeEach(() => setUp());

  it('reports the keys of the list loaded at start and no reload yet', async () => {
    const samples = await scrape();
    expect(value(samples, 'lmgate_allowlist_keys')).toBe(3);
    expect([value(samples, 'lmgate_allowlist_reloads_total', { result: 'ok' }), value(samples, 'lmgate_allowlist_reloads_total', { result: 'failed' })]).toEqual([0, 0]);
  });

  it('counts a good reload as ok and a broken or vanished file as failed, keeping the size of the list in use', async () => {
    await writeFile(allowPath, [ALLOWLIST_HEADER, ROWS[0]].join('\n') + '\n');
    await allowList.checkForChange();
    let samples = await scrape();
    expect([value(samples, 'lmgate_allowlist_reloads_total', { result: 'ok' }), value(samples, 'lmgate_allowlist_keys')]).toEqual([1, 1]);

    await writeFile(allowPath, 'id,owner,added\n1,team-alpha,2025-01-15\n');
    await allowList.checkForChange();
    await allowList.checkForChange();
    samples = await scrape();
    expect([value(samples, 'lmgate_allowlist_reloads_total', { result: 'failed' }), value(samples, 'lmgate_allowlist_keys')]).toEqual([1, 1]);

    await rm(allowPath);
    await allowList.checkForChange();
    samples = await scrape();
    expect([value(samples, 'lmgate_allowlist_reloads_total', { result: 'failed' }), value(samples, 'lmgate_allowlist_keys')]).toEqual([2, 1]);

    await writeFile(allowPath, [ALLOWLIST_HEADER, ...ROWS].join('\n') + '\n');
    await allowList.checkForChange();
    samples = await scrape();
    expect([value(samples, 'lmgate_allowlist_reloads_total', { result: 'ok' }), value(samples, 'lmgate_allowlist_keys')]).toEqual([2, 3]);
  });
});

describe('the metrics listener', () => {
  beforeEach(() => setUp());

  it('serves the Prometheus text format with the content type of the registry', async () => {
    const response = await fetch(`${metricsBase}/metrics`);
    expect([response.status, response.headers.get('content-type')]).toEqual([200, metrics.contentType]);
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    for (const [name, type] of [
      ['lmgate_calls_total', 'counter'],
      ['lmgate_tokens_total', 'counter'],
      ['lmgate_request_duration_seconds', 'histogram'],
      ['lmgate_stats_records_dropped_total', 'counter'],
      ['lmgate_stats_records_rejected_total', 'counter'],
      ['lmgate_allowlist_reloads_total', 'counter'],
      ['lmgate_allowlist_keys', 'gauge'],
      ['lmgate_stats_delivery_lag_seconds', 'histogram'],
    ]) {
      expect(text).toContain(`# TYPE ${name} ${type}\n`);
    }
  });

  it('answers other paths, /stats and /auth included, with a JSON 404', async () => {
    for (const path of ['/', '/stats', '/auth', '/healthz', '/metrics/x']) {
      const response = await fetch(`${metricsBase}${path}`);
      expect([path, response.status, ((await response.json()) as { error: { type: string } }).error.type]).toEqual([path, 404, 'not_found']);
    }
  });

  it('adds the default process metrics when asked, in its own registry only', async () => {
    const withProcess = new Metrics({ processMetrics: true });
    const text = await withProcess.exposition();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_heap_size_used_bytes');
    expect(await metrics.exposition()).not.toContain('process_cpu_user_seconds_total');
  });
});

describe('statusClass', () => {
  it('names the hundred of the status', () => {
    expect([200, 204, 301, 404, 429, 500, 529, 0].map(statusClass)).toEqual(['2xx', '2xx', '3xx', '4xx', '4xx', '5xx', '5xx', '0xx']);
  });
});
