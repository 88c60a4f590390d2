import { createWriteStream } from 'node:fs';
import { request } from 'node:http';

/**
 * The Docker Engine API over its unix socket, for what tests ask of containers many times
 * per run (logs, state, signals, published ports). Each `docker`/`docker compose` command
 * is a process of its own, tens of milliseconds of CPU on a machine the suite already
 * keeps busy; bringing stacks up and down stays with Compose. Only stack.ts calls it (the
 * `engine` object): a Stack is the suite's one way to Docker.
 */

function socketPath(): string {
  const host = process.env['DOCKER_HOST'];
  if (host === undefined || host === '') return '/var/run/docker.sock';
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  throw new Error(`DOCKER_HOST=${host}: the e2e suite reaches the Docker Engine API over a unix socket only (unix:///path/docker.sock).`);
}

export class EngineError extends Error {
  override name = 'EngineError';
  constructor(
    readonly status: number,
    what: string,
    body: string,
  ) {
    super(`Docker Engine API ${what} answered ${status}: ${body.trim()}`);
  }
}

async function call(method: string, path: string, body?: object): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = { host: 'docker', ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }) };
    const req = request({ socketPath: socketPath(), method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const answer = Buffer.concat(chunks);
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve(answer);
        else reject(new EngineError(status, `${method} ${path}`, answer.toString('utf8')));
      });
    });
    req.on('error', (error) => reject(new Error(`Docker Engine API ${method} ${path}: ${error.message} (is the daemon running? DOCKER_HOST?)`)));
    req.end(payload);
  });
}

export interface ContainerSummary {
  Id: string;
  Labels: Record<string, string>;
  State: string;
  Ports: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }>;
  NetworkSettings?: NetworkSettings;
}

interface NetworkSettings {
  Networks?: Record<string, { IPAddress?: string }>;
}

/** A container's address on its network (a compose service has one), from a list entry or an inspect result. */
export function networkAddress(container: object): string | undefined {
  return Object.values((container as { NetworkSettings?: NetworkSettings }).NetworkSettings?.Networks ?? {}).find((network) => network.IPAddress)?.IPAddress || undefined;
}

/** The containers of a Compose project, stopped ones included; of one service if named. */
async function projectContainers(project: string, service?: string): Promise<ContainerSummary[]> {
  const labels = [`com.docker.compose.project=${project}`, ...(service ? [`com.docker.compose.service=${service}`] : [])];
  const filters = encodeURIComponent(JSON.stringify({ label: labels }));
  return JSON.parse((await call('GET', `/containers/json?all=1&filters=${filters}`)).toString('utf8')) as ContainerSummary[];
}

const PROJECT_LABEL = 'com.docker.compose.project';

interface Labelled {
  Id?: string;
  Name: string;
  Labels: Record<string, string> | null;
}

async function listWithLabel(kind: 'containers' | 'networks' | 'volumes', label: string): Promise<Labelled[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: [label] }));
  const body = JSON.parse((await call('GET', `/${kind}${kind === 'containers' ? '/json?all=1&' : '?'}filters=${filters}`)).toString('utf8')) as unknown;
  // Volumes come wrapped: { Volumes: [...] }; containers have Names, not Name.
  const list = (kind === 'volumes' ? (body as { Volumes: Labelled[] | null }).Volumes ?? [] : body) as Array<Labelled & { Names?: string[] }>;
  return list.map((item) => ({ ...item, Name: item.Name ?? item.Names?.[0]?.replace(/^\//, '') ?? item.Id ?? '?' }));
}

/** Containers (stopped ones too), networks and volumes labelled with the Compose project, by name. */
async function projectObjects(project: string): Promise<string[]> {
  const lists = await Promise.all((['containers', 'networks', 'volumes'] as const).map((kind) => listWithLabel(kind, `${PROJECT_LABEL}=${project}`)));
  return lists.flat().map((item) => item.Name);
}

/** The Compose projects that have containers or networks on this machine. */
async function composeProjects(): Promise<string[]> {
  const lists = await Promise.all((['containers', 'networks'] as const).map((kind) => listWithLabel(kind, PROJECT_LABEL)));
  return [...new Set(lists.flat().map((item) => item.Labels?.[PROJECT_LABEL] ?? ''))].filter((name) => name !== '');
}

async function inspectContainer(id: string): Promise<Record<string, unknown>> {
  return JSON.parse((await call('GET', `/containers/${encodeURIComponent(id)}/json`)).toString('utf8')) as Record<string, unknown>;
}

async function signalContainer(id: string, signal: string): Promise<void> {
  await call('POST', `/containers/${encodeURIComponent(id)}/kill?signal=${encodeURIComponent(signal)}`);
}

/** docker stop: the stop signal, then SIGKILL after `seconds`. */
async function stopContainer(id: string, seconds: number): Promise<void> {
  await call('POST', `/containers/${encodeURIComponent(id)}/stop?t=${seconds}`);
}

async function startContainer(id: string): Promise<void> {
  await call('POST', `/containers/${encodeURIComponent(id)}/start`);
}


/**
 * A container's log lines (stdout and stderr), each prefixed with its timestamp, as
 * `docker logs --timestamps --tail N` prints them. Without a TTY, the Engine frames the
 * stream: 8 bytes (stream, 3 zero bytes, big-endian length), then that many bytes.
 */
async function containerLogLines(id: string, tail: number): Promise<string[]> {
  const body = await call('GET', `/containers/${encodeURIComponent(id)}/logs?stdout=1&stderr=1&timestamps=1&tail=${tail}`);
  const parts: Buffer[] = [];
  for (let at = 0; at + 8 <= body.length; ) {
    const size = body.readUInt32BE(at + 4);
    parts.push(body.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8').split('\n').filter((line) => line !== '');
}

/** `docker run --detach --rm`: a container from an image already here, on a network, with labels; its id. */
async function runContainer(spec: { image: string; entrypoint: string[]; labels: Record<string, string>; network: string }): Promise<string> {
  const created = JSON.parse(
    (await call('POST', '/containers/create', { Image: spec.image, Entrypoint: spec.entrypoint, Labels: spec.labels, HostConfig: { AutoRemove: true, NetworkMode: spec.network } })).toString('utf8'),
  ) as { Id: string };
  await startContainer(created.Id);
  return created.Id;
}

/** `docker rm --force`. */
async function removeContainer(id: string): Promise<void> {
  await call('DELETE', `/containers/${encodeURIComponent(id)}?force=1`);
}

/** The daemon's version: fails when it cannot be reached. */
async function version(): Promise<string> {
  return (JSON.parse((await call('GET', '/version')).toString('utf8')) as { Version: string }).Version;
}

/** `docker image prune --filter label=<label>`: dangling images of that label. */
async function pruneImages(label: string): Promise<void> {
  await call('POST', `/images/prune?filters=${encodeURIComponent(JSON.stringify({ label: [label], dangling: ['true'] }))}`);
}

/**
 * Writes the daemon's events matching `filters` from now until `until` to `path`, one
 * JSON object a line (`docker events --format '{{json .}}'`). In the background: the
 * stream ends by itself at `until`, and does not keep the process alive.
 */
function recordEvents(filters: Record<string, string[]>, until: Date, path: string): void {
  const query = `since=${Math.floor(Date.now() / 1000)}&until=${Math.ceil(until.getTime() / 1000)}&filters=${encodeURIComponent(JSON.stringify(filters))}`;
  const out = createWriteStream(path, { flags: 'a' });
  const req = request({ socketPath: socketPath(), method: 'GET', path: `/events?${query}`, headers: { host: 'docker' } }, (res) => res.pipe(out));
  req.on('socket', (socket) => socket.unref());
  req.on('error', (error) => out.end(`${JSON.stringify({ error: error.message })}\n`));
  req.end();
}

export const engine = {
  version,
  projectContainers,
  projectObjects,
  composeProjects,
  inspectContainer,
  signalContainer,
  stopContainer,
  startContainer,
  containerLogLines,
  pruneImages,
  recordEvents,
  runContainer,
  removeContainer,
};
