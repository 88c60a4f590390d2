import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ControlError } from '../src/controls.js';
import { checkExpectations, expectationFailedPlan, parseExpectations, type ExpectationSubject } from '../src/expectations.js';
import { localMockForFile, rawRequest, records, type Json } from './helpers.js';

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

const BASE: ExpectationSubject = {
  method: 'POST',
  path: '/v1/chat/completions',
  query: 'a=1&b=2',
  rawHeaders: ['Host', 'api.openai.com', 'Content-Type', 'application/json', 'Authorization', 'Bearer sk-1', 'X-Mock-Usage', 'input=1,output=2'],
  body: Buffer.from('{"model":"gpt-4o"}'),
};

/** The mismatches for BASE (with overrides) checked against these expectation header pairs. */
function mismatches(expectationPairs: string[], overrides: Partial<ExpectationSubject> = {}): string[] {
  const subject = { ...BASE, ...overrides };
  const expectations = parseExpectations([...subject.rawHeaders, ...expectationPairs]);
  if (expectations === null) throw new Error('no expectations parsed');
  return checkExpectations(expectations, { ...subject, rawHeaders: [...subject.rawHeaders, ...expectationPairs] });
}

function parseError(expectationPairs: string[]): string {
  try {
    parseExpectations(expectationPairs);
  } catch (error) {
    expect(error).toBeInstanceOf(ControlError);
    return (error as Error).message;
  }
  throw new Error(`no ControlError for ${JSON.stringify(expectationPairs)}`);
}

describe('parseExpectations / checkExpectations', () => {
  it('finds nothing to check without x-mock-expect-* headers', () => {
    expect(parseExpectations(BASE.rawHeaders)).toBeNull();
    expect(parseExpectations([])).toBeNull();
  });

  it('method, path and query: exact, case-sensitive, query raw', () => {
    expect(mismatches(['x-mock-expect-method', 'POST', 'X-Mock-Expect-Path', '/v1/chat/completions', 'x-mock-expect-query', 'a=1&b=2'])).toEqual([]);
    expect(mismatches(['x-mock-expect-method', 'GET', 'x-mock-expect-path', '/v1/chat/completions/', 'x-mock-expect-query', 'b=2&a=1'])).toEqual([
      'method: expected "GET", got "POST"',
      'path: expected "/v1/chat/completions/", got "/v1/chat/completions"',
      'query: expected "b=2&a=1", got "a=1&b=2"',
    ]);
    expect(mismatches(['x-mock-expect-method', 'post'])).toEqual(['method: expected "post", got "POST"']);
    // An empty expected query means none.
    expect(mismatches(['x-mock-expect-query', ''], { query: '' })).toEqual([]);
    expect(mismatches(['x-mock-expect-query', ''])).toEqual(['query: expected "", got "a=1&b=2"']);
    expect(mismatches(['x-mock-expect-path', '/v1/chat/completions'], { path: '/v1/chat%2Fcompletions' })).toEqual(['path: expected "/v1/chat/completions", got "/v1/chat%2Fcompletions"']);
  });

  it('x-mock-expect-header: exact value, name case-insensitive, commas kept, repeats joined with ", "', () => {
    expect(mismatches(['x-mock-expect-header', 'authorization: Bearer sk-1', 'x-mock-expect-header', 'CONTENT-TYPE:application/json'])).toEqual([]);
    expect(mismatches(['x-mock-expect-header', 'authorization: Bearer sk-2', 'x-mock-expect-header', 'x-missing: 1'])).toEqual([
      'header authorization: expected "Bearer sk-2", got "Bearer sk-1"',
      'header x-missing: expected "1", but it is absent',
    ]);

    const rawHeaders = ['Host', 'h', 'X-Dup', 'a, b', 'x-dup', 'c', 'X-Empty', ''];
    expect(mismatches(['x-mock-expect-header', 'x-dup: a, b, c', 'x-mock-expect-header', 'x-empty:'], { rawHeaders })).toEqual([]);
    expect(mismatches(['x-mock-expect-header', 'x-dup: a, b'], { rawHeaders })).toEqual(['header x-dup: expected "a, b", got "a, b, c"']);
    // Leading and trailing spaces cannot arrive (Node strips them), so they are not part of the expected value.
    expect(mismatches(['x-mock-expect-header', 'x-dup:   a, b, c \t'], { rawHeaders })).toEqual([]);
    // Present but empty is not absent.
    expect(mismatches(['x-mock-expect-header', 'x-empty: 0'], { rawHeaders })).toEqual(['header x-empty: expected "0", got ""']);
  });

  it('x-mock-expect-absent-header: repeatable and comma-separated', () => {
    expect(mismatches(['x-mock-expect-absent-header', 'x-forwarded-for', 'x-mock-expect-absent-header', 'via, X-Real-IP'])).toEqual([]);
    expect(mismatches(['x-mock-expect-absent-header', 'Authorization, via', 'x-mock-expect-absent-header', 'host'])).toEqual([
      'header authorization: expected absent, got "Bearer sk-1"',
      'header host: expected absent, got "api.openai.com"',
    ]);
    // Names that are also Object.prototype properties are plain names here.
    expect(mismatches(['x-mock-expect-absent-header', 'constructor, __proto__, toString'])).toEqual([]);
  });

  it('x-mock-expect-header-names: exactly this set, x-mock-* never counted', () => {
    expect(mismatches(['x-mock-expect-header-names', 'host, Content-Type, authorization'])).toEqual([]);
    // A list header: repeats add up, empty items and duplicates are harmless.
    expect(mismatches(['x-mock-expect-header-names', 'host,,content-type', 'x-mock-expect-header-names', 'authorization, host'])).toEqual([]);
    expect(mismatches(['x-mock-expect-header-names', 'host, content-length, x-request-id'], { rawHeaders: [...BASE.rawHeaders, 'Via', '1.1 gw', 'X-Forwarded-For', '1.2.3.4'] })).toEqual([
      'header names: unexpected "authorization", "content-type", "via", "x-forwarded-for"',
      'header names: missing "content-length", "x-request-id"',
    ]);
  });

  it('body length and SHA-256 of the bytes as received', () => {
    const digest = sha256(BASE.body);
    expect(mismatches(['x-mock-expect-body-length', String(BASE.body.length), 'x-mock-expect-body-sha256', digest.toUpperCase()])).toEqual([]);
    const other = Buffer.from('{"model":"gpt-4o"} ');
    expect(mismatches(['x-mock-expect-body-length', String(BASE.body.length), 'x-mock-expect-body-sha256', digest], { body: other })).toEqual([
      `body length: expected ${BASE.body.length}, got ${other.length}`,
      `body sha256: expected ${digest}, got ${sha256(other)}`,
    ]);
    expect(mismatches(['x-mock-expect-body-length', '0', 'x-mock-expect-body-sha256', sha256('')], { body: Buffer.alloc(0) })).toEqual([]);
  });

  it('rejects malformed, repeated and unknown expectation headers', () => {
    expect(parseError(['x-mock-expect-method', 'PO ST'])).toMatch(/^x-mock-expect-method: expected a method/);
    expect(parseError(['x-mock-expect-method', ''])).toMatch(/^x-mock-expect-method:/);
    expect(parseError(['x-mock-expect-path', ''])).toMatch(/^x-mock-expect-path: expected a non-empty path/);
    expect(parseError(['x-mock-expect-path', '/v1/x?a=1'])).toMatch(/use x-mock-expect-query/);
    expect(parseError(['x-mock-expect-header', 'no colon'])).toBe('x-mock-expect-header: expected "name: value", got "no colon"');
    expect(parseError(['x-mock-expect-header', ': value'])).toMatch(/^x-mock-expect-header:/);
    expect(parseError(['x-mock-expect-header', 'bad name: value'])).toMatch(/^x-mock-expect-header:/);
    expect(parseError(['x-mock-expect-absent-header', 'via, x y'])).toBe('x-mock-expect-absent-header: "x y" is not a header name (in "via, x y")');
    expect(parseError(['x-mock-expect-header-names', 'host, a:b'])).toMatch(/^x-mock-expect-header-names: "a:b" is not a header name/);
    expect(parseError(['x-mock-expect-header-names', 'host, X-Mock-Usage'])).toBe('x-mock-expect-header-names: x-mock-* headers are never counted, drop "x-mock-usage"');
    expect(parseError(['x-mock-expect-body-length', '-1'])).toMatch(/^x-mock-expect-body-length: expected a non-negative integer/);
    expect(parseError(['x-mock-expect-body-length', '12kb'])).toMatch(/^x-mock-expect-body-length:/);
    expect(parseError(['x-mock-expect-body-sha256', 'abc'])).toBe('x-mock-expect-body-sha256: expected 64 hex digits, got "abc"');
    expect(parseError(['x-mock-expect-body-sha256', `${sha256('')}0`])).toMatch(/^x-mock-expect-body-sha256:/);
    expect(parseError(['x-mock-expect-path', '/a', 'X-Mock-Expect-Path', '/a'])).toBe('x-mock-expect-path: given more than once');
    expect(parseError(['x-mock-expect-query', '', 'x-mock-expect-query', ''])).toBe('x-mock-expect-query: given more than once');
    expect(parseError(['x-mock-expect-paht', '/a'])).toMatch(/^x-mock-expect-paht: unknown expectation \(known: x-mock-expect-method, x-mock-expect-path, /);
  });

  it('builds the 418 reply: one message line per mismatch', () => {
    const plan = expectationFailedPlan(['method: expected "GET", got "POST"', 'body length: expected 1, got 2']);
    expect(plan.status).toBe(418);
    expect(plan.headers).toEqual({ 'content-type': 'application/json', 'x-mock-expectation-failed': '1' });
    expect(JSON.parse(Buffer.concat(plan.chunks).toString())).toEqual({
      error: {
        type: 'mock_expectation_failed',
        message: 'method: expected "GET", got "POST"\nbody length: expected 1, got 2',
        mismatches: ['method: expected "GET", got "POST"', 'body length: expected 1, got 2'],
      },
    });
  });
});

describe('expectations through the mock', () => {
  const mock = localMockForFile({ emptyJournalBeforeEach: true });

  it('answers the provider reply when every expectation holds', async () => {
    const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    const response = await rawRequest(`${mock.providerUrl}/v1/chat/completions?lmgate_tag=held`, {
      headers: {
        'Content-Type': 'application/json',
        'X-Custom': 'a, b',
        'x-mock-usage': 'input=3,output=4',
        'x-mock-expect-method': 'POST',
        'x-mock-expect-path': '/v1/chat/completions',
        'x-mock-expect-query': 'lmgate_tag=held',
        'x-mock-expect-header': ['x-custom: a, b', 'content-type: application/json'],
        'x-mock-expect-absent-header': 'authorization, x-forwarded-for',
        // What node:http adds on its own: host, connection and content-length.
        'x-mock-expect-header-names': 'host, connection, content-length, content-type, x-custom',
        'x-mock-expect-body-length': String(Buffer.byteLength(body)),
        'x-mock-expect-body-sha256': sha256(body),
      },
      body,
    });
    expect(response.status).toBe(200);
    expect(response.headers['x-mock-expectation-failed']).toBeUndefined();
    const reply = JSON.parse(response.body.toString()) as Json;
    expect(reply.object).toBe('chat.completion');
    expect(reply.usage.total_tokens).toBe(7);
    expect((await records(mock, 'held'))[0]!.response?.status).toBe(200);

    const bareMark = await rawRequest(`${mock.providerUrl}/v1/models?`, { headers: { 'x-mock-expect-path': '/v1/models', 'x-mock-expect-query': '', 'x-mock-expect-body-length': '0' } });
    expect(bareMark.status).toBe(200);
    expect((JSON.parse(bareMark.body.toString()) as Json).object).toBe('list');
  });

  it('answers 418 at once on a mismatch, before any scenario, and still records the request', async () => {
    const body = Buffer.alloc(5 * 1024 * 1024, 'x');
    const response = await rawRequest(`${mock.providerUrl}/v1/messages?lmgate_tag=failed`, {
      headers: {
        'anthropic-version': '2023-06-01',
        'x-mock-scenario': 'slow-headers:3000,gzip',
        'x-mock-status': '529',
        'x-mock-response-header': 'x-extra: 1',
        'x-mock-expect-method': 'POST',
        'x-mock-expect-query': '',
        'x-mock-expect-header': 'anthropic-version: 2024-01-01',
        'x-mock-expect-absent-header': 'anthropic-version',
        'x-mock-expect-body-sha256': sha256(body),
        'x-mock-expect-body-length': '1',
      },
      body,
    });
    expect(response.headersAfterMs).toBeLessThan(2000);
    expect(response.status).toBe(418);
    expect(response.headers['x-mock-expectation-failed']).toBe('1');
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.headers['content-encoding']).toBeUndefined();
    expect(response.headers['x-extra']).toBeUndefined();
    const expected = [
      'query: expected "", got "lmgate_tag=failed"',
      'header anthropic-version: expected "2024-01-01", got "2023-06-01"',
      'header anthropic-version: expected absent, got "2023-06-01"',
      `body length: expected 1, got ${body.length}`,
    ];
    expect(JSON.parse(response.body.toString())).toEqual({ error: { type: 'mock_expectation_failed', message: expected.join('\n'), mismatches: expected } });

    const [record] = await records(mock, 'failed');
    expect(record!.id).toBe(response.headers['x-mock-request-id']);
    expect(record!.bodyLength).toBe(body.length);
    expect(record!.headers['x-mock-expect-body-length']).toBe('1');
    expect(record!.response).toMatchObject({ status: 418, headers: expect.objectContaining({ 'x-mock-expectation-failed': '1' }), bodyLength: response.body.length, bodySha256: sha256(response.body) });
  });

  it('answers a malformed expectation with 400 in the provider shape', async () => {
    const response = await rawRequest(`${mock.providerUrl}/v1/messages?lmgate_tag=malformed`, {
      headers: { 'x-mock-expect-body-sha256': 'not-hex' },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(response.headers['x-mock-expectation-failed']).toBeUndefined();
    expect(JSON.parse(response.body.toString())).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'mock-upstream: x-mock-expect-body-sha256: expected 64 hex digits, got "not-hex"' },
    });
    expect((await records(mock, 'malformed'))[0]!.response?.status).toBe(400);
  });
});
