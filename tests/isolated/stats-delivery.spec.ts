import { Agent, request as httpRequest } from 'node:http';
import { test, expect, useOwnStack } from '../fixtures';
import { bearerSpelledApart, KEYS } from '../support/keys';

// Recording is off the request path: nginx writes each call's record to the spool, and
// nothing of a call waits for the service. On a stack of its own (the service is frozen
// mid-test). (Records through outages of either side are in recording.spec.ts.)
// nginx keeps the service's decisions 30 s here (production: 2 s): the calls answered
// while the service is frozen ride on one, however slow the machine.
useOwnStack({ label: 'stats-delivery', env: { E2E_AUTH_CACHE_TTL: '30s' } });

/**
 * Calls answered from start to end while the service is frozen (SIGSTOP) cannot have
 * waited for it: a call that did would end only after the thaw. A kept decision (made just
 * before the freeze, for a header set only this test sends) lets them through; a streamed
 * call and the next call on the same keep-alive connection, as a client's SDK makes them.
 * No timing bound: the order of events is the proof. Their lines come once it is thawed.
 */
test('calls answered while the service is frozen, a stream and the next call on its keep-alive connection: none waits for the service to record; their lines come once, after the thaw', async ({ stack, tagged, tag, stats, recordExchange }) => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<unknown>();
  const authorization = bearerSpelledApart(KEYS.alpha.key, 3);
  const call = async (step: string, headers: Record<string, string> = {}) => {
    const url = `${stack.gatewayURL}${tagged(`/openai/v1/chat/completions?step=${step}`)}`;
    const response = await new Promise<{ statusCode: number; body: string }>((resolve, reject) => {
      const req = httpRequest(url, { agent, method: 'POST', headers: { authorization, 'content-type': 'application/json', ...headers } }, (res) => {
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
    await recordExchange({ method: 'POST', url, requestHeaders: headers, status: response.statusCode, responseHeaders: {}, responseBody: response.body });
    return response.statusCode;
  };
  let frozen = false;
  try {
    await test.step('a first call: the service decides on the key, nginx keeps the decision (30 s on this stack)', async () => {
      expect(await call('decided')).toBe(200);
    });
    await test.step('the service frozen; a stream (5 events 150 ms apart) and the next call on the same connection, both answered', async () => {
      await stack.freeze('lmgate');
      frozen = true;
      expect(await call('a', { 'x-mock-event-delay-ms': '150' }), 'the stream, answered while the service is frozen').toBe(200);
      expect(await call('b'), 'the next call on the connection').toBe(200);
      expect(sockets.size, 'all calls on one keep-alive connection').toBe(1);
    });
    await test.step('thawed: each call has its line, once', async () => {
      await stack.thaw('lmgate');
      frozen = false;
      for (const step of ['decided', 'a', 'b']) {
        await expect.poll(() => stats.lines(tag).filter((l) => l.endpoint.includes(`step=${step}&`)).length, { timeout: 20_000, intervals: [100], message: `the line of ${step}` }).toBe(1);
      }
    });
  } finally {
    if (frozen) await stack.thaw('lmgate').catch(() => undefined);
    agent.destroy();
  }
});
