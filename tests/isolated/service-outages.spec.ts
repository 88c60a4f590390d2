import { test, expect } from '../fixtures';
import { FAULTY_SERVICE_OVERLAY, publishedPorts } from '../support/lifecycle';
import { call } from '../support/faulty-service';
import { composeRun, waitUntilHealthy } from '../support/stack';

// Fail closed while the LMGate service is stopped or killed (spec §3; frozen and removed
// are in service-answers.spec.ts), on a stack of its own
// where the faulty stand-in (docker-compose.faulty-service.yaml) takes the service's place:
// its `fault-allow-…` keys are allowed, so a refusal here is the outage's doing. nginx and
// its configuration are the production ones.
const FORBIDDEN = { error: { type: 'forbidden', message: 'API key not authorized' } };
/** nginx waits for the service at most proxy_read_timeout (3 s) of /_lmgate_auth_service. */
const REFUSAL_BOUND_MS = 4_500;

test.use({ ownStack: { label: 'outages', overlays: [FAULTY_SERVICE_OVERLAY] } });

const outages = [
  { name: 'stopped', down: ['stop', '--timeout', '5', 'lmgate'], up: ['start', 'lmgate'] },
  { name: 'killed', down: ['kill', '-s', 'SIGKILL', 'lmgate'], up: ['start', 'lmgate'] },
];

for (const outage of outages) {
  test(`the service is ${outage.name}: 403 JSON within ${REFUSAL_BOUND_MS} ms, nothing proxied; authorized again once it is back`, async ({ run, tag, mock }) => {
    await composeRun(run, outage.down);
    try {
      // Fresh keys, so no decision kept from before the outage can answer; at once, so a
      // frozen service costs one timeout, not one per call.
      const calls = await Promise.all([0, 1, 2].map((i) => call(run, `fault-allow-${tag}-${i}`, tag, i)));
      for (const [i, { status, body, ms }] of calls.entries()) {
        expect([status, JSON.parse(body)], `call ${i}`).toEqual([403, FORBIDDEN]);
        expect(ms, `call ${i} took ${ms} ms`).toBeLessThan(REFUSAL_BOUND_MS);
      }
      expect(await mock.requests(tag)).toEqual([]);
    } finally {
      await composeRun(run, outage.up);
      await waitUntilHealthy(run, 'lmgate');
      // A recreated container is published on new host ports.
      await publishedPorts(run);
    }
    await expect.poll(async () => (await call(run, `fault-allow-${tag}-after`, `${tag}-after`, 0)).status, { timeout: 10_000 }).toBe(200);
  });
}
