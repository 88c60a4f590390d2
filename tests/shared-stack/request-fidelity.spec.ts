import { createHash, randomBytes } from 'node:crypto';
import { test, expect } from '../fixtures';
import { KEYS } from '../support/keys';
import { rawFetch } from '../support/raw-http';

// The provider receives what the client sent: the mock checks it itself (x-mock-expect-*,
// mock-upstream/README.md) and answers 418 on any difference, so a failure shows at once.
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

test.describe('requests reach the provider as sent', () => {
  test('nginx adds nothing and drops nothing but what the spec changes: Host, Connection, Accept-Encoding', async ({ stack, tagged, tag, mock, recordExchange }) => {
    const body = Buffer.from(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'exact' }] }));
    const sent: Array<[string, string]> = [
      ['Authorization', `Bearer ${KEYS.alpha.key}`],
      ['Content-Type', 'application/json'],
      ['Content-Length', String(body.length)],
      ['User-Agent', 'fidelity-check/1.0'],
      ['Accept', 'application/json'],
      ['Accept-Encoding', 'gzip, br'],
      ['OpenAI-Organization', 'org-e2e'],
      ['X-Stainless-Lang', 'js'],
      ['X-Custom_Underscored', 'kept as sent'],
      ['X-LMGate-ID', 'client-sent'],
      ['Connection', 'keep-alive'],
    ];
    const expectations: Array<[string, string]> = [
      ['x-mock-expect-method', 'POST'],
      ['x-mock-expect-path', '/v1/chat/completions'],
      ['x-mock-expect-query', `lmgate_tag=${encodeURIComponent(tag)}`],
      // Connection is hop-by-hop (nginx speaks keep-alive to the provider on its own).
      ['x-mock-expect-header-names', 'host, authorization, content-type, content-length, user-agent, accept, accept-encoding, openai-organization, x-stainless-lang, x-custom_underscored, x-lmgate-id'],
      ['x-mock-expect-header', 'host: api.openai.com'],
      // Readable captured bodies (spec §8).
      ['x-mock-expect-header', 'accept-encoding: identity'],
      ...sent.filter(([name]) => !/^(connection|accept-encoding)$/i.test(name)).map(([name, value]) => ['x-mock-expect-header', `${name}: ${value}`] as [string, string]),
      ['x-mock-expect-body-length', String(body.length)],
      ['x-mock-expect-body-sha256', sha256(body)],
    ];
    const url = stack.gatewayURL + tagged('/openai/v1/chat/completions');
    const response = await rawFetch(url, 'POST', [...sent, ...expectations], body);
    await recordExchange({ method: 'POST', url, requestHeaders: Object.fromEntries(sent), requestBody: body, status: response.status, responseHeaders: response.headers, responseBody: response.body });
    expect(response.status, response.body.toString('utf8')).toBe(200);
    expect((await mock.requests(tag)).length).toBe(1);
  });

  for (const mib of [1, 16, 64]) {
    test(`a ${mib} MiB request body passes byte for byte${mib === 64 ? ' (the limit)' : ''}`, async ({ stack, tagged, tag, stats }) => {
      // 64 MiB through nginx and the mock (which hashes it) took 30 s once on a 2-core
      // machine that also ran the recording file's 210,000-record backlog.
      test.setTimeout(30_000 + mib * 1_000);
      const size = mib * 1024 * 1024;
      const prefix = Buffer.from('{"model":"gpt-4o-mini","messages":[],"pad":"');
      const suffix = Buffer.from('"}');
      const body = Buffer.concat([prefix, Buffer.from(randomBytes((size - prefix.length - suffix.length) * 3 / 4 + 3).toString('base64').slice(0, size - prefix.length - suffix.length)), suffix]);
      expect(body.length).toBe(size);
      const response = await rawFetch(stack.gatewayURL + tagged('/openai/v1/chat/completions'), 'POST', [
        ['Authorization', `Bearer ${KEYS.alpha.key}`],
        ['Content-Type', 'application/json'],
        ['x-mock-expect-body-length', String(size)],
        ['x-mock-expect-body-sha256', sha256(body)],
      ], body);
      expect(response.status, response.body.toString('utf8').slice(0, 500)).toBe(200);
      const [line] = await stats.waitForLines(tag);
      expect(line?.status).toBe(200);
    });
  }
});
