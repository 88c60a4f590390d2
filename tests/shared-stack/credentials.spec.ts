import { test, expect } from '../fixtures';
import { FORBIDDEN } from '../support/contract';
import { KEYS, UNKNOWN_KEY } from '../support/keys';

// Spec §3: every place a provider may read a key from must carry the same allow-listed
// key, or nothing. Otherwise a call could pass the allow-list with one key and be paid
// for, at the provider, with another.
const LISTED = KEYS.beta;

const PROVIDERS = [
  { name: 'openai', path: '/openai/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [] } },
  { name: 'anthropic', path: '/anthropic/v1/messages', body: { model: 'claude-3-5-haiku-latest', max_tokens: 8, messages: [] } },
  { name: 'google', path: '/google/v1/projects/p/locations/l/publishers/google/models/gemini-2.0-flash-001:generateContent', body: { contents: [] } },
] as const;

interface Place {
  name: string;
  /** The headers and query parameters that put `key` in this place. */
  put: (key: string) => { headers: Record<string, string>; query: string };
  /** What the provider received in this place. */
  read: (received: { headers: Record<string, string | undefined>; query: string }) => string | undefined;
}

const PLACES: Place[] = [
  { name: 'Authorization', put: (key) => ({ headers: { authorization: `Bearer ${key}` }, query: '' }), read: (r) => r.headers['authorization'] },
  { name: 'x-api-key', put: (key) => ({ headers: { 'x-api-key': key }, query: '' }), read: (r) => r.headers['x-api-key'] },
  { name: 'x-goog-api-key', put: (key) => ({ headers: { 'x-goog-api-key': key }, query: '' }), read: (r) => r.headers['x-goog-api-key'] },
  { name: '?key=', put: (key) => ({ headers: {}, query: `&key=${key}` }), read: (r) => new URLSearchParams(r.query).get('key') ?? undefined },
];

function both(first: Place, firstKey: string, second: Place, secondKey: string) {
  const a = first.put(firstKey);
  const b = second.put(secondKey);
  return { headers: { ...a.headers, ...b.headers }, query: a.query + b.query };
}

for (const provider of PROVIDERS) {
  test.describe(`${provider.name}: the key checked is the key the provider uses`, () => {
    for (const [i, first] of PLACES.entries()) {
      for (const second of PLACES.slice(i + 1)) {
        test(`${first.name} + ${second.name}: listed + unlisted and unlisted + listed refused, never proxied; the same key twice passes`, async ({ request, tagged, tag, mock, stats }) => {
          const call = async (step: string, sent: { headers: Record<string, string>; query: string }) =>
            request.post(`${tagged(provider.path)}&step=${step}${sent.query}`, { headers: sent.headers, data: provider.body });
          await test.step(`listed in ${first.name}, unlisted in ${second.name}: 403`, async () => {
            const response = await call('listed-unlisted', both(first, LISTED.key, second, UNKNOWN_KEY));
            expect(response.status()).toBe(403);
            expect(await response.json()).toEqual(FORBIDDEN);
          });
          await test.step(`unlisted in ${first.name}, listed in ${second.name}: 403`, async () => {
            const response = await call('unlisted-listed', both(first, UNKNOWN_KEY, second, LISTED.key));
            expect(response.status()).toBe(403);
            expect(await response.json()).toEqual(FORBIDDEN);
          });
          await test.step('the same listed key in both: 200, recorded under its row', async () => {
            const response = await call('same', both(first, LISTED.key, second, LISTED.key));
            expect(response.status()).toBe(200);
            const [line] = await stats.waitForLines(tag);
            expect([line?.lmgate_id, line?.masked_key]).toEqual([LISTED.id, LISTED.key.slice(-6)]);
          });
          await test.step('the provider received only the call with one key, in both places', async () => {
            // The refusals were answered before nginx proxied anything: one read is the proof.
            const received = await mock.requests(tag);
            expect(received.map((r) => new URLSearchParams(r.query).get('step'))).toEqual(['same']);
            const bearer = (value: string | undefined) => value?.replace(/^Bearer /, '');
            expect([bearer(first.read(received[0]!)), bearer(second.read(received[0]!))]).toEqual([LISTED.key, LISTED.key]);
          });
        });
      }
    }

    test('the listed key alone, in each place: passes, and reaches the provider there', async ({ request, tagged, tag, mock, stats }) => {
      for (const place of PLACES) {
        await test.step(place.name, async () => {
          const sent = place.put(LISTED.key);
          const response = await request.post(`${tagged(provider.path)}&place=${encodeURIComponent(place.name)}${sent.query}`, { headers: sent.headers, data: provider.body });
          expect(response.status()).toBe(200);
        });
      }
      const lines = await stats.waitForLines(tag, PLACES.length);
      expect(lines.map((line) => [line.lmgate_id, line.masked_key])).toEqual(PLACES.map(() => [LISTED.id, LISTED.key.slice(-6)]));
      const received = await mock.requests(tag);
      expect(received.map((r) => new URLSearchParams(r.query).get('place'))).toEqual(PLACES.map((place) => place.name));
      for (const [i, place] of PLACES.entries()) expect(place.read(received[i]!)?.replace(/^Bearer /, ''), place.name).toBe(LISTED.key);
    });
  });
}

test('a kept decision is never reused for a call with a different second credential', async ({ request, tagged, tag, mock }) => {
  const path = PROVIDERS[2].path;
  const data = PROVIDERS[2].body;
  const headers = { authorization: `Bearer ${LISTED.key}` };
  // The first call's allow is kept (the auth cache); the next ones, within its lifetime,
  // add a second, unlisted credential.
  expect((await request.post(`${tagged(path)}&step=kept`, { headers, data })).status()).toBe(200);
  const refusals = [
    await request.post(`${tagged(path)}&step=goog`, { headers: { ...headers, 'x-goog-api-key': UNKNOWN_KEY }, data }),
    await request.post(`${tagged(path)}&step=query&key=${UNKNOWN_KEY}`, { headers, data }),
    await request.post(`${tagged(path)}&step=x-api-key`, { headers: { ...headers, 'x-api-key': UNKNOWN_KEY }, data }),
  ];
  expect(refusals.map((response) => response.status())).toEqual([403, 403, 403]);
  expect((await mock.requests(tag)).map((r) => new URLSearchParams(r.query).get('step'))).toEqual(['kept']);
});
