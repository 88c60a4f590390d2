import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import type { IDockerComposeOptions, IDockerComposeResult } from 'docker-compose';
import { composeProjects, containerLogLines, inspectContainer, pauseContainer, projectContainers, signalContainer, startContainer, stopContainer } from './docker-engine';
import { PROJECT_ROOT, type RunInfo } from './run-info';

const run = promisify(execFile);

export const SERVICES = ['lmgate', 'nginx', 'mock-upstream'] as const;
export type Service = (typeof SERVICES)[number];

export class DockerUnavailableError extends Error {
  override name = 'DockerUnavailableError';
}

/** Fails at once, with what to do, when Docker or Compose cannot be used. */
export async function checkDocker(): Promise<{ standalone: boolean }> {
  try {
    await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 20_000 });
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the docker command is not installed' : 'the Docker daemon is not reachable';
    throw new DockerUnavailableError(
      `The e2e suite needs Docker, but ${reason}. Run 'sudo scripts/setup-host.sh' (installs and starts the engine on Debian), or start Docker Desktop, then run the suite again.`,
    );
  }
  try {
    await run('docker', ['compose', 'version'], { timeout: 20_000 });
    return { standalone: false };
  } catch {
    try {
      await run('docker-compose', ['version'], { timeout: 20_000 });
      return { standalone: true };
    } catch {
      throw new DockerUnavailableError(
        "The e2e suite needs Docker Compose: neither 'docker compose' (v2) nor 'docker-compose' works. Run 'sudo scripts/setup-host.sh', or install the Compose plugin.",
      );
    }
  }
}

export function composeOptions(info: Pick<RunInfo, 'project' | 'composeFiles' | 'composeEnv' | 'standalone'>): IDockerComposeOptions {
  return {
    cwd: PROJECT_ROOT,
    config: info.composeFiles,
    composeOptions: [['--project-name', info.project]],
    env: { ...process.env, ...info.composeEnv },
    ...(info.standalone ? { executable: { standalone: true as const } } : {}),
  };
}

/** Throws with Compose's own output when a command failed. */
export function assertComposeOk(result: IDockerComposeResult, what: string): IDockerComposeResult {
  if (result.exitCode !== 0) {
    throw new Error(`docker compose ${what} failed (exit ${result.exitCode}):\n${result.err}\n${result.out}`);
  }
  return result;
}

export type StackRef = Pick<RunInfo, 'project' | 'composeFiles' | 'composeEnv' | 'standalone'>;

/** Runs `docker compose <args>` (with the stack's files, project and environment); throws on failure. */
export type ComposeRunner = (info: StackRef, args: string[]) => Promise<IDockerComposeResult>;

/**
 * Through the docker-compose package, as global setup brings the shared stack up. The
 * package resolves half a second after Compose exits, whatever the command (a fixed timer
 * for the output to drain).
 */
export const composePackage: ComposeRunner = async (info, args) => {
  const [command, ...rest] = args;
  if (!command) throw new Error('a compose command is needed');
  let result: IDockerComposeResult;
  try {
    // Loaded here, not at the top: only global setup uses the package, and every worker
    // that imports this module would otherwise load it (and its YAML parser) for nothing.
    const compose = await import('docker-compose');
    result = await compose.execCompose(command, rest, composeOptions(info));
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
export const composeExec: ComposeRunner = (info, args) =>
  new Promise((resolve, reject) => {
    const options = composeOptions(info);
    const fileArgs = info.composeFiles.flatMap((file) => ['-f', file]);
    const [executable, prefix] = info.standalone ? ['docker-compose', []] : ['docker', ['compose']];
    const child = spawn(executable, [...prefix, '--project-name', info.project, ...fileArgs, ...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
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

/**
 * The services' last `tail` log lines each, every line as `service | timestamp text`. Fails
 * when a service has no container in the project or its logs cannot be read: an audit
 * that read nothing must not pass as clean.
 */
export async function readServiceLogs(info: RunInfo, services: readonly Service[] = SERVICES, tail = 200): Promise<string> {
  const containers = await projectContainers(info.project);
  const blocks = await Promise.all(
    services.map(async (service) => {
      const mine = containers.filter((c) => c.Labels['com.docker.compose.service'] === service);
      if (mine.length === 0) throw new Error(`no container of service ${service} in project ${info.project}`);
      const lines = (await Promise.all(mine.map((c) => containerLogLines(c.Id, tail)))).flat();
      return lines.map((line) => `${service} | ${line}`).join('\n');
    }),
  );
  return blocks.filter((block) => block !== '').join('\n');
}

/** readServiceLogs for report attachments and evidence polls: a failure is told in the text. */
export async function serviceLogs(info: RunInfo, services: readonly Service[] = SERVICES, tail = 200): Promise<string> {
  try {
    return await readServiceLogs(info, services, tail);
  } catch (error) {
    return `could not read logs: ${(error as Error).message}`;
  }
}

export async function containerStatus(info: RunInfo): Promise<string> {
  try {
    const result = await composeExec(info, ['ps', '--all']);
    return result.out + result.err;
  } catch (error) {
    return `could not list containers: ${(error as Error).message}`;
  }
}

export async function containerId(info: RunInfo, service: Service): Promise<string> {
  const [container] = await projectContainers(info.project, service);
  if (!container) throw new Error(`no container for service ${service} in project ${info.project}`);
  return container.Id;
}

/** Compose projects on this machine whose name starts with the prefix. */
export async function projectsWithPrefix(prefix: string): Promise<string[]> {
  return (await composeProjects()).filter((name) => name.startsWith(prefix));
}

export async function downStack(info: StackRef, runner: ComposeRunner = composeExec): Promise<void> {
  await runner(info, ['down', '--volumes', '--remove-orphans', '--timeout', '10']);
}

/**
 * Stops a service's process where it stands (SIGSTOP to the container's PID 1, which the
 * kernel delivers from outside the container's PID namespace): connections are still
 * accepted into its backlog, and none is answered until thawService. Not `docker pause`:
 * Docker marks a paused container unhealthy until its next probe (an hour later in the
 * e2e overlay), and a probe in flight as the cgroup freezes leaves runc stuck.
 */
export async function freezeService(info: RunInfo, service: Service, knownId?: string): Promise<void> {
  await signalContainer(knownId ?? (await containerId(info, service)), 'SIGSTOP');
}

export async function thawService(info: RunInfo, service: Service, knownId?: string): Promise<void> {
  await signalContainer(knownId ?? (await containerId(info, service)), 'SIGCONT');
}

/**
 * `docker pause`, for a container that is stopped next: Docker thaws it to deliver the
 * stop's SIGTERM, where a SIGSTOPped process would sit on it until the SIGKILL. The
 * kernel's cgroup freezer now and then gives up on a busy container ("unable to
 * freeze"); that is the machine's hiccup, not the stack's, so it is tried again.
 */
export async function pauseBeforeStop(info: RunInfo, service: Service, knownId?: string): Promise<void> {
  const id = knownId ?? (await containerId(info, service));
  for (let attempt = 1; ; attempt++) {
    try {
      await pauseContainer(id);
      return;
    } catch (error) {
      const message = (error as Error).message;
      if (attempt >= 5 || !message.includes('unable to freeze')) throw new Error(`docker pause ${service} failed: ${message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Stops, kills or starts a service's existing container through the Engine API: what
 * `docker compose stop|kill|start <service>` does, without a Compose process per step.
 */
export async function stopService(info: RunInfo, service: Service, seconds: number): Promise<void> {
  await stopContainer(await containerId(info, service), seconds);
}

export async function killService(info: RunInfo, service: Service): Promise<void> {
  await signalContainer(await containerId(info, service), 'SIGKILL');
}

export async function startService(info: RunInfo, service: Service): Promise<void> {
  await startContainer(await containerId(info, service));
}

/** Waits until the service's container reports healthy again. */
export async function waitUntilHealthy(info: RunInfo, service: Service, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const id = await containerId(info, service);
  for (;;) {
    const state = (await inspectContainer(id))['State'] as { Status: string; Health?: { Status: string } };
    if (state.Status === 'running' && (state.Health === undefined || state.Health.Status === 'healthy')) return;
    if (Date.now() > deadline) throw new Error(`${service} not healthy after ${timeoutMs / 1000}s: ${JSON.stringify(state)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
