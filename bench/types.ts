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

export interface BenchResults {
  startedAt: string;
  machine: { cpus: number; node: string };
  settings: { runs: number; requests: number; connections: number; unloadedRequests: number };
  configs: ConfigResult[];
  /** Median p50 in milliseconds with one connection. */
  unloaded: { plain: number; gateway: number };
  ratios: { gatewayOverPlain: number; sseOverPlain: number; sseOverPlainSse: number; addedUnloadedP50Ms: number };
}
