import type { CpuSample } from './cpu';
import type { UpstreamKind } from './stack';
import type { WrkResult } from './wrk';

export type RowId = 'upstream' | 'plain' | 'gateway' | 'gateway-unrecorded' | 'plain-sse' | 'gateway-sse';

export interface Round {
  wrk: WrkResult;
  /** Microseconds of CPU per completed call by container, the stack's idle use taken out. */
  cpu: CpuSample;
}

export interface RowResult {
  stack: UpstreamKind;
  id: RowId;
  label: string;
  rounds: Round[];
  median: { requestsPerSecond: number; p50: number; p99: number; cpu: CpuSample };
  /**
   * Gateway rows: stats lines against answered calls. wrk stops mid-call at the end of a
   * run, and the gateway records a call whose client left too, so lines may exceed the
   * 2xx answers by up to the connections; fewer lines, or a request_id twice, is a loss
   * or a double.
   */
  stats: { answered: number; lines: number; duplicates: number; ok: boolean } | null;
}

export interface StackRatios {
  /** Gateway / plain proxy, median throughput. */
  throughput: number;
  sseThroughput: number;
  /** Gateway's CPU per call (nginx + service) / the plain proxy's (nginx). */
  cpu: number;
  sseCpu: number;
  /** What recording costs per call, µs of CPU: gateway (3) minus gateway with recording off (3u), nginx and service. */
  recording: { nginx: number; service: number };
}

export interface BenchResults {
  startedAt: string;
  machine: { cpus: number; node: string; loadAverage: number[] };
  settings: { rounds: number; seconds: number; connections: number; threads: number; unloadedPairs: number };
  rows: RowResult[];
  ratios: Record<UpstreamKind, StackRatios>;
  /** Proxy-bound stack, one keep-alive connection each, interleaved: p50 in ms and the added median. */
  unloaded: { plain: number; gateway: number; addedMs: number };
}
