import type { RunInfo } from './run-info';

// Client side of the faulty LMGate service stand-in (mock-upstream/src/faulty-service.ts).

/** One chat call through the stack's gateway with `x-api-key: key`, timed. */
export async function call(stack: RunInfo, key: string, tag: string, i: number): Promise<{ status: number; body: string; ms: number }> {
  const started = Date.now();
  const response = await fetch(`${stack.gatewayURL}/openai/v1/chat/completions?lmgate_tag=${tag}&i=${i}`, {
    method: 'POST',
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: '{"model":"gpt-4o-mini","messages":[]}',
  });
  return { status: response.status, body: await response.text(), ms: Date.now() - started };
}

/** How often the stand-in was asked about this key. */
export async function authCalls(stack: RunInfo, key: string): Promise<number> {
  const calls = (await (await fetch(`${stack.faultyServiceURL}/_faulty/auth-calls`)).json()) as Record<string, number>;
  return calls[key] ?? 0;
}
