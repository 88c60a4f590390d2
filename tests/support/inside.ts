import type { RunInfo } from './run-info';
import { composeRun } from './stack';

/**
 * Runs a Node.js snippet inside the mock upstream's container: a client on the compose
 * network, where the service's internal port is reachable. Prints what the snippet prints.
 */
export async function nodeInsideNetwork(info: RunInfo, script: string): Promise<string> {
  const result = await composeRun(info, ['exec', '-T', 'mock-upstream', 'node', '-e', script]);
  return result.out;
}
