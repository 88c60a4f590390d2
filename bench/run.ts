/**
 * `npm run bench`: what the gateway costs per call, measured side by side in one run.
 * Brings up the e2e stack plus a plain nginx proxy (docker-compose.bench.yaml), loads each
 * configuration from the host with autocannon on loopback, bounded in requests, several
 * times, and reports medians, ratios and stats-line accounting. Tears down what it started.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { KEYS } from '../tests/support/keys';
import { E2E_COMPOSE_FILES, freePort, prepareStack, removeStack, startStack } from '../tests/support/lifecycle';
import { PROJECT_ROOT } from '../tests/support/run-info';
import { checkDocker } from '../tests/support/stack';
import { StatsFile } from '../tests/support/stats-file';
import { renderHtml } from './report';
import type { BenchResults, ConfigResult, Measurement } from './types';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 8000);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const UNLOADED_REQUESTS = Number(process.env['BENCH_UNLOADED_REQUESTS'] ?? 500);
const CHAT_BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
const STREAM_BODY = JSON.stringify({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] });

interface Target {
  id: 'mock' | 'plain' | 'plain-sse' | 'gateway' | 'gateway-sse';
  label: string;
  url: (tag: string) => string;
  headers: Record<string, string>;
  body: string;
  countsStats: boolean;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function load(target: Target, tag: string, connections: number, amount: number): Promise<Measurement> {
  const started = performance.now();
  const result = await autocannon({
    url: target.url(tag),
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: target.body,
    connections,
    amount,
    timeout: 20,
  });
  // Completed calls over wall time measured here: autocannon's own duration is whole
  // seconds and its per-second average is coarse on short runs.
  const seconds = (performance.now() - started) / 1000;
  return {
    requestsPerSecond: result['2xx'] / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result['2xx'],
    errors: result.errors + result.timeouts + result.non2xx,
    durationSeconds: seconds,
  };
}

/** p50 of sequential calls on one keep-alive connection, timed to the microsecond. */
async function unloadedP50(target: Target, tag: string, calls: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  try {
    for (let i = 0; i < calls; i++) {
      const started = performance.now();
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(target.url(tag), { agent, method: 'POST', headers: { 'content-type': 'application/json', ...target.headers } }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
        });
        req.on('error', reject);
        req.end(target.body);
      });
      times.push(performance.now() - started);
    }
  } finally {
    agent.destroy();
  }
  return median(times);
}

async function waitForStatsLines(stats: StatsFile, tag: string, expected: number): Promise<number> {
  const deadline = Date.now() + 60_000;
  let count = 0;
  let stableSince = Date.now();
  while (Date.now() < deadline) {
    const now = stats.lines(tag).length;
    if (now !== count) {
      count = now;
      stableSince = Date.now();
    }
    // Delivery runs every second and the flush every quarter: 3 s without change is final.
    if (count >= expected && Date.now() - stableSince > 3_000) break;
    if (count < expected && Date.now() - stableSince > 10_000) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return count;
}

function printTable(results: BenchResults): void {
  const rows = results.configs.map((c) => ({
    configuration: c.label,
    'req/s (median)': c.median.requestsPerSecond.toFixed(0),
    'p50 ms': c.median.p50.toFixed(2),
    'p99 ms': c.median.p99.toFixed(2),
    errors: c.runs.reduce((n, r) => n + r.errors, 0),
    'stats lines / 2xx': c.statsLines === null ? '—' : `${c.statsLines} / ${c.runs.reduce((n, r) => n + r.ok, 0)}`,
  }));
  console.table(rows);
  console.log(`unloaded p50 (1 keep-alive connection, sequential): plain proxy ${results.unloaded.plain.toFixed(3)} ms, gateway ${results.unloaded.gateway.toFixed(3)} ms, added ${results.ratios.addedUnloadedP50Ms.toFixed(3)} ms`);
  console.log(`throughput ratios: (3)/(2) gateway / plain proxy = ${results.ratios.gatewayOverPlain.toFixed(2)}x, (4)/(2) gateway SSE / plain proxy = ${results.ratios.sseOverPlain.toFixed(2)}x, (4)/(2s) gateway SSE / plain proxy SSE = ${results.ratios.sseOverPlainSse.toFixed(2)}x`);
}

async function main(): Promise<void> {
  const { standalone } = await checkDocker();
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  const [plainPort, mockPort] = await Promise.all([freePort(), freePort()]);
  const info = await prepareStack({ standalone, label: 'bench', env: { BENCH_PLAIN_PORT: String(plainPort), BENCH_MOCK_TLS_PORT: String(mockPort) } });
  info.composeFiles = [...E2E_COMPOSE_FILES, 'docker-compose.bench.yaml'];
  // The mock serves the suite's own test CA; this process talks to it on loopback only.
  process.env['NODE_TLS_REJECT_UNAUTHORIZED'] = '0';

  const auth = { authorization: `Bearer ${KEYS.alpha.key}` };
  const targets: Target[] = [
    { id: 'mock', label: '(1) mock upstream directly', url: () => `https://127.0.0.1:${mockPort}/v1/chat/completions`, headers: { host: 'api.openai.com' }, body: CHAT_BODY, countsStats: false },
    { id: 'plain', label: '(2) plain nginx proxy', url: () => `http://127.0.0.1:${plainPort}/openai/v1/chat/completions`, headers: {}, body: CHAT_BODY, countsStats: false },
    // Reference for (4): what SSE costs through nginx alone, with the same replies.
    { id: 'plain-sse', label: '(2s) plain nginx proxy, SSE', url: () => `http://127.0.0.1:${plainPort}/openai/v1/chat/completions`, headers: { 'x-mock-event-delay-ms': '0' }, body: STREAM_BODY, countsStats: false },
    { id: 'gateway', label: '(3) gateway (auth + stats)', url: (tag) => `${info.gatewayURL}/openai/v1/chat/completions?lmgate_tag=${tag}`, headers: auth, body: CHAT_BODY, countsStats: true },
    // No pause between events: this measures the gateway, not the mock's pacing.
    { id: 'gateway-sse', label: '(4) gateway, SSE streaming', url: (tag) => `${info.gatewayURL}/openai/v1/chat/completions?lmgate_tag=${tag}`, headers: { ...auth, 'x-mock-event-delay-ms': '0' }, body: STREAM_BODY, countsStats: true },
  ];

  const started = Date.now();
  try {
    await startStack(info);
    console.log(`[bench] stack ${info.project} up; ${RUNS} runs x ${REQUESTS} requests, ${CONNECTIONS} connections per configuration`);
    const stats = new StatsFile(info.statsFile);
    for (const target of targets) await load(target, `warmup-${target.id}`, CONNECTIONS, 1000);

    const configs: ConfigResult[] = targets.map((t) => ({ id: t.id, label: t.label, runs: [], median: { requestsPerSecond: 0, p50: 0, p99: 0, ok: 0, errors: 0, durationSeconds: 0 }, statsLines: t.countsStats ? 0 : null }));
    // Round-robin the configurations so that machine noise spreads over all of them.
    for (let run = 0; run < RUNS; run++) {
      for (const [i, target] of targets.entries()) {
        const measurement = await load(target, `bench-${target.id}-${run}`, CONNECTIONS, REQUESTS);
        configs[i]!.runs.push(measurement);
        console.log(`[bench] run ${run + 1}/${RUNS} ${target.label}: ${measurement.requestsPerSecond.toFixed(0)} req/s, p50 ${measurement.p50} ms, errors ${measurement.errors}`);
      }
    }
    for (const [i, target] of targets.entries()) {
      const config = configs[i]!;
      config.median = {
        requestsPerSecond: median(config.runs.map((r) => r.requestsPerSecond)),
        p50: median(config.runs.map((r) => r.p50)),
        p99: median(config.runs.map((r) => r.p99)),
        ok: median(config.runs.map((r) => r.ok)),
        errors: median(config.runs.map((r) => r.errors)),
        durationSeconds: median(config.runs.map((r) => r.durationSeconds)),
      };
      if (target.countsStats) {
        let lines = 0;
        for (let run = 0; run < RUNS; run++) lines += await waitForStatsLines(stats, `bench-${target.id}-${run}`, config.runs[run]!.ok);
        config.statsLines = lines;
      }
    }
    const byTarget = (id: Target['id']) => targets.find((t) => t.id === id)!;
    const unloadedPlain: number[] = [];
    const unloadedGateway: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      unloadedPlain.push(await unloadedP50(byTarget('plain'), `unloaded-plain-${run}`, UNLOADED_REQUESTS));
      unloadedGateway.push(await unloadedP50(byTarget('gateway'), `unloaded-gateway-${run}`, UNLOADED_REQUESTS));
    }
    const byId = (id: Target['id']) => configs.find((c) => c.id === id)!;
    const results: BenchResults = {
      startedAt: new Date(started).toISOString(),
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
      settings: { runs: RUNS, requests: REQUESTS, connections: CONNECTIONS, unloadedRequests: UNLOADED_REQUESTS },
      configs,
      unloaded: { plain: median(unloadedPlain), gateway: median(unloadedGateway) },
      ratios: {
        gatewayOverPlain: byId('gateway').median.requestsPerSecond / byId('plain').median.requestsPerSecond,
        sseOverPlain: byId('gateway-sse').median.requestsPerSecond / byId('plain').median.requestsPerSecond,
        sseOverPlainSse: byId('gateway-sse').median.requestsPerSecond / byId('plain-sse').median.requestsPerSecond,
        addedUnloadedP50Ms: median(unloadedGateway) - median(unloadedPlain),
      },
    };
    printTable(results);
    const dir = join(PROJECT_ROOT, 'bench-results');
    mkdirSync(dir, { recursive: true });
    const stamp = results.startedAt.replace(/[:.]/g, '-');
    writeFileSync(join(dir, `bench-${stamp}.json`), JSON.stringify(results, null, 2));
    writeFileSync(join(dir, `bench-${stamp}.html`), renderHtml(results));
    console.log(`[bench] figures: bench-results/bench-${stamp}.json, chart: bench-results/bench-${stamp}.html (${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
    const lost = configs.filter((c) => c.statsLines !== null && c.statsLines !== c.runs.reduce((n, r) => n + r.ok, 0));
    if (lost.length > 0) {
      console.error(`[bench] stats lines do not match successful calls for: ${lost.map((c) => c.label).join(', ')}`);
      process.exitCode = 1;
    }
  } finally {
    await removeStack(info);
  }
}

main().catch((error: unknown) => {
  console.error(`[bench] failed: ${(error as Error).message}`);
  process.exit(1);
});
