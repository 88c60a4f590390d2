/**
 * CPU time used by each container of the bench stack, from its cgroup: where a call's cost
 * goes (nginx, the service, the mock), independent of how busy the rest of the machine is.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Stack } from '../tests/support/stack';

export const CPU_SERVICES = ['nginx', 'plain-proxy', 'gateway-unrecorded', 'gateway-spool-unread', 'lmgate', 'mock-upstream', 'portkey'] as const;
export type CpuService = (typeof CPU_SERVICES)[number];
export type CpuSample = Record<CpuService, number>;

/** cgroup v1 (cpuacct, nanoseconds) or v2 (cpu.stat usage_usec), cgroupfs or systemd driver. */
function usageReader(containerId: string): (() => number) | null {
  const v1 = `/sys/fs/cgroup/cpuacct/docker/${containerId}/cpuacct.usage`;
  if (existsSync(v1)) return () => Number(readFileSync(v1, 'utf8')) / 1000;
  for (const dir of [`/sys/fs/cgroup/docker/${containerId}`, `/sys/fs/cgroup/system.slice/docker-${containerId}.scope`]) {
    const stat = `${dir}/cpu.stat`;
    if (existsSync(stat)) {
      return () => {
        const line = readFileSync(stat, 'utf8').split('\n').find((l) => l.startsWith('usage_usec '));
        return Number(line?.split(' ')[1] ?? NaN);
      };
    }
  }
  return null;
}

export class ContainerCpu {
  private constructor(private readonly readers: Record<CpuService, () => number>) {}

  /** null when a container's cgroup cannot be read here (then the breakdown is left out). */
  static async open(stack: Stack): Promise<ContainerCpu | null> {
    const containers = await stack.containers();
    const readers: Partial<Record<CpuService, () => number>> = {};
    for (const service of CPU_SERVICES) {
      const id = containers.find((c) => c.Labels['com.docker.compose.service'] === service && c.State === 'running')?.Id;
      const reader = id ? usageReader(id) : null;
      if (!reader) return null;
      readers[service] = reader;
    }
    return new ContainerCpu(readers as Record<CpuService, () => number>);
  }

  /** Microseconds of CPU each container has used since it started. */
  sample(): CpuSample {
    return Object.fromEntries(CPU_SERVICES.map((s) => [s, this.readers[s]()])) as CpuSample;
  }
}

/** What each container used per second between two samples. */
export function ratePerSecond(before: CpuSample, after: CpuSample, seconds: number): CpuSample {
  return Object.fromEntries(CPU_SERVICES.map((s) => [s, (after[s] - before[s]) / seconds])) as CpuSample;
}

/** nginx's column: the gateway's or the plain proxy's, whichever served the calls. */
export const nginxOf = (c: CpuSample) => c.nginx + c['plain-proxy'] + c['gateway-unrecorded'] + c['gateway-spool-unread'];
/** What the gateway itself adds to proxying: nginx and the service. */
export const ownOf = (c: CpuSample) => nginxOf(c) + c.lmgate;
/** What a proxy row costs of its own: the nginx containers and the service, or the Portkey gateway. */
export const proxyOf = (c: CpuSample) => ownOf(c) + c.portkey;
export const totalOf = (c: CpuSample) => proxyOf(c) + c['mock-upstream'];

/** (after - before - idle rate x seconds) / calls, per container, in microseconds. */
export function perCall(before: CpuSample, after: CpuSample, idlePerSecond: CpuSample, seconds: number, calls: number): CpuSample {
  return Object.fromEntries(
    CPU_SERVICES.map((s) => [s, Math.max(0, after[s] - before[s] - idlePerSecond[s] * seconds) / calls]),
  ) as CpuSample;
}
