import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** What global setup tells the tests about the stack it brought up. */
export interface RunInfo {
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

export function readRunInfo(): RunInfo {
  const path = process.env['E2E_RUN_INFO'] ?? RUN_INFO_FILE;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RunInfo;
  } catch (error) {
    throw new Error(`No e2e stack is described at ${path} (${(error as Error).message}). Run the suite with 'npx playwright test', whose global setup brings the stack up.`);
  }
}
