import type { CpuSample } from './cpu';

export interface Measurement {
  requestsPerSecond: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p99: number;
  ok: number;
  errors: number;
  durationSeconds: number;
}

export interface ConfigResult {
  id: string;
  label: string;
  runs: Measurement[];
  median: Measurement;
  /** Stats lines written for this configuration's runs; null where no stats are kept. */
  statsLines: number | null;
}

/** Microseconds of CPU per call by container for (2) and (3), and the stats lines of (3)'s calls. */
export interface CpuBreakdown {
  plain: CpuSample;
  gateway: CpuSample;
  statsLines: number;
  ok: number;
}

export interface BenchResults {
  startedAt: string;
  machine: { cpus: number; node: string };
  settings: { runs: number; requests: number; connections: number; unloadedPairs: number };
  configs: ConfigResult[];
  /** Median over the runs of the p50 in milliseconds with one connection. */
  unloaded: { plain: number; gateway: number };
  ratios: {
    gatewayOverPlain: number;
    sseOverPlain: number;
    sseOverPlainSse: number;
    /** (3)/(2) of each round: the two ran back to back. */
    gatewayOverPlainByRun: number[];
    addedUnloadedP50Ms: number;
  };
  /** null where cgroups cannot be read. */
  cpuPerCall: CpuBreakdown | null;
}
