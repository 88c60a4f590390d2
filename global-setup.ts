import { join } from 'node:path';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { RUN_CERTIFICATES_ENV } from './tests/support/certs';
import { checkDocker, composePackage, Stack } from './tests/support/stack';
import { removeAbandonedStacks } from './tests/support/run-stacks';
import { teardownRun } from './global-teardown';
import { PROJECT_ROOT, RUN_INFO_FILE, RUN_START_FAILED_FILE, type SharedStackStart } from './tests/support/stack-info';

function writeAtomically(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/**
 * Builds what the images copy and the images, then starts the stack the shared-stack tests
 * use, without waiting for it: the workers start, and the isolated files bring up their own
 * stacks, meanwhile. The fixtures wait for RUN_INFO_FILE (or RUN_START_FAILED_FILE).
 * Returns the run's teardown (global-teardown.ts), which waits for the start before taking
 * the stack down: Playwright runs it at the end, and it holds the start itself.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  const started = Date.now();
  rmSync(RUN_INFO_FILE, { force: true });
  rmSync(RUN_START_FAILED_FILE, { force: true });
  const { standalone } = await checkDocker();
  // Every stack of the run is named after this process (stack.ts, runnerPid).
  process.env['E2E_RUNNER_PID'] = String(process.pid);
  process.env['E2E_COMPOSE_STANDALONE'] = standalone ? '1' : '0';
  await removeAbandonedStacks(standalone);

  // What `npm run build` runs in each workspace (its build.mjs), in this process; a bundle
  // whose inputs are unchanged since its last build is not built again.
  const { bundleWorkspace } = await import('./scripts/bundle.mjs');
  await Promise.all((['lmgate', 'mock-upstream'] as const).map((workspace) => bundleWorkspace(workspace, join(PROJECT_ROOT, workspace))));

  const stack = Stack.prepare({ standalone });
  const { info } = stack;
  // The isolated files' stacks copy this stack's certificates (removed with it, after them).
  process.env[RUN_CERTIFICATES_ENV] = join(info.runDir, 'certs');
  try {
    await stack.buildImages();
  } catch (error) {
    // No teardown runs after a failed set-up: nothing of it may stay.
    rmSync(info.runDir, { recursive: true, force: true });
    throw error;
  }
  process.env['E2E_RUN_INFO'] = RUN_INFO_FILE;
  const keepOnFailure = process.env['E2E_KEEP_STACK'] === '1';
  const start: SharedStackStart = {
    stack,
    started: stack.start({ keepOnFailure, runner: composePackage, recordEvents: true }).then(
      () => {
        // Written once the stack is up: its URLs are the ports Docker picked. Workers wait
        // for the file to exist, so it appears whole (a rename) or not at all.
        writeAtomically(RUN_INFO_FILE, JSON.stringify(info, null, 2));
        console.log(`[e2e] shared stack ${info.project} healthy ${((Date.now() - started) / 1000).toFixed(1)} s after setup began, at ${info.gatewayURL}`);
        return true;
      },
      (error: unknown) => {
        writeAtomically(RUN_START_FAILED_FILE, (error as Error).message);
        console.error(`[e2e] the shared stack ${info.project} did not start: ${(error as Error).message}`);
        return false;
      },
    ),
  };
  console.log(`[e2e] images ready in ${((Date.now() - started) / 1000).toFixed(1)} s; the shared stack ${info.project} is starting`);
  return () => teardownRun(start);
}
