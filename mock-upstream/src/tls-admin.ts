/** Admin routes for the TLS modes: GET /tls, PUT /tls/:servername, DELETE /tls. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { TLS_MODES, TlsModeError, type TlsModes } from './tls-modes.js';

function tlsDisabled(reply: FastifyReply): FastifyReply {
  return reply.code(409).send({ error: 'tls_disabled', message: 'the provider listener is plain HTTP (MOCK_INSECURE_HTTP=1): there are no TLS modes' });
}

export function registerTlsRoutes(app: FastifyInstance, modes: TlsModes | null): void {
  app.get('/tls', async (_request, reply) => {
    if (!modes) return tlsDisabled(reply);
    return reply.send(modes.status());
  });

  app.put<{ Params: { servername: string }; Body: unknown }>('/tls/:servername', async (request, reply) => {
    if (!modes) return tlsDisabled(reply);
    const body = request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return reply.code(400).send({ error: 'invalid_request', message: `expected a JSON object {"mode": "<${TLS_MODES.join('|')}>"}` });
    }
    try {
      return reply.send(modes.set(request.params.servername, (body as { mode?: unknown }).mode));
    } catch (error) {
      if (!(error instanceof TlsModeError)) throw error;
      const invalid = error.reason === 'invalid';
      return reply.code(invalid ? 400 : 409).send({ error: invalid ? 'invalid_request' : 'mode_unavailable', message: error.message });
    }
  });

  app.delete('/tls', async (_request, reply) => {
    if (!modes) return tlsDisabled(reply);
    modes.resetAll();
    return reply.code(204).send();
  });
}
