/**
 * `npm run bench`: what the gateway costs per call, measured side by side in one run.
 * Brings up the e2e stack plus a plain nginx proxy (docker-compose.bench.yaml), loads each
 * configuration from the host with autocannon on loopback, bounded in requests, several
 * times, and reports medians, ratios and stats-line accounting. Tears down what it started.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { KEYS } from '../tests/support/keys';
import { PROJECT_ROOT } from '../tests/support/run-info';
import { checkDocker } from '../tests/support/stack';
import { ContainerCpu, type CpuSample, nginxOf, ownOf, perCall, ratePerSecond, totalOf } from './cpu';
import { loadRun, median, type Target, unloadedPairs } from './load';
import { renderHtml } from './report';
import { StatsTally } from './stats-tally';
import { closeStack, openStack, removeKeptStack } from './stack';
import type { BenchResults, ConfigResult, CpuBreakdown } from './types';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 20000);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const UNLOADED_PAIRS = Number(process.env['BENCH_UNLOADED_PAIRS'] ?? 1000);
const KEEP_STACK = process.env['BENCH_KEEP_STACK'] === '1';
const CHAT_BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
const STREAM_BODY = JSON.stringify({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForStatsLines(stats: StatsTally, tag: string, expected: number): Promise<number> {
  const deadline = Date.now() + 60_000;
  let count = 0;
  let stableSince = Date.now();
  while (Date.now() < deadline) {
    const now = stats.count(tag);
    if (now !== count) {
      count = now;
      stableSince = Date.now();
    }
    // Delivery runs every second and the flush every quarter: 3 s without change is final.
    if (count >= expected && Date.now() - stableSince > 3_000) break;
    if (count < expected && Date.now() - stableSince > 10_000) break;
    await sleep(250);
  }
  return count;
}

/**
 * CPU per call of (2) and (3), container by container, with the stack's idle use (health
 * probes, allow-list polls) taken out. The gateway's window lasts until its stats lines
 * are written, so the deferred delivery and the service's work are in it.
 */
async function cpuBreakdown(cpu: ContainerCpu, plain: Target, gateway: Target, stats: StatsTally, tag: string): Promise<CpuBreakdown> {
  const idleBefore = cpu.sample();
  const idleStarted = performance.now();
  await sleep(3_000);
  const idle = ratePerSecond(idleBefore, cpu.sample(), (performance.now() - idleStarted) / 1000);
  const window = async (target: Target, after: (ok: number) => Promise<number>) => {
    const before = cpu.sample();
    const started = performance.now();
    const measurement = await loadRun(target, tag, CONNECTIONS, REQUESTS);
    const lines = await after(measurement.ok);
    return { cost: perCall(before, cpu.sample(), idle, (performance.now() - started) / 1000, measurement.ok), ok: measurement.ok, lines };
  };
  const plainRun = await window(plain, async () => 0);
  const gatewayRun = await window(gateway, (ok) => waitForStatsLines(stats, tag, ok));
  return { plain: plainRun.cost, gateway: gatewayRun.cost, statsLines: gatewayRun.lines, ok: gatewayRun.ok };
}

function printCpu(cpu: CpuBreakdown): void {
  const row = (c: CpuSample) => ({
    'nginx µs': nginxOf(c).toFixed(0),
    'service µs': c.lmgate.toFixed(0),
    'mock µs': c['mock-upstream'].toFixed(0),
    'total µs': totalOf(c).toFixed(0),
  });
  console.log('CPU per call, by container (cgroup figures, idle use taken out):');
  console.table({ '(2) plain nginx proxy': row(cpu.plain), '(3) gateway': row(cpu.gateway) });
  // The mock does the same work for both; its column moves with contention only.
  console.log(`the gateway's own cost (nginx + service) is ${(ownOf(cpu.gateway) - ownOf(cpu.plain)).toFixed(0)} µs of CPU per call more than the plain proxy's; stats lines for these calls: ${cpu.statsLines} / ${cpu.ok}`);
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
  console.log(`unloaded p50 (1 keep-alive connection each, sequential, interleaved): plain proxy ${results.unloaded.plain.toFixed(3)} ms, gateway ${results.unloaded.gateway.toFixed(3)} ms, added (median of paired differences) ${results.ratios.addedUnloadedP50Ms.toFixed(3)} ms`);
  console.log(`(3)/(2) run by run (each gateway run right after its plain proxy run): ${results.ratios.gatewayOverPlainByRun.map((r) => `${r.toFixed(2)}x`).join(', ')}`);
  console.log(`throughput ratios: (3)/(2) gateway / plain proxy = ${results.ratios.gatewayOverPlain.toFixed(2)}x, (4)/(2) gateway SSE / plain proxy = ${results.ratios.sseOverPlain.toFixed(2)}x, (4)/(2s) gateway SSE / plain proxy SSE = ${results.ratios.sseOverPlainSse.toFixed(2)}x`);
}

async function main(): Promise<void> {
  const { standalone } = await checkDocker();
  if (process.env['BENCH_DOWN'] === '1') return removeKeptStack();
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  const started = Date.now();
  const stack = await openStack(standalone, KEEP_STACK);
  const { info } = stack;
  // The mock serves the suite's own test CA; this process talks to it on loopback only.
  process.env['NODE_TLS_REJECT_UNAUTHORIZED'] = '0';

  const auth = { authorization: `Bearer ${KEYS.alpha.key}` };
  const gatewayURL = (tag: string) => `${info.gatewayURL}/openai/v1/chat/completions?lmgate_tag=${tag}`;
  const targets: Target[] = [
    { id: 'mock', label: '(1) mock upstream directly', url: () => `${stack.mockURL}/v1/chat/completions`, headers: { host: 'api.openai.com' }, body: CHAT_BODY, countsStats: false },
    { id: 'plain', label: '(2) plain nginx proxy', url: () => `${stack.plainURL}/openai/v1/chat/completions`, headers: {}, body: CHAT_BODY, countsStats: false },
    // (3) right after (2): the two compared most closely see the same machine.
    { id: 'gateway', label: '(3) gateway (auth + stats)', url: gatewayURL, headers: auth, body: CHAT_BODY, countsStats: true },
    // Reference for (4): what SSE costs through nginx alone, with the same replies.
    { id: 'plain-sse', label: '(2s) plain nginx proxy, SSE', url: () => `${stack.plainURL}/openai/v1/chat/completions`, headers: { 'x-mock-event-delay-ms': '0' }, body: STREAM_BODY, countsStats: false },
    // No pause between events: this measures the gateway, not the mock's pacing.
    { id: 'gateway-sse', label: '(4) gateway, SSE streaming', url: gatewayURL, headers: { ...auth, 'x-mock-event-delay-ms': '0' }, body: STREAM_BODY, countsStats: true },
  ];
  const byTarget = (id: Target['id']) => targets.find((t) => t.id === id)!;
  // Every run has its own tags: a reused stack's earlier lines never count.
  const runTag = `${started.toString(36)}`;

  try {
    console.log(`[bench] stack ${info.project} up; ${RUNS} runs x ${REQUESTS} requests, ${CONNECTIONS} connections per configuration`);
    const stats = new StatsTally(info.statsFile);
    for (const target of targets) await loadRun(target, `warmup-${runTag}-${target.id}`, CONNECTIONS, 1000);

    const configs: ConfigResult[] = targets.map((t) => ({ id: t.id, label: t.label, runs: [], median: { requestsPerSecond: 0, p50: 0, p99: 0, ok: 0, errors: 0, durationSeconds: 0 }, statsLines: t.countsStats ? 0 : null }));
    const tagOf = (target: Target, run: number) => `bench-${runTag}-${target.id}-${run}`;
    // Round-robin the configurations so that machine noise spreads over all of them.
    for (let run = 0; run < RUNS; run++) {
      for (const [i, target] of targets.entries()) {
        const measurement = await loadRun(target, tagOf(target, run), CONNECTIONS, REQUESTS);
        configs[i]!.runs.push(measurement);
        // The service writes a run's last records after it ended; waiting here keeps that
        // work out of the next configuration's run.
        const lines = target.countsStats ? await waitForStatsLines(stats, tagOf(target, run), measurement.ok) : null;
        if (lines !== null) configs[i]!.statsLines! += lines;
        console.log(`[bench] run ${run + 1}/${RUNS} ${target.label}: ${measurement.requestsPerSecond.toFixed(0)} req/s, p50 ${measurement.p50} ms, errors ${measurement.errors}${lines === null ? '' : `, stats lines ${lines} / ${measurement.ok}`}`);
      }
    }
    const unloaded = [];
    for (let run = 0; run < RUNS; run++) {
      const pair = await unloadedPairs(byTarget('plain'), byTarget('gateway'), `unloaded-${runTag}-${run}`, UNLOADED_PAIRS);
      console.log(`[bench] run ${run + 1}/${RUNS} unloaded p50: plain proxy ${pair.p50[0].toFixed(3)} ms, gateway ${pair.p50[1].toFixed(3)} ms, added ${pair.addedMs.toFixed(3)} ms`);
      unloaded.push(pair);
    }
    for (const config of configs) {
      config.median = {
        requestsPerSecond: median(config.runs.map((r) => r.requestsPerSecond)),
        p50: median(config.runs.map((r) => r.p50)),
        p99: median(config.runs.map((r) => r.p99)),
        ok: median(config.runs.map((r) => r.ok)),
        errors: median(config.runs.map((r) => r.errors)),
        durationSeconds: median(config.runs.map((r) => r.durationSeconds)),
      };
    }
    const cpu = ContainerCpu.open(info.project);
    const cpuPerCall = cpu ? await cpuBreakdown(cpu, byTarget('plain'), byTarget('gateway'), stats, `cpu-${runTag}`) : null;
    if (!cpu) console.log('[bench] no cgroup CPU figures on this machine: the per-container breakdown is left out');
    const byId = (id: Target['id']) => configs.find((c) => c.id === id)!;
    const results: BenchResults = {
      startedAt: new Date(started).toISOString(),
      machine: { cpus: cpus().length, node: process.version },
      settings: { runs: RUNS, requests: REQUESTS, connections: CONNECTIONS, unloadedPairs: UNLOADED_PAIRS },
      configs,
      unloaded: {
        plain: median(unloaded.map((u) => u.p50[0])),
        gateway: median(unloaded.map((u) => u.p50[1])),
      },
      ratios: {
        gatewayOverPlain: byId('gateway').median.requestsPerSecond / byId('plain').median.requestsPerSecond,
        sseOverPlain: byId('gateway-sse').median.requestsPerSecond / byId('plain').median.requestsPerSecond,
        sseOverPlainSse: byId('gateway-sse').median.requestsPerSecond / byId('plain-sse').median.requestsPerSecond,
        gatewayOverPlainByRun: byId('gateway').runs.map((r, run) => r.requestsPerSecond / byId('plain').runs[run]!.requestsPerSecond),
        addedUnloadedP50Ms: median(unloaded.map((u) => u.addedMs)),
      },
      cpuPerCall,
    };
    printTable(results);
    if (cpuPerCall) printCpu(cpuPerCall);
    const dir = join(PROJECT_ROOT, 'bench-results');
    mkdirSync(dir, { recursive: true });
    const stamp = results.startedAt.replace(/[:.]/g, '-');
    writeFileSync(join(dir, `bench-${stamp}.json`), JSON.stringify(results, null, 2));
    writeFileSync(join(dir, `bench-${stamp}.html`), renderHtml(results));
    console.log(`[bench] figures: bench-results/bench-${stamp}.json, chart: bench-results/bench-${stamp}.html (${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
    const lost = configs.filter((c) => c.statsLines !== null && c.statsLines !== c.runs.reduce((n, r) => n + r.ok, 0));
    if (cpuPerCall && cpuPerCall.statsLines !== cpuPerCall.ok) lost.push({ ...byId('gateway'), label: '(3) gateway, CPU breakdown run' });
    if (lost.length > 0) {
      console.error(`[bench] stats lines do not match successful calls for: ${lost.map((c) => c.label).join(', ')}`);
      process.exitCode = 1;
    }
  } finally {
    await closeStack(stack, KEEP_STACK);
  }
}

main().catch((error: unknown) => {
  console.error(`[bench] failed: ${(error as Error).message}`);
  process.exit(1);
});
