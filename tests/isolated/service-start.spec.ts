import { chmodSync } from 'node:fs';
import { test, expect } from '../fixtures';
import { allowListCsv, INITIAL_KEYS } from '../support/keys';
import { Stack } from '../support/stack';

// Spec §1 and §4: a service that cannot start (its allow-list broken, missing or unreadable,
// or a data directory it may not write) never becomes healthy, `up` fails naming the
// problem, and nginx never starts. Each case brings up (and down) a stack of its own; the
// cases run side by side.
const starts: Array<{ name: string; allowList: string | null; unreadable?: boolean; readOnlyData?: boolean; logged: string }> = [
  { name: 'an allow-list without a column it needs', allowList: 'id,api_key,owner\n1,sk-e2e-x,team\n', logged: 'allow-list /data/allowlist.csv lacks column(s) added' },
  { name: 'no allow-list file', allowList: null, logged: 'allow-list /data/allowlist.csv does not exist' },
  { name: 'an allow-list the service may not read', allowList: allowListCsv(INITIAL_KEYS), unreadable: true, logged: 'allow-list /data/allowlist.csv cannot be read' },
  // The README's `chown` skipped: the data directory root's, the service another user.
  { name: 'a data directory the service may not write', allowList: allowListCsv(INITIAL_KEYS), readOnlyData: true, logged: 'the stats directory /data cannot be written' },
];

for (const start of starts) {
  test(`startup order, negative: with ${start.name}, the service never becomes healthy, up fails naming the problem, and nginx never starts`, async ({ stack }) => {
    test.setTimeout(120_000);
    const info = Stack.prepare({ standalone: stack.standalone, label: 'broken', allowList: start.allowList });
    // Readable by no one but root: the service runs as another user.
    if (start.unreadable) chmodSync(info.allowListFile, 0o000);
    if (start.readOnlyData) chmodSync(info.dataDir, 0o555);
    try {
      await test.step('docker compose up fails', async () => {
        const failure = await info.up().then(
          () => null,
          (error: Error) => error,
        );
        expect(failure, 'docker compose up must fail').not.toBeNull();
      });
      await test.step("the service's log names the file and the problem", async () => {
        const logs = await info.logsOrReason(['lmgate']);
        expect(logs).toContain(start.logged);
        expect(logs).toContain('lmgate: cannot start:');
      });
      await test.step('nginx never ran', async () => {
        // Compose may not even have created nginx's container; if it did, it never ran.
        for (const { Id } of await info.containers('nginx')) {
          const state = (await info.inspect('nginx', Id))['State'] as { StartedAt: string; Status: string };
          expect(state.Status, await info.status()).toBe('created');
          expect(state.StartedAt.startsWith('0001-01-01')).toBe(true);
        }
      });
    } finally {
      await info.remove();
    }
  });
}
