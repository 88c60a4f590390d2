import { test, expect, useOwnStack } from '../fixtures';
import { AUTH_TIMEOUT_MS, FAULTY_SERVICE_OVERLAY } from '../support/stack';
import { authCalls, call, lastAuthRequest, expectFailClosedThrough, faultKey, FORBIDDEN, REFUSAL_BOUND_MS, type Outage } from '../support/faulty-service';

// Fail closed, every way the LMGate service can fail (spec §3), on a stack of its own
// where the service's place is taken by a stand-in that fails on request
// (docker-compose.faulty-service.yaml). nginx and its configuration are the production ones.

useOwnStack({ label: 'answers', overlays: [FAULTY_SERVICE_OVERLAY], env: { E2E_AUTH_TIMEOUT: `${AUTH_TIMEOUT_MS}ms` } });

const failures = [
  ['500', 'answers 500'],
  ['503', 'answers 503'],
  ['no-id', 'answers 200 without X-LMGate-ID'],
  ['empty-id', 'answers 200 with an empty X-LMGate-ID'],
  ['garbage', 'answers bytes that are not HTTP'],
  ['close', 'closes the connection without an answer'],
  ['hang', 'never answers (timeout)'],
] as const;

for (const [mode, what] of failures) {
  test(`the service ${what}: 403 JSON within ${REFUSAL_BOUND_MS} ms, nothing reaches the provider, and the refusal is not kept`, async ({ stack, tag, mock }) => {
    const key = faultKey(mode, tag);
    await test.step(`two calls with a key the service ${what} about: each a prompt 403 JSON`, async () => {
      for (let i = 0; i < 2; i++) {
        const { status, body, ms } = await call(stack, key, tag, i);
        expect([status, JSON.parse(body)], `call ${i}`).toEqual([403, FORBIDDEN]);
        expect(ms, `call ${i} took ${ms} ms`).toBeLessThan(REFUSAL_BOUND_MS);
      }
    });
    await test.step('the refusal was not kept (the service was asked twice), and nothing reached the provider', async () => {
      expect(await authCalls(stack, key)).toBe(2);
      // A refusal happens before nginx proxies anything: one read of the journal suffices.
      expect(await mock.requests(tag)).toEqual([]);
    });
    if (mode === 'hang') {
      await test.step("nginx's timeout line names the call, its ?key= masked", async () => {
        // The secrets check of this stack's logs, when the file is done, proves the key is
        // nowhere. The line passes start.sh's masking pipe: it is in the log a moment later.
        await expect.poll(() => stack.logsOrReason(['nginx'], 2_000), { intervals: [100] }).toMatch(new RegExp(`upstream timed out .*request: "POST /openai/v1/chat/completions\\?lmgate_tag=${tag}&i=0&key=\\*\\*\\* `));
      });
    }
  });
}

test('controls: an allowed answer passes and is kept (one question for two calls); a refusal is kept too', async ({ stack, tag, mock }) => {
  const allow = faultKey('allow', tag);
  const deny = faultKey('deny', tag);
  await test.step('an allowed key twice: both pass', async () => expect([(await call(stack, allow, tag, 0)).status, (await call(stack, allow, tag, 1)).status]).toEqual([200, 200]));
  await test.step('a refused key twice: both refused', async () => expect([(await call(stack, deny, `${tag}-deny`, 0)).status, (await call(stack, deny, `${tag}-deny`, 1)).status]).toEqual([403, 403]));
  await test.step('the stand-in was asked once about each key; only the allowed calls reached the provider', async () => {
    expect([await authCalls(stack, allow), await authCalls(stack, deny)]).toEqual([1, 1]);
    expect(await mock.requests(tag)).toHaveLength(2);
  });
});

test('GET /auth receives headers only (spec §1): a call with a 1 MiB body and unrelated headers asks as a bodiless GET with the credential headers alone', async ({ stack, tag, mock }) => {
  const key = faultKey('allow', `${tag}-shape`);
  const response = await fetch(`${stack.gatewayURL}/openai/v1/chat/completions?lmgate_tag=${tag}`, {
    method: 'POST',
    headers: { 'x-api-key': key, 'content-type': 'application/json', 'x-unrelated': 'y'.repeat(8_000), cookie: 'session=abc' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [], pad: 'x'.repeat(1024 * 1024) }),
  });
  expect(response.status).toBe(200);
  await response.arrayBuffer();
  await mock.waitForRequests(tag);
  const asked = await lastAuthRequest(stack, key);
  expect(asked?.method).toBe('GET');
  expect(asked?.bodyBytes).toBe(0);
  // Host and Connection from nginx itself, the one credential place the call had: nothing
  // of the client's other headers, no Content-Length or Transfer-Encoding.
  expect(asked?.headerNames.sort()).toEqual(['connection', 'host', 'x-api-key']);
});

test("an X-Accel-Redirect in the service's answer does not steer nginx: the call goes where the client sent it", async ({ stack, tag, mock }) => {
  const { status } = await call(stack, faultKey('redirect', tag), tag, 0);
  expect(status).toBe(200);
  const [recorded] = await mock.requests(tag);
  expect([recorded?.method, recorded?.path]).toEqual(['POST', '/v1/chat/completions']);
});

// Gone, then back: frozen, its name no longer resolving, stopped, killed. Last in the file,
// one after another on this file's stack: each brings the stand-in back before the next.
const outages: Outage[] = [
  { name: 'frozen (SIGSTOP)', down: (stack) => stack.freeze('lmgate'), up: (stack) => stack.thaw('lmgate') },
  { name: 'removed (its name no longer resolves)', down: (stack) => stack.compose(['rm', '--stop', '--force', 'lmgate']), up: (stack) => stack.compose(['up', '--detach', '--no-build', 'lmgate']) },
  { name: 'stopped', down: (stack) => stack.stop('lmgate', 5), up: (stack) => stack.startService('lmgate') },
  { name: 'killed', down: (stack) => stack.kill('lmgate'), up: (stack) => stack.startService('lmgate') },
];

for (const outage of outages) {
  test(`the service is ${outage.name}: 403 JSON within ${REFUSAL_BOUND_MS} ms, nothing proxied; authorized again once it is back`, async ({ stack, tag, mock }) => {
    await expectFailClosedThrough(stack, mock, tag, outage);
  });
}
