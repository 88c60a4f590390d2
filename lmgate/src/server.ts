import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { AllowListEntry } from './allowlist.js';
import { callKeyOf, credentialsOf, maskKey } from './keys.js';

export const FORBIDDEN_BODY = { error: { type: 'forbidden', message: 'API key not authorized' } } as const;

export interface KeyLookup {
  lookup(apiKey: string): AllowListEntry | undefined;
}

export interface ServerOptions {
  allowList: KeyLookup;
  logger: FastifyBaseLogger;
  bodyLimitBytes: number;
}

export function buildServer(options: ServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    // Per-request logs cost a third of the throughput and would sit on every LLM call.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes,
  });

  app.get('/healthz', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('ok'));

  app.get('/auth', async (request, reply) => {
    // nginx asks with the call's credentials where the call had them: headers, and `?key=`.
    const key = callKeyOf(credentialsOf(request.raw.rawHeaders, request.raw.url));
    const entry = key === null ? undefined : options.allowList.lookup(key);
    if (key === null || !entry) return reply.code(403).send(FORBIDDEN_BODY);
    // The key's masked end goes with the decision, which nginx keeps for the call's stats
    // record: one definition of the mask (maskKey), and nginx never parses a key for it.
    // Percent-encoded: a key's end may hold characters a header cannot.
    return reply.code(200).header('x-lmgate-id', entry.id).header('x-lmgate-masked-key', encodeURIComponent(maskKey(key))).send();
  });

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
