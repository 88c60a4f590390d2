import { test, expect } from '../fixtures';
import { waitForAccessLines } from '../support/access-log';
import { bearerSpelledApart, KEYS, UNKNOWN_KEY } from '../support/keys';

const CHAT = '/openai/v1/chat/completions';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

test.describe('auth decisions cached by nginx are never shared between keys', () => {
  test('right after a key was allowed, keys that differ from it in any way get their own decision', async ({ request, tagged, tag, mock }) => {
    expect((await request.post(tagged(`${CHAT}?step=warm`), { headers: bearer(KEYS.alpha.key), data: '{}' })).status()).toBe(200);
    const near = [
      KEYS.alpha.key.slice(0, -1) + (KEYS.alpha.key.endsWith('0') ? '1' : '0'),
      KEYS.alpha.key.slice(0, -1),
      `${KEYS.alpha.key}x`,
      KEYS.alpha.key.toUpperCase(),
    ];
    for (const [i, key] of near.entries()) {
      const response = await request.post(tagged(`${CHAT}?step=near${i}`), { headers: bearer(key), data: '{}' });
      expect(response.status(), `variant ${i}`).toBe(403);
    }
    const recorded = await mock.requests(tag);
    expect(recorded.map((r) => new URLSearchParams(r.query).get('step'))).toEqual(['warm']);
  });

  test('right after a key was refused, an allowed key still passes', async ({ request, tagged }) => {
    expect((await request.post(tagged(`${CHAT}?step=refused`), { headers: bearer(UNKNOWN_KEY), data: '{}' })).status()).toBe(403);
    expect((await request.post(tagged(`${CHAT}?step=allowed`), { headers: bearer(KEYS.alpha.key), data: '{}' })).status()).toBe(200);
    expect((await request.post(tagged(`${CHAT}?step=refused-again`), { headers: bearer(UNKNOWN_KEY), data: '{}' })).status()).toBe(403);
  });

  test('the same key in another header is decided on its own and an x-api-key next to a Bearer changes nothing', async ({ request, tagged }) => {
    expect((await request.post(tagged(CHAT), { headers: { 'x-api-key': UNKNOWN_KEY }, data: '{}' })).status()).toBe(403);
    expect((await request.post(tagged(CHAT), { headers: { 'x-api-key': KEYS.alpha.key }, data: '{}' })).status()).toBe(200);
    expect((await request.post(tagged(CHAT), { headers: { ...bearer(UNKNOWN_KEY), 'x-api-key': KEYS.alpha.key }, data: '{}' })).status()).toBe(403);
  });

  test('allowed keys in quick alternation are each recorded under their own id', async ({ request, tagged, stats, tag }) => {
    const order = [KEYS.alpha, KEYS.gamma, KEYS.alpha, KEYS.gamma, KEYS.alpha, KEYS.gamma];
    for (const [i, key] of order.entries()) {
      expect((await request.post(tagged(`${CHAT}?i=${i}`), { headers: bearer(key.key), data: '{}' })).status()).toBe(200);
    }
    const lines = await stats.waitForLines(tag, order.length);
    for (const line of lines) {
      const i = Number(new URLSearchParams(line.endpoint.split('?')[1]).get('i'));
      expect(line.lmgate_id, `call ${i}`).toBe(order[i]!.id);
      expect(line.masked_key).toBe(order[i]!.key.slice(-6));
    }
  });

  test('a kept decision answers in the call itself, without auth_request: allow and refusal alike, with the id and masked key the service gave', async ({ stack, request, tagged, tag, mock, stats }) => {
    // A spelling of its own (spelled apart by a random count of spaces), so that the first
    // call of each key finds nothing kept and asks; the second, right after, finds it.
    const spaces = 20 + Math.floor(Math.random() * 200);
    const calls = [
      { step: 'allow-asked', key: KEYS.alpha.key, status: 200, auth: 'subrequest' },
      { step: 'allow-kept', key: KEYS.alpha.key, status: 200, auth: 'kept' },
      { step: 'deny-asked', key: UNKNOWN_KEY, status: 403, auth: 'subrequest' },
      { step: 'deny-kept', key: UNKNOWN_KEY, status: 403, auth: 'kept' },
    ];
    for (const call of calls) {
      const response = await request.post(tagged(`${CHAT}?step=${call.step}`), { headers: { authorization: bearerSpelledApart(call.key, spaces) }, data: '{}' });
      expect(response.status(), call.step).toBe(call.status);
    }
    const logged = await waitForAccessLines(stack, tag, calls.length);
    expect(logged.map((line) => [new URLSearchParams(line.request_uri.split('?')[1]).get('step'), line.status, line.auth])).toEqual(
      calls.map((call) => [call.step, call.status, call.auth]),
    );
    expect((await mock.requests(tag)).map((r) => new URLSearchParams(r.query).get('step'))).toEqual(['allow-asked', 'allow-kept']);
    const lines = await stats.waitForLines(tag, 2);
    expect(lines.map((line) => [line.lmgate_id, line.masked_key])).toEqual([
      [KEYS.alpha.id, KEYS.alpha.key.slice(-6)],
      [KEYS.alpha.id, KEYS.alpha.key.slice(-6)],
    ]);
  });
});
