import { test, expect } from '../fixtures';
import { rawExchange } from '../support/raw-http';
import { KEYS } from '../support/keys';
import { spoolLine } from '../support/spool';


const auth = { authorization: `Bearer ${KEYS.alpha.key}` };

/** Sends a raw request, so that no client library normalizes the path first. */
const rawRequest = (gatewayURL: string, lines: string[]) => rawExchange(gatewayURL, lines.join('\r\n') + '\r\n\r\n');

const statusOf = (raw: string) => Number(raw.split(' ')[1]);

test.describe('hostile and odd input', () => {
  for (const path of ['/_lmgate_auth', '/_lmgate_auth_service', '/_stats', '/auth', '/stats', '/_lmgate_auth?x=1', '/openai/../_lmgate_auth', '/_lmgate_kept/openai/v1/chat/completions', '/openai/../_lmgate_kept/openai/v1/chat/completions']) {
    test(`internal location ${path} requested directly: 404, no upstream, no stats`, async ({ request, tagged, tag, mock, stats }) => {
      for (const method of ['GET', 'POST'] as const) {
        // A well-formed record carrying the test's tag: were it ever written, the whole-run
        // accounting (tests/audit) would find a line for this tag that no provider saw.
        const record = { request_uri: `/x?lmgate_tag=${tag}`, status: 200, lmgate_id: '1', upstream_host: 'api.openai.com' };
        const response = await request.fetch(tagged(path), { method, headers: auth, data: JSON.stringify(record) });
        expect(response.status(), method).toBe(404);
      }
      await mock.expectNoRequests(tag);
      stats.expectNoLines(tag);
    });
  }

  test('path tricks never reach an upstream other than the prefix provider, and never skip auth', async ({ stack, tag, mock }) => {
    const q = `lmgate_tag=${tag}`;
    const cases: Array<{ path: string; key: boolean; expect: (status: number) => void }> = [
      { path: `/openai/../anthropic/v1/messages?${q}`, key: false, expect: (s) => expect(s).toBe(403) },
      { path: `/openai/%2e%2e/anthropic/v1/messages?${q}`, key: false, expect: (s) => expect(s).toBe(403) },
      { path: `/openai%2F..%2Fanthropic/v1/messages?${q}`, key: false, expect: (s) => expect([403, 404]).toContain(s) },
      { path: `//openai/v1/chat/completions?${q}`, key: false, expect: (s) => expect([403, 404]).toContain(s) },
      { path: `/openai/..%2F..%2Fetc/passwd?${q}`, key: false, expect: (s) => expect([400, 403, 404]).toContain(s) },
      // nginx decodes and resolves the dots: this climbs out of /openai/ and matches nothing.
      { path: `/openai/v1/..%2f..%2fv1/chat/completions?${q}`, key: true, expect: (s) => expect(s).toBe(404) },
      // Slashes merged, passed to OpenAI, whose (mock's) own 400 answers the empty body.
      { path: `/openai//v1//chat/completions?${q}`, key: true, expect: (s) => expect(s).toBe(400) },
    ];
    for (const c of cases) {
      const raw = await rawRequest(stack.gatewayURL, [
        `POST ${c.path} HTTP/1.1`,
        'Host: gateway',
        'Content-Length: 0',
        'Connection: close',
        ...(c.key ? [`Authorization: Bearer ${KEYS.alpha.key}`] : []),
      ]);
      c.expect(statusOf(raw));
    }
    // Only the call with a key that stays under /openai/ arrived, at OpenAI.
    // Each request had its answer before the next was sent: one read of the journal.
    const arrived = await mock.requests(tag);
    expect(arrived).toHaveLength(1);
    expect(arrived[0]!.path).toBe('/v1/chat/completions');
    for (const recorded of arrived) {
      expect(recorded.host).toBe('api.openai.com');
      expect(recorded.headers['authorization']).toBe(`Bearer ${KEYS.alpha.key}`);
    }
  });

  test('an oversized header gets a 4xx from nginx, no upstream call and no stats line', async ({ request, tagged, tag, mock, stats }) => {
    const response = await request.post(tagged('/openai/v1/chat/completions'), {
      headers: { ...auth, 'x-huge': 'a'.repeat(40 * 1024) },
      data: '{}',
    });
    expect(response.status()).toBeGreaterThanOrEqual(400);
    expect(response.status()).toBeLessThan(500);
    await mock.expectNoRequests(tag);
    stats.expectNoLines(tag);
  });

  test('a body over the size limit gets 413 from nginx, no upstream call and no stats line', async ({ stack, tag, mock, stats }) => {
    const raw = await rawRequest(stack.gatewayURL, [
      `POST /openai/v1/chat/completions?lmgate_tag=${tag} HTTP/1.1`,
      'Host: gateway',
      `Authorization: Bearer ${KEYS.alpha.key}`,
      `Content-Length: ${65 * 1024 * 1024}`,
      'Content-Type: application/json',
      'Connection: close',
    ]);
    expect(statusOf(raw)).toBe(413);
    await mock.expectNoRequests(tag);
    stats.expectNoLines(tag);
  });

  test("records posted to the service from inside the network: no such endpoint, nothing written (records come only from nginx's spool)", async ({ stack, request, stats, tagged, tag }) => {
    // The e2e suite reaches the service at its container's address: it stands in for any
    // container on the compose network. The spool is a volume only nginx and the service
    // mount; an HTTP client has no way to add a line.
    const record = spoolLine({ producer: 'x/1', seq: 1, requestId: `${tag}-inside`, uri: `/openai/x?lmgate_tag=${tag}-inside` });
    for (const [path, type, body] of [['/stats', 'application/json', record], ['/stats', 'application/json', `[${record}]`], ['/stats', 'text/plain', 'not a record at all'], ['/spool', 'application/json', record]] as const) {
      const response = await fetch(`${stack.serviceURL}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
      expect(response.status, `POST ${path}`).toBe(404);
      expect(await response.json()).toEqual({ error: { type: 'not_found', message: 'no such endpoint' } });
    }
    expect((await fetch(`${stack.serviceURL}/healthz`)).status).toBe(200);
    // A call after them: once its line is in, a line from the posts above would be too.
    const response = await request.post(tagged('/openai/v1/chat/completions'), { headers: auth, data: '{}' });
    expect(response.status()).toBe(200);
    await stats.waitForLines(tag, 1);
    stats.expectNoLines(`${tag}-inside`);
  });

  test('nginx alone is published, and on 127.0.0.1 only', async ({ stack }) => {
    // As docker-compose.yaml deploys it (scripts/smoke.sh checks that too): the e2e overlay
    // publishes nothing more; the suite reaches the service and the mock at their
    // containers' addresses.
    const published = (await stack.containers()).flatMap((c) =>
      c.Ports.filter((p) => p.PublicPort !== undefined).map((p) => `${c.Labels['com.docker.compose.service']} ${p.IP}:${p.PrivatePort}`),
    );
    expect(published.sort()).toEqual(['nginx 127.0.0.1:8080']);
  });
});
