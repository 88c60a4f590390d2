import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IDockerComposeOptions, IDockerComposeResult } from 'docker-compose';
import { runCertificates } from './certs';
import { engine, networkAddress, type ContainerSummary } from './docker-engine';
import { allowListCsv, INITIAL_KEYS } from './keys';
import { E2E_DIR, PROJECT_ROOT, type StackInfo } from './stack-info';

/**
 * One Compose stack of the suite (the shared one, an isolated file's, the bench's): the
 * one thing tests and the run's set-up use to reach Docker. Compose brings it up and down
 * (as an operator would); what tests do to its containers many times a run (logs, state,
 * signals, addresses) goes to the Docker Engine API (docker-engine.ts), which only this
 * module calls. Its description (StackInfo: project, files, directories, URLs) is readable
 * on the object itself, and global setup hands the shared one's to the workers as JSON.
 */

export const SERVICES = ['lmgate', 'nginx', 'mock-upstream'] as const;
export type Service = (typeof SERVICES)[number];

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

export class DockerUnavailableError extends Error {
  override name = 'DockerUnavailableError';
}

/** Fails at once, with what to do, when Docker or Compose cannot be used. */
export async function checkDocker(): Promise<{ standalone: boolean }> {
  try {
    await engine.version();
  } catch (error) {
    throw new DockerUnavailableError(
      `The e2e suite needs Docker, but the Docker daemon is not reachable (${(error as Error).message}). Run 'sudo scripts/setup-host.sh' (installs and starts the engine on Debian), or start Docker Desktop, then run the suite again.`,
    );
  }
  for (const [executable, args, standalone] of [['docker', ['compose', 'version'], false], ['docker-compose', ['version'], true]] as const) {
    if ((await exitCode(executable, [...args])) === 0) return { standalone };
  }
  throw new DockerUnavailableError(
    "The e2e suite needs Docker Compose: neither 'docker compose' (v2) nor 'docker-compose' works. Run 'sudo scripts/setup-host.sh', or install the Compose plugin.",
  );
}

function exitCode(executable: string, args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(executable, args, { stdio: 'ignore', timeout: 20_000 });
    child.on('error', () => resolve(null));
    child.on('close', resolve);
  });
}

/** Throws with Compose's own output when a command failed. */
function assertComposeOk(result: IDockerComposeResult, what: string): IDockerComposeResult {
  if (result.exitCode !== 0) {
    throw new Error(`docker compose ${what} failed (exit ${result.exitCode}):\n${result.err}\n${result.out}`);
  }
  return result;
}

type ComposeTarget = Pick<StackInfo, 'project' | 'composeFiles' | 'composeEnv' | 'standalone'>;

/** Runs `docker compose <args>` (with the stack's files, project and environment); throws on failure. */
export type ComposeRunner = (target: ComposeTarget, args: string[]) => Promise<IDockerComposeResult>;

function composeOptions(target: ComposeTarget): IDockerComposeOptions {
  return {
    cwd: PROJECT_ROOT,
    config: target.composeFiles,
    composeOptions: [['--project-name', target.project]],
    env: { ...process.env, ...target.composeEnv },
    ...(target.standalone ? { executable: { standalone: true as const } } : {}),
  };
}

/**
 * Through the docker-compose package, as global setup brings the shared stack up. The
 * package resolves half a second after Compose exits, whatever the command (a fixed timer
 * for the output to drain).
 */
export const composePackage: ComposeRunner = async (target, args) => {
  const [command, ...rest] = args;
  if (!command) throw new Error('a compose command is needed');
  let result: IDockerComposeResult;
  try {
    // Loaded here, not at the top: only global setup uses the package, and every worker
    // that imports this module would otherwise load it (and its YAML parser) for nothing.
    const compose = await import('docker-compose');
    result = await compose.execCompose(command, rest, composeOptions(target));
  } catch (error) {
    if (error && typeof error === 'object' && 'exitCode' in error) result = error as IDockerComposeResult;
    else throw error;
  }
  return assertComposeOk(result, args.join(' '));
};

/**
 * The same command line as composePackage, done when Compose has exited and its output is
 * closed. Everything else the suite asks of Compose goes through this: some thirty calls a
 * run (stacks up and down, services stopped and started mid-test, the image build, the
 * shared stack's down at the run's end), most of them on a path a test or the run waits
 * for, would otherwise add half a second each.
 */
export const composeExec: ComposeRunner = (target, args) =>
  new Promise((resolve, reject) => {
    const options = composeOptions(target);
    const fileArgs = target.composeFiles.flatMap((file) => ['-f', file]);
    const [executable, prefix] = target.standalone ? ['docker-compose', []] : ['docker', ['compose']];
    const child = spawn(executable, [...prefix, '--project-name', target.project, ...fileArgs, ...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (exitCode) => {
      const result = { exitCode, out: Buffer.concat(out).toString('utf8'), err: Buffer.concat(err).toString('utf8'), truncated: { out: false, err: false } };
      try {
        resolve(assertComposeOk(result, args.join(' ')));
      } catch (error) {
        reject(error as Error);
      }
    });
  });

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

export class Stack implements StackInfo {
  constructor(readonly info: StackInfo) {}

  /**
   * A run directory (allow-list in, stats out, test CA) and the description of a stack on
   * free 127.0.0.1 ports under a unique project name. Starts nothing.
   */
  static prepare(options: StackOptions): Stack {
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
    // Host port 0: Docker picks a free one as it binds it (no race between stacks started
    // side by side); readURLs() reads it once the stack is up.
    return new Stack({
      project,
      runDir,
      dataDir,
      statsFile: join(dataDir, 'stats.jsonl'),
      allowListFile,
      gatewayURL: '',
      mockAdminURL: '',
      metricsURL: '',
      serviceURL: '',
      composeFiles: [...E2E_COMPOSE_FILES, ...(options.overlays ?? [])],
      composeEnv: { ...options.env, E2E_RUN_DIR: runDir, LMGATE_DATA_DIR: dataDir, LMGATE_PORT: '0' },
      standalone: options.standalone,
    });
  }

  /**
   * A stack known only by its project name (this run's, or an abandoned one): enough for
   * `down`, which finds its containers, networks and volumes by the project's label. The
   * compose files interpolate E2E_RUN_DIR, so it must be set, to anything.
   */
  static byName(project: string, standalone: boolean): Stack {
    const none = '/nonexistent';
    return new Stack({ project, runDir: none, dataDir: none, statsFile: none, allowListFile: none, gatewayURL: '', mockAdminURL: '', metricsURL: '', serviceURL: '', composeFiles: E2E_COMPOSE_FILES, composeEnv: { E2E_RUN_DIR: none }, standalone });
  }

  /** Compose projects on this machine whose name starts with the prefix. */
  static async projects(prefix: string): Promise<string[]> {
    return (await engine.composeProjects()).filter((name) => name.startsWith(prefix));
  }

  // The description, read through (readURLs() reads the addresses again after a restart).
  get project(): string { return this.info.project; }
  get runDir(): string { return this.info.runDir; }
  get dataDir(): string { return this.info.dataDir; }
  get statsFile(): string { return this.info.statsFile; }
  get allowListFile(): string { return this.info.allowListFile; }
  get gatewayURL(): string { return this.info.gatewayURL; }
  get mockAdminURL(): string { return this.info.mockAdminURL; }
  get metricsURL(): string { return this.info.metricsURL; }
  get serviceURL(): string { return this.info.serviceURL; }
  get composeFiles(): string[] { return this.info.composeFiles; }
  get composeEnv(): Record<string, string> { return this.info.composeEnv; }
  get standalone(): boolean { return this.info.standalone; }

  /** `docker compose <args>` on this stack; throws with Compose's output on failure. */
  compose(args: string[], runner: ComposeRunner = composeExec): Promise<IDockerComposeResult> {
    return runner(this.info, args);
  }

  /**
   * Builds the stack's images once for the whole run (every stack then starts with
   * `--no-build`), and removes what the build left dangling: the previous build of an image
   * whose content changed. Only images labelled by this project's Dockerfiles are touched.
   */
  async buildImages(): Promise<void> {
    await this.compose(['build']);
    await engine.pruneImages('org.lmgate.image');
  }

  /**
   * `up --detach` of images built by buildImages; Compose itself waits for the health-gated
   * start order. With `recordEvents` (the shared stack, whose start order the seed test
   * reads), the stack's events from here on — start order, health — are written to
   * `<runDir>/events.jsonl` until EVENTS_RECORDED_MS from now: the daemon keeps only the
   * last few hundred events machine-wide, which health probes of parallel stacks fill fast.
   */
  async up(options: { runner?: ComposeRunner; recordEvents?: boolean } = {}): Promise<void> {
    if (options.recordEvents) engine.recordEvents({ label: [`com.docker.compose.project=${this.project}`] }, new Date(Date.now() + EVENTS_RECORDED_MS), join(this.runDir, 'events.jsonl'));
    await this.compose(['up', '--no-build', '--detach'], options.runner);
  }

  /**
   * Brings a prepared stack up (through `runner`: global setup brings the shared stack up
   * through the docker-compose package) and waits for health; on failure takes it down and
   * removes its files.
   */
  async start(options: { keepOnFailure?: boolean; runner?: ComposeRunner; recordEvents?: boolean } = {}): Promise<void> {
    try {
      await this.up(options);
      await this.readURLs();
      await this.waitForHealth();
    } catch (error) {
      if (!options.keepOnFailure) await this.remove(options.runner);
      throw error;
    }
  }

  async down(runner: ComposeRunner = composeExec): Promise<void> {
    await this.compose(['down', '--volumes', '--remove-orphans', '--timeout', '10'], runner);
  }

  /** Down (whatever it left behind is found by the run's teardown), and the run directory. */
  async remove(runner: ComposeRunner = composeExec): Promise<void> {
    await this.down(runner).catch(() => undefined);
    rmSync(this.runDir, { recursive: true, force: true });
  }

  /** Containers (stopped ones too), networks and volumes of the project still on the machine, by name. */
  objectsLeft(): Promise<string[]> {
    return engine.projectObjects(this.project);
  }

  /**
   * Fills in the stack's URLs once it is up: the gateway at the port Docker published for
   * nginx (as a client reaches it), the mock's admin API and the service's ports at their
   * containers' addresses on the compose network, which the host routes to (Docker Engine
   * on Linux). The service is not published, as in production, and each port Docker
   * publishes costs a docker-proxy process and firewall rules at every container start.
   */
  async readURLs(): Promise<void> {
    const containers = await this.containers();
    const running = (service: string) => {
      const container = containers.find((c) => c.Labels['com.docker.compose.service'] === service && c.State === 'running');
      if (!container) throw new Error(`${service} of ${this.project} is not running`);
      return container;
    };
    const published = running('nginx').Ports.find((p) => p.PrivatePort === 8080 && p.PublicPort !== undefined && p.Type === 'tcp');
    if (!published) throw new Error(`nginx:8080 of ${this.project} is not published`);
    const onNetwork = (service: string, port: number): string => {
      const address = networkAddress(running(service));
      if (!address) throw new Error(`${service} of ${this.project} has no address on its network`);
      return `${address}:${port}`;
    };
    this.info.gatewayURL = `http://${published.IP ?? '127.0.0.1'}:${published.PublicPort}`;
    this.info.mockAdminURL = `http://${onNetwork('mock-upstream', 8090)}`;
    this.info.metricsURL = `http://${onNetwork('lmgate', 9464)}/metrics`;
    this.info.serviceURL = `http://${onNetwork('lmgate', 8081)}`;
  }

  async waitForHealth(timeoutMs = HEALTH_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const targets = [`${this.gatewayURL}/healthz`, `${this.mockAdminURL}/healthz`];
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
    const [status, logs] = await Promise.all([this.status(), this.logsOrReason()]);
    throw new Error(
      `The e2e stack did not become healthy within ${timeoutMs / 1000}s (${lastProblem}).\n` +
        `(The mock's admin API is reached at its container's address, ${this.mockAdminURL}: the host must route to Docker's networks, as Docker Engine on Linux does.)\n` +
        `Containers:\n${status}\nLogs:\n${logs}\nSet E2E_KEEP_STACK=1 to keep the stack for inspection.`,
    );
  }

  /** The project's containers, stopped ones included; of one service if named. */
  containers(service?: string): Promise<ContainerSummary[]> {
    return engine.projectContainers(this.project, service);
  }

  async containerId(service: string): Promise<string> {
    const [container] = await this.containers(service);
    if (!container) throw new Error(`no container for service ${service} in project ${this.project}`);
    return container.Id;
  }

  /** `docker inspect` of a service's container, or of a container by id. */
  async inspect(service: string, knownId?: string): Promise<Record<string, unknown>> {
    return engine.inspectContainer(knownId ?? (await this.containerId(service)));
  }

  /** A service's container's address on the compose network. */
  async address(service: string): Promise<string | undefined> {
    return networkAddress(await this.inspect(service));
  }

  /**
   * The services' last `tail` log lines each, every line as `service | timestamp text`.
   * Fails when a service has no container in the project or its logs cannot be read: an
   * audit that read nothing must not pass as clean.
   */
  async logs(services: readonly Service[] = SERVICES, tail = 200): Promise<string> {
    const containers = await this.containers();
    const blocks = await Promise.all(
      services.map(async (service) => {
        const mine = containers.filter((c) => c.Labels['com.docker.compose.service'] === service);
        if (mine.length === 0) throw new Error(`no container of service ${service} in project ${this.project}`);
        const lines = (await Promise.all(mine.map((c) => engine.containerLogLines(c.Id, tail)))).flat();
        return lines.map((line) => `${service} | ${line}`).join('\n');
      }),
    );
    return blocks.filter((block) => block !== '').join('\n');
  }

  /** logs() for report attachments and evidence polls: a failure is told in the text. */
  async logsOrReason(services: readonly Service[] = SERVICES, tail = 200): Promise<string> {
    try {
      return await this.logs(services, tail);
    } catch (error) {
      return `could not read logs: ${(error as Error).message}`;
    }
  }

  /** `docker compose ps --all`, or why it could not be listed. */
  async status(): Promise<string> {
    try {
      const result = await this.compose(['ps', '--all']);
      return result.out + result.err;
    } catch (error) {
      return `could not list containers: ${(error as Error).message}`;
    }
  }

  /**
   * Stops a service's process where it stands (SIGSTOP to the container's PID 1, which the
   * kernel delivers from outside the container's PID namespace): connections are still
   * accepted into its backlog, and none is answered until thaw. Not `docker pause`: Docker
   * marks a paused container unhealthy until its next probe (an hour later in the e2e
   * overlay), and a probe in flight as the cgroup freezes leaves runc stuck.
   */
  async freeze(service: Service, knownId?: string): Promise<void> {
    await engine.signalContainer(knownId ?? (await this.containerId(service)), 'SIGSTOP');
  }

  async thaw(service: Service, knownId?: string): Promise<void> {
    await engine.signalContainer(knownId ?? (await this.containerId(service)), 'SIGCONT');
  }

  // What `docker compose stop|kill|start <service>` does, through the Engine API: no
  // Compose process per step.
  async stop(service: Service, seconds: number): Promise<void> {
    await engine.stopContainer(await this.containerId(service), seconds);
  }

  async kill(service: Service, signal = 'SIGKILL'): Promise<void> {
    await engine.signalContainer(await this.containerId(service), signal);
  }

  async startService(service: Service): Promise<void> {
    await engine.startContainer(await this.containerId(service));
  }

  /**
   * A container that only holds an address on the stack's network (sleeping in the mock's
   * image), labelled as an orphan of the stack: should a test end before it removes it,
   * the stack's `down --remove-orphans` does, and so its network can go.
   */
  async placeholder(): Promise<{ id: string; address: string | undefined }> {
    const id = await engine.runContainer({
      image: 'lmgate/mock-upstream:local',
      entrypoint: ['sleep', '300'],
      labels: { 'com.docker.compose.project': this.project, 'com.docker.compose.service': 'address-placeholder' },
      network: `${this.project}_default`,
    });
    return { id, address: networkAddress(await engine.inspectContainer(id)) };
  }

  /** Removes containers by id (placeholders), stopped or not. */
  async removeContainers(ids: readonly string[]): Promise<void> {
    await Promise.all(ids.map((id) => engine.removeContainer(id)));
  }

  /** Waits until the service's container reports healthy again. */
  async waitUntilHealthy(service: Service, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const id = await this.containerId(service);
    for (;;) {
      const state = (await engine.inspectContainer(id))['State'] as { Status: string; Health?: { Status: string } };
      if (state.Status === 'running' && (state.Health === undefined || state.Health.Status === 'healthy')) return;
      if (Date.now() > deadline) throw new Error(`${service} not healthy after ${timeoutMs / 1000}s: ${JSON.stringify(state)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
