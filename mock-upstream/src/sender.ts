import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { ReplyPlan } from './plan.js';
import type { ResponseSummary } from './recorder.js';

export interface SendOptions {
  requestId: string;
  /** x-mock-response-header values; they win over the plan's own headers. */
  extraHeaders: ReadonlyArray<readonly [string, string]>;
  /** slow-headers: nothing at all goes out before this. */
  preDelayMs: number;
}

const NO_BODY_STATUSES = new Set([204, 304]);

/** Resolves true once the bytes reached the socket, false when the client left first. */
function writeChunk(res: ServerResponse, chunk: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = () => resolve(false);
    res.once('close', onClose);
    res.write(chunk, (error) => {
      res.off('close', onClose);
      resolve(!error);
    });
  });
}

function stringHeaders(res: ServerResponse): Record<string, string> {
  // A response header named __proto__ (x-mock-response-header can set one) must survive too.
  const out: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(res.getHeaders())) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

/**
 * Sends a plan through separate socket writes (so that stream splits are real) and
 * returns what was actually sent: a client that leaves early gets a shorter summary.
 */
export async function sendPlan(res: ServerResponse, plan: ReplyPlan, options: SendOptions): Promise<ResponseSummary> {
  if (options.preDelayMs > 0) await sleep(options.preDelayMs);

  const hasBody = !NO_BODY_STATUSES.has(plan.status) && res.req.method !== 'HEAD';
  for (const [name, value] of Object.entries(plan.headers)) res.setHeader(name, value);
  if (!plan.streamed && hasBody) res.setHeader('content-length', plan.chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  res.setHeader('x-mock-request-id', options.requestId);
  for (const [name, value] of options.extraHeaders) res.setHeader(name, value);

  const hash = createHash('sha256');
  let bodyLength = 0;
  const summary = (): ResponseSummary => ({ status: plan.status, headers: stringHeaders(res), bodyLength, bodySha256: hash.copy().digest('hex') });

  if (res.destroyed) return summary();
  res.writeHead(plan.status);

  const send = async (piece: Buffer) => {
    if (piece.length === 0 || res.destroyed) return;
    if (!(await writeChunk(res, piece))) return;
    hash.update(piece);
    bodyLength += piece.length;
  };

  if (hasBody) {
    for (const [index, chunk] of plan.chunks.entries()) {
      if (index > 0 && plan.gapMs > 0) await sleep(plan.gapMs);
      if (res.destroyed) break;
      if (plan.splitEachChunk && chunk.length > 1) {
        const middle = Math.floor(chunk.length / 2);
        await send(chunk.subarray(0, middle));
        // One more turn of the event loop so that the halves leave as separate TCP segments.
        await nextTurn();
        await send(chunk.subarray(middle));
      } else {
        await send(chunk);
      }
    }
  }

  const result = summary();
  if (!res.destroyed) res.end();
  return result;
}
