import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AllowList } from '../src/allowlist.js';
import { buildMetricsServer } from '../src/metrics-server.js';
import { Metrics, statusClass } from '../src/metrics.js';
import { StatsRecorder } from '../src/recorder.js';
import type { SpoolRecord, StatsRecord } from '../src/records.js';
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

const NOW = new Date('2026-01-15T10:30:00.000Z');
const SPOOL_FILE = 'records-2026-01-15T10-29.jsonl';

let dir: string;
let allowPath: string;
let spoolDir: string;
let statsPath: string;
let metrics: Metrics;
let allowList: AllowList;
let recorder: StatsRecorder;
let metricsApp: FastifyInstance;
let metricsBase: string;
let nextSeq: number;

async function setUp(): Promise<void> {
  dir = await makeTempDir('lmgate-metrics-');
  allowPath = join(dir, 'allowlist.csv');
  spoolDir = join(dir, 'spool');
  statsPath = join(dir, 'data', 'stats.jsonl');
  nextSeq = 0;
  await mkdir(spoolDir);
  await writeFile(allowPath, [ALLOWLIST_HEADER, ...ROWS].join('\n') + '\n');
  metrics = new Metrics();
  allowList = await AllowList.load(allowPath, new FakeLogger(), metrics);
  recorder = await StatsRecorder.open(
    {
      statsPath,
      checkpointPath: join(dir, 'data', 'lmgate-checkpoint.json'),
      spoolDir,
      intervalSeconds: 3600,
      maxChunkBytes: 16 * 1024 * 1024,
      maxChunkLines: 100_000,
      rotateBytes: 1024 * 1024 * 1024,
      spoolQuietMs: 120_000,
      monitor: metrics,
    },
    new FakeLogger(),
    () => NOW,
  );
  metricsApp = buildMetricsServer({ metrics, logger: silentLogger() });
  await metricsApp.listen({ host: '127.0.0.1', port: 0 });
  metricsBase = `http://127.0.0.1:${(metricsApp.server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  await metricsApp?.close();
  await recorder?.close();
  allowList?.stopPolling();
  await removeDir(dir);
});

async function scrape(): Promise<Sample[]> {
  const response = await fetch(`${metricsBase}/metrics`);
  expect(response.status).toBe(200);
  return parseExposition(await response.text());
}

/** Appends lines to the spool as nginx does (a record as its JSON, a string as it is) and has the recorder write them. */
async function record(...lines: Array<SpoolRecord | string>): Promise<void> {
  await writeFile(join(spoolDir, SPOOL_FILE), lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line)) + '\n').join(''), { flag: 'a' });
  await recorder.record();
}

async function statsLines(): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(statsPath, 'utf8').catch(() => '');
  return text === '' ? [] : text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The next spool record of worker h/1: numbered in order, so that no record counts as missing. */
function spoolRecord(overrides: Partial<SpoolRecord> = {}): SpoolRecord {
  nextSeq++;
  return {
    v: 1,
    producer: 'h/1',
    seq: nextSeq,
    request_id: `req-${nextSeq}`,
    end_ms: (NOW.getTime() - 2000) / 1000,
    request_time: 1.5,
    first_byte_ms: 400,
    request_uri: '/openai/v1/chat/completions',
    status: 200,
    lmgate_id: '1',
    upstream_host: 'api.openai.com',
    masked_key: KEY_A.slice(-6),
    body_truncated: false,
    body: openAiChatJson,
    body_tail: '',
    ...overrides,
  };
}

/** A day's mix: every provider, streams and JSON, caches, reasoning, errors, a cut body, calls without a first byte. */
function mixedRecords(): SpoolRecord[] {
  const anthropic = { upstream_host: 'api.anthropic.com', lmgate_id: '2', masked_key: KEY_B.slice(-6), request_uri: '/anthropic/v1/messages' };
  const google = { upstream_host: 'aiplatform.googleapis.com', lmgate_id: '3', masked_key: KEY_C.slice(-6) };
  return [
    spoolRecord(),
    spoolRecord(),
    spoolRecord({ body: openAiChatSseCacheWrite, request_time: 9 }),
    spoolRecord({ request_uri: '/openai/v1/responses', body: openAiResponsesReasoningCacheWriteSse, request_time: 61 }),
    spoolRecord({ request_uri: '/openai/v1/embeddings', body: openAiEmbeddingsJson, request_time: 0.03 }),
    spoolRecord({ ...anthropic, body: anthropicMessageSse }),
    spoolRecord({ ...anthropic, body: anthropicThinkingCacheReadSse, request_time: 0, first_byte_ms: null }),
    spoolRecord({ ...anthropic, body: anthropicThinkingCacheReadSse, body_truncated: true }),
    spoolRecord({ ...google, body: googleThinkingCachedJson }),
    spoolRecord({ ...google, body: googleThinkingStreamSse }),
    spoolRecord({ ...google, status: 429, body: googleErrorJson, first_byte_ms: null }),
    spoolRecord({ status: 502, body: '<html>Bad Gateway</html>', lmgate_id: '2' }),
  ];
}

describe('metrics of the stats lines', () => {
  beforeEach(() => setUp());

  it('counts calls and tokens by exactly what the written lines add up to', async () => {
    await record(...mixedRecords());
    await record(spoolRecord({ lmgate_id: '3', body: openAiChatSseCacheWrite }));
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
    await record(spoolRecord({ status: 502, body: '<html>Bad Gateway</html>', lmgate_id: '2' }));
    expect(value(await scrape(), 'lmgate_calls_total', { provider: 'openai', model: '', status_class: '5xx', lmgate_id: '2' })).toBe(1);
  });

  it('observes the request duration of every line, in seconds', async () => {
    await record(...mixedRecords());
    const lines = await statsLines();
    const samples = await scrape();
    const counts = [...series(samples, 'lmgate_request_duration_seconds_count').values()].reduce((a, b) => a + b, 0);
    const sum = [...series(samples, 'lmgate_request_duration_seconds_sum').values()].reduce((a, b) => a + b, 0);
    expect(counts).toBe(lines.length);
    expect(sum).toBeCloseTo(lines.reduce((total, line) => total + (line['duration_ms'] as number), 0) / 1000, 6);
    expect(sum).toBeCloseTo((8 * 1.5 + 9 + 61 + 0.03 + 0), 6);
    const slow = { provider: 'openai', model: 'gpt-5-2025-08-07', status_class: '2xx', lmgate_id: '1' };
    expect(value(samples, 'lmgate_request_duration_seconds_bucket', { ...slow, le: '60' })).toBe(0);
    expect(value(samples, 'lmgate_request_duration_seconds_bucket', { ...slow, le: '120' })).toBe(1);
  });

  it('does not move when the recorder runs again over a spool it has read', async () => {
    await record(spoolRecord({ body: anthropicThinkingCacheReadSse, upstream_host: 'api.anthropic.com' }));
    const before = await scrape();
    await recorder.record();
    await recorder.record();
    const after = await scrape();
    for (const name of ['lmgate_calls_total', 'lmgate_tokens_total', 'lmgate_request_duration_seconds_count', 'lmgate_stats_delivery_lag_seconds_count']) {
      expect([name, series(after, name)]).toEqual([name, series(before, name)]);
    }
    expect(await statsLines()).toHaveLength(1);
    expect(value(after, 'lmgate_calls_total')).toBe(1);
  });

  it('counts the records missing from the spool (numbers a worker skipped) as dropped, and no call for them', async () => {
    await record(spoolRecord(), spoolRecord({ seq: 5 }), spoolRecord({ seq: 6 }), spoolRecord({ producer: 'h/2', seq: 2 }));
    const samples = await scrape();
    expect(value(samples, 'lmgate_stats_records_dropped_total')).toBe(3 + 1);
    expect(value(samples, 'lmgate_calls_total')).toBe(4);
    expect(await statsLines()).toHaveLength(4);
  });

  it('observes the delivery lag of every line: its writing minus the end of its call, 0 when nginx\'s clock is ahead', async () => {
    const endedAgo = (seconds: number) => (NOW.getTime() - seconds * 1000) / 1000;
    await record(spoolRecord({ end_ms: endedAgo(4) }), spoolRecord({ end_ms: endedAgo(0.5), request_time: 30 }), spoolRecord({ end_ms: endedAgo(-3) }));
    const samples = await scrape();
    expect(value(samples, 'lmgate_stats_delivery_lag_seconds_count')).toBe(3);
    expect(value(samples, 'lmgate_stats_delivery_lag_seconds_sum')).toBeCloseTo(4.5, 9);
    expect(value(samples, 'lmgate_stats_delivery_lag_seconds_bucket', { le: '0.1' })).toBe(1);
    expect(value(samples, 'lmgate_stats_delivery_lag_seconds_bucket', { le: '0.5' })).toBe(2);
    expect(value(samples, 'lmgate_stats_delivery_lag_seconds_bucket', { le: '2' })).toBe(2);
    expect(value(samples, 'lmgate_stats_delivery_lag_seconds_bucket', { le: '5' })).toBe(3);
  });
});

describe('Metrics as the recorder\'s monitor', () => {
  const line: StatsRecord = {
    timestamp: '2026-01-15T10:29:58.000Z',
    lmgate_id: '1',
    provider: 'openai',
    endpoint: '/openai/v1/chat/completions',
    model: 'm'.repeat(200),
    status: 200,
    input_tokens: 10,
    output_tokens: 0,
    cached_input_tokens: null,
    cache_write_input_tokens: null,
    reasoning_tokens: null,
    masked_key: null,
    error_type: null,
    request_id: null,
    duration_ms: 250,
    first_byte_ms: null,
  };

  it('observes a lag of 0 like any other, and cuts a long model label to 128 characters', async () => {
    const own = new Metrics();
    own.recordWritten(line, 0);
    const samples = parseExposition(await own.exposition());
    expect(value(samples, 'lmgate_stats_delivery_lag_seconds_count')).toBe(1);
    expect(value(samples, 'lmgate_stats_delivery_lag_seconds_sum')).toBe(0);
    expect(value(samples, 'lmgate_calls_total', { model: 'm'.repeat(128) })).toBe(1);
    expect(value(samples, 'lmgate_tokens_total', { kind: 'output' })).toBe(0);
    expect(value(samples, 'lmgate_tokens_total', { kind: 'cached_input' })).toBeUndefined();
  });

  it('adds up the counts of rejected and dropped records it is told of', async () => {
    const own = new Metrics();
    own.recordsRejected(2);
    own.recordsRejected(1);
    own.recordsDropped(7);
    const samples = parseExposition(await own.exposition());
    expect([value(samples, 'lmgate_stats_records_rejected_total'), value(samples, 'lmgate_stats_records_dropped_total')]).toEqual([3, 7]);
  });
});

describe('rejected records', () => {
  beforeEach(() => setUp());

  it('counts each invalid spool line, and nothing for the good ones', async () => {
    const invalid = [{ ...spoolRecord(), status: 'ok' }, { ...spoolRecord(), lmgate_id: '' }, { ...spoolRecord(), request_time: -5 }];
    await record(JSON.stringify(invalid[0]), spoolRecord(), JSON.stringify(invalid[1]), JSON.stringify(invalid[2]), '{"request_uri":', '');
    const samples = await scrape();
    expect([value(samples, 'lmgate_stats_records_rejected_total'), value(samples, 'lmgate_calls_total')]).toEqual([5, 1]);
  });

  it('starts at 0, as do the dropped records', async () => {
    const samples = await scrape();
    expect([value(samples, 'lmgate_stats_records_rejected_total'), value(samples, 'lmgate_stats_records_dropped_total')]).toEqual([0, 0]);
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
