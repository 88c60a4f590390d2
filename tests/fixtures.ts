import { randomBytes } from 'node:crypto';
import { test as base, expect } from '@playwright/test';
import { attachExchange, recordingRequestContext } from './support/exchanges';
import { MockAdmin } from './support/mock-admin';
import { composeIsStandalone, sharedStackFailed, sharedStackFailure, waitForSharedStackInfo } from './support/stack-info';
import { maskSecrets, secretsIn } from './support/secrets';
import { FAULTY_SERVICE_OVERLAY, Stack, type StackOptions } from './support/stack';
import { StatsFile } from './support/stats-file';
import { accountingMismatches } from './support/accounting';

export interface TestFixtures {
  /**
   * `test.use({ ownStack: {...} })` in a file whose tests change shared state (stop the
   * service, rewrite the allow-list, break the stats path): its tests run on a stack of
   * their own, and every fixture (request, mock, stats, stack) points at it.
   */
  ownStack: OwnStack | null;
  /** The stack the test runs against: the shared one, or its file's own. */
  stack: Stack;
  /** Unique per test: put it in the query (`tagged`) to find this test's traffic. */
  tag: string;
  /** Appends `lmgate_tag=<tag>` to a path, keeping any query it has. */
  tagged: (path: string) => string;
  mock: MockAdmin;
  stats: StatsFile;
  /** Attaches an exchange made outside the request fixture (streams, SDKs). */
  recordExchange: (exchange: Parameters<typeof attachExchange>[1]) => Promise<void>;
  containerLogsOnFailure: void;
  statsLinesInReport: void;
}

let shared: Promise<Stack> | undefined;
function sharedStack(): Promise<Stack> {
  shared ??= waitForSharedStackInfo().then((info) => new Stack(info));
  return shared;
}

/** A stack of the file's own: its label and what differs from the shared one. */
export type OwnStack = Omit<StackOptions, 'standalone'> & {
  label: string;
  /**
   * Why the file's end cannot count its stack's lines against the mock's requests, when
   * it cannot (the mock's container recreated mid-file starts a new journal).
   */
  noAccounting?: string;
};

export interface WorkerFixtures {
  /** The worker's own stack, if a file asked for one: kept while the worker runs its file. */
  ownStacks: OwnStacks;
}

/**
 * Holds the stack of the file a worker is running, if that file asked for one. A worker
 * runs a whole isolated file before anything else; a test that wants another stack, or
 * the shared one, sends the previous own stack down in the background (global teardown
 * finishes any removal the worker's end cut short). Every file shares one worker hash, so
 * a worker done with an isolated file goes on with other tests instead of being replaced
 * by a new process.
 */
class OwnStacks {
  private current: { label: string; stack: Promise<Stack>; noAccounting?: string } | null = null;

  async get(wanted: OwnStack | null, standalone: boolean): Promise<Stack | null> {
    if (this.current?.label !== wanted?.label) this.release();
    if (wanted === null) return null;
    if (!this.current) {
      const { label, noAccounting, ...options } = wanted;
      this.current = {
        label,
        ...(noAccounting === undefined ? {} : { noAccounting }),
        stack: (async () => {
          const stack = Stack.prepare({ ...options, label, standalone });
          await stack.start();
          return stack;
        })(),
      };
    }
    return this.current.stack;
  }

  /**
   * Spec §10 on every stack of the run, not only the shared one: what nginx and the
   * service logged, error paths included, and the stats file hold no secret. (A faulty
   * stand-in in the service's place is a test double: only nginx is read then.)
   */
  async expectNoSecretsLeft(): Promise<void> {
    // A stack that did not start has failed its file's tests already.
    const stack = await this.current?.stack.catch(() => null);
    if (!stack) return;
    const services = stack.composeFiles.includes(FAULTY_SERVICE_OVERLAY) ? (['nginx'] as const) : (['nginx', 'lmgate'] as const);
    const logs = await stack.logs(services, 100_000);
    expect(secretsIn(logs), `secrets in the logs of ${services.join(' and ')} of ${stack.project}`).toEqual([]);
    expect(secretsIn(new StatsFile(stack.statsFile).text()), `secrets in the stats file of ${stack.project}`).toEqual([]);
  }

  /**
   * The whole-run accounting, on this stack: every tag has as many stats lines as
   * requests its mock received (plus what its tests declared). Its event: nginx stopped
   * gracefully (every call's record in the spool), then the service (it writes the spool
   * before it exits; a stack's flush interval may be an hour). A faulty stand-in in the
   * service's place writes no stats: nothing to count then.
   */
  async expectAccounting(): Promise<void> {
    const stack = await this.current?.stack.catch(() => null);
    if (!stack || stack.composeFiles.includes(FAULTY_SERVICE_OVERLAY) || this.current?.noAccounting !== undefined) return;
    const stats = new StatsFile(stack.statsFile);
    await stack.compose(['stop', '--timeout', '20', 'nginx']);
    await stack.compose(['stop', '--timeout', '20', 'lmgate']);
    const { mismatches } = await accountingMismatches(stack, stats, new MockAdmin(stack.mockAdminURL));
    expect(mismatches, `stats lines against the mock's requests, by tag, on ${stack.project}`).toEqual([]);
  }

  /** Sends the worker's own stack, if any, down in the background: its file is done. */
  release(): void {
    if (!this.current) return;
    void this.current.stack.then((stack) => stack.remove(), () => undefined).catch(() => undefined);
    this.current = null;
  }
}

/** Stats lines a test's report entry shows at most. */
const REPORTED_STATS_LINES = 2_000;

export const test = base.extend<TestFixtures, WorkerFixtures>({
  ownStack: [null, { option: true }],

  ownStacks: [
    async ({}, use) => {
      const stacks = new OwnStacks();
      try {
        await use(stacks);
      } finally {
        // Not waited for: the whole run's workers stop before the audit project starts, so
        // waiting would put a stack's removal (about a second) between the last e2e test
        // and the audit. Global teardown finishes what a worker's exit cut short.
        stacks.release();
      }
    },
    { scope: 'worker' },
  ],

  stack: [
    async ({ ownStack, ownStacks }, use, testInfo) => {
      // A run whose shared stack could not start has failed (global teardown says why):
      // every test that has not begun is skipped, so the run ends within seconds instead
      // of failing each test, and restarting a worker for each, one after another.
      const skipIfNoSharedStack = () => testInfo.skip(sharedStackFailure() !== null, 'the shared stack did not start: the run fails, and its end says why');
      skipIfNoSharedStack();
      // The shared stack may still be starting: an own stack does not wait for it. Should the
      // shared one fail meanwhile, the run has failed: no test waits for an own stack then
      // (one that cannot become healthy keeps Compose waiting for minutes).
      const starting = ownStacks.get(ownStack, composeIsStandalone());
      const own = ownStack === null ? await starting : await Promise.race([starting, sharedStackFailed().then(() => null)]);
      skipIfNoSharedStack();
      let stack: Stack;
      try {
        stack = own ?? (await sharedStack());
      } catch (error) {
        skipIfNoSharedStack();
        throw error;
      }
      await use(stack);
    },
    { timeout: 180_000 },
  ],

  // The plumbing fixtures below are `box: 'self'`: no report step of their own (each step
  // is two messages to the runner and a node in the report, for every test).
  baseURL: [async ({ stack }, use) => use(stack.gatewayURL), { scope: 'test', box: 'self' }],

  request: async ({ request, stack }, use, testInfo) => {
    await use(recordingRequestContext(request, testInfo, stack.gatewayURL));
  },

  tag: [
    async ({}, use, testInfo) => {
      const slug = testInfo.titlePath.slice(1).join('-').toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 40);
      await use(`${slug}-${randomBytes(4).toString('hex')}`);
    },
    { box: 'self' },
  ],

  tagged: [
    async ({ tag }, use) => {
      await use((path: string) => `${path}${path.includes('?') ? '&' : '?'}lmgate_tag=${encodeURIComponent(tag)}`);
    },
    { box: 'self' },
  ],

  mock: [async ({ stack }, use) => use(new MockAdmin(stack.mockAdminURL)), { box: 'self' }],

  stats: [async ({ stack }, use) => use(new StatsFile(stack.statsFile)), { box: 'self' }],

  recordExchange: [
    async ({}, use, testInfo) => {
      await use((exchange) => attachExchange(testInfo, exchange));
    },
    { box: 'self' },
  ],

  // The report shows, beside a test's exchanges, the stats lines its calls produced (its tag
  // and the tags derived from it), as they stood when the test ended.
  statsLinesInReport: [
    async ({ stats, tag }, use, testInfo) => {
      await use();
      const lines = stats.linesOfTagAndDerived(tag);
      if (lines.length > 0) {
        // A backlog test leaves hundreds of thousands: the report shows the first ones.
        const shown = lines.slice(0, REPORTED_STATS_LINES);
        const title = shown.length < lines.length ? `stats lines (first ${shown.length} of ${lines.length})` : `stats lines (${lines.length})`;
        await testInfo.attach(title, { body: maskSecrets(shown.map((line) => JSON.stringify(line)).join('\n')), contentType: 'application/x-ndjson' });
      }
    },
    { auto: true, box: 'self' },
  ],

  containerLogsOnFailure: [
    async ({ stack }, use, testInfo) => {
      await use();
      if (testInfo.status !== testInfo.expectedStatus) {
        await testInfo.attach('container logs', { body: maskSecrets(await stack.logsOrReason()), contentType: 'text/plain' });
      }
    },
    { auto: true, box: 'self' },
  ],
});

export { expect };

/**
 * For a file whose tests change what they find: they run one after another on a stack of
 * the file's own, which goes down (in the background) as soon as the file is done, not at
 * the end of the run, once its logs and stats file were found free of secrets.
 */
export function useOwnStack(stack: OwnStack): void {
  test.use({ ownStack: stack });
  test.describe.configure({ mode: 'default' });
  // These tests stop, start, freeze and recreate containers: on a loaded 2-core machine a
  // graceful stop (up to 20 s), a restart and its health check take more than the default
  // 30 s (CI runs timed out in the restarts of service-lifecycle and upstreams).
  test.beforeEach(() => test.setTimeout(90_000));
  test.afterAll(async ({ ownStacks }) => {
    try {
      await ownStacks.expectAccounting();
      await ownStacks.expectNoSecretsLeft();
    } finally {
      ownStacks.release();
    }
  });
}
