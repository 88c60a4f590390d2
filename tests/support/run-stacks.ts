import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { composeIsStandalone, E2E_DIR } from './stack-info';
import { PROJECT_PREFIX, runnerPid, Stack } from './stack';

/**
 * The stacks of a run, and of runs before it, as a whole: every stack's project name holds
 * its runner's pid (stack.ts, runnerPid), so global setup finds the stacks of runs whose
 * runner is gone and global teardown finds whatever of this run's is left.
 */

/**
 * Removes what is left of this run's stacks but `except` (the shared one), with their run
 * directories: the stack of an isolated file whose worker ended while removing it. Such a
 * removal may still be going on beside this one, so a failed down counts for nothing:
 * what counts is that nothing of the stack is left afterwards.
 */
export async function sweepRunStacks(except?: string): Promise<void> {
  const prefix = `${PROJECT_PREFIX}${runnerPid()}-`;
  const standalone = composeIsStandalone();
  const projects = (await Stack.projects(prefix)).filter((project) => project !== except);
  await Promise.all(
    projects.map(async (project) => {
      const stack = Stack.byName(project, standalone);
      for (let attempt = 0; ; attempt++) {
        await stack.down().catch(() => undefined);
        const left = await stack.objectsLeft();
        if (left.length === 0) break;
        if (attempt === 2) throw new Error(`stack ${project} left Docker objects behind: ${left.join(', ')}`);
      }
    }),
  );
  if (!existsSync(E2E_DIR)) return;
  for (const dir of readdirSync(E2E_DIR)) {
    if (dir.startsWith(prefix) && dir !== except) rmSync(join(E2E_DIR, dir), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether a project name (or run directory) is of a run whose runner is gone. */
function abandoned(name: string): boolean {
  const pid = Number(name.slice(PROJECT_PREFIX.length).split('-')[0]);
  return !(Number.isInteger(pid) && pid > 0 && isAlive(pid));
}

/**
 * Stacks of earlier runs whose runner is gone (killed, machine slept): take them down, and
 * remove their run directories (allow-lists, stats files, test CAs).
 */
export async function removeAbandonedStacks(standalone: boolean): Promise<void> {
  for (const project of (await Stack.projects(PROJECT_PREFIX)).filter(abandoned)) {
    console.log(`[e2e] removing abandoned stack ${project}`);
    await Stack.byName(project, standalone).down().catch(
      (error: unknown) => console.warn(`[e2e] could not remove ${project}: ${(error as Error).message}`),
    );
  }
  if (!existsSync(E2E_DIR)) return;
  for (const dir of readdirSync(E2E_DIR).filter((name) => name.startsWith(PROJECT_PREFIX) && abandoned(name))) {
    rmSync(join(E2E_DIR, dir), { recursive: true, force: true });
  }
}
