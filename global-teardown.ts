import { rmSync } from 'node:fs';
import { PROJECT_PREFIX, runnerPid, Stack } from './tests/support/stack';
import { sweepRunStacks } from './tests/support/run-stacks';
import { RUN_INFO_FILE, RUN_START_FAILED_FILE, sharedStackFailure, type SharedStackStart } from './tests/support/stack-info';

/**
 * The run's teardown, which global setup returns (Playwright runs it at the end): takes the
 * run's stacks down with their volumes, also after failures: the shared one
 * (E2E_KEEP_STACK=1 keeps it) and, beside it, any stack of a file whose removal a worker's
 * end cut short.
 */
export async function teardownRun(start: SharedStackStart): Promise<void> {
  const started = Date.now();
  // Read before the down below removes it: a run whose shared stack did not start fails.
  const failure = sharedStackFailure();
  await Promise.all([sweepRunStacks(start.stack.project), downSharedStack(start)]);
  // Nothing of the run may be left but what E2E_KEEP_STACK=1 keeps.
  const kept = process.env['E2E_KEEP_STACK'] === '1' ? start.stack.project : undefined;
  const left = (await Stack.projects(`${PROJECT_PREFIX}${runnerPid()}-`)).filter((project) => project !== kept);
  if (left.length > 0) throw new Error(`the run left stacks behind: ${left.join(', ')}`);
  if (failure !== null) throw new Error(`the shared e2e stack did not start, so the tests that had not begun were skipped: ${failure}`);
  if (process.env['E2E_KEEP_STACK'] !== '1') console.log(`[e2e] teardown ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function downSharedStack(start: SharedStackStart): Promise<void> {
  // The start may still be going (a run that ended early): it must finish before the down.
  await start.started;
  const { stack } = start;
  const { info } = stack;
  if (process.env['E2E_KEEP_STACK'] === '1') {
    console.log(`[e2e] E2E_KEEP_STACK=1: stack ${info.project} left running at ${info.gatewayURL}; data in ${info.dataDir}.`);
    // The compose files interpolate E2E_RUN_DIR (the test CA's mount): the command must set it.
    const files = info.composeFiles.map((file) => `-f ${file}`).join(' ');
    console.log(`[e2e] remove it with: E2E_RUN_DIR=${info.runDir} docker compose -p ${info.project} ${files} down -v && rm -rf ${info.runDir}`);
    return;
  }
  // Compose itself (composeExec), not the docker-compose package, which would add its
  // half-second timer to the end of every run (the stack came up through the package).
  await stack.down();
  const left = await stack.objectsLeft();
  if (left.length > 0) throw new Error(`stack ${info.project} left Docker objects behind: ${left.join(', ')}`);
  rmSync(info.runDir, { recursive: true, force: true });
  rmSync(RUN_INFO_FILE, { force: true });
  rmSync(RUN_START_FAILED_FILE, { force: true });
}
