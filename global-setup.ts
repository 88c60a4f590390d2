import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { buildImages, E2E_COMPOSE_FILES, prepareStack, PROJECT_PREFIX, startStack } from './tests/support/lifecycle';
import { PROJECT_ROOT, RUN_INFO_FILE } from './tests/support/run-info';
import { checkDocker, downStack, projectsWithPrefix } from './tests/support/stack';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stacks of earlier runs whose runner is gone (killed, machine slept): take them down. */
async function removeAbandonedStacks(standalone: boolean): Promise<void> {
  for (const project of await projectsWithPrefix(PROJECT_PREFIX)) {
    const pid = Number(project.slice(PROJECT_PREFIX.length).split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) continue;
    console.log(`[e2e] removing abandoned stack ${project}`);
    await downStack({ project, composeFiles: E2E_COMPOSE_FILES, composeEnv: { E2E_RUN_DIR: '/nonexistent' }, standalone }).catch(
      (error: unknown) => console.warn(`[e2e] could not remove ${project}: ${(error as Error).message}`),
    );
  }
}

/** Builds what the images copy, then brings up one stack for the whole run and waits for health. */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const { standalone } = await checkDocker();
  await removeAbandonedStacks(standalone);

  execFileSync('npm', ['run', '--silent', 'build'], { cwd: PROJECT_ROOT, stdio: 'inherit' });

  const info = await prepareStack({ standalone });
  await buildImages(info);
  await startStack(info, process.env['E2E_KEEP_STACK'] === '1');
  // Written once the stack is up: its URLs are the ports Docker picked.
  writeFileSync(RUN_INFO_FILE, JSON.stringify(info, null, 2));
  process.env['E2E_RUN_INFO'] = RUN_INFO_FILE;
  console.log(`[e2e] stack ${info.project} healthy in ${((Date.now() - started) / 1000).toFixed(1)}s at ${info.gatewayURL}`);
}
