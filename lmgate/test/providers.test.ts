import { describe, expect, it } from 'vitest';
import { providerFromHost } from '../src/providers.js';

describe('providerFromHost', () => {
  it('maps api.openai.com to openai', () => {
    expect(providerFromHost('api.openai.com')).toBe('openai');
  });

  it('maps api.anthropic.com to anthropic', () => {
    expect(providerFromHost('api.anthropic.com')).toBe('anthropic');
  });

  it('maps the global and regional Vertex AI hosts to google', () => {
    expect(providerFromHost('aiplatform.googleapis.com')).toBe('google');
    expect(providerFromHost('us-central1-aiplatform.googleapis.com')).toBe('google');
    expect(providerFromHost('europe-west4-aiplatform.googleapis.com')).toBe('google');
  });

  it('ignores case, a port, surrounding spaces and a trailing dot', () => {
    expect(providerFromHost(' API.OpenAI.com:443 ')).toBe('openai');
    expect(providerFromHost('api.anthropic.com.')).toBe('anthropic');
    expect(providerFromHost('aiplatform.googleapis.com:443')).toBe('google');
  });

  it('gives unknown for other hosts, including look-alikes', () => {
    for (const host of ['example.com', 'api.openai.com.evil.example', 'evilapi.openai.com', 'anthropic.com', 'generativelanguage.googleapis.com', 'aiplatform.googleapis.com.evil.example', 'mock-upstream']) {
      expect({ host, provider: providerFromHost(host) }).toEqual({ host, provider: 'unknown' });
    }
  });

  it('gives unknown for a missing or empty host', () => {
    expect(providerFromHost('')).toBe('unknown');
    expect(providerFromHost(null)).toBe('unknown');
    expect(providerFromHost(undefined)).toBe('unknown');
  });
});
