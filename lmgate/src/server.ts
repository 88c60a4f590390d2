import { Ajv } from 'ajv';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { AllowListEntry } from './allowlist.js';
import { callKeyOf, credentialsOf } from './keys.js';
import { buildStatsRecord, deliveryLagSeconds, statsPayloadSchema, type StatsPayload, type StatsRecord } from './records.js';
import { RecentIds } from './recent-ids.js';

export const FORBIDDEN_BODY = { error: { type: 'forbidden', message: 'API key not authorized' } } as const;

export interface KeyLookup {
  lookup(apiKey: string): AllowListEntry | undefined;
}

export interface RecordSink {
  write(record: object): boolean;
  /** Writes what write() buffered; resolves once it is in the file (or kept after a failed write). */
  flush?(): Promise<void>;
}

/** Told about each stats record the moment it is accepted for writing or rejected. */
export interface StatsMonitor {
  recordWritten(record: StatsRecord, deliveryLagSeconds: number | null): void;
  recordsRejected(count: number): void;
  recordsDropped(count: number): void;
}

/**
 * nginx counts the records it could not queue (its record zone was full) and reports them
 * with its next batch, so that every drop reaches lmgate_stats_records_dropped_total.
 */
export const DROPPED_RECORDS_HEADER = 'x-lmgate-dropped-records';
const MAX_REPORTED_DROPS = 1_000_000_000;

export interface ServerOptions {
  allowList: KeyLookup;
  stats: RecordSink;
  logger: FastifyBaseLogger;
  monitor?: StatsMonitor;
  bodyLimitBytes: number;
  /** How many recent delivery ids to remember, so a re-sent record is written once. */
  rememberedIds?: number;
  /** Ids already written (the stats file's last lines, read at start), oldest first. */
  writtenIds?: Iterable<string>;
}

/**
 * A batch of records from njs, or one record. The schema checks only the body's shape:
 * each record is checked on its own (validRecord), so one bad record never costs the
 * others of its batch their lines.
 */
export const statsBodySchema = {
  anyOf: [{ type: 'object' }, { type: 'array', maxItems: 100_000, items: { type: 'object' } }],
} as const;

/**
 * Both validators' options. The schemas are this file's constants, checked against the
 * JSON Schema meta-schema by the unit tests: compiling the meta-schema at every start
 * (validateSchema) was a quarter of the service's start-up CPU.
 */
export const AJV_OPTIONS = { coerceTypes: false, removeAdditional: false, allErrors: false, allowUnionTypes: true, validateSchema: false } as const;

const validRecord = new Ajv(AJV_OPTIONS).compile<StatsPayload>(statsPayloadSchema);

/** What is logged of a rejected record: where it failed, never its values (keys, bodies). */
function rejectionReason(): string {
  const error = validRecord.errors?.[0];
  return error ? `${error.instancePath || 'record'} ${error.message ?? 'is invalid'}` : 'invalid record';
}

export function buildServer(options: ServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    // Per-request logs cost a third of the throughput and would sit on every LLM call.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes,
    // Ajv defaults of Fastify would turn "200" into 200 and drop unknown fields silently;
    // a wrong type from njs is a bug to see.
    ajv: { customOptions: AJV_OPTIONS },
  });
  const recentIds = new RecentIds(options.rememberedIds ?? 200_000);
  for (const id of options.writtenIds ?? []) recentIds.add(id);

  app.get('/healthz', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('ok'));

  app.get('/auth', async (request, reply) => {
    // nginx asks with the call's credentials where the call had them: headers, and `?key=`.
    const key = callKeyOf(credentialsOf(request.raw.rawHeaders, request.raw.url));
    const entry = key === null ? undefined : options.allowList.lookup(key);
    if (!entry) return reply.code(403).send(FORBIDDEN_BODY);
    return reply.code(200).header('x-lmgate-id', entry.id).send();
  });

  app.post<{ Body: object | object[] }>(
    '/stats',
    { schema: { body: statsBodySchema } },
    async (request, reply) => {
      if (!Array.isArray(request.body) && !validRecord(request.body)) {
        // A lone record is the whole body: nothing else to write.
        options.monitor?.recordsRejected(1);
        return reply.code(400).send({ error: { type: 'bad_request', message: rejectionReason() } });
      }
      const droppedHeader = request.headers[DROPPED_RECORDS_HEADER];
      if (droppedHeader !== undefined) {
        const dropped = typeof droppedHeader === 'string' && /^\d{1,10}$/.test(droppedHeader) ? Number(droppedHeader) : NaN;
        if (!(dropped <= MAX_REPORTED_DROPS)) {
          request.log.warn({ header: DROPPED_RECORDS_HEADER }, 'a report of dropped records that is not a count: ignored');
        } else if (dropped > 0) {
          options.monitor?.recordsDropped(dropped);
          request.log.warn({ dropped }, 'stats records dropped in nginx: its record zone was full');
        }
      }
      const payloads: unknown[] = Array.isArray(request.body) ? request.body : [request.body];
      const now = new Date();
      let accepted = 0;
      let rejected = 0;
      for (const [index, payload] of payloads.entries()) {
        if (!validRecord(payload)) {
          rejected++;
          request.log.warn({ index, reason: rejectionReason() }, 'stats record rejected');
          continue;
        }
        if (payload.request_id && recentIds.has(payload.request_id)) continue;
        const record = buildStatsRecord(payload, now);
        if (!options.stats.write(record)) continue;
        if (payload.request_id) recentIds.add(payload.request_id);
        options.monitor?.recordWritten(record, deliveryLagSeconds(payload, now));
        accepted++;
      }
      if (rejected > 0) options.monitor?.recordsRejected(rejected);
      // nginx deletes the records once answered: they are in the file first, so a crash of
      // the service after its answer loses none (the flush interval is a backstop only).
      if (accepted > 0) await options.stats.flush?.();
      return reply.code(202).send({ accepted, received: payloads.length, rejected });
    },
  );

  app.setErrorHandler<FastifyError>((error, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error({ err: error, url: request.url }, 'request failed');
    else request.log.debug({ err: error.message, url: request.url }, 'request rejected');
    void reply.code(status).send({ error: { type: status === 500 ? 'internal_error' : 'bad_request', message: error.message } });
  });

  app.setNotFoundHandler((_request, reply) => {
    void reply.code(404).send({ error: { type: 'not_found', message: 'no such endpoint' } });
  });

  return app;
}
