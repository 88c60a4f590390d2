import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { ControlError, parseControls } from './controls.js';
import { errorPlan } from './errors.js';
import { checkExpectations, expectationFailedPlan, parseExpectations } from './expectations.js';
import { emptyPlan, type ReplyPlan } from './plan.js';
import { detectProvider } from './providers/index.js';
import type { JsonObject, ProviderName } from './providers/types.js';
import { gzipPlan, largeContent, nonJsonPlan, utf8Content, utf8SplitPlan } from './scenarios.js';

export interface ProviderRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  rawHeaders: readonly string[];
  body: Buffer;
}

export interface PlannedReply {
  plan: ReplyPlan;
  preDelayMs: number;
  extraHeaders: Array<[string, string]>;
}

const INVALID_JSON_MESSAGES: Record<ProviderName, string> = {
  openai: 'We could not parse the JSON body of your request. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.',
  anthropic: 'There was an issue with your request body: it is not a valid JSON object.',
  google: 'Invalid JSON payload received.',
};

function notFoundMessage(provider: ProviderName, method: string, path: string): string {
  return provider === 'openai' ? `Invalid URL (${method} ${path})` : `Not Found: ${method} ${path}`;
}

/** The mock reads the request the way the provider would: decoded, then as one JSON object. */
function parseJsonObject(body: Buffer, contentEncoding: string | undefined): JsonObject | null {
  try {
    const encoding = contentEncoding?.trim().toLowerCase();
    const decoded =
      encoding === 'gzip' || encoding === 'x-gzip' ? gunzipSync(body)
      : encoding === 'deflate' ? inflateSync(body)
      : encoding === 'br' ? brotliDecompressSync(body)
      : body;
    const value: unknown = JSON.parse(decoded.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : null;
  } catch {
    return null;
  }
}

export function planReply(request: ProviderRequest): PlannedReply {
  const provider = detectProvider(request.headers['host'], request.path, request.headers);
  let controls;
  let expectations;
  try {
    controls = parseControls(request.headers, request.rawHeaders);
    expectations = parseExpectations(request.rawHeaders);
  } catch (error) {
    if (!(error instanceof ControlError)) throw error;
    return { plan: errorPlan(provider.name, { status: 400, message: `mock-upstream: ${error.message}` }), preDelayMs: 0, extraHeaders: [] };
  }
  const mismatches = expectations ? checkExpectations(expectations, request) : [];
  // Before any scenario and without delay or extra headers: nothing may blur the failure.
  if (mismatches.length > 0) return { plan: expectationFailedPlan(mismatches), preDelayMs: 0, extraHeaders: [] };
  const { scenarios } = controls;
  const finish = (plan: ReplyPlan): PlannedReply => {
    if (controls.status !== null && controls.status < 400) plan.status = controls.status;
    return { plan: scenarios.gzip ? gzipPlan(plan) : plan, preDelayMs: scenarios.slowHeadersMs, extraHeaders: controls.responseHeaders };
  };

  if (controls.status !== null && controls.status >= 400) {
    return finish(errorPlan(provider.name, { status: controls.status, typeOverride: controls.errorType }));
  }
  const endpoint = provider.route(request.method, request.path);
  if (!endpoint) {
    return finish(errorPlan(provider.name, { status: 404, typeOverride: controls.errorType, message: notFoundMessage(provider.name, request.method, request.path) }));
  }
  if (scenarios.empty) return finish(emptyPlan(204));
  if (scenarios.nonJson) return finish(nonJsonPlan());

  const parsed = parseJsonObject(request.body, request.headers['content-encoding']);
  const ctx = { controls, body: parsed ?? {}, query: new URLSearchParams(request.query) };
  if (scenarios.large) return finish(endpoint.reply(ctx, largeContent()));
  if (scenarios.utf8Split) return finish(utf8SplitPlan(endpoint.json(ctx, utf8Content()), controls.eventDelayMs));
  if (endpoint.readsBody && parsed === null) {
    return finish(errorPlan(provider.name, { status: 400, typeOverride: controls.errorType, message: INVALID_JSON_MESSAGES[provider.name] }));
  }
  return finish(endpoint.reply(ctx));
}
