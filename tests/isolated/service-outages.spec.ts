import { test, useOwnStack } from '../fixtures';
import { AUTH_TIMEOUT_MS, FAULTY_SERVICE_OVERLAY } from '../support/stack';
import { expectFailClosedThrough, REFUSAL_BOUND_MS, type Outage } from '../support/faulty-service';

// Fail closed while the LMGate service is stopped or killed (spec §3; frozen and removed
// are in service-answers.spec.ts), on a stack of its own
// where the faulty stand-in (docker-compose.faulty-service.yaml) takes the service's place:
// its `fault-allow-…` keys are allowed, so a refusal here is the outage's doing. nginx and
// its configuration are the production ones.

useOwnStack({ label: 'outages', overlays: [FAULTY_SERVICE_OVERLAY], env: { E2E_AUTH_TIMEOUT: `${AUTH_TIMEOUT_MS}ms` } });

const outages: Outage[] = [
  { name: 'stopped', down: (stack) => stack.stop('lmgate', 5), up: (stack) => stack.startService('lmgate') },
  { name: 'killed', down: (stack) => stack.kill('lmgate'), up: (stack) => stack.startService('lmgate') },
];

for (const outage of outages) {
  test(`the service is ${outage.name}: 403 JSON within ${REFUSAL_BOUND_MS} ms, nothing proxied; authorized again once it is back`, async ({ stack, tag, mock }) => {
    await expectFailClosedThrough(stack, mock, tag, outage);
  });
}
