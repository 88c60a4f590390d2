import { createHash } from 'node:crypto';
import { FORBIDDEN } from '../support/contract';
import { test, expect } from '../fixtures';
import { KEYS, UNKNOWN_KEY } from '../support/keys';

const CHAT = '/openai/v1/chat/completions';
const chatBody = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'ping' }] };

test.describe('authorization', () => {
  const allowed: Array<[string, Record<string, string>, string]> = [
    ['Bearer key', { authorization: `Bearer ${KEYS.alpha.key}` }, KEYS.alpha.id],
    ['x-api-key', { 'x-api-key': KEYS.beta.key }, KEYS.beta.id],
    ['lower-case scheme', { authorization: `bearer ${KEYS.gamma.key}` }, KEYS.gamma.id],
    ['upper-case scheme', { authorization: `BEARER ${KEYS.alpha.key}` }, KEYS.alpha.id],
    ['spaces around the key', { authorization: `  Bearer    ${KEYS.beta.key}   ` }, KEYS.beta.id],
    ['the same key as Bearer and as x-api-key', { authorization: `Bearer ${KEYS.gamma.key}`, 'x-api-key': KEYS.gamma.key }, KEYS.gamma.id],
  ];
  for (const [name, headers, id] of allowed) {
    test(`allowed: ${name}, recorded under the key's row id`, async ({ request, tagged, tag, mock, stats }) => {
      const response = await request.post(tagged(CHAT), { headers, data: chatBody });
      expect(response.status()).toBe(200);
      const [recorded] = await mock.waitForRequests(tag);
      // The provider needs the key: it is forwarded as sent (HTTP itself drops the outer spaces).
      for (const [name, value] of Object.entries(headers)) expect(recorded?.headers[name]).toBe(value.trim());
      const [line] = await stats.waitForLines(tag);
      expect(line?.lmgate_id).toBe(id);
    });
  }

  const refused: Array<[string, Record<string, string>]> = [
    ['no key at all', {}],
    ['an empty Bearer key', { authorization: 'Bearer ' }],
    ['a Bearer of spaces', { authorization: 'Bearer     ' }],
    ['an empty x-api-key', { 'x-api-key': '' }],
    ['an unknown Bearer key', { authorization: `Bearer ${UNKNOWN_KEY}` }],
    ['an unknown x-api-key', { 'x-api-key': UNKNOWN_KEY }],
    ['an unknown Bearer key even with a valid x-api-key', { authorization: `Bearer ${UNKNOWN_KEY}`, 'x-api-key': KEYS.alpha.key }],
    ['a valid Bearer key beside an unknown x-api-key', { authorization: `Bearer ${KEYS.alpha.key}`, 'x-api-key': UNKNOWN_KEY }],
    ['two valid keys, one as Bearer, one as x-api-key', { authorization: `Bearer ${KEYS.alpha.key}`, 'x-api-key': KEYS.beta.key }],
    ['a Basic scheme', { authorization: `Basic ${Buffer.from(`user:${KEYS.alpha.key}`).toString('base64')}` }],
    ['a Basic scheme beside a valid x-api-key', { authorization: 'Basic dXNlcjpwYXNz', 'x-api-key': KEYS.alpha.key }],
    ['the key without a scheme', { authorization: KEYS.alpha.key }],
    ['a key differing in case', { authorization: `Bearer ${KEYS.alpha.key.toUpperCase()}` }],
  ];
  for (const [name, headers] of refused) {
    test(`refused: ${name} → 403 JSON, upstream never reached, no stats line`, async ({ request, tagged, tag, mock, stats }) => {
      const response = await request.post(tagged(CHAT), { headers, data: chatBody });
      expect(response.status()).toBe(403);
      expect(response.headers()['content-type']).toMatch(/^application\/json/);
      expect(await response.json()).toEqual(FORBIDDEN);
      await mock.expectNoRequests(tag);
      stats.expectNoLines(tag);
    });
  }

  for (const prefix of ['/openai/v1/embeddings', '/anthropic/v1/messages', '/google/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash-001:generateContent']) {
    test(`every provider route refuses an unknown key: ${prefix.split('/')[1]}`, async ({ request, tagged, tag, mock }) => {
      for (const method of ['GET', 'POST', 'DELETE'] as const) {
        const response = await request.fetch(tagged(prefix), { method, headers: { authorization: `Bearer ${UNKNOWN_KEY}` }, data: '{}' });
        expect(response.status(), method).toBe(403);
        expect(await response.json()).toEqual(FORBIDDEN);
      }
      await mock.expectNoRequests(tag);
    });
  }

  test('a client-sent X-LMGate-ID does not change the recorded id', async ({ request, tagged, tag, stats }) => {
    const response = await request.post(tagged(CHAT), {
      headers: { authorization: `Bearer ${KEYS.alpha.key}`, 'x-lmgate-id': KEYS.beta.id },
      data: chatBody,
    });
    expect(response.status()).toBe(200);
    const [line] = await stats.waitForLines(tag);
    expect(line?.lmgate_id).toBe(KEYS.alpha.id);
  });

  test('a client-sent X-LMGate-ID does not let an unknown key through', async ({ request, tagged, tag, mock }) => {
    const response = await request.post(tagged(CHAT), {
      headers: { authorization: `Bearer ${UNKNOWN_KEY}`, 'x-lmgate-id': KEYS.alpha.id },
      data: chatBody,
    });
    expect(response.status()).toBe(403);
    await mock.expectNoRequests(tag);
  });

  test("the provider's own 401 and 403 pass through unchanged, not replaced by the gateway's", async ({ request, tagged, tag, mock }) => {
    const bodies: Buffer[] = [];
    for (const status of [401, 403]) {
      const response = await request.post(`${tagged(CHAT)}&status=${status}`, {
        headers: { authorization: `Bearer ${KEYS.alpha.key}`, 'x-mock-status': String(status) },
        data: chatBody,
      });
      expect(response.status()).toBe(status);
      const body = (await response.json()) as { error: { type: string } };
      expect(body).not.toEqual(FORBIDDEN);
      expect(body.error.type).not.toBe('forbidden');
      bodies.push(await response.body());
    }
    // The very bytes the mock sent, each: its length and SHA-256 of what it wrote.
    const sent = (await mock.answered(tag, 2)).map((r) => [r.response!.bodyLength, r.response!.bodySha256]);
    expect(bodies.map((body) => [body.length, createHash('sha256').update(body).digest('hex')])).toEqual(sent);
  });
});
