import { defineConfig } from '@playwright/test';

/**
 * The end-to-end suite: global setup brings up docker-compose.yaml + docker-compose.e2e.yaml
 * under a unique project name, tests drive it through nginx with the request fixture, and
 * the teardown global setup returns (global-teardown.ts) takes it down. The gateway URL
 * comes from the run's description file.
 */
export default defineConfig({
  testDir: './tests',
  globalSetup: './global-setup.ts',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  // Each isolated file (nine) holds a worker for all its tests; the others start on the
  // shared-stack tests, which every worker joins once its file is done. On two cores the
  // run is CPU-bound: each worker costs about a CPU-second to start, and more workers
  // stretch every stack's start (8 to 10 workers measured alike, 28-32 s a run here).
  workers: Number(process.env['E2E_WORKERS'] ?? 9),
  forbidOnly: Boolean(process.env['CI']),
  retries: 0,
  reporter: [
    ['list'],
    ['html', { open: 'never', outputFolder: 'playwright-report' }],
    ['junit', { outputFile: 'playwright-report/junit.xml' }],
    ['./tests/support/phase-reporter.ts'],
  ],
  outputDir: 'test-results',
  use: {
    trace: 'retain-on-failure',
    extraHTTPHeaders: { 'user-agent': 'lmgate-e2e' },
  },
  projects: [
    {
      // One project, so that every file shares one worker hash: a worker done with an
      // isolated file goes on with other tests instead of being replaced by a new process
      // (a worker's start costs about a CPU-second). Files are queued in path order, so
      // tests/isolated/ (a stack of their own, one after another in each file: the longest
      // chains) starts before tests/shared-stack/.
      name: 'e2e',
      testIgnore: /audit\/.*/,
    },
    {
      // Reads what the whole run left behind on the shared stack: last.
      name: 'audit',
      testDir: './tests/audit',
      dependencies: ['e2e'],
      // accounting first (it reads the provider mock's journal, whose TLS the secrets audit breaks).
      fullyParallel: false,
      workers: 1,
    },
  ],
});
