import Fastify, { type FastifyInstance } from 'fastify';
import type { Recorder } from './recorder.js';
import { registerTlsRoutes } from './tls-admin.js';
import type { TlsModes } from './tls-modes.js';

export function buildAdminApp(recorder: Recorder, tlsModes: TlsModes | null = null): FastifyInstance {
  const app = Fastify({ logger: false, forceCloseConnections: true });

  app.get('/healthz', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('ok'));

  app.get<{ Querystring: { tag?: string } }>('/requests', async (request, reply) => {
    return reply.type('application/json; charset=utf-8').send(recorder.list(request.query.tag));
  });

  app.get('/tags', async (_request, reply) => reply.type('application/json; charset=utf-8').send(recorder.countByTag()));

  app.get<{ Params: { id: string } }>('/requests/:id', async (request, reply) => {
    const record = recorder.get(request.params.id);
    if (!record) return reply.code(404).send({ error: 'not_found', message: `no recorded request with id ${request.params.id}` });
    return reply.type('application/json; charset=utf-8').send(record);
  });

  app.delete('/requests', async (_request, reply) => {
    recorder.clear();
    return reply.code(204).send();
  });

  registerTlsRoutes(app, tlsModes);

  return app;
}
