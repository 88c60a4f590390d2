/**
 * The benchmark's stacks: the e2e stack plus a plain nginx proxy (docker-compose.bench.yaml),
 * with production's timings, and either a static nginx upstream in the mock's place
 * (docker-compose.bench-static.yaml: the proxy-bound rows) or the Fastify mock (the
 * realistic rows). Load goes straight to the containers' addresses on the compose network:
 * docker-proxy, on a published port, would add a process of its own to every call.
 */
import { setting } from '../lmgate/src/settings';
import { E2E_COMPOSE_FILES, prepareStack, removeStack, startStack } from '../tests/support/lifecycle';
import { networkAddress, projectContainers } from '../tests/support/docker-engine';
import type { RunInfo } from '../tests/support/run-info';

export type UpstreamKind = 'static' | 'mock';

export interface BenchStack {
  kind: UpstreamKind;
  info: RunInfo;
  /** The compose network address of each service's container. */
  addresses: Record<'nginx' | 'plain-proxy' | 'gateway-unrecorded' | 'lmgate' | 'mock-upstream' | 'portkey', string>;
}

const OVERLAYS: Record<UpstreamKind, string[]> = {
  static: ['docker-compose.bench.yaml', 'docker-compose.bench-static.yaml'],
  mock: ['docker-compose.bench.yaml'],
};

async function addressOf(info: RunInfo, service: string): Promise<string> {
  const [container] = (await projectContainers(info.project, service)).filter((c) => c.State === 'running');
  if (!container) throw new Error(`${service} of ${info.project} is not running`);
  const address = networkAddress(container);
  if (!address) throw new Error(`${service} of ${info.project} has no address`);
  return address;
}

export async function openStack(kind: UpstreamKind, standalone: boolean): Promise<BenchStack> {
  const info = await prepareStack({
    standalone,
    label: `bench-${kind}`,
    // Production's timings (nginx's: the settings table's defaults), not the suite's
    // shorter ones (docker-compose.e2e.yaml), but for a stats line within a second.
    env: { E2E_STATS_FLUSH_SECONDS: '1', E2E_ALLOWLIST_POLL_SECONDS: String(setting('auth.poll_interval_seconds').default) },
  });
  info.composeFiles = [...E2E_COMPOSE_FILES, ...OVERLAYS[kind]];
  await startStack(info);
  const [nginx, plain, unrecorded, lmgate, upstream, portkey] = await Promise.all(['nginx', 'plain-proxy', 'gateway-unrecorded', 'lmgate', 'mock-upstream', 'portkey'].map((s) => addressOf(info, s)));
  return { kind, info, addresses: { nginx: nginx!, 'plain-proxy': plain!, 'gateway-unrecorded': unrecorded!, lmgate: lmgate!, 'mock-upstream': upstream!, portkey: portkey! } };
}

export async function closeStack(stack: BenchStack): Promise<void> {
  await removeStack(stack.info);
}
