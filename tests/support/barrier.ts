import { KEYS } from './keys';
import type { StackInfo } from './stack-info';
import type { StatsFile } from './stats-file';

/**
 * Proves "no stats line for `tag`" by an event instead of a wait: an allowed call made
 * after the calls in question (tagged `<tag>-barrier`) is recorded and written after any
 * record they could have left, so once its line is in the file, theirs would be too. On
 * the stack's current address (a test that restarted nginx may have moved it).
 */
export async function statsBarrier(stack: StackInfo, stats: StatsFile, tag: string): Promise<void> {
  const barrierTag = `${tag}-barrier`;
  const response = await fetch(`${stack.gatewayURL}/openai/v1/chat/completions?lmgate_tag=${encodeURIComponent(barrierTag)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEYS.alpha.key}`, 'content-type': 'application/json' },
    body: '{"model":"gpt-4o-mini","messages":[]}',
  });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`the barrier call of ${stack.project} answered ${response.status}`);
  await stats.waitForLines(barrierTag, 1, 30_000);
}
