import { describe, expect, it } from 'vitest';
import { extractApiKey, keyFromHeaderValues, maskKey } from '../src/keys.js';

const KEY = 'sk-proj-Xq3vT9mLkP2wR8nB5cY7dF1gH4jK6sA0zE';

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

  it('uses the first value of a repeated header', () => {
    expect(extractApiKey({ authorization: [`Bearer ${KEY}`, 'Bearer sk-other-2222222222'] })).toBe(KEY);
    expect(extractApiKey({ 'x-api-key': [KEY, 'sk-other-2222222222'] })).toBe(KEY);
  });
});

describe('keyFromHeaderValues', () => {
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
