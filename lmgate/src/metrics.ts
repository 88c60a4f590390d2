import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

const LINT_FAILING_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];
import type { AllowListMonitor } from './allowlist.js';
import type { StatsRecord } from './records.js';
import type { RecorderMonitor } from './recorder.js';
import type { TokenField } from './usage.js';

/** How often the event-loop delay (nodejs_eventloop_lag_*) is sampled. */
export const EVENT_LOOP_SAMPLE_MS = 100;

const CALL_LABELS = ['provider', 'model', 'status_class', 'lmgate_id'] as const;

/** The model comes from a provider's body: a label of bounded length, "" when none. */
const MAX_MODEL_LABEL = 128;
function modelLabel(model: string | null): string {
  return model === null ? '' : model.slice(0, MAX_MODEL_LABEL);
}

/** The `kind` label of lmgate_tokens_total for each token field of a stats line. */
const TOKEN_KINDS: Record<TokenField, string> = {
  input_tokens: 'input',
  output_tokens: 'output',
  cached_input_tokens: 'cached_input',
  cache_write_input_tokens: 'cache_write_input',
  reasoning_tokens: 'reasoning',
};

// LLM calls range from an embedding in tens of milliseconds to a long reasoning stream of minutes.
const DURATION_BUCKETS_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];
// The service reads the spool every flush interval (10 s by default); longer lags mean the
// service was stopped or could not write.
const DELIVERY_LAG_BUCKETS_SECONDS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900];

/** `2xx` for 200…299; a status of 0 (no response) is `0xx`. */
export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

interface CallSeries {
  calls: { inc(value?: number): void };
  tokens: Array<[TokenField, { inc(value?: number): void }]>;
  duration: { observe(value: number): void };
}

export interface MetricsOptions {
  /** Also collect prom-client's default process and Node.js metrics. */
  processMetrics?: boolean;
}

/**
 * The service's Prometheus metrics (spec §9), in a registry of their own. Call counters
 * move when a stats line is accepted for writing, by exactly that line's values.
 */
export class Metrics implements RecorderMonitor, AllowListMonitor {
  readonly registry = new Registry();
  private readonly calls: Counter<(typeof CALL_LABELS)[number]>;
  private readonly tokens: Counter<(typeof CALL_LABELS)[number] | 'kind'>;
  private readonly duration: Histogram<(typeof CALL_LABELS)[number]>;
  private readonly dropped: Counter;
  private readonly rejected: Counter;
  private readonly allowListReloads: Counter<'result'>;
  private readonly allowListKeys: Gauge;
  private readonly deliveryLag: Histogram;
  /** As many as the label sets the counters hold: one per provider, model, status class and id seen. */
  private readonly series = new Map<string, CallSeries>();

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    this.calls = new Counter({ name: 'lmgate_calls_total', help: 'Proxied calls recorded in the stats file.', labelNames: CALL_LABELS, registers });
    this.tokens = new Counter({
      name: 'lmgate_tokens_total',
      help: 'Tokens of the recorded calls by kind; cached_input and cache_write_input are part of input, reasoning part of output.',
      labelNames: [...CALL_LABELS, 'kind'],
      registers,
    });
    this.duration = new Histogram({
      name: 'lmgate_request_duration_seconds',
      help: 'Time from the arrival of a recorded call at nginx to the last byte sent to the client.',
      labelNames: CALL_LABELS,
      buckets: DURATION_BUCKETS_SECONDS,
      registers,
    });
    this.dropped = new Counter({ name: 'lmgate_stats_records_dropped_total', help: 'Stats records that never became a line: record numbers missing from the spool (a write nginx could not complete, or a line rejected).', registers });
    this.rejected = new Counter({ name: 'lmgate_stats_records_rejected_total', help: 'Spool lines rejected as invalid (not JSON, or not a record).', registers });
    this.allowListReloads = new Counter({ name: 'lmgate_allowlist_reloads_total', help: 'Reloads of a changed allow-list file, by result.', labelNames: ['result'], registers });
    this.allowListKeys = new Gauge({ name: 'lmgate_allowlist_keys', help: 'Keys on the allow-list in use.', registers });
    this.deliveryLag = new Histogram({
      name: 'lmgate_stats_delivery_lag_seconds',
      help: 'Time from the end of a call to the writing of its stats line.',
      buckets: DELIVERY_LAG_BUCKETS_SECONDS,
      registers,
    });
    // Both results from the start: a rate over a series that appears only with its first failure misses that failure.
    this.allowListReloads.inc({ result: 'ok' }, 0);
    this.allowListReloads.inc({ result: 'failed' }, 0);
    if (options.processMetrics) {
      // The event-loop delay is sampled every 100 ms, not prom-client's 10 ms: a 100 Hz
      // timer was half of an idle service's CPU, and a scrape every few seconds still gets
      // dozens of samples.
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
      // Gauges that prom-client names like counters: Prometheus' own lint (promtool check
      // metrics) rejects them, and the handle counts they carry are nodejs_active_* anyway.
      for (const name of LINT_FAILING_DEFAULT_METRICS) this.registry.removeSingleMetric(name);
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every metric. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  recordWritten(record: StatsRecord, lagSeconds: number): void {
    const series = this.seriesOf(record);
    series.calls.inc();
    for (const [field, tokens] of series.tokens) {
      const count = record[field];
      if (count !== null) tokens.inc(count);
    }
    if (record.duration_ms !== null) series.duration.observe(record.duration_ms / 1000);
    this.deliveryLag.observe(lagSeconds);
  }

  /**
   * The series of a line's labels, bound once: prom-client hashes a label set on every
   * inc(), which was half of what the service spent per stats line.
   */
  private seriesOf(record: StatsRecord): CallSeries {
    const labels = { provider: record.provider, model: modelLabel(record.model), status_class: statusClass(record.status), lmgate_id: record.lmgate_id };
    const key = `${labels.provider}\u0000${labels.model}\u0000${labels.status_class}\u0000${labels.lmgate_id}`;
    let series = this.series.get(key);
    if (series === undefined) {
      series = {
        calls: this.calls.labels(labels),
        tokens: (Object.entries(TOKEN_KINDS) as Array<[TokenField, string]>).map(([field, kind]) => [field, this.tokens.labels({ ...labels, kind })]),
        duration: this.duration.labels(labels),
      };
      this.series.set(key, series);
    }
    return series;
  }

  recordsRejected(count: number): void {
    this.rejected.inc(count);
  }

  recordsDropped(count: number): void {
    this.dropped.inc(count);
  }

  allowListLoaded(keys: number, reload: boolean): void {
    this.allowListKeys.set(keys);
    if (reload) this.allowListReloads.inc({ result: 'ok' });
  }

  allowListReloadFailed(): void {
    this.allowListReloads.inc({ result: 'failed' });
  }
}
