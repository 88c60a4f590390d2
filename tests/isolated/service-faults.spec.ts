import { test, expect } from '../fixtures';
import { FAULTY_SERVICE_OVERLAY, prepareStack, removeStack, startStack } from '../support/lifecycle';
import { MockAdmin } from '../support/mock-admin';
import type { RunInfo } from '../support/run-info';
import { composeRun, waitUntilHealthy } from '../support/stack';

// Fail closed, every way the LMGate service can fail (spec §3), on a stack of its own
// where the service's place is taken by a stand-in that fails on request
// (docker-compose.faulty-service.yaml). nginx and its configuration are the production ones.
const FORBIDDEN = { error: { type: 'forbidden', message: 'API key not authorized' } };
const CHAT = '/openai/v1/chat/completions';
/** nginx waits for the service at most proxy_read_timeout (3 s) of /_lmgate_auth_service. */
const REFUSAL_BOUND_MS = 4_500;

test.describe.configure({ mode: 'serial', timeout: 120_000 });

let stack: RunInfo;
test.beforeAll(async ({ run }) => {
  test.setTimeout(180_000);
  stack = await prepareStack({ standalone: run.standalone, label: 'faulty', overlays: [FAULTY_SERVICE_OVERLAY] });
  await startStack(stack);
});
test.afterAll(async () => {
  if (stack) await removeStack(stack);
});

async function call(key: string, tag: string, i: number): Promise<{ status: number; body: string; ms: number }> {
  const started = Date.now();
  const response = await fetch(`${stack.gatewayURL}${CHAT}?lmgate_tag=${tag}&i=${i}`, {
    method: 'POST',
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: '{"model":"gpt-4o-mini","messages":[]}',
  });
  return { status: response.status, body: await response.text(), ms: Date.now() - started };
}

async function authCalls(key: string): Promise<number> {
  const calls = (await (await fetch(`${stack.faultyServiceURL}/_faulty/auth-calls`)).json()) as Record<string, number>;
  return calls[key] ?? 0;
}

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
  test(`the service ${what}: 403 JSON within ${REFUSAL_BOUND_MS} ms, nothing reaches the provider, and the refusal is not kept`, async ({ tag }) => {
    const key = `fault-${mode}-${tag}`;
    for (let i = 0; i < 2; i++) {
      const { status, body, ms } = await call(key, tag, i);
      expect([status, JSON.parse(body)], `call ${i}`).toEqual([403, FORBIDDEN]);
      expect(ms, `call ${i} took ${ms} ms`).toBeLessThan(REFUSAL_BOUND_MS);
    }
    // Not kept: the second call asked the service again.
    expect(await authCalls(key)).toBe(2);
    // A refusal happens before nginx proxies anything: one read of the journal suffices.
    expect(await new MockAdmin(stack.mockAdminURL).requests(tag)).toEqual([]);
  });
}

test('controls: an allowed answer passes and is kept (one question for two calls); a refusal is kept too', async ({ tag }) => {
  const allow = `fault-allow-${tag}`;
  const deny = `fault-deny-${tag}`;
  expect([(await call(allow, tag, 0)).status, (await call(allow, tag, 1)).status]).toEqual([200, 200]);
  expect([(await call(deny, `${tag}-deny`, 0)).status, (await call(deny, `${tag}-deny`, 1)).status]).toEqual([403, 403]);
  expect([await authCalls(allow), await authCalls(deny)]).toEqual([1, 1]);
  expect(await new MockAdmin(stack.mockAdminURL).requests(tag)).toHaveLength(2);
});

test("an X-Accel-Redirect in the service's answer does not steer nginx: the call goes where the client sent it", async ({ tag }) => {
  const { status } = await call(`fault-redirect-${tag}`, tag, 0);
  expect(status).toBe(200);
  const [recorded] = await new MockAdmin(stack.mockAdminURL).requests(tag);
  expect([recorded?.method, recorded?.path]).toEqual(['POST', '/v1/chat/completions']);
});

const outages = [
  { name: 'stopped', down: ['stop', '--timeout', '5', 'lmgate'], up: ['start', 'lmgate'] },
  { name: 'killed', down: ['kill', '-s', 'SIGKILL', 'lmgate'], up: ['start', 'lmgate'] },
  { name: 'frozen (docker pause)', down: ['pause', 'lmgate'], up: ['unpause', 'lmgate'] },
  { name: 'removed (its name no longer resolves)', down: ['rm', '--stop', '--force', 'lmgate'], up: ['up', '--detach', '--no-build', 'lmgate'] },
];

for (const outage of outages) {
  test(`the service is ${outage.name}: 403 JSON within ${REFUSAL_BOUND_MS} ms, nothing proxied; authorized again once it is back`, async ({ tag }) => {
    await composeRun(stack, outage.down);
    try {
      // A fresh key per call: no decision kept from before the outage can answer.
      for (let i = 0; i < 2; i++) {
        const { status, body, ms } = await call(`fault-allow-${tag}-${i}`, tag, i);
        expect([status, JSON.parse(body)], `call ${i}`).toEqual([403, FORBIDDEN]);
        expect(ms, `call ${i} took ${ms} ms`).toBeLessThan(REFUSAL_BOUND_MS);
      }
      expect(await new MockAdmin(stack.mockAdminURL).requests(tag)).toEqual([]);
    } finally {
      await composeRun(stack, outage.up);
      await waitUntilHealthy(stack, 'lmgate');
    }
    await expect.poll(async () => (await call(`fault-allow-${tag}-after`, `${tag}-after`, 0)).status, { timeout: 10_000 }).toBe(200);
  });
}
