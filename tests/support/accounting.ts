import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunInfo } from './run-info';

/**
 * The whole-run accounting (tests/audit/accounting.spec.ts) expects, for every tag, as many
 * stats lines as requests the mock received. A test whose calls leave lines that no mock
 * request matches — the gateway's own 502 for a provider it could not reach, a record
 * posted to the service from inside the network — declares how many here.
 */
export function declareLinesWithoutUpstream(run: RunInfo, tag: string, lines: number): void {
  appendFileSync(declarationsFile(run), `${JSON.stringify({ tag, lines })}\n`);
}

export function linesWithoutUpstream(run: RunInfo): Map<string, number> {
  const declared = new Map<string, number>();
  const file = declarationsFile(run);
  if (!existsSync(file)) return declared;
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const { tag, lines } = JSON.parse(line) as { tag: string; lines: number };
    declared.set(tag, (declared.get(tag) ?? 0) + lines);
  }
  return declared;
}

function declarationsFile(run: RunInfo): string {
  return join(run.runDir, 'lines-without-upstream.jsonl');
}
