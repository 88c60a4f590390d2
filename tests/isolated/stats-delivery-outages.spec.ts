import { test, expect, useOwnStack } from '../fixtures';
import { bearerSpelledApart, KEYS } from '../support/keys';
import { afterStatsBarrier } from '../support/barrier';
import { composeExec, containerId, freezeService, killService, pauseBeforeStop, serviceLogs, startService, stopService, thawService, waitUntilHealthy } from '../support/stack';

// Stats delivery while the service stalls or fails: a stack of its own (these freeze, kill
// and stop the service), its tests one after another, at the e2e overlay's delivery
// interval.
useOwnStack({ label: 'delivery-outages' });

// A delivery that timed out left its batch in the frozen service's socket. Thawed, the
// service reads that batch and the retry both (the retry must not double a line); killed,
// it never reads it (only the retry can write those records); stopped, it writes the batch
// as it stops, and the retry comes to the next process (which must know the ids written
// last: it reads them from the stats file at start).
for (const [index, outage] of [
  { name: 'times out (frozen, then thawed)', stop: false, kill: false, evidence: 'delivery failed' },
  { name: 'times out (frozen, then killed)', stop: false, kill: true, evidence: 'delivery failed' },
  { name: 'answers 5xx (stopped: the /stats location answers 502)', stop: true, kill: false, evidence: 'service answered 502' },
].entries()) {
  test(`stats delivery survives a service that ${outage.name}: every record is written exactly once after it recovers`, async ({ run, request, tagged, tag, stats }) => {
    const logged = async (evidence: string) => (await serviceLogs(run, ['nginx'], 2000)).split(evidence).length - 1;
    const failedDeliveries = () => logged(outage.evidence);
    const [failedBefore, timeoutsBefore] = await Promise.all([failedDeliveries(), logged('delivery failed')]);
    // A header set of its own (the Bearer spelled apart: the same key, another decision
    // key): the decision made for the first call, and no older one about
    // to expire, lets the next calls through while the service is frozen (for the auth
    // cache's 2 s), so their records meet the outage. A freeze is immediate; a stop (to
    // get 5xx) comes after those calls.
    const headers = { authorization: bearerSpelledApart(KEYS.beta.key, 1 + index), 'x-outage': tag };
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
        // A delivery first times out against the paused service, whose socket keeps it...
        await expect.poll(() => logged('delivery failed'), { timeout: 10_000, intervals: [100] }).toBeGreaterThan(timeoutsBefore);
        // ...and gets its SIGTERM once Docker thaws it for the stop: it writes that batch,
        // flushes what it holds and exits; nginx's /stats location then answers 502.
        await stopService(run, 'lmgate', 10);
        frozen = false;
      }
      // The delivery task met the outage and kept the records.
      await expect.poll(failedDeliveries, { timeout: 10_000, intervals: [200] }).toBeGreaterThan(failedBefore);
    } finally {
      if (!frozen) await startService(run, 'lmgate');
      else if (outage.stop) await composeExec(run, ['unpause', 'lmgate']);
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
