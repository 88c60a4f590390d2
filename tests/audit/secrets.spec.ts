import { test, expect } from '../fixtures';
import { formatExchange } from '../support/exchanges';
import { GOOG_HEADER_KEY, KEYS, QUERY_KEY } from '../support/keys';
import { rawFetch } from '../support/raw-http';
import { secretsIn } from '../support/secrets';
import { addToSpool, spoolLine } from '../support/spool';
import { SERVICES } from '../support/stack';

// Spec §10: no secret in any log or record, error paths included. The audit drives two
// more paths on which nginx and the service write log lines about a request, carrying
// secrets in the key headers, in `?key=` and in x-goog-api-key; then it reads everything
// the whole run left behind on the shared stack. (The paths that take a stack down or
// break its provider's TLS — an auth timeout, an unreachable or untrusted provider — are
// driven on stacks of their own, whose logs are read the same way when their file is
// done: useOwnStack in tests/fixtures.ts.)

const GOOGLE = '/google/v1/projects/p/locations/l/publishers/google/models/m:generateContent';

test('after the error paths were driven, no secret appears in any container log, the stats file or a report attachment', async ({ stack, stats }) => {
  const url = (tag: string) => `${stack.gatewayURL}${GOOGLE}?lmgate_tag=audit-${tag}&key=${QUERY_KEY}`;
  const secretHeaders = { authorization: `Bearer ${KEYS.gamma.key}`, 'x-goog-api-key': GOOG_HEADER_KEY, 'content-type': 'application/json' };

  // Evidence of this test's own paths, not of an earlier test's: the 413 line carries this
  // test's tag, and the rejected spool lines add two lines to those already there.
  const rejections = (logs: string) => logs.split('spool line rejected').length - 1;
  const rejectedBefore = rejections(await stack.logs(['lmgate'], 100_000));

  // nginx: a body over the limit (413), logged with the request line.
  expect((await rawFetch(url('413'), 'POST', { ...secretHeaders, 'content-length': String(65 * 1024 * 1024) }, '{}')).status).toBe(413);

  // The service: spool lines it must reject, carrying keys in every field it could log
  // (nginx never writes a key there; a line damaged on disk could hold anything).
  const valid = JSON.parse(spoolLine({ producer: 'audit/1', seq: 0, requestId: 'audit-rejected', uri: `${GOOGLE}?key=${QUERY_KEY}` })) as Record<string, unknown>;
  await addToSpool(stack, 'records-0000-audit.jsonl', [
    JSON.stringify({ ...valid, status: 'bad', masked_key: KEYS.alpha.key, lmgate_id: KEYS.beta.key, upstream_host: GOOG_HEADER_KEY }),
    `{"authorization":"Bearer ${KEYS.alpha.key}",`,
  ].join('\n') + '\n');

  // The paths were really taken: their lines are there to be read, once they have come
  // through Docker's log capture, which trails the replies.
  let logs = '';
  const read = async () => (logs = await stack.logs(SERVICES, 100_000));
  await expect.poll(async () => (await read()).split('\n').some((line) => line.includes('too large body') && line.includes('audit-413')), { message: "this test's 413 line", intervals: [100] }).toBe(true);
  await expect.poll(async () => rejections(await read()), { message: "this test's two rejected spool lines", intervals: [100] }).toBeGreaterThanOrEqual(rejectedBefore + 2);
  const statsText = stats.text();
  const report = formatExchange({ method: 'POST', url: url('report'), requestHeaders: secretHeaders, requestBody: `{"key":"${QUERY_KEY}"}`, status: 200, responseHeaders: {}, responseBody: '' });
  expect(secretsIn(statsText), 'secrets in the stats file').toEqual([]);
  expect(secretsIn(logs), 'secrets in the container logs').toEqual([]);
  expect(secretsIn(report), 'secrets in a report attachment').toEqual([]);
});
