import { test, expect } from '../fixtures';
import { FORBIDDEN } from '../support/contract';
import { credentialSpellings } from '../../lmgate/test/fixtures/key-header-spellings';
import { statsBarrier } from '../support/barrier';
import { KEYS, UNKNOWN_KEY } from '../support/keys';
import { rawFetch, type RawHeaderPairs } from '../support/raw-http';

// Spec §3: one definition of the credentials of a call, read alike by the decision cache,
// the auth subrequest and the stats record. The same table feeds the service's unit tests.
const CHAT = '/openai/v1/chat/completions';
const BODY = '{"model":"gpt-4o-mini","messages":[]}';
const ALLOWED = KEYS.beta;

test.describe('the credentials of a call, every spelling through the whole stack', () => {
  for (const { case: name, headers, query, reads, gatewayStatus } of credentialSpellings(ALLOWED.key, UNKNOWN_KEY)) {
    const allowed = reads === ALLOWED.key;
    const refusal = gatewayStatus ? { status: gatewayStatus, type: 'bad_request' } : { status: 403, type: 'forbidden' };
    test(`${name}: ${allowed ? 'allowed, recorded under the row' : 'refused, never proxied'}`, async ({ stack, tagged, tag, mock, stats, recordExchange }) => {
      const url = stack.gatewayURL + tagged(CHAT) + (query ? `&${query}` : '');
      const sent: RawHeaderPairs = [...headers, ['content-type', 'application/json']];
      const response = await rawFetch(url, 'POST', sent, BODY);
      await recordExchange({ method: 'POST', url, requestHeaders: Object.fromEntries(sent), requestBody: BODY, status: response.status, responseHeaders: response.headers, responseBody: response.body });
      if (allowed) {
        expect(response.status).toBe(200);
        const [line] = await stats.waitForLines(tag);
        expect([line?.lmgate_id, line?.masked_key]).toEqual([ALLOWED.id, ALLOWED.key.slice(-6)]);
        expect(await mock.requests(tag)).toHaveLength(1);
      } else {
        expect(response.status).toBe(refusal.status);
        expect(JSON.parse(response.body.toString('utf8'))).toMatchObject({ error: { type: refusal.type } });
        // A refusal is decided before nginx proxies anything: one read suffices.
        expect(await mock.requests(tag)).toEqual([]);
      }
    });
  }

  test('an allowed key sent as x_api_key is never kept as the decision for requests without a key', async ({ stack, tagged, tag, request, mock, stats }) => {
    // Before: nginx read x_api_key for the service, njs did not; the decision was kept under
    // the digest of "no key" and the next keyless calls passed for 2 s.
    const url = stack.gatewayURL + tagged(CHAT);
    const first = await rawFetch(url, 'POST', [['x_api_key', ALLOWED.key], ['content-type', 'application/json']], BODY);
    expect(first.status).toBe(200);
    const keyless = `${tag}-keyless`;
    for (let i = 0; i < 3; i++) {
      const response = await request.post(`${CHAT}?lmgate_tag=${keyless}&i=${i}`, { data: BODY, headers: { 'content-type': 'application/json' } });
      expect(response.status(), `keyless call ${i}`).toBe(403);
      expect(await response.json()).toEqual(FORBIDDEN);
    }
    expect(await mock.requests(keyless)).toEqual([]);
    await statsBarrier(stack, stats, tag);
    expect(stats.lines(keyless)).toEqual([]);
    expect(stats.lines(tag).map((line) => line.masked_key)).toEqual([ALLOWED.key.slice(-6)]);
  });

  test('a decision for one spelling set is never reused for another: an allowed key, then the same name with an unknown key', async ({ stack, tagged, tag, mock }) => {
    const url = stack.gatewayURL + tagged(CHAT);
    const allowed = await rawFetch(url, 'POST', [['X_API_KEY', ALLOWED.key]], BODY);
    const unknown = await rawFetch(url + '&second=1', 'POST', [['X_API_KEY', UNKNOWN_KEY]], BODY);
    const both = await rawFetch(url + '&third=1', 'POST', [['X_API_KEY', ALLOWED.key], ['x-api-key', ALLOWED.key]], BODY);
    expect([allowed.status, unknown.status, both.status]).toEqual([200, 403, 403]);
    expect((await mock.requests(tag)).map((r) => r.query)).toEqual([`lmgate_tag=${tag}`]);
  });
});
