import { expect, test } from '@playwright/test';
import { FORBIDDEN } from './contract';
import { AUTH_TIMEOUT_MS, type Stack } from './stack';
import { QUERY_KEY } from './keys';
import type { MockAdmin } from './mock-admin';

// Client side of the faulty LMGate service stand-in (mock-upstream/src/faulty-service.ts).

/**
 * A key the stand-in answers by its mode (`fault-<mode>-…`). It ends with a known secret,
 * so that a key leaked whole into a log is found when the stack's logs are read for
 * secrets (its file's end).
 */
export function faultKey(mode: string, name: string): string {
  return `fault-${mode}-${name}-${QUERY_KEY}`;
}

/**
 * One chat call through the stack's gateway with the key as `x-api-key` and as `?key=`
 * (the same key in two places passes), timed: the lines nginx logs about the service's
 * failures show the request line, and must mask the `?key=`.
 */
export async function call(stack: Stack, key: string, tag: string, i: number): Promise<{ status: number; body: string; ms: number }> {
  const started = Date.now();
  const response = await fetch(`${stack.gatewayURL}/openai/v1/chat/completions?lmgate_tag=${tag}&i=${i}&key=${key}`, {
    method: 'POST',
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: '{"model":"gpt-4o-mini","messages":[]}',
  });
  return { status: response.status, body: await response.text(), ms: Date.now() - started };
}

/** How often the stand-in was asked about this key. */
export async function authCalls(stack: Stack, key: string): Promise<number> {
  const calls = (await (await fetch(`${stack.serviceURL}/_faulty/auth-calls`)).json()) as Record<string, number>;
  return calls[key] ?? 0;
}

/** What nginx sent the stand-in the last time it asked about this key. */
export async function lastAuthRequest(stack: Stack, key: string): Promise<{ method: string; headerNames: string[]; bodyBytes: number } | undefined> {
  const requests = (await (await fetch(`${stack.serviceURL}/_faulty/auth-requests`)).json()) as Record<string, { method: string; headerNames: string[]; bodyBytes: number }>;
  return requests[key];
}

export { FORBIDDEN };
/** nginx waits for the service at most AUTH_TIMEOUT_MS; the rest is a loaded machine's margin. */
export const REFUSAL_BOUND_MS = AUTH_TIMEOUT_MS + 1_500;

export interface Outage {
  name: string;
  down: (stack: Stack) => Promise<unknown>;
  /** Brings the stand-in back. */
  up: (stack: Stack) => Promise<unknown>;
}

/**
 * While the stand-in is down, calls with fresh keys (no decision kept from before can
 * answer; sent at once, so a frozen service costs one timeout, not one per call) get the
 * 403 JSON within the bound and reach no provider; once it is back, calls pass again.
 */
export async function expectFailClosedThrough(stack: Stack, mock: MockAdmin, tag: string, outage: Outage): Promise<void> {
  await test.step(`the service is ${outage.name}`, () => outage.down(stack));
  try {
    await test.step(`three calls meanwhile: each the 403 JSON within ${REFUSAL_BOUND_MS} ms, none proxied`, async () => {
      const calls = await Promise.all([0, 1, 2].map((i) => call(stack, faultKey('allow', `${tag}-${i}`), tag, i)));
      for (const [i, { status, body, ms }] of calls.entries()) {
        expect([status, JSON.parse(body)], `call ${i}`).toEqual([403, FORBIDDEN]);
        expect(ms, `call ${i} took ${ms} ms`).toBeLessThan(REFUSAL_BOUND_MS);
      }
      expect(await mock.requests(tag)).toEqual([]);
    });
  } finally {
    await test.step('the service is back and healthy (a recreated container at its new address)', async () => {
      await outage.up(stack);
      await stack.waitUntilHealthy('lmgate');
      await stack.readURLs();
    });
  }
  await test.step('a call is authorized again, without an nginx restart', () =>
    expect.poll(async () => (await call(stack, faultKey('allow', `${tag}-after`), `${tag}-after`, 0)).status, { timeout: 10_000 }).toBe(200),
  );
}
