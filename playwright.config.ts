import { defineConfig } from '@playwright/test';

/**
 * The end-to-end suite: global setup brings up docker-compose.yaml + docker-compose.e2e.yaml
 * under a unique project name, tests drive it through nginx with the request fixture, and
 * global teardown takes it down. The gateway URL comes from the run's description file.
 */
export default defineConfig({
  testDir: './tests',
  globalSetup: './global-setup.ts',
  globalTeardown: './global-teardown.ts',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  // Tests mostly wait on the stacks, not on CPU; each isolated file holds a worker for
  // all its tests, so there are enough for them and the gateway project side by side.
  workers: Number(process.env['E2E_WORKERS'] ?? 10),
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
      // Each file brings up a stack of its own, so it runs beside `gateway`, not after it.
      name: 'isolated',
      testDir: './tests/isolated',
      fullyParallel: false,
    },
    {
      name: 'gateway',
      testMatch: /.*\.spec\.ts$/,
      testIgnore: /(audit|isolated)\/.*/,
    },
    {
      // Reads what the whole run left behind: last.
      name: 'audit',
      testDir: './tests/audit',
      dependencies: ['gateway'],
      // accounting first (it reads the provider mock's journal, whose TLS the secrets audit breaks).
      fullyParallel: false,
      workers: 1,
    },
  ],
});
