import type { APIRequestContext } from '@playwright/test';
import { KEYS } from './keys';
import type { StatsFile } from './stats-file';

/**
 * Proves "no stats line for `tag`" by an event instead of a wait: an allowed call made
 * after the calls in question (tagged `<tag>-barrier`) is delivered and written after any
 * record they could have left, so once its line is in the file, theirs would be too.
 */
export async function afterStatsBarrier(request: APIRequestContext, stats: StatsFile, tag: string): Promise<void> {
  const barrierTag = `${tag}-barrier`;
  const response = await request.post(`/openai/v1/chat/completions?lmgate_tag=${encodeURIComponent(barrierTag)}`, {
    headers: { authorization: `Bearer ${KEYS.alpha.key}` },
    data: { model: 'gpt-4o-mini', messages: [] },
  });
  if (response.status() !== 200) throw new Error(`the barrier call answered ${response.status()}`);
  await stats.waitForLines(barrierTag);
}
