import { randomBytes } from 'node:crypto';
import { test, expect } from '../fixtures';
import { formatExchange } from '../support/exchanges';
import { ALL_SECRETS, GOOG_HEADER_KEY, KEYS, QUERY_KEY } from '../support/keys';
import { setTlsMode } from '../support/mock-tls';
import { rawFetch } from '../support/raw-http';
import { freezeService, thawService, SERVICES, serviceLogs } from '../support/stack';

// Spec §10: no secret in any log or record, error paths included. The audit first drives
// the paths on which nginx and the service write log lines about a request, each carrying
// secrets in the key headers, in `?key=` and in x-goog-api-key; then it reads everything
// the whole run left behind. It runs last: it breaks the provider mock's TLS.
test.describe.configure({ mode: 'serial', timeout: 90_000 });

const GOOGLE = '/google/v1/projects/p/locations/l/publishers/google/models/m:generateContent';

test('after the error paths were driven, no secret appears in any container log, the stats file or a report attachment', async ({ run, stats }) => {
  const url = (tag: string) => `${run.gatewayURL}${GOOGLE}?lmgate_tag=audit-${tag}&key=${QUERY_KEY}`;
  const secretHeaders = { authorization: `Bearer ${KEYS.gamma.key}`, 'x-goog-api-key': GOOG_HEADER_KEY, 'content-type': 'application/json' };

  // nginx: a body over the limit (413), logged with the request line.
  expect((await rawFetch(url('413'), 'POST', { ...secretHeaders, 'content-length': String(65 * 1024 * 1024) }, '{}')).status).toBe(413);

  // The service: records it must reject, carrying keys in every field it could log.
  const rejected = JSON.stringify([
    { request_uri: `${GOOGLE}?key=${QUERY_KEY}`, status: 'bad', lmgate_id: '1', upstream_host: 'x', authorization: `Bearer ${KEYS.alpha.key}` },
    { request_uri: `/x?key=${QUERY_KEY}`, status: 200, lmgate_id: KEYS.beta.key, upstream_host: GOOG_HEADER_KEY, x_api_key: 7 },
  ]);
  const post = (body: string) => fetch(`${run.serviceURL}/stats`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const serviceReplies = await Promise.all([post(rejected).then((r) => r.text()), post(`{"authorization":"Bearer ${KEYS.alpha.key}",`).then((r) => r.status)]);
  expect(serviceReplies).toEqual(['{"accepted":0,"received":2,"rejected":2}', 400]);

  // nginx: the LMGate service frozen, so the auth subrequest times out (logged).
  await freezeService(run, 'lmgate');
  try {
    // A set of key headers no other call used (spellings do not count: they are read as
    // one), so no kept decision answers and nginx must ask the frozen service.
    const unique = [['Authorization', `Bearer audit-${randomBytes(6).toString('hex')}`], ['X_Api_Key', KEYS.beta.key], ['x-goog-api-key', GOOG_HEADER_KEY]] as Array<[string, string]>;
    expect((await rawFetch(url('auth-timeout'), 'POST', unique, '{}')).status).toBe(403);
  } finally {
    await thawService(run, 'lmgate');
  }

  // nginx: the provider unreachable (the mock resets the connection before TLS: a 502),
  // logged with the upstream's address and the request line.
  await setTlsMode(run.mockAdminURL, 'aiplatform.googleapis.com', 'reset');
  expect((await rawFetch(url('upstream-gone'), 'POST', secretHeaders, '{}')).status).toBe(502);
  await stats.waitForLines('audit-upstream-gone');

  const logs = await serviceLogs(run, SERVICES, 100_000);
  // The paths were really taken: their lines are there to be read.
  for (const evidence of ['client intended to send too large body', 'stats record rejected', 'upstream timed out', 'lmgate_tag=audit-upstream-gone']) {
    expect(logs, `a log line for: ${evidence}`).toContain(evidence);
  }
  const statsText = stats.text();
  const report = formatExchange({ method: 'POST', url: url('report'), requestHeaders: secretHeaders, requestBody: `{"key":"${QUERY_KEY}"}`, status: 200, responseHeaders: {}, responseBody: '' });
  for (const secret of ALL_SECRETS) {
    expect(statsText.includes(secret), `${secret.slice(0, 12)}… in the stats file`).toBe(false);
    expect(logs.includes(secret), `${secret.slice(0, 12)}… in the container logs`).toBe(false);
    expect(report.includes(secret), `${secret.slice(0, 12)}… in a report attachment`).toBe(false);
  }
});
