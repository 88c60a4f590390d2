import { test, expect, useOwnStack } from '../fixtures';
import { declareLinesWithoutUpstream, declareRequestsWithoutLine } from '../support/accounting';
import { callNumbers, expectExactlyOnce, startLoad, type CallTally } from '../support/call-tally';
import { statsBarrier } from '../support/barrier';
import { scrape, sumOf } from '../support/metrics';
import { addToSpool, spoolLine } from '../support/spool';
import { KEYS } from '../support/keys';
import { type Stack } from '../support/stack';
import type { StatsFile } from '../support/stats-file';
import { mockUsage } from '../support/usage-cases';

// Spec §5's delivery guarantees, under load: nginx restarted or killed, the service killed
// or frozen while calls go on, a backlog larger than any memory of recent ids, and the
// drops the service can see. A stack of its own (these stop its containers), its tests one
// after another. nginx's shutdown timeout is short here, so that a graceful stop can
// outlast it within a test.
const SHUTDOWN_TIMEOUT_S = 2;
useOwnStack({ label: 'recording', env: { E2E_SHUTDOWN_TIMEOUT: `${SHUTDOWN_TIMEOUT_S}s` } });

const LOOPS = 8;

/**
 * nginx's published address after a restart, which Docker may give another host port:
 * the stack's address is read again, so that this file's later tests (and their request
 * fixture) find nginx too.
 */
const followGateway = (stack: Stack) => stack.readURLs();

/**
 * Waits until every call answered 2xx has its line, then for a later call's line (an event:
 * anything the calls before it left is written by then), and checks the tally.
 */
async function expectTally(stack: Stack, stats: StatsFile, tag: string, tally: CallTally, droppedBefore: number, excused?: (i: string) => boolean) {
  const answered = [...tally.answered.keys()];
  await expect
    .poll(() => { const have = new Set(callNumbers(stats, tag)); return answered.filter((i) => !have.has(i) && !excused?.(i)).length; }, { timeout: 30_000, intervals: [200], message: 'answered calls still without a line' })
    .toBe(0);
  await statsBarrier(stack, stats, tag);
  const result = expectExactlyOnce(tally, callNumbers(stats, tag), excused);
  // Workers that came and went (a restart reuses their pids, a reload brings new ones)
  // start their record numbers anew: no record counted missing for that.
  expect(await dropped(stack), 'lmgate_stats_records_dropped_total').toBe(droppedBefore);
  const summary = `${tally.answered.size} answered 2xx, ${tally.sent.size} sent, lines ${callNumbers(stats, tag).length}, answered without a line ${result.missing.length}; others: ${JSON.stringify(Object.fromEntries(tally.others))}`;
  test.info().annotations.push({ type: 'tally', description: summary });
  console.log(`[recording] ${test.info().title.slice(0, 40)}…: ${summary}`);
  return result;
}

/** The service's count of records missing from the spool. */
async function dropped(stack: Stack): Promise<number> {
  return sumOf(await scrape(stack.metricsURL), 'lmgate_stats_records_dropped_total');
}

for (const event of [
  {
    title: 'nginx reloaded under load (SIGHUP: new workers, the old ones finish their calls)',
    step: 'nginx reloads, calls go on',
    cause: (stack: Stack) => stack.compose(['kill', '-s', 'HUP', 'nginx']),
    more: 300,
  },
  {
    title: 'nginx restarted gracefully under load (docker compose restart)',
    step: 'nginx restarts (SIGQUIT: calls in flight finish), calls go on',
    cause: async (stack: Stack) => {
      await stack.compose(['restart', '--timeout', '20', 'nginx']);
      await followGateway(stack);
    },
    more: 200,
  },
]) {
  test(`${event.title}: every call the client saw answered has exactly one line`, async ({ stack, stats, tag }) => {
    const droppedBefore = await dropped(stack);
    const load = startLoad({ gatewayURL: () => stack.gatewayURL, tag, loops: LOOPS });
    await test.step('calls flow', () => load.answeredAtLeast(200));
    await test.step(event.step, async () => {
      await event.cause(stack);
      await load.answeredMore(event.more);
    });
    const tally = await load.stop();
    await test.step('every answered call has one line, none has two', () => expectTally(stack, stats, tag, tally, droppedBefore));
  });
}

test(`nginx stopped gracefully while a call runs longer than Docker waits: nginx closes it after LMGATE_SHUTDOWN_TIMEOUT (${SHUTDOWN_TIMEOUT_S} s here), exits by itself, and the call has its line`, async ({ stack, stats, tag }) => {
  // A stream of 60 events a second apart: far longer than the 10 s Docker waits below.
  const response = await fetch(`${stack.gatewayURL}/anthropic/v1/messages?lmgate_tag=${tag}`, {
    method: 'POST',
    headers: { 'x-api-key': KEYS.beta.key, 'content-type': 'application/json', 'x-mock-event-delay-ms': '1000', 'x-mock-anthropic-deltas': '60', 'x-mock-usage': mockUsage({ input: 61, output: 40 }) },
    body: JSON.stringify({ model: 'claude-3-5-sonnet-20241022', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'a long story' }] }),
  });
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  await test.step('the stream is under way', async () => {
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('event: message_start');
  });
  try {
    await test.step("docker compose stop with 10 s to spare: nginx exits by itself (exit code 0), not by Docker's SIGKILL (137)", async () => {
      await stack.compose(['stop', '--timeout', '10', 'nginx']);
      const state = (await stack.inspect('nginx'))['State'] as { ExitCode: number };
      expect(state.ExitCode).toBe(0);
    });
    await test.step('the client saw the stream cut before its end', async () => {
      let text = '';
      try {
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += new TextDecoder().decode(chunk.value);
      } catch {
        // The connection closed mid-stream.
      }
      expect(text).not.toContain('event: message_stop');
    });
    await test.step('the call has its line, with the status the client received', async () => {
      const [line] = await stats.waitForLines(tag, 1, 20_000);
      expect(line).toMatchObject({ status: 200, provider: 'anthropic', lmgate_id: KEYS.beta.id, input_tokens: 61, model: 'claude-3-5-sonnet-20241022' });
    });
  } finally {
    await stack.startService('nginx');
    await followGateway(stack);
    // Answering again (Docker's port forwarder accepts connections before nginx listens).
    await stack.waitForHealth();
  }
  await test.step('and only one: a later call through the started nginx has its line, and the call still one', async () => {
    await statsBarrier(stack, stats, tag);
    expect(stats.lines(tag)).toHaveLength(1);
  });
});

test('nginx killed (SIGKILL) under load: no line doubled, and none missing but of calls answered within the stated 1 s before the kill', async ({ stack, stats, tag, mock }) => {
  const droppedBefore = await dropped(stack);
  const load = startLoad({ gatewayURL: () => stack.gatewayURL, tag, loops: LOOPS });
  await load.answeredAtLeast(300);
  const killedAt = Date.now();
  await test.step('nginx killed and started again', async () => {
    await stack.kill('nginx');
    await stack.startService('nginx');
    await followGateway(stack);
  });
  await load.answeredMore(200);
  const tally = await load.stop();
  const { missing } = await test.step('every call answered before the window has one line, none has two', () =>
    expectTally(stack, stats, tag, tally, droppedBefore, (i) => (tally.answered.get(i) ?? 0) > killedAt - 1_000));
  // What the window cost this time (nginx writes a call's line before taking its next: none expected).
  test.info().annotations.push({ type: 'crash window', description: `${missing.length} answered call(s) without a line` });
  // The calls in flight at the kill reached the provider and got no line (nor an answer,
  // but for those within the window): at most one a loop.
  const unrecorded = ((await mock.countByTag())[tag] ?? 0) - callNumbers(stats, tag).length;
  expect(unrecorded, 'requests the provider received without a line').toBeLessThanOrEqual(LOOPS);
  declareRequestsWithoutLine(stack, tag, unrecorded);
});

for (const outage of [
  { name: 'killed (SIGKILL), then started', down: (stack: Stack) => stack.kill('lmgate'), up: (stack: Stack) => stack.startService('lmgate') },
  { name: 'frozen, then thawed', down: (stack: Stack) => stack.freeze('lmgate'), up: (stack: Stack) => stack.thaw('lmgate') },
]) {
  test(`the service ${outage.name} while calls go on: every call answered has exactly one line`, async ({ stack, stats, tag }) => {
    const droppedBefore = await dropped(stack);
    const load = startLoad({ gatewayURL: () => stack.gatewayURL, tag, loops: LOOPS });
    await load.answeredAtLeast(300);
    await test.step(`the service ${outage.name} (kept decisions let calls through meanwhile)`, async () => {
      await outage.down(stack);
      await new Promise((r) => setTimeout(r, 500));
      await outage.up(stack);
      await stack.waitUntilHealthy('lmgate');
    });
    await load.answeredMore(200);
    const tally = await load.stop();
    await test.step('every answered call has one line, none has two', () => expectTally(stack, stats, tag, tally, droppedBefore));
  });
}

test('a backlog of 210,000 records, more than the 200,000 recent ids the old design remembered, with the service killed while writing it: each written exactly once', async ({ stack, stats, tag }) => {
  test.setTimeout(180_000);
  const count = 210_000;
  const backlogTag = `${tag}-backlog`;
  await test.step(`${count} records wait in the spool`, async () => {
    const lines: string[] = [];
    for (let n = 1; n <= count; n++) lines.push(spoolLine({ producer: `backlog-${tag}/1`, seq: n, requestId: `${tag}-${n}`, uri: `/openai/v1/x?lmgate_tag=${backlogTag}&i=${n}` }));
    await addToSpool(stack, `records-0000-${tag}.jsonl`, lines.join('\n') + '\n');
    declareLinesWithoutUpstream(stack, backlogTag, count);
  });
  await test.step('the service is killed once it has written some of them, and started again', async () => {
    await expect.poll(() => stats.lines(backlogTag).length, { timeout: 60_000, intervals: [20] }).toBeGreaterThan(0);
    await stack.kill('lmgate');
    test.info().annotations.push({ type: 'killed after', description: `${stats.lines(backlogTag).length} lines` });
    await stack.startService('lmgate');
    await stack.waitUntilHealthy('lmgate');
  });
  await test.step('every record has exactly one line', async () => {
    await expect.poll(() => stats.lines(backlogTag).length, { timeout: 120_000, intervals: [500] }).toBeGreaterThanOrEqual(count);
    const ids = stats.lines(backlogTag).map((line) => line.request_id);
    expect(ids).toHaveLength(count);
    expect(new Set(ids).size).toBe(count);
  });
});

test('records the spool lacks are counted and logged (a record number skipped), and lines that are not records are rejected, counted and logged', async ({ stack, stats, tag }) => {
  const dropsTag = `${tag}-drops`;
  const metric = async (name: string) => sumOf(await scrape(stack.metricsURL), name);
  const [droppedBefore, rejectedBefore] = [await metric('lmgate_stats_records_dropped_total'), await metric('lmgate_stats_records_rejected_total')];
  const line = (seq: number) => spoolLine({ producer: `drops-${tag}/7`, seq, requestId: `${tag}-${seq}`, uri: `/openai/v1/x?lmgate_tag=${dropsTag}&seq=${seq}` });
  // Numbers 3 and 4 never reached the spool; two lines nginx would never write.
  await addToSpool(stack, `records-0000-${tag}.jsonl`, [line(1), line(2), 'not a record', '{"v":1,"producer":"x"}', line(5)].join('\n') + '\n');
  declareLinesWithoutUpstream(stack, dropsTag, 3);
  await stats.waitForLines(dropsTag, 3);
  expect(await metric('lmgate_stats_records_dropped_total')).toBe(droppedBefore + 2);
  expect(await metric('lmgate_stats_records_rejected_total')).toBe(rejectedBefore + 2);
  const logs = await stack.logsOrReason(['lmgate'], 200);
  expect(logs).toContain('stats records missing from the spool');
  expect(logs.split('spool line rejected').length - 1).toBeGreaterThanOrEqual(2);
});

test('a record of a host no provider location names gets provider "unknown" and keeps its usage (spec §5); nginx itself cannot produce one: its three locations fix the host', async ({ stack, stats, tag }) => {
  const unknownTag = `${tag}-unknown`;
  await addToSpool(stack, `records-0000-${tag}-unknown.jsonl`, spoolLine({ producer: `unknown-${tag}/1`, seq: 1, requestId: `${tag}-unknown`, uri: `/other/v1/chat/completions?lmgate_tag=${unknownTag}`, upstreamHost: 'llm.example.com' }) + '\n');
  declareLinesWithoutUpstream(stack, unknownTag, 1);
  const [line] = await stats.waitForLines(unknownTag, 1);
  expect(line).toMatchObject({ provider: 'unknown', model: 'gpt-4o-mini', input_tokens: 3, output_tokens: 4, status: 200 });
});
