import { describe, expect, it } from 'vitest';
import { callKeyOf, canonicalHeaderName, credentialsOf, maskKey, queryKeysOf, type Credentials } from '../src/keys.js';
import { credentialSpellings, percentEncoded } from './fixtures/key-header-spellings.js';

const KEY = 'sk-proj-Xq3vT9mLkP2wR8nB5cY7dF1gH4jK6sA0zE';
const OTHER = 'sk-other-0000000000000000000000';

function keyOf(headers: Record<string, string>, requestUri = '/openai/v1/chat/completions'): string | null {
  return callKeyOf(credentialsOf(Object.entries(headers).flat(), requestUri));
}

function none(): Credentials {
  return { authorization: [], xApiKey: [], xGoogApiKey: [], queryKey: [] };
}

describe('the credentials of a call: one definition (spec §3)', () => {
  const ALLOWED = 'sk-allowed-000000000000000000';
  const UNKNOWN = 'sk-unknown-111111111111111111';
  for (const { case: name, headers, query, reads } of credentialSpellings(ALLOWED, UNKNOWN)) {
    it(`${name}: reads ${reads ?? 'no key'}`, () => {
      const uri = `/google/v1/m:generateContent?lmgate_tag=t${query ? `&${query}` : ''}`;
      expect(callKeyOf(credentialsOf(headers.flat(), uri))).toBe(reads);
    });
  }

  it('compares names lower-cased with _ read as -', () => {
    expect(canonicalHeaderName('X_API_Key')).toBe('x-api-key');
    expect(canonicalHeaderName('__Authorization')).toBe('--authorization');
  });

  it('keeps every value of every place, in order, and ignores other headers', () => {
    expect(credentialsOf(['x-api-key', 'a', 'Host', 'h', 'X_API_KEY', 'b', 'authorization', 'c', 'constructor', 'd', 'X-Goog-Api-Key', 'e'], '/p?key=f&a=1&KEY=g')).toEqual({
      authorization: ['c'],
      xApiKey: ['a', 'b'],
      xGoogApiKey: ['e'],
      queryKey: ['f', 'g'],
    });
  });

  it('ignores a dangling name without a value', () => {
    expect(credentialsOf(['x-api-key'])).toEqual(none());
  });
});

describe('queryKeysOf', () => {
  it('reads only the query, not the path, and not a fragment', () => {
    expect(queryKeysOf('key=a')).toEqual([]);
    expect(queryKeysOf('/p/key=a')).toEqual([]);
    expect(queryKeysOf('/p%3Fkey=a')).toEqual([]);
    expect(queryKeysOf('/p?a=1%26key=b')).toEqual([]);
    expect(queryKeysOf('/p?a=1#key=b')).toEqual([]);
  });

  it('keeps values as sent: decoding is the reader\'s', () => {
    expect(queryKeysOf('/p?key=a%2Db&k%45Y=c+d&key')).toEqual(['a%2Db', 'c+d', '']);
  });

  it('counts a name it cannot decode as a possible key', () => {
    expect(queryKeysOf('/p?%zz=1')).toHaveLength(1);
    expect(callKeyOf({ ...none(), queryKey: queryKeysOf('/p?%zz=1') })).toBeNull();
  });
});

describe('callKeyOf', () => {
  it('reads the key of `Authorization: Bearer <key>`, the scheme in any case, spaces trimmed', () => {
    expect(keyOf({ authorization: `Bearer ${KEY}` })).toBe(KEY);
    expect(keyOf({ authorization: `bEaReR ${KEY}` })).toBe(KEY);
    expect(keyOf({ authorization: `   Bearer     ${KEY}   ` })).toBe(KEY);
  });

  it('reads x-api-key and x-goog-api-key, spaces trimmed', () => {
    expect(keyOf({ 'x-api-key': ` ${KEY} ` })).toBe(KEY);
    expect(keyOf({ 'x-goog-api-key': ` ${KEY} ` })).toBe(KEY);
  });

  it('reads ?key= percent-decoded, + as a space', () => {
    expect(keyOf({}, `/p?key=${percentEncoded(KEY)}`)).toBe(KEY);
    expect(keyOf({ authorization: 'Bearer a b' }, '/p?key=a+b')).toBe('a b');
    expect(keyOf({}, '/p?key=%E0%A4%A')).toBeNull();
  });

  it('takes Bearer only as the whole scheme at the start', () => {
    expect(keyOf({ authorization: `NotBearer ${KEY}` })).toBeNull();
    expect(keyOf({ authorization: `Token bearer ${KEY}` })).toBeNull();
    expect(keyOf({ authorization: `Bearer${KEY}` })).toBeNull();
    expect(keyOf({ authorization: KEY })).toBeNull();
  });

  it('passes the same key in every place', () => {
    expect(keyOf({ authorization: `Bearer ${KEY}`, 'x-api-key': KEY, 'x-goog-api-key': KEY }, `/p?key=${KEY}`)).toBe(KEY);
  });

  it('refuses two different keys, whichever place holds which', () => {
    const places: Array<(key: string) => [Record<string, string>, string]> = [
      (key) => [{ authorization: `Bearer ${key}` }, ''],
      (key) => [{ 'x-api-key': key }, ''],
      (key) => [{ 'x-goog-api-key': key }, ''],
      (key) => [{}, `key=${key}`],
    ];
    for (const [i, first] of places.entries()) {
      for (const [j, second] of places.entries()) {
        if (i === j) continue;
        const [headersA, queryA] = first(KEY);
        const [headersB, queryB] = second(OTHER);
        expect(keyOf({ ...headersA, ...headersB }, `/p?${queryA}&${queryB}`), `places ${i} and ${j}`).toBeNull();
      }
    }
  });

  it('refuses a credential that carries no key beside one that does', () => {
    expect(keyOf({ authorization: 'Basic dXNlcjpwYXNz', 'x-api-key': KEY })).toBeNull();
    expect(keyOf({ authorization: 'Bearer    ', 'x-api-key': KEY })).toBeNull();
    expect(keyOf({ authorization: `Bearer ${KEY}`, 'x-goog-api-key': '  ' })).toBeNull();
    expect(keyOf({ authorization: `Bearer ${KEY}` }, '/p?key=')).toBeNull();
  });

  it('gives null when no place yields a key', () => {
    expect(keyOf({})).toBeNull();
    expect(keyOf({ authorization: 'Bearer', 'x-api-key': '' })).toBeNull();
  });

  it('reads no key from a repeated place, even when both copies agree', () => {
    expect(callKeyOf({ ...none(), authorization: [`Bearer ${KEY}`, `Bearer ${KEY}`] })).toBeNull();
    expect(callKeyOf({ ...none(), xApiKey: [KEY, KEY] })).toBeNull();
    expect(callKeyOf({ ...none(), xGoogApiKey: [KEY, KEY] })).toBeNull();
    expect(callKeyOf({ ...none(), queryKey: [KEY, KEY] })).toBeNull();
    expect(callKeyOf({ ...none(), authorization: [`Bearer ${KEY}`], xApiKey: [KEY, KEY] })).toBeNull();
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
