import { pino } from 'pino';
import { AllowList, AllowListError } from './allowlist.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { buildMetricsServer } from './metrics-server.js';
import { Metrics } from './metrics.js';
import { requestIdsInTail } from './recent-ids.js';
import { buildServer } from './server.js';
import { StatsWriter } from './stats-writer.js';

/** How much of the stats file's end is read at start for the ids written last (some 20,000 lines). */
const WRITTEN_IDS_TAIL_BYTES = 8 * 1024 * 1024;

function configPathFromArgs(argv: string[]): string | undefined {
  const index = argv.indexOf('--config');
  if (index !== -1) {
    const path = argv[index + 1];
    if (!path) throw new ConfigError('--config needs a file path');
    return path;
  }
  return process.env['LMGATE_CONFIG'] || undefined;
}

function createLogger(config: Config) {
  return pino({
    level: config.logging.level,
    base: { service: 'lmgate' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Belt and braces: no code path logs request headers, but if one ever does, no key leaks.
    redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers["x-goog-api-key"]', '*.authorization', '*.x_api_key', '*.x_goog_api_key'], censor: '[masked]' },
  });
}

async function start(): Promise<void> {
  const { config, source } = loadConfig({ path: configPathFromArgs(process.argv.slice(2)) });
  const logger = createLogger(config);
  logger.info({ config_file: source ?? '(built-in defaults)' }, 'configuration loaded');

  const metrics = new Metrics({ processMetrics: true });
  const allowList = await AllowList.load(config.auth.allowlist_path, logger, metrics);
  const stats = new StatsWriter(
    {
      path: config.stats.output_path,
      flushIntervalSeconds: config.stats.flush_interval_seconds,
      maxBufferedRecords: config.stats.max_buffered_records,
      rotateBytes: config.stats.rotate_bytes,
      monitor: metrics,
    },
    logger,
  );
  // The ids of the last records written before this start: njs re-sends a record whose
  // delivery it saw fail, also when the service had written it just before it stopped.
  // Not readable (a directory in its place, no permission): the writer reports that on its
  // own; this start just remembers nothing.
  const writtenIds = await requestIdsInTail(config.stats.output_path, WRITTEN_IDS_TAIL_BYTES).catch((error: Error) => {
    logger.warn({ path: config.stats.output_path, err: error.message }, 'stats file not read for the ids written last');
    return [];
  });
  logger.info({ path: config.stats.output_path, request_ids: writtenIds.length }, 'request ids of the last written records remembered');
  const app = buildServer({ allowList, stats, logger, bodyLimitBytes: config.server.body_limit_bytes, monitor: metrics, writtenIds });
  const metricsApp = buildMetricsServer({ metrics, logger });

  allowList.startPolling(config.auth.poll_interval_seconds);
  stats.start();
  // Metrics first: once /healthz answers, /metrics does too.
  await metricsApp.listen({ host: config.metrics.host, port: config.metrics.port });
  await app.listen({ host: config.server.host, port: config.server.port });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: flushing stats');
    allowList.stopPolling();
    try {
      await Promise.all([app.close(), metricsApp.close()]);
    } finally {
      await stats.close();
    }
    logger.info({ signal, dropped_total: stats.droppedCount }, 'stopped');
    process.exit(0);
  };
  process.on('SIGTERM', (signal) => void stop(signal));
  process.on('SIGINT', (signal) => void stop(signal));
}

start().catch((error: unknown) => {
  const known = error instanceof ConfigError || error instanceof AllowListError;
  // One line a person can act on; the stack adds nothing for "port in use" and the like.
  const message = known ? (error as Error).message : `unexpected start-up failure: ${(error as Error)?.message ?? String(error)}`;
  process.stderr.write(`lmgate: cannot start: ${message}\n`);
  process.exit(1);
});
