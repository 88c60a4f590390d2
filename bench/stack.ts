/**
 * The benchmark's stacks: the e2e stack plus a plain nginx proxy (docker-compose.bench.yaml),
 * with production's timings, and either a static nginx upstream in the mock's place
 * (docker-compose.bench-static.yaml: the proxy-bound rows) or the Fastify mock (the
 * realistic rows). Load goes straight to the containers' addresses on the compose network:
 * docker-proxy, on a published port, would add a process of its own to every call.
 */
import { setting } from '../lmgate/src/settings';
import { Stack } from '../tests/support/stack';
import { CPU_SERVICES, type CpuService } from './cpu';

export type UpstreamKind = 'static' | 'mock';

export interface BenchStack {
  kind: UpstreamKind;
  compose: Stack;
  /** The compose network address of each service's container. */
  addresses: Record<CpuService, string>;
}

const OVERLAYS: Record<UpstreamKind, string[]> = {
  static: ['docker-compose.bench.yaml', 'docker-compose.bench-static.yaml'],
  mock: ['docker-compose.bench.yaml'],
};

async function addressOf(stack: Stack, service: string): Promise<string> {
  const address = await stack.address(service);
  if (!address) throw new Error(`${service} of ${stack.project} has no address (is it running?)`);
  return address;
}

export async function openStack(kind: UpstreamKind, standalone: boolean): Promise<BenchStack> {
  const stack = Stack.prepare({
    standalone,
    label: `bench-${kind}`,
    overlays: OVERLAYS[kind],
    // Production's timings (nginx's: the settings table's defaults), not the suite's
    // shorter ones (docker-compose.e2e.yaml), but for a stats line within a second.
    env: { E2E_STATS_FLUSH_SECONDS: '1', E2E_ALLOWLIST_POLL_SECONDS: String(setting('auth.poll_interval_seconds').default) },
  });
  await stack.start();
  const addresses = await Promise.all(CPU_SERVICES.map(async (service) => [service, await addressOf(stack, service)] as const));
  return { kind, compose: stack, addresses: Object.fromEntries(addresses) as Record<CpuService, string> };
}

export async function closeStack(stack: BenchStack): Promise<void> {
  await stack.compose.remove();
}
