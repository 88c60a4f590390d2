import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { planReply, type PlannedReply } from './dispatch.js';
import { errorPlan } from './errors.js';
import { detectProvider } from './providers/index.js';
import type { Recorder, StoredRequest } from './recorder.js';
import { sendPlan } from './sender.js';

export const BODY_LIMIT_BYTES = 64 * 1024 * 1024;

/** Plain HTTP: with TLS on, tls-front.ts terminates TLS and hands the sockets over. */
export interface ProviderAppOptions {
  recorder: Recorder;
  bodyLimitBytes?: number;
}

class BodyTooLargeError extends Error {
  readonly statusCode = 413;
}

function sniOf(request: FastifyRequest): string | null {
  const servername = (request.raw.socket as Partial<TLSSocket>).servername;
  return typeof servername === 'string' && servername !== '' ? servername : null;
}

/** GET, HEAD and TRACE bodies are never handed to a content-type parser; read them here. */
async function readRest(stream: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    const piece = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    length += piece.length;
    if (length > limit) throw new BodyTooLargeError('Request body is too large');
    chunks.push(piece);
  }
  return Buffer.concat(chunks);
}

export function buildProviderApp(options: ProviderAppOptions): FastifyInstance {
  const { recorder } = options;
  const bodyLimit = options.bodyLimitBytes ?? BODY_LIMIT_BYTES;
  const recorded = new WeakMap<FastifyRequest, StoredRequest>();

  const record = (request: FastifyRequest, body: Buffer): StoredRequest => {
    let stored = recorded.get(request);
    if (!stored) {
      stored = recorder.record({ method: request.raw.method ?? request.method, url: request.raw.url ?? request.url, rawHeaders: request.raw.rawHeaders, body, sni: sniOf(request) });
      recorded.set(request, stored);
    }
    return stored;
  };

  const respond = async (res: ServerResponse, stored: StoredRequest, planned: PlannedReply): Promise<void> => {
    try {
      stored.response = await sendPlan(res, planned.plan, { requestId: stored.id, extraHeaders: planned.extraHeaders, preDelayMs: planned.preDelayMs });
    } catch {
      res.destroy();
    }
  };

  /** Body-limit, malformed-length and bad-URL failures: still recorded, still answered in the provider's shape. */
  const fail = async (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const stored = record(request, Buffer.alloc(0));
    const statusCode = (error as Partial<FastifyError>).statusCode;
    const status = statusCode !== undefined && statusCode >= 400 && statusCode < 600 ? statusCode : 500;
    const provider = detectProvider(stored.headers['host'], stored.path, stored.headers);
    const plan = errorPlan(provider.name, { status, message: `mock-upstream: ${error.message}` });
    // The body may be partly unread: the connection cannot be reused.
    plan.headers['connection'] = 'close';
    reply.hijack();
    await respond(reply.raw, stored, { plan, preDelayMs: 0, extraHeaders: [] });
  };

  const app = Fastify({
    logger: false,
    bodyLimit,
    // Shutdown must not wait for a slow stream a test left open.
    forceCloseConnections: true,
    frameworkErrors: (error, request, reply) => void fail(error, request, reply),
  });

  // The body must be recorded byte for byte whatever it claims to be: no parser may interpret or reject it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));
  app.addHook('onRequest', async (request) => {
    // Fastify answers 415 for a malformed Content-Type before any parser runs. Hiding the
    // header routes every body to the catch-all parser; the record keeps it via rawHeaders.
    delete request.raw.headers['content-type'];
  });

  const handle = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const body = Buffer.isBuffer(request.body) ? request.body : await readRest(request.raw, bodyLimit);
    const stored = record(request, body);
    let planned: PlannedReply;
    try {
      planned = planReply({ method: stored.method, path: stored.path, query: stored.query, headers: stored.headers, rawHeaders: stored.rawHeaders, body });
    } catch (error) {
      const provider = detectProvider(stored.headers['host'], stored.path, stored.headers);
      planned = { plan: errorPlan(provider.name, { status: 500, message: `mock-upstream: ${(error as Error).message}` }), preDelayMs: 0, extraHeaders: [] };
    }
    reply.hijack();
    await respond(reply.raw, stored, planned);
  };

  app.all('*', handle);
  app.setNotFoundHandler(handle);
  app.setErrorHandler(fail);
  return app;
}
