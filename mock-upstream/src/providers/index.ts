import { anthropic } from './anthropic.js';
import { google } from './google.js';
import { openai } from './openai.js';
import type { Provider } from './types.js';

export { anthropic, google, openai };

function hostName(host: string | undefined): string {
  if (!host) return '';
  // Strip a port; bracketed IPv6 literals never name a provider anyway.
  return host.trim().toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
}

/**
 * The Host header decides, as it does in the compose stack where the three provider
 * names are aliases of this container; direct calls in tests fall back to the path.
 */
export function detectProvider(host: string | undefined, path: string, headers: Record<string, string>): Provider {
  const name = hostName(host);
  if (name === 'api.openai.com') return openai;
  if (name === 'api.anthropic.com') return anthropic;
  if (name === 'aiplatform.googleapis.com' || name.endsWith('-aiplatform.googleapis.com')) return google;
  if (/^\/(?:v1|v1beta1)\/projects\//.test(path)) return google;
  if (path === '/v1/messages' || path.startsWith('/v1/messages/') || path === '/v1/complete' || headers['anthropic-version'] !== undefined) return anthropic;
  return openai;
}
