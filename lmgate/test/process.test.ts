import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../src/checkpoint.js';
import type { SpoolRecord } from '../src/records.js';
import { anthropicMessageSse, openAiChatJson } from './fixtures/provider-bodies.js';
import { ALLOWLIST_HEADER, makeTempDir, removeDir, waitFor } from './helpers.js';

const lmgateDir = fileURLToPath(new URL('..', import.meta.url));
const bundle = join(lmgateDir, 'dist', 'lmgate.mjs');

const KEY = 'sk-proj-PROCESSsecretKEY7d2f9a4c1e8b6h3j5k0m';
const KEY_ANTHROPIC = 'sk-ant-api03-PROCESSsecretANTHROPIC-9x8w7v6u5t';
const REFUSED_KEY = 'sk-proj-REFUSEDsecretKEY0000000000000000000';

interface Service {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout: () => string;
  stderr: () => string;
}

const started: ChildProcess[] = [];
const tempDirs: string[] = [];

/** Runs the bundle with plain node, a clean environment (no inherited LMGATE_ variables) and a temp cwd. */
function runService(cwd: string, args: string[], env: Record<string, string> = {}): Service {
  const child = spawn(process.execPath, [bundle, ...args], { cwd, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, exited, stdout: () => out, stderr: () => err };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A port that was free a moment ago (port 0 is refused by the config validation). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function newDir(): Promise<string> {
  const dir = await makeTempDir('lmgate-process-');
  tempDirs.push(dir);
  return dir;
}

interface Setup {
  dir: string;
  port: number;
  metricsPort: number;
  configPath: string;
  allowPath: string;
  statsPath: string;
  spoolDir: string;
  /** Where the service keeps its position in the spool: beside the stats file (main.ts). */
  checkpointPath: string;
}

async function writeSetup(options: { allowlist?: string; logging?: string; extraYaml?: string; flushSeconds?: number } = {}): Promise<Setup> {
  const dir = await newDir();
  const port = await freePort();
  let metricsPort = await freePort();
  while (metricsPort === port) metricsPort = await freePort();
  const allowPath = join(dir, 'allowlist.csv');
  const statsPath = join(dir, 'out', 'stats.jsonl');
  const spoolDir = join(dir, 'spool');
  const configPath = join(dir, 'lmgate.yaml');
  await mkdir(spoolDir);
  await writeFile(allowPath, options.allowlist ?? `${ALLOWLIST_HEADER}\n1,${KEY},team-alpha,2025-01-15\n2,${KEY_ANTHROPIC},team-beta,2025-02-01\n`);
  await writeFile(
    configPath,
    [
      'server:',
      '  host: 127.0.0.1',
      `  port: ${port}`,
      'auth:',
      `  allowlist_path: ${allowPath}`,
      '  poll_interval_seconds: 30',
      'stats:',
      `  output_path: ${statsPath}`,
      `  spool_dir: ${spoolDir}`,
      `  flush_interval_seconds: ${options.flushSeconds ?? 60}`,
      'logging:',
      `  level: ${options.logging ?? 'DEBUG'}`,
      'metrics:',
      '  host: 127.0.0.1',
      `  port: ${metricsPort}`,
      options.extraYaml ?? '',
    ].join('\n'),
  );
  return { dir, port, metricsPort, configPath, allowPath, statsPath, spoolDir, checkpointPath: join(dirname(statsPath), 'lmgate-checkpoint.json') };
}

async function waitHealthy(service: Service, port: number): Promise<void> {
  let exited = false;
  void service.exited.then(() => (exited = true));
  await waitFor(
    async () => {
      if (exited) throw new Error(`service exited during start-up: ${service.stderr()}`);
      try {
        const response = await fetch(`http://127.0.0.1:${port}/healthz`);
        return response.status === 200 && (await response.text()) === 'ok';
      } catch {
        return false;
      }
    },
    10_000,
    '/healthz',
  );
}

const SPOOL_MINUTE_1 = 'records-2026-01-15T10-29.jsonl';
const SPOOL_MINUTE_2 = 'records-2026-01-15T10-30.jsonl';

/** Spool record n of one nginx worker, as nginx writes it: the key only as its masked end. */
function spoolRecord(n: number): SpoolRecord {
  return {
    v: 1,
    producer: 'nginx-host/41',
    seq: n + 1,
    request_id: `req-${n}`,
    end_ms: Number(((Date.now() - 100 - n) / 1000).toFixed(3)),
    request_time: (100 + n) / 1000,
    first_byte_ms: n % 5 === 0 ? null : 40,
    request_uri: `/openai/v1/chat/completions?n=${n}`,
    status: 200,
    lmgate_id: '1',
    upstream_host: 'api.openai.com',
    masked_key: KEY.slice(-6),
    body_truncated: false,
    body: n % 3 === 0 ? anthropicMessageSse : openAiChatJson,
    body_tail: '',
  };
}

/** Appends lines to a spool file as nginx does: a record as its JSON, a string as it is. */
async function writeSpool(spoolDir: string, name: string, lines: Array<SpoolRecord | string>): Promise<void> {
  await writeFile(join(spoolDir, name), lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line)) + '\n').join(''), { flag: 'a' });
}

function spoolRecords(from: number, count: number): SpoolRecord[] {
  return Array.from({ length: count }, (_, i) => spoolRecord(from + i));
}

interface Scrape {
  status: number;
  contentType: string | null;
  text: string;
}

async function scrapeMetrics(port: number): Promise<Scrape> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
}

/** The sum of every sample of one metric in a Prometheus text exposition, optionally of one label value. */
function metricSum(text: string, name: string, label = ''): number {
  return text
    .split('\n')
    .filter((line) => (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && line.includes(label))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

async function statsLines(path: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(path, 'utf8').catch(() => '');
  if (text === '') return [];
  return text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function waitForStatsLines(path: string, count: number): Promise<void> {
  await waitFor(async () => (await statsLines(path)).length >= count, 10_000, `${count} stats lines`);
}

beforeAll(() => {
  execFileSync(process.execPath, ['build.mjs'], { cwd: lmgateDir, stdio: 'pipe' });
}, 60_000);

afterAll(async () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of tempDirs) await removeDir(dir);
});

describe('graceful stop on SIGTERM', () => {
  let setup: Setup;
  let service: Service;
  let authStatuses: number[];
  let metrics: Scrape;
  let linesAtScrape: Array<Record<string, unknown>>;
  let metricsOnMainPort: number;
  let exit: { code: number | null; signal: NodeJS.Signals | null };

  beforeAll(async () => {
    setup = await writeSetup({ flushSeconds: 0.1 });
    service = runService(setup.dir, ['--config', setup.configPath]);
    await waitHealthy(service, setup.port);
    authStatuses = [];
    const authHeaders: Array<Record<string, string>> = [{ authorization: `Bearer ${KEY}` }, { 'x-api-key': KEY_ANTHROPIC }, { authorization: `Bearer ${REFUSED_KEY}` }];
    for (const headers of authHeaders) {
      const response = await fetch(`http://127.0.0.1:${setup.port}/auth`, { headers });
      authStatuses.push(response.status);
    }
    // 50 records in two minutes' files, and one line that is no record (with a key in it:
    // a rejected line is logged without its contents).
    await writeSpool(setup.spoolDir, SPOOL_MINUTE_1, spoolRecords(0, 20));
    await writeSpool(setup.spoolDir, SPOOL_MINUTE_2, [...spoolRecords(20, 10), `{"authorization":"Bearer ${KEY}"`, ...spoolRecords(30, 20)]);
    await waitForStatsLines(setup.statsPath, 50);
    metrics = await scrapeMetrics(setup.metricsPort);
    linesAtScrape = await statsLines(setup.statsPath);
    metricsOnMainPort = (await fetch(`http://127.0.0.1:${setup.port}/metrics`)).status;
    // Lines nginx writes just before the stop: the stop writes them.
    await writeSpool(setup.spoolDir, SPOOL_MINUTE_2, spoolRecords(50, 5));
    service.child.kill('SIGTERM');
    exit = await withTimeout(service.exited, 10_000, 'exit after SIGTERM');
  }, 30_000);

  it('answers /auth for listed and unlisted keys', () => {
    expect(authStatuses).toEqual([200, 200, 403]);
  });

  it('writes the spool\'s lines while it runs, every flush interval', () => {
    expect(linesAtScrape).toHaveLength(50);
  });

  it('exits with code 0', () => {
    expect(exit).toEqual({ code: 0, signal: null });
  });

  it('has written every spool record exactly once before exiting, in spool order', async () => {
    const lines = await statsLines(setup.statsPath);
    expect(lines.map((line) => line['endpoint'])).toEqual(Array.from({ length: 55 }, (_, n) => `/openai/v1/chat/completions?n=${n}`));
  });

  it('writes complete records with masked keys', async () => {
    const lines = await statsLines(setup.statsPath);
    expect(lines.find((line) => line['endpoint'] === '/openai/v1/chat/completions?n=1')).toMatchObject({
      lmgate_id: '1',
      provider: 'openai',
      model: 'gpt-4o-2024-08-06',
      status: 200,
      input_tokens: 1117,
      output_tokens: 46,
      cached_input_tokens: 0,
      cache_write_input_tokens: null,
      reasoning_tokens: 0,
      masked_key: KEY.slice(-6),
      error_type: null,
      request_id: 'req-1',
      duration_ms: 101,
      first_byte_ms: 40,
    });
  });

  it('keeps its checkpoint beside the stats file, at the stats file\'s end and the spool\'s', async () => {
    const checkpoint = await readCheckpoint(setup.checkpointPath);
    expect(checkpoint?.after.stats_bytes).toBe((await stat(setup.statsPath)).size);
    expect(checkpoint?.after.offsets).toEqual({
      [SPOOL_MINUTE_1]: (await stat(join(setup.spoolDir, SPOOL_MINUTE_1))).size,
      [SPOOL_MINUTE_2]: (await stat(join(setup.spoolDir, SPOOL_MINUTE_2))).size,
    });
    expect(checkpoint?.after.producers).toEqual({ 'nginx-host/41': 55 });
  });

  it('answers /metrics on the metrics port with counters that add up to the stats lines', async () => {
    expect([metrics.status, metrics.contentType]).toEqual([200, 'text/plain; version=0.0.4; charset=utf-8']);
    const total = (field: string) => linesAtScrape.reduce((sum, line) => sum + ((line[field] as number | null) ?? 0), 0);
    expect(metricSum(metrics.text, 'lmgate_calls_total')).toBe(50);
    expect(metricSum(metrics.text, 'lmgate_tokens_total', 'kind="input"')).toBe(total('input_tokens'));
    expect(metricSum(metrics.text, 'lmgate_tokens_total', 'kind="output"')).toBe(total('output_tokens'));
    expect(metricSum(metrics.text, 'lmgate_tokens_total', 'kind="cached_input"')).toBe(total('cached_input_tokens'));
    expect(metricSum(metrics.text, 'lmgate_request_duration_seconds_count')).toBe(50);
    expect(metricSum(metrics.text, 'lmgate_request_duration_seconds_sum')).toBeCloseTo(total('duration_ms') / 1000, 6);
    expect(metricSum(metrics.text, 'lmgate_stats_delivery_lag_seconds_count')).toBe(50);
    expect(metricSum(metrics.text, 'lmgate_stats_records_rejected_total')).toBe(1);
    expect(metricSum(metrics.text, 'lmgate_allowlist_keys')).toBe(2);
    expect(metrics.text).toContain('process_cpu_user_seconds_total');
  });

  it('does not serve /metrics on the main port', () => {
    expect(metricsOnMainPort).toBe(404);
  });

  it('never writes a key to stdout, stderr or the stats file', async () => {
    const stats = await readFile(setup.statsPath, 'utf8');
    for (const secret of [KEY, KEY_ANTHROPIC, REFUSED_KEY]) {
      expect(service.stdout()).not.toContain(secret);
      expect(service.stderr()).not.toContain(secret);
      expect(stats).not.toContain(secret);
    }
    expect(service.stdout()).toContain('spool line rejected');
    expect(service.stdout()).toContain('stopping');
  });
});

describe('graceful stop on SIGINT', () => {
  it('writes what the spool holds and exits 0', async () => {
    const setup = await writeSetup({ logging: 'ERROR' });
    const service = runService(setup.dir, ['--config', setup.configPath]);
    await waitHealthy(service, setup.port);
    // The interval is a minute: only the stop writes these.
    await writeSpool(setup.spoolDir, SPOOL_MINUTE_1, spoolRecords(0, 5));
    service.child.kill('SIGINT');
    expect(await withTimeout(service.exited, 10_000, 'exit after SIGINT')).toEqual({ code: 0, signal: null });
    expect(await statsLines(setup.statsPath)).toHaveLength(5);
  }, 20_000);
});

describe('a restart', () => {
  it('writes the spool lines that came while it was stopped, at start, and none the previous process wrote', async () => {
    const setup = await writeSetup({ logging: 'ERROR' });
    await writeSpool(setup.spoolDir, SPOOL_MINUTE_1, spoolRecords(1, 2));
    const first = runService(setup.dir, ['--config', setup.configPath]);
    await waitHealthy(first, setup.port);
    first.child.kill('SIGTERM');
    expect((await withTimeout(first.exited, 10_000, 'exit')).code).toBe(0);
    await writeSpool(setup.spoolDir, SPOOL_MINUTE_1, spoolRecords(3, 1));
    const second = runService(setup.dir, ['--config', setup.configPath]);
    await waitHealthy(second, setup.port);
    // The interval is a minute: the line is written by the start itself.
    await waitForStatsLines(setup.statsPath, 3);
    second.child.kill('SIGTERM');
    expect((await withTimeout(second.exited, 10_000, 'exit')).code).toBe(0);
    expect((await statsLines(setup.statsPath)).map((line) => line['request_id'])).toEqual(['req-1', 'req-2', 'req-3']);
  }, 30_000);
});

describe('configuration of the process', () => {
  it('reads the config file named by LMGATE_CONFIG when there is no --config', async () => {
    const setup = await writeSetup();
    const service = runService(setup.dir, [], { LMGATE_CONFIG: setup.configPath });
    await waitHealthy(service, setup.port);
    service.child.kill('SIGTERM');
    expect((await withTimeout(service.exited, 10_000, 'exit')).code).toBe(0);
  }, 20_000);

  it('reads the spool named by LMGATE_STATS__SPOOL_DIR over the file\'s', async () => {
    const setup = await writeSetup({ logging: 'ERROR' });
    const spoolDir = join(setup.dir, 'other-spool');
    await mkdir(spoolDir);
    await writeSpool(spoolDir, SPOOL_MINUTE_1, spoolRecords(7, 1));
    await writeSpool(setup.spoolDir, SPOOL_MINUTE_1, spoolRecords(8, 1));
    const service = runService(setup.dir, ['--config', setup.configPath], { LMGATE_STATS__SPOOL_DIR: spoolDir });
    await waitHealthy(service, setup.port);
    service.child.kill('SIGTERM');
    expect((await withTimeout(service.exited, 10_000, 'exit')).code).toBe(0);
    expect((await statsLines(setup.statsPath)).map((line) => line['request_id'])).toEqual(['req-7']);
  }, 20_000);

  it('lets LMGATE_ variables override the file (the port)', async () => {
    const setup = await writeSetup();
    const port = await freePort();
    const service = runService(setup.dir, ['--config', setup.configPath], { LMGATE_SERVER__PORT: String(port) });
    await waitHealthy(service, port);
    service.child.kill('SIGTERM');
    expect((await withTimeout(service.exited, 10_000, 'exit')).code).toBe(0);
  }, 20_000);

  it('serves metrics on the port LMGATE_METRICS__PORT names', async () => {
    const setup = await writeSetup();
    let port = await freePort();
    while (port === setup.port) port = await freePort();
    const service = runService(setup.dir, ['--config', setup.configPath], { LMGATE_METRICS__PORT: String(port) });
    await waitHealthy(service, setup.port);
    const scrape = await scrapeMetrics(port);
    expect([scrape.status, scrape.text.includes('# TYPE lmgate_calls_total counter')]).toEqual([200, true]);
    service.child.kill('SIGTERM');
    expect((await withTimeout(service.exited, 10_000, 'exit')).code).toBe(0);
  }, 20_000);
});

// Each of these starts its own short-lived process: run them side by side. A dozen node
// starts at once on a busy machine can take longer than the default 5 s; failure() itself
// gives up after 10 s.
describe.concurrent('start-up failures', { timeout: 20_000 }, () => {
  async function failure(args: string[], env: Record<string, string>, cwd?: string): Promise<{ code: number | null; stderr: string }> {
    const service = runService(cwd ?? (await newDir()), args, env);
    const { code } = await withTimeout(service.exited, 10_000, 'exit on a start-up error');
    return { code, stderr: service.stderr() };
  }

  it('exits 1 with one line naming the file when the allow-list lacks a column', async () => {
    const setup = await writeSetup({ allowlist: `id,owner,added\n1,team-alpha,2025-01-15\n` });
    const result = await failure(['--config', setup.configPath], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^lmgate: cannot start: [^\n]*\n$/);
    expect(result.stderr).toContain(setup.allowPath);
    expect(result.stderr).toContain('api_key');
  });

  it('exits 1 naming the file when the allow-list does not exist', async () => {
    const setup = await writeSetup();
    const missing = join(setup.dir, 'no-such-allowlist.csv');
    const result = await failure(['--config', setup.configPath], { LMGATE_AUTH__ALLOWLIST_PATH: missing });
    expect([result.code, result.stderr]).toEqual([1, `lmgate: cannot start: allow-list ${missing} does not exist\n`]);
  });

  it('exits 1 naming the file when the allow-list is not valid CSV, and never prints a key', async () => {
    const setup = await writeSetup({ allowlist: `${ALLOWLIST_HEADER}\n1,"${KEY},team-alpha,2025-01-15\n` });
    const result = await failure(['--config', setup.configPath], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(setup.allowPath);
    expect(result.stderr).not.toContain(KEY);
  });

  it('exits 1 with one line naming the checkpoint when it is not one the service wrote', async () => {
    const setup = await writeSetup();
    await mkdir(dirname(setup.checkpointPath), { recursive: true });
    await writeFile(setup.checkpointPath, '{"version":1,"before":');
    const result = await failure(['--config', setup.configPath], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^lmgate: cannot start: the stats checkpoint [^\n]* is not one this service wrote[^\n]*\n$/);
    expect(result.stderr).toContain(setup.checkpointPath);
  });

  it('exits 1 naming server.port for LMGATE_SERVER__PORT=abc', async () => {
    const setup = await writeSetup();
    const result = await failure(['--config', setup.configPath], { LMGATE_SERVER__PORT: 'abc' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^lmgate: cannot start: [^\n]*server\.port[^\n]*\n$/);
  });

  it('exits 1 naming logging.level for an unknown log level in the file', async () => {
    const setup = await writeSetup({ logging: 'LOUD' });
    const result = await failure(['--config', setup.configPath], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('logging.level');
    expect(result.stderr).toContain(setup.configPath);
  });

  it('exits 1 naming the config file given with --config when it does not exist', async () => {
    const dir = await newDir();
    const missing = join(dir, 'missing.yaml');
    const result = await failure(['--config', missing], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^lmgate: cannot start: [^\n]*\n$/);
    expect(result.stderr).toContain(missing);
  });

  it('prefers --config over LMGATE_CONFIG', async () => {
    const dir = await newDir();
    const result = await failure(['--config', join(dir, 'from-arg.yaml')], { LMGATE_CONFIG: join(dir, 'from-env.yaml') });
    expect([result.code, result.stderr.includes('from-arg.yaml'), result.stderr.includes('from-env.yaml')]).toEqual([1, true, false]);
  });

  it('exits 1 when --config has no path', async () => {
    const result = await failure(['--config'], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^lmgate: cannot start: [^\n]*--config[^\n]*\n$/);
  });

  for (const which of ['port', 'metricsPort'] as const) {
    it(`exits 1 with one line when the ${which === 'port' ? '' : 'metrics '}port is already taken`, async () => {
      const setup = await writeSetup();
      const blocker: Server = createServer();
      await new Promise<void>((resolve) => blocker.listen(setup[which], '127.0.0.1', resolve));
      try {
        const result = await failure(['--config', setup.configPath], {});
        expect(result.code).toBe(1);
        expect(result.stderr).toContain('EADDRINUSE');
        expect(result.stderr).toMatch(/^lmgate: cannot start: [^\n]*\n$/);
      } finally {
        await new Promise<void>((resolve) => blocker.close(() => resolve()));
      }
    });
  }
});
