import { Agent, request as httpRequest } from 'node:http';
import { test, expect, useOwnStack } from '../fixtures';
import { KEYS } from '../support/keys';
import { afterStatsBarrier } from '../support/barrier';
import { composeRun, containerId, freezeService, killService, pauseBeforeStop, serviceLogs, startService, stopService, thawService, waitUntilHealthy } from '../support/stack';


// Stats delivery while the service stalls or fails: a stack of its own (these freeze and
// stop the service), its tests one after another.
// Production's delivery interval (and so its 500 ms fetch timeout): the timing test below
// tells a call that waited on a delivery by that much.
useOwnStack({ label: 'stats-delivery', env: { E2E_STATS_DELIVERY_INTERVAL: '1s' } });

/**
 * Measures that stats delivery never sits on the request path: while the service cannot
 * take stats (frozen mid-stream, so the record of call A finds it frozen), call A still
 * ends on time, and call B on the same keep-alive connection right after takes what a
 * call takes, not a stats round trip. A's record arrives later, once.
 */
test('no client and no keep-alive follow-up request waits for stats delivery', async ({ run, tagged, tag, stats, recordExchange }) => {
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
    // The delivery task fires every second: let it find the service frozen.
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
    // A: its own stream time (5 gaps of 300 ms), nothing added at its end.
    expect(aMs).toBeLessThan(1_500 + 700);
    // B: a normal call. Waiting on a delivery to a service that was frozen would add at
    // least js_fetch_timeout (500 ms); the rest of the margin is a loaded machine's noise.
    expect(bMs).toBeLessThan(typical + 400);
    expect(sockets.size, 'all calls on one keep-alive connection').toBe(1);
    const lines = await stats.waitForLines(tag, 7, 20_000);
    expect(lines.filter((l) => l.endpoint.includes('step=a&'))).toHaveLength(1);
  } finally {
    await thawService(run, 'lmgate').catch(() => undefined);
    agent.destroy();
  }
});

// A delivery that timed out left its batch in the frozen service's socket. Thawed, the
// service reads that batch and the retry both (the retry must not double a line); killed,
// it never reads it (only the retry can write those records).
for (const outage of [
  { name: 'times out (frozen, then thawed)', stop: false, kill: false, evidence: 'delivery failed' },
  { name: 'times out (frozen, then killed)', stop: false, kill: true, evidence: 'delivery failed' },
  { name: 'answers 5xx (stopped: the /stats location answers 502)', stop: true, kill: false, evidence: 'service answered 502' },
]) {
  test(`stats delivery survives a service that ${outage.name}: every record is written exactly once after it recovers`, async ({ run, request, tagged, tag, stats }) => {
    const failedDeliveries = async () => (await serviceLogs(run, ['nginx'], 2000)).split(outage.evidence).length - 1;
    const failedBefore = await failedDeliveries();
    // A header set of its own (an x-api-key beside the Bearer changes no decision, but
    // the decision's key): the decision made for the first call, and no older one about
    // to expire, lets the next calls through while the service is frozen (for the auth
    // cache's 2 s), so their records meet the outage. A freeze is immediate; a stop (to
    // get 5xx) comes after those calls.
    const headers = { authorization: `Bearer ${KEYS.beta.key}`, 'x-api-key': `outage-${tag}`, 'x-outage': tag };
    const post = async (i: number) => (await request.post(tagged(`/openai/v1/chat/completions?i=${i}`), { headers, data: '{}' })).status();
    const service = await containerId(run, 'lmgate');
    expect(await post(0)).toBe(200);
    // Before a kill, the first call's record is written: the kill may lose only what the
    // frozen service had not read.
    if (outage.kill) await stats.waitForLines(tag, 1);
    // The docker CLI on a known container, not Compose: on a busy machine Compose can take
    // longer than the 2 s.
    await (outage.stop ? pauseBeforeStop : freezeService)(run, 'lmgate', service);
    let frozen = true;
    let passed = 1;
    try {
      passed += (await Promise.all([1, 2, 3].map(post))).filter((status) => status === 200).length;
      expect(passed, 'calls let through while the service was down').toBeGreaterThan(1);
      if (outage.stop) {
        // A paused container gets its SIGTERM once Docker thaws it for the stop: it flushes
        // what it holds and exits; nginx's /stats location then answers 502.
        await stopService(run, 'lmgate', 10);
        frozen = false;
      }
      // The delivery task met the outage and kept the records.
      await expect.poll(failedDeliveries, { timeout: 10_000, intervals: [200] }).toBeGreaterThan(failedBefore);
    } finally {
      if (!frozen) await startService(run, 'lmgate');
      else if (outage.stop) await composeRun(run, ['unpause', 'lmgate']);
      else if (outage.kill) {
        await killService(run, 'lmgate');
        await startService(run, 'lmgate');
      } else await thawService(run, 'lmgate', service);
    }
    await waitUntilHealthy(run, 'lmgate');
    await stats.waitForLines(tag, passed, 20_000);
    // Re-sent batches must not double: once a later call's line is in, none can still come.
    await afterStatsBarrier(request, stats, tag);
    const byCall = stats.lines(tag).map((line) => new URLSearchParams(line.endpoint.split('?')[1]).get('i'));
    expect(byCall.sort()).toEqual(Array.from({ length: passed }, (_, i) => String(i)).sort());
  });
}
