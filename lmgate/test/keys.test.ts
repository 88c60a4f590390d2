import { describe, expect, it } from 'vitest';
import { apiKeyOf, canonicalHeaderName, keyFromHeaderValues, keyHeadersOf, maskKey } from '../src/keys.js';
import spellings from './fixtures/key-header-spellings.json' with { type: 'json' };

function extractApiKey(headers: Record<string, string>): string | null {
  return apiKeyOf(keyHeadersOf(Object.entries(headers).flat()));
}

const KEY = 'sk-proj-Xq3vT9mLkP2wR8nB5cY7dF1gH4jK6sA0zE';

describe('the key headers: one definition (spec §3)', () => {
  const ALLOWED = 'sk-allowed-000000000000000000';
  const UNKNOWN = 'sk-unknown-111111111111111111';
  for (const { case: name, headers, reads } of spellings.cases) {
    it(`${name}: reads ${reads ?? 'no key'}`, () => {
      const raw = headers.flatMap(([n, v]) => [n as string, (v as string).replace('$ALLOWED', ALLOWED).replace('$UNKNOWN', UNKNOWN)]);
      const expected = reads === 'allowed' ? ALLOWED : reads === 'unknown' ? UNKNOWN : null;
      expect(apiKeyOf(keyHeadersOf(raw))).toBe(expected);
    });
  }

  it('compares names lower-cased with _ read as -', () => {
    expect(canonicalHeaderName('X_API_Key')).toBe('x-api-key');
    expect(canonicalHeaderName('__Authorization')).toBe('--authorization');
  });

  it('keeps every value of a key header, in order, and ignores other headers', () => {
    expect(keyHeadersOf(['x-api-key', 'a', 'Host', 'h', 'X_API_KEY', 'b', 'authorization', 'c', 'constructor', 'd'])).toEqual({
      authorization: ['c'],
      xApiKey: ['a', 'b'],
    });
  });

  it('ignores a dangling name without a value', () => {
    expect(keyHeadersOf(['x-api-key'])).toEqual({ authorization: [], xApiKey: [] });
  });
});

describe('extractApiKey', () => {
  it('reads the key of `Authorization: Bearer <key>`', () => {
    expect(extractApiKey({ authorization: `Bearer ${KEY}` })).toBe(KEY);
  });

  it('accepts the scheme in any case', () => {
    expect(extractApiKey({ authorization: `bearer ${KEY}` })).toBe(KEY);
    expect(extractApiKey({ authorization: `BEARER ${KEY}` })).toBe(KEY);
  });

  it('trims spaces around the scheme and the key', () => {
    expect(extractApiKey({ authorization: `   Bearer     ${KEY}   ` })).toBe(KEY);
  });

  it('reads x-api-key when there is no Authorization header', () => {
    expect(extractApiKey({ 'x-api-key': ` ${KEY} ` })).toBe(KEY);
  });

  it('prefers the Bearer key over x-api-key', () => {
    expect(extractApiKey({ authorization: 'Bearer sk-first-000000000000', 'x-api-key': 'sk-second-11111111111' })).toBe('sk-first-000000000000');
  });

  it('falls back to x-api-key when Authorization is not a Bearer credential', () => {
    expect(extractApiKey({ authorization: 'Basic dXNlcjpwYXNz', 'x-api-key': KEY })).toBe(KEY);
  });

  it('falls back to x-api-key when the Bearer credential is empty', () => {
    expect(extractApiKey({ authorization: 'Bearer    ', 'x-api-key': KEY })).toBe(KEY);
  });

  it('gives null when no header yields a non-empty key', () => {
    expect(extractApiKey({})).toBeNull();
    expect(extractApiKey({ authorization: 'Bearer', 'x-api-key': '' })).toBeNull();
    expect(extractApiKey({ authorization: '', 'x-api-key': '   ' })).toBeNull();
    expect(extractApiKey({ authorization: KEY })).toBeNull();
  });

  it('reads no key from a repeated key header, even when both copies agree', () => {
    expect(apiKeyOf({ authorization: [`Bearer ${KEY}`, `Bearer ${KEY}`], xApiKey: [] })).toBeNull();
    expect(apiKeyOf({ authorization: [], xApiKey: [KEY, KEY] })).toBeNull();
    expect(apiKeyOf({ authorization: [`Bearer ${KEY}`], xApiKey: [KEY, KEY] })).toBeNull();
  });
});

describe('keyFromHeaderValues', () => {
  it('takes Bearer only as the whole scheme at the start', () => {
    expect(keyFromHeaderValues(`NotBearer ${KEY}`, null)).toBeNull();
    expect(keyFromHeaderValues(`Token bearer ${KEY}`, null)).toBeNull();
    expect(keyFromHeaderValues(`Bearer${KEY}`, null)).toBeNull();
  });

  it('applies the same rules to raw values, null meaning absent', () => {
    expect(keyFromHeaderValues(`Bearer ${KEY}`, null)).toBe(KEY);
    expect(keyFromHeaderValues(null, KEY)).toBe(KEY);
    expect(keyFromHeaderValues(undefined, undefined)).toBeNull();
  });
});

describe('maskKey', () => {
  it('keeps exactly the last 6 characters of a real-length key', () => {
    expect(maskKey(KEY)).toBe('6sA0zE');
    expect(maskKey('sk-ant-api03-abcdefghijklmnopqrstuvwxyz-123456')).toBe('123456');
  });

  it('never reveals a whole short key', () => {
    for (const key of ['a', 'ab', 'abc123', 'abcdefghijk', 'abcdefghijkl']) {
      const masked = maskKey(key);
      expect(masked.length).toBeLessThan(key.length);
      expect(key.endsWith(masked)).toBe(true);
      expect(masked.length).toBeLessThanOrEqual(6);
    }
  });

  it('gives an empty string for an empty key', () => {
    expect(maskKey('')).toBe('');
  });
});
