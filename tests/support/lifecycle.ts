import { randomBytes } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCertificates } from './certs';
import { allowListCsv, INITIAL_KEYS } from './keys';
import { networkAddress, projectContainers, projectObjects } from './docker-engine';
import { composeIsStandalone, E2E_DIR, type RunInfo } from './run-info';
import { composeExec, containerStatus, downStack, projectsWithPrefix, serviceLogs, type ComposeRunner, type StackRef } from './stack';

export const PROJECT_PREFIX = 'lmgate-e2e-';
export const E2E_COMPOSE_FILES = ['docker-compose.yaml', 'docker-compose.e2e.yaml'];
/** Overlay that puts the faulty stand-in (mock-upstream/src/faulty-service.ts) in the service's place. */
export const FAULTY_SERVICE_OVERLAY = 'docker-compose.faulty-service.yaml';
/** How long a stack's Docker events are recorded from `up` on: its start and first health checks. */
const EVENTS_RECORDED_MS = 120_000;
const HEALTH_TIMEOUT_MS = Number(process.env['E2E_HEALTH_TIMEOUT_MS'] ?? 180_000);
/**
 * nginx's wait for the service's answer about a key (LMGATE_AUTH_TIMEOUT) on the stacks of
 * the files that wait for it on purpose (a service that does not answer): shorter than
 * production's default (the settings table), which every other stack keeps. Shorter
 * everywhere, a loaded 2-core machine turned some calls of the shared stack into
 * fail-closed 403s.
 */
export const AUTH_TIMEOUT_MS = 1_500;

/**
 * The pid in a stack's project name: the test runner's (global setup passes it to the
 * workers), so that every stack of a run is found by global teardown, and a stack whose
 * runner is gone is found by the next run's global setup.
 */
export function runnerPid(): number {
  return Number(process.env['E2E_RUNNER_PID']) || process.pid;
}

export interface StackOptions {
  standalone: boolean;
  /** Allow-list file content; the suite's fixture keys by default; null: no file at all. */
  allowList?: string | null;
  /** Extra variables for compose interpolation (e.g. E2E_STATS_FLUSH_SECONDS). */
  env?: Record<string, string>;
  /** Name suffix after the runner's pid, to tell stacks apart. */
  label?: string;
  /** Compose files added after the e2e overlay. */
  overlays?: string[];
}

/**
 * A run directory (allow-list in, stats out, test CA) and the description of a stack on
 * free 127.0.0.1 ports under a unique project name. Starts nothing.
 */
export async function prepareStack(options: StackOptions): Promise<RunInfo> {
  const project = `${PROJECT_PREFIX}${runnerPid()}-${options.label ?? 'main'}-${randomBytes(3).toString('hex')}`;
  const runDir = join(E2E_DIR, project);
  const dataDir = join(runDir, 'data');
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  // The service writes here as its unprivileged container user, whoever owns the checkout.
  chmodSync(dataDir, 0o777);
  const allowListFile = join(dataDir, 'allowlist.csv');
  if (options.allowList !== null) writeFileSync(allowListFile, options.allowList ?? allowListCsv(INITIAL_KEYS), { mode: 0o644 });
  runCertificates(join(runDir, 'certs'));

  const overlays = options.overlays ?? [];
  // Host port 0: Docker picks a free one as it binds it (no race between stacks started
  // side by side); stackURLs() reads it once the stack is up.
  return {
    project,
    runDir,
    dataDir,
    statsFile: join(dataDir, 'stats.jsonl'),
    allowListFile,
    gatewayURL: '',
    mockAdminURL: '',
    metricsURL: '',
    serviceURL: '',
    composeFiles: [...E2E_COMPOSE_FILES, ...overlays],
    composeEnv: {
      ...options.env,
      E2E_RUN_DIR: runDir,
      LMGATE_DATA_DIR: dataDir,
      LMGATE_PORT: '0',
    },
    standalone: options.standalone,
  };
}

export async function waitForHealth(info: RunInfo, timeoutMs = HEALTH_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const targets = [`${info.gatewayURL}/healthz`, `${info.mockAdminURL}/healthz`];
  let lastProblem = '';
  while (Date.now() < deadline) {
    const results = await Promise.all(
      targets.map(async (url) => {
        try {
          const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
          return response.ok ? null : `${url} answered ${response.status}`;
        } catch (error) {
          return `${url}: ${(error as Error).message}`;
        }
      }),
    );
    const problems = results.filter((r): r is string => r !== null);
    if (problems.length === 0) return;
    lastProblem = problems.join('; ');
    await new Promise((r) => setTimeout(r, 250));
  }
  const [status, logs] = await Promise.all([containerStatus(info), serviceLogs(info)]);
  throw new Error(
    `The e2e stack did not become healthy within ${timeoutMs / 1000}s (${lastProblem}).\n` +
      `(The mock's admin API is reached at its container's address, ${info.mockAdminURL}: the host must route to Docker's networks, as Docker Engine on Linux does.)\n` +
      `Containers:\n${status}\nLogs:\n${logs}\nSet E2E_KEEP_STACK=1 to keep the stack for inspection.`,
  );
}

/**
 * `up --detach` of images built by buildImages; Compose itself waits for the health-gated
 * start order. With `recordEvents` (the shared stack, whose start order the seed test
 * reads), the stack's events from here on — start order, health — are written to
 * `<runDir>/events.jsonl` by a `docker events` that ends by itself: the daemon keeps only
 * the last few hundred events machine-wide, which health probes of parallel stacks fill
 * fast.
 */
export async function upStack(info: RunInfo, runner: ComposeRunner = composeExec, recordEvents = false): Promise<void> {
  if (recordEvents) {
    const out = openSync(join(info.runDir, 'events.jsonl'), 'a');
    const until = new Date(Date.now() + EVENTS_RECORDED_MS).toISOString();
    const watcher = spawn('docker', ['events', '--until', until, '--filter', `label=com.docker.compose.project=${info.project}`, '--format', '{{json .}}'], {
      stdio: ['ignore', out, 'ignore'],
      detached: true,
    });
    watcher.unref();
    closeSync(out);
  }
  await runner(info, ['up', '--no-build', '--detach']);
}

/**
 * Builds the stack's images once for the whole run (every stack then starts with
 * `--no-build`), and removes what the build left dangling: the previous build of an image
 * whose content changed. Only images labelled by this project's Dockerfiles are touched.
 */
export async function buildImages(info: RunInfo): Promise<void> {
  await composeExec(info, ['build']);
  await promisify(execFile)('docker', ['image', 'prune', '--force', '--filter', 'label=org.lmgate.image']);
}

/**
 * Fills in a stack's URLs once it is up: the gateway at the port Docker published for
 * nginx (as a client reaches it), the mock's admin API and the service's ports at their
 * containers' addresses on the compose network, which the host routes to (Docker Engine on
 * Linux). The service is not published, as in production, and each port Docker publishes
 * costs a docker-proxy process and firewall rules at every container start.
 */
export async function stackURLs(info: RunInfo): Promise<void> {
  const containers = await projectContainers(info.project);
  const running = (service: string) => {
    const container = containers.find((c) => c.Labels['com.docker.compose.service'] === service && c.State === 'running');
    if (!container) throw new Error(`${service} of ${info.project} is not running`);
    return container;
  };
  const published = running('nginx').Ports.find((p) => p.PrivatePort === 8080 && p.PublicPort !== undefined && p.Type === 'tcp');
  if (!published) throw new Error(`nginx:8080 of ${info.project} is not published`);
  const onNetwork = (service: string, port: number): string => {
    const address = networkAddress(running(service));
    if (!address) throw new Error(`${service} of ${info.project} has no address on its network`);
    return `${address}:${port}`;
  };
  info.gatewayURL = `http://${published.IP ?? '127.0.0.1'}:${published.PublicPort}`;
  info.mockAdminURL = `http://${onNetwork('mock-upstream', 8090)}`;
  info.metricsURL = `http://${onNetwork('lmgate', 9464)}/metrics`;
  info.serviceURL = `http://${onNetwork('lmgate', 8081)}`;
}

/**
 * Brings a prepared stack up (through `runner`: global setup brings the shared stack up
 * through the docker-compose package) and waits for health; on failure takes it down and
 * removes its files.
 */
export async function startStack(info: RunInfo, options: { keepOnFailure?: boolean; runner?: ComposeRunner; recordEvents?: boolean } = {}): Promise<void> {
  const { keepOnFailure = false, runner = composeExec, recordEvents = false } = options;
  try {
    await upStack(info, runner, recordEvents);
    await stackURLs(info);
    await waitForHealth(info);
  } catch (error) {
    if (!keepOnFailure) await removeStack(info, runner);
    throw error;
  }
}

export async function removeStack(info: RunInfo, runner: ComposeRunner = composeExec): Promise<void> {
  await downStack(info, runner).catch(() => undefined);
  rmSync(info.runDir, { recursive: true, force: true });
}

/**
 * A stack known only by its project name (this run's, or an abandoned one): enough for
 * `down`, which finds its containers, networks and volumes by the project's label. The
 * compose files interpolate E2E_RUN_DIR, so it must be set, to anything.
 */
export function stackByName(project: string, standalone: boolean): StackRef {
  return { project, composeFiles: E2E_COMPOSE_FILES, composeEnv: { E2E_RUN_DIR: '/nonexistent' }, standalone };
}

/**
 * Removes what is left of this run's stacks but `except` (the shared one), with their run
 * directories: the stack of an isolated file whose worker ended while removing it. Such a
 * removal may still be going on beside this one, so a failed down counts for nothing:
 * what counts is that nothing of the stack is left afterwards.
 */
export async function sweepRunStacks(except?: string): Promise<void> {
  const prefix = `${PROJECT_PREFIX}${runnerPid()}-`;
  const standalone = composeIsStandalone();
  const projects = (await projectsWithPrefix(prefix)).filter((project) => project !== except);
  await Promise.all(
    projects.map(async (project) => {
      for (let attempt = 0; ; attempt++) {
        await downStack(stackByName(project, standalone)).catch(() => undefined);
        const left = await projectObjects(project);
        if (left.length === 0) break;
        if (attempt === 2) throw new Error(`stack ${project} left Docker objects behind: ${left.join(', ')}`);
      }
    }),
  );
  if (!existsSync(E2E_DIR)) return;
  for (const dir of readdirSync(E2E_DIR)) {
    if (dir.startsWith(prefix) && dir !== except) rmSync(join(E2E_DIR, dir), { recursive: true, force: true });
  }
}
