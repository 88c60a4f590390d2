import { Agent, request as httpRequest } from 'node:http';
import { test, expect, useOwnStack } from '../fixtures';
import { KEYS } from '../support/keys';
import { freezeService, thawService } from '../support/stack';

// Recording is off the request path: nginx writes each call's record to the spool, and
// nothing of a call waits for the service. On a stack of its own (the service is frozen
// mid-test). (Records through outages of either side are in recording.spec.ts.)
useOwnStack({ label: 'stats-delivery' });

/**
 * Measures that recording never sits on the request path: while the service is frozen
 * (from the middle of call A's stream), call A still ends on time, and call B on the same
 * keep-alive connection right after takes what a call takes. A's line comes later, once.
 */
test('no client and no keep-alive follow-up request waits for the service to record', async ({ run, tagged, tag, stats, recordExchange }) => {
  // One socket, kept alive: every call below rides the same connection.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<unknown>();
  const url = (path: string) => `${run.gatewayURL}${tagged(path)}`;
  const call = async (path: string, headers: Record<string, string> = {}) => {
    const started = performance.now();
    const response = await new Promise<{ statusCode: number; body: string }>((resolve, reject) => {
      const req = httpRequest(url(path), {
        agent,
        method: 'POST',
        headers: { authorization: `Bearer ${KEYS.alpha.key}`, 'content-type': 'application/json', ...headers },
      }, (res) => {
        sockets.add(res.socket);
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end('{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[]}');
    });
    const body = response.body;
    const ms = performance.now() - started;
    await recordExchange({ method: 'POST', url: url(path), requestHeaders: headers, status: response.statusCode, responseHeaders: {}, responseBody: body, note: `${ms.toFixed(1)} ms on a shared keep-alive connection` });
    expect(response.statusCode).toBe(200);
    return ms;
  };
  try {
    const baseline: number[] = [];
    for (let i = 0; i < 5; i++) baseline.push(await call(`/openai/v1/chat/completions?step=baseline${i}`));
    const typical = baseline.sort((a, b) => a - b)[2]!;

    // A streams for ~1.5 s; the service is frozen while A's record is being delivered.
    const a = call('/openai/v1/chat/completions?step=a', { 'x-mock-event-delay-ms': '300' });
    await new Promise((r) => setTimeout(r, 300));
    await freezeService(run, 'lmgate');
    const aMs = await a;
    // The service stays frozen past the end of A (and past a flush interval).
    await new Promise((r) => setTimeout(r, 1_200));
    await thawService(run, 'lmgate');
    // The decision for this key expired while A ran: renew it on another connection, so
    // that B, like the baseline calls, costs no auth round trip to a service just thawed.
    const warm = await fetch(`${run.gatewayURL}/openai/v1/chat/completions?lmgate_tag=${tag}-warm`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.alpha.key}` }, body: '{}' });
    expect(warm.status).toBe(200);
    await warm.arrayBuffer();
    const bMs = await call('/openai/v1/chat/completions?step=b');

    const timing = `typical call ${typical.toFixed(1)} ms, A (streamed, service frozen at its end) ${aMs.toFixed(0)} ms, B (next on the connection) ${bMs.toFixed(1)} ms`;
    test.info().annotations.push({ type: 'timing', description: timing });
    console.log(`[delivery-timing] ${timing}`);
    // A: its own stream time (5 gaps of 300 ms) plus what any call costs on this machine
    // now, nothing added at its end (a wait on the frozen service would last until the thaw).
    expect(aMs).toBeLessThan(1_500 + typical + 700);
    // B: a normal call; the margin is a loaded machine's noise.
    expect(bMs).toBeLessThan(typical + 400);
    expect(sockets.size, 'all calls on one keep-alive connection').toBe(1);
    const lines = await stats.waitForLines(tag, 7, 20_000);
    expect(lines.filter((l) => l.endpoint.includes('step=a&'))).toHaveLength(1);
  } finally {
    await thawService(run, 'lmgate').catch(() => undefined);
    agent.destroy();
  }
});
