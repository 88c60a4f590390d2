import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import * as compose from 'docker-compose';
import type { FullConfig } from '@playwright/test';
import { makeTestCertificates } from './tests/support/certs';
import { allowListCsv, INITIAL_KEYS } from './tests/support/keys';
import { E2E_DIR, PROJECT_ROOT, RUN_INFO_FILE, type RunInfo } from './tests/support/run-info';
import {
  checkDocker,
  composeCall,
  composeOptions,
  containerStatus,
  downStack,
  projectsWithPrefix,
  serviceLogs,
} from './tests/support/stack';

export const PROJECT_PREFIX = 'lmgate-e2e-';
const HEALTH_TIMEOUT_MS = Number(process.env['E2E_HEALTH_TIMEOUT_MS'] ?? 180_000);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

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
    await downStack({ project, composeFiles: ['docker-compose.yaml', 'docker-compose.e2e.yaml'], composeEnv: { E2E_RUN_DIR: '/nonexistent' }, standalone }).catch(
      (error: unknown) => console.warn(`[e2e] could not remove ${project}: ${(error as Error).message}`),
    );
  }
}

async function waitForHealth(info: RunInfo): Promise<void> {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  const targets = [`${info.gatewayURL}/healthz`, `${info.mockAdminURL}/healthz`];
  let lastProblem = '';
  while (Date.now() < deadline) {
    const results = await Promise.all(
      targets.map(async (url) => {
        try {
          const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
          return response.ok ? null : `${url} answered ${response.status}`;
        } catch (error) {
          return `${url}: ${(error as Error).message}`;
        }
      }),
    );
    const problems = results.filter((r): r is string => r !== null);
    if (problems.length === 0) return;
    lastProblem = problems.join('; ');
    await new Promise((r) => setTimeout(r, 250));
  }
  const [status, logs] = await Promise.all([containerStatus(info), serviceLogs(info)]);
  throw new Error(
    `The e2e stack did not become healthy within ${HEALTH_TIMEOUT_MS / 1000}s (${lastProblem}).\n` +
      `Containers:\n${status}\nLogs:\n${logs}\nSet E2E_KEEP_STACK=1 to keep the stack for inspection.`,
  );
}

export default async function globalSetup(_config: FullConfig): Promise<void> {
  const started = Date.now();
  const { standalone } = await checkDocker();
  await removeAbandonedStacks(standalone);

  // The images copy host-built bundles: build them first.
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: PROJECT_ROOT, stdio: 'inherit' });

  const project = `${PROJECT_PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`;
  const runDir = join(E2E_DIR, project);
  const dataDir = join(runDir, 'data');
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  // The service writes here as its unprivileged container user, whoever owns the checkout.
  chmodSync(dataDir, 0o777);
  const allowListFile = join(dataDir, 'allowlist.csv');
  writeFileSync(allowListFile, allowListCsv(INITIAL_KEYS), { mode: 0o644 });
  makeTestCertificates(join(runDir, 'certs'));

  const [gatewayPort, mockAdminPort] = await Promise.all([freePort(), freePort()]);
  const info: RunInfo = {
    project,
    runDir,
    dataDir,
    statsFile: join(dataDir, 'stats.jsonl'),
    allowListFile,
    gatewayURL: `http://127.0.0.1:${gatewayPort}`,
    mockAdminURL: `http://127.0.0.1:${mockAdminPort}`,
    composeFiles: ['docker-compose.yaml', 'docker-compose.e2e.yaml'],
    composeEnv: {
      E2E_RUN_DIR: runDir,
      LMGATE_DATA_DIR: dataDir,
      LMGATE_PORT: String(gatewayPort),
      E2E_MOCK_ADMIN_PORT: String(mockAdminPort),
    },
    standalone,
  };
  writeFileSync(RUN_INFO_FILE, JSON.stringify(info, null, 2));
  process.env['E2E_RUN_INFO'] = RUN_INFO_FILE;

  try {
    await composeCall('up', () => compose.upAll({ ...composeOptions(info), commandOptions: ['--build', '--detach'] }));
    await waitForHealth(info);
  } catch (error) {
    if (process.env['E2E_KEEP_STACK'] !== '1') {
      await downStack(info).catch(() => undefined);
      rmSync(runDir, { recursive: true, force: true });
    }
    throw error;
  }
  console.log(`[e2e] stack ${project} healthy in ${((Date.now() - started) / 1000).toFixed(1)}s at ${info.gatewayURL}`);
}
