import { jsonPlan, type ReplyPlan } from './plan.js';
import type { ProviderName } from './providers/types.js';

interface Default {
  /** Anthropic's error.type, also the generic type. */
  type: string;
  /** Google's error.status. */
  googleStatus: string;
  message: string;
}

const DEFAULTS: Record<number, Default> = {
  400: { type: 'invalid_request_error', googleStatus: 'INVALID_ARGUMENT', message: 'Request contains an invalid argument.' },
  401: { type: 'authentication_error', googleStatus: 'UNAUTHENTICATED', message: 'Invalid authentication credentials.' },
  403: { type: 'permission_error', googleStatus: 'PERMISSION_DENIED', message: 'Permission denied for this resource.' },
  404: { type: 'not_found_error', googleStatus: 'NOT_FOUND', message: 'Requested entity was not found.' },
  413: { type: 'request_too_large', googleStatus: 'INVALID_ARGUMENT', message: 'Request exceeds the maximum allowed size.' },
  429: { type: 'rate_limit_error', googleStatus: 'RESOURCE_EXHAUSTED', message: 'Rate limit reached. Please try again later.' },
  500: { type: 'api_error', googleStatus: 'INTERNAL', message: 'Internal error encountered.' },
  529: { type: 'overloaded_error', googleStatus: 'UNAVAILABLE', message: 'The service is overloaded.' },
};
const FALLBACK: Default = { type: 'api_error', googleStatus: 'UNKNOWN', message: 'Unknown error.' };

/** OpenAI's own vocabulary where it differs from the generic table. */
const OPENAI_TYPES: Record<number, { type: string; code: string | null; message?: string }> = {
  401: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' },
  413: { type: 'invalid_request_error', code: null },
  429: { type: 'rate_limit_exceeded', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests.' },
  500: { type: 'server_error', code: null, message: 'The server had an error while processing your request. Sorry about that!' },
};

export interface ErrorSpec {
  status: number;
  /** x-mock-error-type: replaces the type (OpenAI, Anthropic) or status string (Google). */
  typeOverride?: string | null;
  message?: string;
}

export function errorBody(provider: ProviderName, spec: ErrorSpec): unknown {
  const base = DEFAULTS[spec.status] ?? FALLBACK;
  switch (provider) {
    case 'openai': {
      const own = OPENAI_TYPES[spec.status];
      return {
        error: {
          message: spec.message ?? own?.message ?? base.message,
          type: spec.typeOverride ?? own?.type ?? base.type,
          param: null,
          code: own ? own.code : null,
        },
      };
    }
    case 'anthropic':
      return { type: 'error', error: { type: spec.typeOverride ?? base.type, message: spec.message ?? base.message } };
    case 'google':
      return { error: { code: spec.status, message: spec.message ?? base.message, status: spec.typeOverride ?? base.googleStatus } };
  }
}

export function errorPlan(provider: ProviderName, spec: ErrorSpec): ReplyPlan {
  const plan = jsonPlan(spec.status, errorBody(provider, spec));
  // Google sends its errors with an explicit charset; keep the byte-level look.
  if (provider === 'google') plan.headers['content-type'] = 'application/json; charset=UTF-8';
  return plan;
}
