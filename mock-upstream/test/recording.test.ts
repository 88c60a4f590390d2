import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { headersFromRaw, type RequestRecord } from '../src/recorder.js';
import { connect } from 'node:net';
import { localMockForFile, rawRequest, records, sseJson, startLocal } from './helpers.js';

const mock = localMockForFile({ emptyJournalBeforeEach: true });

describe('recording', () => {
  it('keeps an invalid JSON body byte for byte and summarises the exact reply', async () => {
    const body = '{"model": "gpt-4o", "messages": [ ,,, }';
    const response = await rawRequest(`${mock.providerUrl}/v1/chat/completions`, {
      headers: { 'content-type': 'application/json', 'x-test-tag': 'invalid-json', 'X-Custom': 'A' },
      body,
    });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body.toString()).error.type).toBe('invalid_request_error');

    const [record] = await records(mock, 'invalid-json');
    expect(record).toBeDefined();
    const r = record as RequestRecord;
    expect(r.id).toBe(response.headers['x-mock-request-id']);
    expect(r.method).toBe('POST');
    expect(r.bodyText).toBe(body);
    expect(Buffer.from(r.bodyBase64, 'base64').toString()).toBe(body);
    expect(r.bodyLength).toBe(Buffer.byteLength(body));
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['x-custom']).toBe('A');
    expect(r.rawHeaders).toContain('X-Custom');
    expect(r.sni).toBeNull();
    expect(r.host).toBe(`127.0.0.1:${mock.providerPort}`);
    expect(r.response).toEqual({
      status: 400,
      headers: expect.objectContaining({ 'content-type': 'application/json', 'x-mock-request-id': r.id }),
      bodyLength: response.body.length,
      bodySha256: createHash('sha256').update(response.body).digest('hex'),
    });
    expect(Date.parse(r.receivedAt)).not.toBeNaN();
  });

  it('keeps binary bodies, malformed content types, the raw URL and the query tag', async () => {
    const binary = Buffer.from([0, 255, 1, 254, 0x1f, 0x8b, 0xc3, 0x28, 10, 13]);
    await rawRequest(`${mock.providerUrl}/v1/files?purpose=x&lmgate_tag=bin`, {
      headers: { 'content-type': 'application/octet-stream', 'x-test-tag': 'ignored' },
      body: binary,
    });
    const odd = await rawRequest(`${mock.providerUrl}/v1/chat/completions?lmgate_tag=odd`, { headers: { 'content-type': 'not a media type' }, body: '{}' });
    expect(odd.status).toBe(200);

    const [bin] = await records(mock, 'bin');
    expect(Buffer.from(bin!.bodyBase64, 'base64').equals(binary)).toBe(true);
    expect(bin!.url).toBe('/v1/files?purpose=x&lmgate_tag=bin');
    expect(bin!.path).toBe('/v1/files');
    expect(bin!.query).toBe('purpose=x&lmgate_tag=bin');
    expect(bin!.tag).toBe('bin');
    expect(bin!.response?.status).toBe(404);
    const [oddRecord] = await records(mock, 'odd');
    expect(oddRecord!.headers['content-type']).toBe('not a media type');
    expect(oddRecord!.bodyText).toBe('{}');
  });

  it('records empty requests and GET bodies, and joins repeated headers', async () => {
    const get = await rawRequest(`${mock.providerUrl}/v1/models`, { method: 'GET', headers: { 'x-test-tag': 'get', 'x-dup': ['a', 'b'] } });
    expect(get.status).toBe(200);
    await rawRequest(`${mock.providerUrl}/anything`, { method: 'GET', headers: { 'x-test-tag': 'get-body', 'content-length': '5' }, body: 'hello' });
    await rawRequest(`${mock.providerUrl}/v1/messages`, { method: 'POST', headers: { 'x-test-tag': 'empty-post' } });

    const [getRecord] = await records(mock, 'get');
    expect(getRecord!.bodyLength).toBe(0);
    expect(getRecord!.bodyText).toBe('');
    expect(getRecord!.headers['x-dup']).toBe('a, b');
    expect((await records(mock, 'get-body'))[0]!.bodyText).toBe('hello');
    const [emptyPost] = await records(mock, 'empty-post');
    expect(emptyPost!.bodyLength).toBe(0);
    expect(emptyPost!.response?.status).toBe(400);
  });

  it('keeps a gzip request body as sent while still reading it for the reply', async () => {
    const compressed = gzipSync(JSON.stringify({ model: 'claude', stream: true, messages: [] }));
    const response = await rawRequest(`${mock.providerUrl}/v1/messages?lmgate_tag=gz-req`, {
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: compressed,
    });
    expect(response.headers['content-type']).toBe('text/event-stream');
    expect(sseJson(response.body.toString()).at(-1)).toEqual({ type: 'message_stop' });
    const [record] = await records(mock, 'gz-req');
    expect(Buffer.from(record!.bodyBase64, 'base64').equals(compressed)).toBe(true);
  });
});

describe('admin API', () => {
  it('filters by tag, fetches by id, clears, and answers health checks', async () => {
    for (const tag of ['a', 'b', 'a']) await fetch(`${mock.providerUrl}/v1/models`, { headers: { 'x-test-tag': tag } });
    await fetch(`${mock.providerUrl}/v1/models`);

    const all = await records(mock);
    expect(all.map((r) => r.tag)).toEqual(['a', 'b', 'a', null]);
    expect(all.map((r) => r.seq)).toEqual([...all.map((r) => r.seq)].sort((x, y) => x - y));
    expect((await records(mock, 'a')).map((r) => r.id)).toEqual([all[0]!.id, all[2]!.id]);

    expect(await (await fetch(`${mock.adminUrl}/tags`)).json()).toEqual({ a: 2, b: 1, '': 1 });

    const one = await fetch(`${mock.adminUrl}/requests/${all[1]!.id}`);
    expect(one.status).toBe(200);
    expect(((await one.json()) as RequestRecord).tag).toBe('b');
    expect((await fetch(`${mock.adminUrl}/requests/nope`)).status).toBe(404);

    expect((await fetch(`${mock.adminUrl}/requests`, { method: 'DELETE' })).status).toBe(204);
    expect(await records(mock)).toEqual([]);

    const health = await fetch(`${mock.adminUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok');
  });

  it('keeps only the newest records when over the cap', async () => {
    const small = await startLocal({ maxRecords: 3 });
    try {
      for (let i = 1; i <= 5; i++) await fetch(`${small.providerUrl}/v1/models?lmgate_tag=n${i}`);
      expect((await records(small)).map((r) => r.tag)).toEqual(['n3', 'n4', 'n5']);
    } finally {
      await small.close();
    }
  });
});

describe('header names that are Object.prototype names', () => {
  it('keeps __proto__, constructor and the like as headers', async () => {
    const headers = headersFromRaw(['__proto__', 'a', 'Constructor', 'b', 'toString', 'c', 'hasOwnProperty', 'd', 'constructor', 'e']);
    expect(Object.keys(headers)).toEqual(['__proto__', 'constructor', 'tostring', 'hasownproperty']);
    expect(headers['__proto__']).toBe('a');
    expect(headers['constructor']).toBe('b, e');
    expect(headers['valueof']).toBeUndefined();
    expect(JSON.stringify(headers)).toBe('{"__proto__":"a","constructor":"b, e","tostring":"c","hasownproperty":"d"}');
  });

  it('records and echoes them through the admin API', async () => {
    const socket = connect({ host: '127.0.0.1', port: mock.providerPort });
    const answered = new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString()));
    });
    socket.write(
      'POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n__proto__: p\r\nconstructor: c\r\nx-test-tag: proto\r\n' +
        'x-mock-response-header: __proto__: r\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
    );
    expect(await answered).toMatch(/^HTTP\/1\.1 200 /);
    const [record] = await records(mock, 'proto');
    expect(Object.getOwnPropertyDescriptor(record!.headers, '__proto__')?.value).toBe('p');
    expect(record!.headers['constructor']).toBe('c');
    expect(Object.getOwnPropertyDescriptor(record!.response!.headers, '__proto__')?.value).toBe('r');
  });
});
