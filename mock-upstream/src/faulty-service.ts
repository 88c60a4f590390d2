import Fastify, { type FastifyInstance } from 'fastify';

/**
 * A stand-in for the LMGate service that misbehaves on request, so the suite can prove
 * that nginx fails closed however the real service fails. It takes the service's place in
 * a stack of its own (docker-compose.faulty-service.yaml); nginx and its configuration
 * stay the production ones.
 *
 * GET /auth answers by the x-api-key the gateway forwards: `fault-<mode>-<anything>`.
 * Each key's /auth calls are counted, so a test can tell a kept decision (no second call)
 * from one asked again.
 */
export const FAULT_MODES = ['allow', 'deny', '500', '503', 'no-id', 'empty-id', 'garbage', 'close', 'hang', 'redirect'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

const KEY = /^fault-([a-z0-9]+(?:-id)?)-/;

export function faultModeOf(key: string | undefined): FaultMode | null {
  const mode = key === undefined ? undefined : KEY.exec(key)?.[1];
  return (FAULT_MODES as readonly string[]).includes(mode ?? '') ? (mode as FaultMode) : null;
}

export function buildFaultyService(): FastifyInstance {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const authCalls = new Map<string, number>();
  // What nginx sent the last time it asked about a key: spec §1, headers only, no body.
  const lastAuthRequest = new Map<string, { method: string; headerNames: string[]; bodyBytes: number }>();

  app.get('/healthz', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('ok'));

  app.get('/auth', async (request, reply) => {
    const key = request.headers['x-api-key'];
    const keyText = typeof key === 'string' ? key : '';
    authCalls.set(keyText, (authCalls.get(keyText) ?? 0) + 1);
    const headerNames = request.raw.rawHeaders.filter((_, index) => index % 2 === 0).map((name) => name.toLowerCase());
    // A GET's body is not read by Fastify: whatever sits in the socket after the headers is.
    let bodyBytes = 0;
    request.raw.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
    lastAuthRequest.set(keyText, { method: request.method, headerNames, bodyBytes });
    request.raw.on('end', () => lastAuthRequest.set(keyText, { method: request.method, headerNames, bodyBytes }));
    switch (faultModeOf(keyText)) {
      case 'allow':
        return reply.code(200).header('x-lmgate-id', 'faulty-allow').send();
      case '500':
      case '503':
        return reply.code(Number(faultModeOf(keyText))).send({ error: 'failing on purpose' });
      case 'no-id':
        return reply.code(200).send();
      case 'empty-id':
        return reply.code(200).header('x-lmgate-id', '').send();
      case 'redirect':
        // An answer that tries to steer nginx to a provider without asking it.
        return reply.code(200).header('x-lmgate-id', 'faulty-redirect').header('x-accel-redirect', '/openai/v1/models').send();
      case 'garbage':
        reply.hijack();
        request.raw.socket.end('this is not HTTP\r\n\r\n');
        return reply;
      case 'close':
        reply.hijack();
        request.raw.socket.destroy();
        return reply;
      case 'hang':
        reply.hijack();
        return reply;
      default:
        return reply.code(403).send({ error: { type: 'forbidden', message: 'API key not authorized' } });
    }
  });

  app.get('/_faulty/auth-calls', async (_request, reply) => reply.send(Object.fromEntries(authCalls)));
  app.get('/_faulty/auth-requests', async (_request, reply) => reply.send(Object.fromEntries(lastAuthRequest)));

  return app;
}
