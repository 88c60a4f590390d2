export type Provider = 'openai' | 'anthropic' | 'google' | 'unknown';

/** The provider an upstream host belongs to; regional Vertex AI hosts count as google. */
export function providerFromHost(host: string | null | undefined): Provider {
  const name = (host ?? '').trim().toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  if (name === 'api.openai.com') return 'openai';
  if (name === 'api.anthropic.com') return 'anthropic';
  if (name === 'aiplatform.googleapis.com' || name.endsWith('-aiplatform.googleapis.com')) return 'google';
  return 'unknown';
}
