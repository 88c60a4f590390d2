import { test, expect, useOwnStack } from '../fixtures';
import { KEYS, QUERY_KEY } from '../support/keys';
import { serviceLogs } from '../support/stack';
import { setTlsMode, tlsState, type TlsMode } from '../support/mock-tls';

// Upstream TLS is verified, and the gateway's own 502/504 towards a provider are JSON with a
// stats line each. The mock's TLS modes change what every caller of a provider name sees:
// a stack of its own.
useOwnStack({ label: 'upstream' });

const ANTHROPIC = 'api.anthropic.com';
const MESSAGES = '/anthropic/v1/messages';
const BODY = { model: 'claude-sonnet-4-5', max_tokens: 8, messages: [] };
const HEADERS = { 'x-api-key': KEYS.beta.key, 'anthropic-version': '2023-06-01' };

const failures: Array<{ mode: TlsMode; what: string; status: number; type: string }> = [
  { mode: 'untrusted-ca', what: 'a certificate from a CA nginx does not trust', status: 502, type: 'bad_gateway' },
  { mode: 'wrong-name', what: 'a trusted certificate for another name', status: 502, type: 'bad_gateway' },
  { mode: 'reset', what: 'a connection reset before TLS (unreachable)', status: 502, type: 'bad_gateway' },
  // nginx's proxy_connect_timeout (PROVIDER_CONNECT_TIMEOUT_MS in e2e) covers the TLS handshake.
  { mode: 'stall', what: 'no answer to the TLS handshake (too slow)', status: 504, type: 'gateway_timeout' },
];

for (const failure of failures) {
  test(`the provider answers with ${failure.what}: ${failure.status} JSON, never its reply, and a stats line http_${failure.status}`, async ({ run, request, tagged, tag, mock, stats }) => {
    test.setTimeout(60_000);
    // A verified connection and session first: the mode change must not ride on them.
    expect((await request.post(tagged(`${MESSAGES}?step=before`), { headers: HEADERS, data: BODY })).status()).toBe(200);
    const before = (await tlsState(run.mockAdminURL, ANTHROPIC)).connections[failure.mode];
    await setTlsMode(run.mockAdminURL, ANTHROPIC, failure.mode);
    try {
      // With a ?key= secret: nginx's error line about the failure shows the request line,
      // the key masked (the file's end reads this stack's logs for secrets).
      const response = await request.post(`${tagged(`${MESSAGES}?step=failing`)}&key=${QUERY_KEY}`, { headers: HEADERS, data: BODY, timeout: 30_000 });
      expect(response.status()).toBe(failure.status);
      expect(response.headers()['content-type']).toMatch(/^application\/json/);
      expect(await response.json()).toMatchObject({ error: { type: failure.type } });
      // It was the mock that nginx turned away from, and no request reached its HTTP side.
      expect((await tlsState(run.mockAdminURL, ANTHROPIC)).connections[failure.mode]).toBeGreaterThan(before);
      expect((await mock.requests(tag)).map((r) => r.query)).toEqual([`step=before&lmgate_tag=${tag}`]);
      // (It reaches the container's log through start.sh's masking pipe: a moment later.)
      await expect.poll(() => serviceLogs(run, ['nginx'], 2_000), { message: 'the error line', intervals: [100] })
        .toContain(`request: "POST ${MESSAGES}?step=failing&lmgate_tag=${tag}&key=*** HTTP/1.1", upstream: "https://`);
    } finally {
      await setTlsMode(run.mockAdminURL, ANTHROPIC, 'valid');
    }
    const lines = await stats.waitForLines(tag, 2);
    expect(lines.find((l) => l.endpoint.includes('step=failing'))).toMatchObject({
      provider: 'anthropic', status: failure.status, error_type: `http_${failure.status}`, lmgate_id: KEYS.beta.id, model: null, first_byte_ms: null,
    });
  });
}
