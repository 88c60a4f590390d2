import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * What a stack is (its Compose project, files and environment, its run directory, the
 * URLs it answers at): a Stack (stack.ts) holds one, and global setup writes the shared
 * one's for the workers.
 */
export interface StackInfo {
  project: string;
  runDir: string;
  dataDir: string;
  statsFile: string;
  allowListFile: string;
  gatewayURL: string;
  mockAdminURL: string;
  /** The service's /metrics, published on loopback by the e2e overlay. */
  metricsURL: string;
  /** The service's own port (8081, or its faulty stand-in's), published on loopback by the e2e overlay. */
  serviceURL: string;
  composeFiles: string[];
  /** Compose's environment: the variables the compose files interpolate. */
  composeEnv: Record<string, string>;
  standalone: boolean;
}

export const PROJECT_ROOT = resolve(__dirname, '..', '..');
export const E2E_DIR = join(PROJECT_ROOT, '.e2e');
export const RUN_INFO_FILE = join(E2E_DIR, 'current-run.json');

export function readSharedStackInfo(): StackInfo {
  const path = process.env['E2E_RUN_INFO'] ?? RUN_INFO_FILE;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as StackInfo;
  } catch (error) {
    throw new Error(`No e2e stack is described at ${path} (${(error as Error).message}). Run the suite with 'npx playwright test', whose global setup brings the stack up.`);
  }
}

/** Written instead of RUN_INFO_FILE when the shared stack failed to start: what went wrong. */
export const RUN_START_FAILED_FILE = join(E2E_DIR, 'current-run.failed.txt');

/** What went wrong, if global setup's start of the shared stack failed; null otherwise. */
export function sharedStackFailure(): string | null {
  return existsSync(RUN_START_FAILED_FILE) ? readFileSync(RUN_START_FAILED_FILE, 'utf8') : null;
}

/**
 * Resolves with what went wrong once the shared stack's start has failed; never, if it
 * started. For a file whose own stack is still starting then (its compose up may wait
 * minutes for a service that never becomes healthy): the run has failed, and its tests
 * are skipped at once instead.
 */
export function sharedStackFailed(): Promise<string> {
  const path = process.env['E2E_RUN_INFO'] ?? RUN_INFO_FILE;
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const failure = sharedStackFailure();
      if (failure !== null) resolve(failure);
      if (failure !== null || existsSync(path)) clearInterval(timer);
    }, 200);
    timer.unref();
  });
}

/**
 * The shared stack's description, once global setup's start of it (which goes on while the
 * workers start) has written it; throws what went wrong if the start failed.
 */
export async function waitForSharedStackInfo(timeoutMs = 240_000): Promise<StackInfo> {
  const path = process.env['E2E_RUN_INFO'] ?? RUN_INFO_FILE;
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (existsSync(RUN_START_FAILED_FILE)) throw new Error(`The shared e2e stack did not start:\n${readFileSync(RUN_START_FAILED_FILE, 'utf8')}`);
    if (Date.now() > deadline) throw new Error(`The shared e2e stack was not described at ${path} within ${timeoutMs / 1000} s.`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return readSharedStackInfo();
}

/** Whether Compose is the standalone docker-compose (set by global setup for the workers). */
export function composeIsStandalone(): boolean {
  return process.env['E2E_COMPOSE_STANDALONE'] === '1';
}

/** The shared stack's start, begun by global setup and awaited by the run's teardown, which global setup returns. */
export interface SharedStackStart {
  stack: import('./stack').Stack;
  started: Promise<boolean>;
}
