import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';

export interface MetricsServerOptions {
  metrics: Metrics;
  logger: FastifyBaseLogger;
}

/**
 * The metrics listener: `GET /metrics` only, on a port of its own, so that the port
 * nginx talks to never exposes metrics and the metrics port never takes /auth or /stats.
 */
export function buildMetricsServer(options: MetricsServerOptions): FastifyInstance {
  const app = Fastify({ loggerInstance: options.logger, logController: new LogController({ disableRequestLogging: true }) });

  app.get('/metrics', async (_request, reply) => reply.type(options.metrics.contentType).send(await options.metrics.exposition()));

  app.setNotFoundHandler((_request, reply) => {
    void reply.code(404).send({ error: { type: 'not_found', message: 'no such endpoint' } });
  });

  return app;
}
