import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { AllowList, AllowListError } from './allowlist.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { buildMetricsServer } from './metrics-server.js';
import { Metrics } from './metrics.js';
import { CheckpointError } from './checkpoint.js';
import { RecorderError, StatsRecorder } from './recorder.js';
import { buildServer } from './server.js';

/**
 * Spool bytes read at once: far above the longest line nginx writes (64 KiB of body at
 * each end, escaped for JSON at worst 6 bytes a byte, and the URI), so any line fits.
 */
const MAX_CHUNK_BYTES = 16 * 1024 * 1024;
/** A spool file read to its end is deleted once nginx has not written it for this long. */
const SPOOL_QUIET_MS = 120_000;

/** Where the recording's checkpoint lives: beside the stats file, on the same volume. */
export function checkpointPathFor(statsPath: string): string {
  return join(dirname(statsPath), 'lmgate-checkpoint.json');
}

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
  const stats = await StatsRecorder.open(
    {
      statsPath: config.stats.output_path,
      checkpointPath: checkpointPathFor(config.stats.output_path),
      spoolDir: config.stats.spool_dir,
      intervalSeconds: config.stats.flush_interval_seconds,
      maxChunkBytes: MAX_CHUNK_BYTES,
      maxChunkLines: config.stats.max_buffered_records,
      rotateBytes: config.stats.rotate_bytes,
      spoolQuietMs: SPOOL_QUIET_MS,
      monitor: metrics,
    },
    logger,
  );
  const app = buildServer({ allowList, logger, bodyLimitBytes: config.server.body_limit_bytes });
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
    logger.info({ signal }, 'stopping: writing what the spool holds');
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
  const known = error instanceof ConfigError || error instanceof AllowListError || error instanceof CheckpointError || error instanceof RecorderError;
  // One line a person can act on; the stack adds nothing for "port in use" and the like.
  const message = known ? (error as Error).message : `unexpected start-up failure: ${(error as Error)?.message ?? String(error)}`;
  process.stderr.write(`lmgate: cannot start: ${message}\n`);
  process.exit(1);
});
