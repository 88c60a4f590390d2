import { test, expect, useOwnStack } from '../fixtures';
import { waitForAccessLines } from '../support/access-log';
import { INTERNAL_ERROR } from '../support/contract';
import { KEYS } from '../support/keys';

// Spec §10: a fault of the gateway itself is a 500 with the providers' JSON error shape,
// never a refusal dressed as one and never a call let through. On a stack of its own whose
// nginx auth module throws (docker-compose.njs-fault.yaml, tests/fixtures-njs): the rest is
// the production configuration.

useOwnStack({ label: 'gateway-faults', overlays: ['docker-compose.njs-fault.yaml'] });

const faults = [
  { where: 'the kept-decision lookup of the rewrite phase', header: { 'x-njs-fault': 'kept' }, logged: 'njs fault injected in the kept-decision lookup' },
  { where: 'the auth_request check', header: {}, logged: 'njs fault injected in the auth check' },
] as const;

for (const fault of faults) {
  test(`njs throwing in ${fault.where}: the gateway's own 500 JSON, nothing reaches the provider, no stats line`, async ({ stack, request, tagged, tag, mock, stats }) => {
    await test.step("an allowed key's call gets the gateway's own 500 JSON", async () => {
      const response = await request.post(tagged('/openai/v1/chat/completions'), { headers: { authorization: `Bearer ${KEYS.alpha.key}`, ...fault.header }, data: '{}' });
      expect(response.status()).toBe(500);
      expect(response.headers()['content-type']).toMatch(/^application\/json/);
      expect(await response.json()).toEqual(INTERNAL_ERROR);
    });
    await test.step('nginx is done with it (its access line): the provider never saw it; the error log names the fault', async () => {
      // The access log's line is the event that says nginx is done with the call: by then a
      // proxied call would be in the mock's journal, and its spool line written.
      const [logged] = await waitForAccessLines(stack, tag, 1);
      expect(logged!.status).toBe(500);
      expect(logged!.lmgate_id).toBe('');
      expect(await mock.requests(tag)).toEqual([]);
      await expect.poll(() => stack.logsOrReason(['nginx'], 500), { intervals: [100] }).toContain(fault.logged);
    });
    // No line now; none later either: this stack's accounting (useOwnStack) ends the file.
    stats.expectNoLines(tag);
  });
}
