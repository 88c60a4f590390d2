/**
 * `npm run bench`: what the gateway costs per call next to a plain nginx proxy, in one run.
 *
 * Two stacks, one after the other (bench/stack.ts): proxy-bound, where the providers are a
 * static nginx answering in a few microseconds, so the proxy is the bottleneck and the
 * ratio is the gateway's own; and realistic, with the Fastify mock (usage in every reply).
 * On each: the upstream alone, the plain proxy, the gateway, and both proxies with SSE
 * replies, loaded by wrk at the containers' addresses in interleaved rounds. Every row gets
 * its CPU per call by container (cgroups), every gateway row the stats-line accounting.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { KEYS } from '../tests/support/keys';
import { PROJECT_ROOT } from '../tests/support/stack-info';
import { checkDocker, Stack } from '../tests/support/stack';
import { ContainerCpu, type CpuSample, CPU_SERVICES, nginxOf, ownOf, perCall, ratePerSecond } from './cpu';
import { memoryInFlight, type StreamTarget } from './memory';
import { median, unloadedPairs, type Target } from './load';
import { recordingCost, renderHtml } from './report';
import { closeStack, openStack, type BenchStack, type UpstreamKind } from './stack';
import { StatsTally } from './stats-tally';
import type { BenchResults, Round, RowId, RowResult, StackRatios } from './types';
import { wrk, type WrkRequest } from './wrk';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const THREADS = Number(process.env['BENCH_THREADS'] ?? 2);
const UNLOADED_PAIRS = Number(process.env['BENCH_UNLOADED_PAIRS'] ?? 1000);
const STREAMS_IN_FLIGHT = Number(process.env['BENCH_STREAMS_IN_FLIGHT'] ?? 1000);
const STACKS = (process.env['BENCH_STACKS'] ?? 'static,mock').split(',') as UpstreamKind[];
const CHAT = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
const CHAT_STREAM = JSON.stringify({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] });
const AUTH = { authorization: `Bearer ${KEYS.alpha.key}` };
// Portkey's own way to reach an OpenAI-compatible provider at a given address; the key
// passes to the provider as sent.
const PORTKEY = { ...AUTH, 'x-portkey-provider': 'openai', 'x-portkey-custom-host': 'https://api.openai.com/v1' };
const PORTKEY_DIR = join(PROJECT_ROOT, 'bench', 'portkey');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row {
  id: RowId;
  label: string;
  request: (tag: string) => WrkRequest;
}

/** The five rows of a stack; the static upstream streams when asked by ?stream=1, the mock by the body. */
function rowsOf(stack: BenchStack): Row[] {
  const a = stack.addresses;
  const sse = stack.kind === 'static' ? '?stream=1' : '';
  const sseBody = stack.kind === 'static' ? CHAT : CHAT_STREAM;
  // The mock paces its events unless told not to: this measures the proxies, not the pause.
  const sseHeaders: Record<string, string> = stack.kind === 'mock' ? { 'x-mock-event-delay-ms': '0' } : {};
  const post = (url: string, headers: Record<string, string>, body: string): WrkRequest => ({ url, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const join = (url: string, tag: string) => `${url}${url.includes('?') ? '&' : '?'}lmgate_tag=${tag}`;
  return [
    { id: 'upstream', label: `(1) ${stack.kind} upstream alone`, request: () => post(`https://${a['mock-upstream']}/v1/chat/completions`, { Host: 'api.openai.com' }, CHAT) },
    { id: 'plain', label: '(2) plain nginx proxy', request: () => post(`http://${a['plain-proxy']}:8080/openai/v1/chat/completions`, {}, CHAT) },
    // Right after (2): the two compared most closely see the same machine.
    { id: 'gateway', label: '(3) gateway (auth + stats)', request: (tag) => post(join(`http://${a.nginx}:8080/openai/v1/chat/completions`, tag), AUTH, CHAT) },
    // Right after (3): recording on against off, on the same machine moments apart.
    { id: 'gateway-unrecorded', label: '(3u) gateway, recording off', request: (tag) => post(join(`http://${a['gateway-unrecorded']}:8080/openai/v1/chat/completions`, tag), AUTH, CHAT) },
    // Recording on, but no service reads the spool: nginx's part of what recording costs.
    { id: 'gateway-spool-unread', label: '(3n) gateway, spool read by no one', request: (tag) => post(join(`http://${a['gateway-spool-unread']}:8080/openai/v1/chat/completions`, tag), AUTH, CHAT) },
    // The peer, on the same upstream: what a user of the other gateway would pay. (Its
    // streaming is not loaded here: it drops the query the static upstream streams by.)
    { id: 'portkey', label: '(5) Portkey AI gateway', request: () => post(`http://${a.portkey}:8787/v1/chat/completions`, PORTKEY, CHAT) },
    { id: 'plain-sse', label: '(2s) plain nginx proxy, SSE', request: () => post(`http://${a['plain-proxy']}:8080/openai/v1/chat/completions${sse}`, sseHeaders, sseBody) },
    { id: 'gateway-sse', label: '(4) gateway, SSE', request: (tag) => post(join(`http://${a.nginx}:8080/openai/v1/chat/completions${sse}`, tag), { ...AUTH, ...sseHeaders }, sseBody) },
  ];
}

/** Waits until the tag's lines stop growing (the service reads the spool every second here). */
async function settledLines(stats: StatsTally, tag: string, atLeast: number): Promise<number> {
  const deadline = Date.now() + 60_000;
  let count = -1;
  let stableSince = Date.now();
  while (Date.now() < deadline) {
    const now = stats.count(tag);
    if (now !== count) {
      count = now;
      stableSince = Date.now();
    }
    if (count >= atLeast && Date.now() - stableSince > 2_500) break;
    await sleep(250);
  }
  return count;
}

const medianCpu = (rounds: Round[]): CpuSample =>
  Object.fromEntries(CPU_SERVICES.map((s) => [s, median(rounds.map((r) => r.cpu[s]))])) as CpuSample;

async function benchStack(stack: BenchStack, runTag: string, log: (line: string) => void): Promise<RowResult[]> {
  const cpu = await ContainerCpu.open(stack.compose);
  if (!cpu) throw new Error('the containers\' cgroups cannot be read here: CPU per call needs them (cgroup v1 cpuacct or v2 cpu.stat)');
  const stats = new StatsTally(stack.compose.statsFile);
  const rows = rowsOf(stack);
  const options = { threads: THREADS, connections: CONNECTIONS, seconds: SECONDS };
  // Warm-up: TLS sessions, keep-alive pools, auth decisions, JIT.
  for (const row of rows) await wrk(row.request(`warmup-${runTag}-${stack.kind}-${row.id}`), { ...options, seconds: 1 });
  await sleep(3_000);
  const idleFrom = cpu.sample();
  const idleStarted = performance.now();
  await sleep(3_000);
  const idle = ratePerSecond(idleFrom, cpu.sample(), (performance.now() - idleStarted) / 1000);

  const results: RowResult[] = rows.map((row) => ({ stack: stack.kind, id: row.id, label: row.label, rounds: [], median: { requestsPerSecond: 0, p50: 0, p99: 0, cpu: idle }, stats: null }));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, row] of rows.entries()) {
      const tag = `bench-${runTag}-${stack.kind}-${row.id}-${round}`;
      const before = cpu.sample();
      const started = performance.now();
      const result = await wrk(row.request(tag), options);
      const recorded = row.id === 'gateway' || row.id === 'gateway-sse';
      // A gateway row's window lasts until its lines are written: the spool's reading
      // and the service's work are part of what its calls cost.
      const answered = result.completed - result.non2xx;
      const lines = recorded ? await settledLines(stats, tag, answered) : 0;
      const cost = perCall(before, cpu.sample(), idle, (performance.now() - started) / 1000, Math.max(1, result.completed));
      const target = results[i]!;
      target.rounds.push({ wrk: result, cpu: cost });
      if (recorded) {
        const duplicates = stats.duplicates(tag);
        const previous = target.stats ?? { answered: 0, lines: 0, duplicates: 0, ok: true };
        const ok = lines >= answered && lines <= answered + CONNECTIONS && duplicates === 0;
        target.stats = { answered: previous.answered + answered, lines: previous.lines + lines, duplicates: previous.duplicates + duplicates, ok: previous.ok && ok };
      }
      log(`${stack.kind} round ${round + 1}/${ROUNDS} ${row.label}: ${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.p50.toFixed(2)} ms, ` +
        `non-2xx ${result.non2xx}, socket errors ${result.socketErrors}, CPU per call: nginx ${nginxOf(cost).toFixed(0)} µs, service ${cost.lmgate.toFixed(0)} µs, Portkey ${cost.portkey.toFixed(0)} µs, upstream ${cost['mock-upstream'].toFixed(0)} µs` +
        (recorded ? `, stats lines ${lines} for ${answered} answered` : ''));
    }
  }
  for (const row of results) {
    row.median = {
      requestsPerSecond: median(row.rounds.map((r) => r.wrk.requestsPerSecond)),
      p50: median(row.rounds.map((r) => r.wrk.p50)),
      p99: median(row.rounds.map((r) => r.wrk.p99)),
      cpu: medianCpu(row.rounds),
    };
  }
  return results;
}

function ratiosOf(rows: RowResult[], kind: UpstreamKind): StackRatios {
  const row = (id: RowId) => rows.find((r) => r.stack === kind && r.id === id)!;
  return {
    throughput: row('gateway').median.requestsPerSecond / row('plain').median.requestsPerSecond,
    sseThroughput: row('gateway-sse').median.requestsPerSecond / row('plain-sse').median.requestsPerSecond,
    cpu: ownOf(row('gateway').median.cpu) / nginxOf(row('plain').median.cpu),
    sseCpu: ownOf(row('gateway-sse').median.cpu) / nginxOf(row('plain-sse').median.cpu),
    recording: {
      nginx: nginxOf(row('gateway').median.cpu) - nginxOf(row('gateway-unrecorded').median.cpu),
      service: row('gateway').median.cpu.lmgate - row('gateway-unrecorded').median.cpu.lmgate,
      nginxOwn: ownOf(row('gateway-spool-unread').median.cpu) - ownOf(row('gateway-unrecorded').median.cpu),
      serviceShare: ownOf(row('gateway').median.cpu) - ownOf(row('gateway-spool-unread').median.cpu),
    },
    portkey: {
      throughputOverPlain: row('portkey').median.requestsPerSecond / row('plain').median.requestsPerSecond,
      cpuOverPlain: row('portkey').median.cpu.portkey / nginxOf(row('plain').median.cpu),
      throughputOverGateway: row('portkey').median.requestsPerSecond / row('gateway').median.requestsPerSecond,
      cpuOverGateway: row('portkey').median.cpu.portkey / ownOf(row('gateway').median.cpu),
    },
  };
}

function printResults(results: BenchResults): void {
  console.table(
    results.rows.map((r) => ({
      stack: r.stack,
      row: r.label,
      'req/s': r.median.requestsPerSecond.toFixed(0),
      'p50 ms': r.median.p50.toFixed(2),
      'p99 ms': r.median.p99.toFixed(2),
      'nginx µs': nginxOf(r.median.cpu).toFixed(0),
      'service µs': r.median.cpu.lmgate.toFixed(0),
      'Portkey µs': r.median.cpu.portkey.toFixed(0),
      'upstream µs': r.median.cpu['mock-upstream'].toFixed(0),
      'stats lines / answered': r.stats ? `${r.stats.lines} / ${r.stats.answered}${r.stats.ok ? '' : ' (!)'}` : '—',
    })),
  );
  for (const kind of Object.keys(results.ratios) as UpstreamKind[]) {
    const q = results.ratios[kind];
    console.log(`[bench] ${kind}: gateway / plain proxy — throughput ${q.throughput.toFixed(2)}x, CPU per call ${q.cpu.toFixed(2)}x; SSE: throughput ${q.sseThroughput.toFixed(2)}x, CPU per call ${q.sseCpu.toFixed(2)}x`);
    console.log(`[bench] ${kind}: Portkey AI gateway — throughput ${q.portkey.throughputOverPlain.toFixed(2)}x the plain proxy's and ${q.portkey.throughputOverGateway.toFixed(2)}x LMGate's; CPU per call ${q.portkey.cpuOverPlain.toFixed(2)}x the plain proxy's and ${q.portkey.cpuOverGateway.toFixed(2)}x LMGate's`);
    console.log(`[bench] ${kind}: ${recordingCost(q)}`);
  }
  const u = results.unloaded;
  console.log(`[bench] unloaded p50 (proxy-bound, one connection each): plain proxy ${u.plain.toFixed(3)} ms, gateway ${u.gateway.toFixed(3)} ms, added ${(u.addedMs * 1000).toFixed(0)} µs; Portkey ${u.portkey.toFixed(3)} ms, added ${(u.portkeyAddedMs * 1000).toFixed(0)} µs`);
  for (const m of results.memory) {
    console.log(`[bench] memory with ${m.streams} streaming calls in flight through ${m.target} (${m.started} streaming when read): ` +
      m.containers.map((c) => `${c.name} ${c.idleMiB.toFixed(1)} → ${c.inFlightMiB.toFixed(1)} MiB`).join(', ') +
      `; the calls got ${Object.entries(m.outcomes).map(([outcome, n]) => `${n}× ${outcome}`).join(', ')}` +
      (m.firstFailure ? `; the first failure said: ${m.firstFailure}` : ''));
  }
}

/** Portkey's node_modules on the host, as its lockfile pins them (its image copies them). */
function installPortkey(): void {
  const lock = JSON.parse(readFileSync(join(PORTKEY_DIR, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
  const wanted = lock.packages['node_modules/@portkey-ai/gateway']?.version;
  const installed = join(PORTKEY_DIR, 'node_modules', '@portkey-ai', 'gateway', 'package.json');
  if (existsSync(installed) && (JSON.parse(readFileSync(installed, 'utf8')) as { version: string }).version === wanted) return;
  execFileSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: PORTKEY_DIR, stdio: 'inherit' });
}

/** Paced streams through the gateway, then through Portkey, on the realistic stack. */
async function streamsInFlight(stack: BenchStack): Promise<BenchResults['memory']> {
  // Four events a second apart: every stream is still open when the memory is read.
  const paced = { 'x-mock-event-delay-ms': '1000' };
  const targets: StreamTarget[] = [
    { label: 'LMGate', url: `http://${stack.addresses.nginx}:8080/openai/v1/chat/completions`, headers: { ...AUTH, ...paced }, body: CHAT_STREAM, containers: ['nginx', 'lmgate'] },
    { label: 'Portkey', url: `http://${stack.addresses.portkey}:8787/v1/chat/completions`, headers: { ...PORTKEY, ...paced }, body: CHAT_STREAM, containers: ['portkey'] },
  ];
  const results = [];
  for (const target of targets) results.push(await memoryInFlight(stack.compose, target, STREAMS_IN_FLIGHT));
  return results;
}

async function main(): Promise<void> {
  const { standalone } = await checkDocker();
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  installPortkey();
  const started = Date.now();
  const runTag = started.toString(36);
  const log = (line: string) => console.log(`[bench] ${line}`);
  const build = Stack.prepare({ standalone, label: 'bench-build', overlays: ['docker-compose.bench.yaml'] });
  await build.buildImages();
  rmSync(build.runDir, { recursive: true, force: true });
  // The static upstream and the mock serve the suite's own test CA.
  process.env['NODE_TLS_REJECT_UNAUTHORIZED'] = '0';

  const rows: RowResult[] = [];
  let unloaded = { plain: 0, gateway: 0, addedMs: 0, portkey: 0, portkeyAddedMs: 0 };
  let memory: BenchResults['memory'] = [];
  for (const kind of STACKS) {
    const stack = await openStack(kind, standalone);
    try {
      log(`${kind} stack ${stack.compose.project} up; ${ROUNDS} rounds x ${SECONDS} s per row, wrk ${THREADS} threads, ${CONNECTIONS} connections; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
      rows.push(...(await benchStack(stack, runTag, log)));
      if (kind === 'static') {
        const target = (label: string, url: string, headers: Record<string, string>): Target => ({ label, url: (tag) => `${url}?lmgate_tag=${tag}`, headers, body: CHAT });
        const plain = target('plain', `http://${stack.addresses['plain-proxy']}:8080/openai/v1/chat/completions`, {});
        const pairs = [];
        const peerPairs = [];
        for (let round = 0; round < ROUNDS; round++) {
          pairs.push(await unloadedPairs(plain, target('gateway', `http://${stack.addresses.nginx}:8080/openai/v1/chat/completions`, AUTH), `unloaded-${runTag}-${round}`, UNLOADED_PAIRS));
          peerPairs.push(await unloadedPairs(plain, target('portkey', `http://${stack.addresses.portkey}:8787/v1/chat/completions`, PORTKEY), `unloaded-${runTag}-${round}`, UNLOADED_PAIRS));
        }
        unloaded = {
          plain: median(pairs.map((p) => p.p50[0])),
          gateway: median(pairs.map((p) => p.p50[1])),
          addedMs: median(pairs.map((p) => p.addedMs)),
          portkey: median(peerPairs.map((p) => p.p50[1])),
          portkeyAddedMs: median(peerPairs.map((p) => p.addedMs)),
        };
      } else if (STREAMS_IN_FLIGHT > 0) {
        memory = await streamsInFlight(stack);
      }
    } finally {
      await closeStack(stack);
    }
  }
  const results: BenchResults = {
    startedAt: new Date(started).toISOString(),
    machine: { cpus: cpus().length, node: process.version, loadAverage: loadavg() },
    settings: { rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, threads: THREADS, unloadedPairs: UNLOADED_PAIRS },
    rows,
    ratios: Object.fromEntries(STACKS.map((kind) => [kind, ratiosOf(rows, kind)])) as Record<UpstreamKind, StackRatios>,
    unloaded,
    memory,
  };
  printResults(results);
  const dir = join(PROJECT_ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  writeFileSync(join(dir, `bench-${stamp}.json`), JSON.stringify(results, null, 2));
  writeFileSync(join(dir, `bench-${stamp}.html`), renderHtml(results));
  log(`figures: bench-results/bench-${stamp}.json, chart: bench-results/bench-${stamp}.html (${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
  const wrong = rows.filter((r) => r.stats && !r.stats.ok);
  if (wrong.length > 0) {
    console.error(`[bench] stats lines do not match the answered calls (or a request_id came twice) for: ${wrong.map((r) => `${r.stack} ${r.label}`).join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(`[bench] failed: ${(error as Error).message}`);
  process.exit(1);
});
