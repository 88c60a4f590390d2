import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MockAdmin } from './mock-admin';
import type { StackInfo } from './stack-info';
import { tagOfEndpoint, type StatsFile } from './stats-file';

/**
 * The accounting of a stack (tests/audit/accounting.spec.ts for the shared one, the end of
 * each file for a stack of its own: tests/fixtures.ts) expects, for every tag, as many
 * stats lines as requests the mock received. A test whose calls leave lines that no mock
 * request matches — the gateway's own 502 for a provider it could not reach, records put
 * in the spool by hand — declares how many here.
 */
export function declareLinesWithoutUpstream(stack: StackInfo, tag: string, lines: number): void {
  appendFileSync(declarationsFile(stack), `${JSON.stringify({ tag, lines })}\n`);
}

/**
 * The other way round: requests the mock received whose call has no line, and may not
 * have one — the calls in flight when a test killed nginx (spec §5's crash window).
 */
export function declareRequestsWithoutLine(stack: StackInfo, tag: string, requests: number): void {
  declareLinesWithoutUpstream(stack, tag, -requests);
}

export function linesWithoutUpstream(stack: StackInfo): Map<string, number> {
  const declared = new Map<string, number>();
  const file = declarationsFile(stack);
  if (!existsSync(file)) return declared;
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const { tag, lines } = JSON.parse(line) as { tag: string; lines: number };
    declared.set(tag, (declared.get(tag) ?? 0) + lines);
  }
  return declared;
}

function declarationsFile(stack: StackInfo): string {
  return join(stack.runDir, 'lines-without-upstream.jsonl');
}

/**
 * For every tag of the stack, its stats lines against the requests its mock received and
 * what tests declared: the tags that do not match, each with its counts. Call it after a
 * barrier (barrier.ts) or once the stack has stopped.
 */
export async function accountingMismatches(stack: StackInfo, stats: StatsFile, mock: MockAdmin): Promise<{ tags: number; mismatches: string[] }> {
  const received = new Map(Object.entries(await mock.countByTag()).map(([tag, count]) => [tag === '' ? '(no tag)' : tag, count]));
  const written = new Map<string, number>();
  for (const line of stats.all()) {
    const tag = tagOfEndpoint(line.endpoint) ?? '(no tag)';
    written.set(tag, (written.get(tag) ?? 0) + 1);
  }
  const declared = linesWithoutUpstream(stack);
  const mismatches: string[] = [];
  for (const tag of new Set([...received.keys(), ...written.keys(), ...declared.keys()])) {
    const expected = (received.get(tag) ?? 0) + (declared.get(tag) ?? 0);
    if ((written.get(tag) ?? 0) !== expected) mismatches.push(`${tag}: ${written.get(tag) ?? 0} line(s), expected ${expected} (${received.get(tag) ?? 0} received by the mock)`);
  }
  return { tags: received.size, mismatches };
}
