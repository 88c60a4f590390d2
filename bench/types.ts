import type { CpuSample } from './cpu';
import type { UpstreamKind } from './stack';
import type { WrkResult } from './wrk';

export type RowId = 'upstream' | 'plain' | 'gateway' | 'gateway-unrecorded' | 'gateway-spool-unread' | 'portkey' | 'plain-sse' | 'gateway-sse';

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
  /**
   * What recording costs per call, µs of CPU: gateway (3) minus gateway with recording off
   * (3u), nginx and service; split into nginx's own work, (3n) minus (3u), and the
   * service's share, (3) minus (3n): its own CPU and what its work on the same cores adds
   * to nginx's.
   */
  recording: { nginx: number; service: number; nginxOwn: number; serviceShare: number };
  /** The Portkey AI gateway (5), median throughput and CPU per call, over the plain proxy's and over the gateway's. */
  portkey: { throughputOverPlain: number; cpuOverPlain: number; throughputOverGateway: number; cpuOverGateway: number };
}

/** Resident memory (anonymous, MiB) of a container idle and with the streams in flight. */
export interface MemoryInFlight {
  /** Whose calls: "LMGate" or "Portkey". */
  target: string;
  streams: number;
  /** How many of the streams had their first event when the memory was read. */
  started: number;
  /** What the calls got: "200 text/event-stream" and its count, other statuses, errors. */
  outcomes: Record<string, number>;
  /** The body of the first call that was not a 200, as it began ("" when none). */
  firstFailure: string;
  containers: Array<{ name: string; idleMiB: number; inFlightMiB: number }>;
}

export interface BenchResults {
  startedAt: string;
  machine: { cpus: number; node: string; loadAverage: number[] };
  settings: { rounds: number; seconds: number; connections: number; threads: number; unloadedPairs: number };
  rows: RowResult[];
  ratios: Record<UpstreamKind, StackRatios>;
  /** Proxy-bound stack, one keep-alive connection each, interleaved: p50 in ms and the added median. */
  unloaded: { plain: number; gateway: number; addedMs: number; portkey: number; portkeyAddedMs: number };
  /** The realistic stack: nginx, the service and Portkey with paced streaming calls in flight. */
  memory: MemoryInFlight[];
}
