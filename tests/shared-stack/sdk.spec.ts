import type OpenAI from 'openai';
import { test, expect } from '../fixtures';
import { FORBIDDEN } from '../support/contract';
import { KEYS, UNKNOWN_KEY } from '../support/keys';
import { recordingFetch } from '../support/recording-fetch';
import { loadAnthropic, loadOpenAI } from '../support/sdks';
import { FULL_USAGE, mockUsage, type MockUsage } from '../support/usage-cases';

const MESSAGE = FORBIDDEN.error.message;

// One worker runs this file's tests, one after another: loading the two SDKs costs a worker
// about a CPU-second (measured: a Playwright run importing both, 3.95 CPU-s against 3.0
// without), which every worker that ran one of these tests used to pay.
test.describe.configure({ mode: 'default' });

const FULL_HEADER = mockUsage(FULL_USAGE);

test.describe('official SDKs pointed at the gateway', () => {
  let pending: Array<Promise<void>> = [];
  test.afterEach(async () => {
    await Promise.all(pending);
    pending = [];
  });

  const openai = async (apiKey: string, tag: string, gatewayURL: string, record: Parameters<typeof recordingFetch>[0], usage: MockUsage = { input: 17, output: 9 }) =>
    new (await loadOpenAI())({
      apiKey,
      baseURL: `${gatewayURL}/openai/v1`,
      defaultQuery: { lmgate_tag: tag },
      defaultHeaders: { 'x-mock-usage': mockUsage(usage) },
      maxRetries: 0,
      fetch: recordingFetch(record, pending),
    });

  const anthropic = async (apiKey: string, tag: string, gatewayURL: string, record: Parameters<typeof recordingFetch>[0], usage: MockUsage = { input: 27, output: 19 }) =>
    new (await loadAnthropic())({
      apiKey,
      baseURL: `${gatewayURL}/anthropic`,
      defaultQuery: { lmgate_tag: tag },
      defaultHeaders: { 'x-mock-usage': mockUsage(usage) },
      maxRetries: 0,
      fetch: recordingFetch(record, pending),
    });

  test('openai: a chat completion, and the stats line matches the usage the SDK reports', async ({ stack, tag, stats, recordExchange }) => {
    const client = await openai(KEYS.alpha.key, tag, stack.gatewayURL, recordExchange);
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hi' }] });
    expect(completion.choices[0]?.message.content).toBeTruthy();
    const [line] = await stats.waitForLines(tag);
    expect(line).toMatchObject({
      provider: 'openai',
      model: completion.model,
      input_tokens: completion.usage?.prompt_tokens,
      output_tokens: completion.usage?.completion_tokens,
      lmgate_id: KEYS.alpha.id,
      status: 200,
    });
  });

  test('openai: a streaming chat completion with include_usage, and the stats line matches', async ({ stack, tag, stats, recordExchange }) => {
    const client = await openai(KEYS.alpha.key, tag, stack.gatewayURL, recordExchange, { input: 44, output: 21 });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Count to three' }],
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    let model = '';
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      model = chunk.model;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(usage).toMatchObject({ prompt_tokens: 44, completion_tokens: 21 });
    const [line] = await stats.waitForLines(tag);
    expect(line).toMatchObject({ provider: 'openai', model, input_tokens: usage?.prompt_tokens, output_tokens: usage?.completion_tokens });
  });

  test('openai: a key that is not allowed raises PermissionDeniedError (403) with the gateway message', async ({ stack, tag, mock, recordExchange }) => {
    const client = await openai(UNKNOWN_KEY, tag, stack.gatewayURL, recordExchange);
    const error = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).then(
      () => null,
      (e: unknown) => e,
    );
    const { PermissionDeniedError } = await loadOpenAI();
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect((error as InstanceType<typeof PermissionDeniedError>).status).toBe(403);
    expect((error as Error).message).toContain(MESSAGE);
    await mock.expectNoRequests(tag);
  });

  test('anthropic: a message, and the stats line matches the usage the SDK reports', async ({ stack, tag, stats, recordExchange }) => {
    const client = await anthropic(KEYS.beta.key, tag, stack.gatewayURL, recordExchange);
    const message = await client.messages.create({ model: 'claude-3-5-sonnet-20241022', max_tokens: 64, messages: [{ role: 'user', content: 'Say hi' }] });
    expect(message.content.length).toBeGreaterThan(0);
    const [line] = await stats.waitForLines(tag);
    expect(line).toMatchObject({
      provider: 'anthropic',
      model: message.model,
      input_tokens: message.usage.input_tokens,
      output_tokens: message.usage.output_tokens,
      lmgate_id: KEYS.beta.id,
    });
  });

  test('anthropic: a streamed message, and the stats line matches the final usage', async ({ stack, tag, stats, recordExchange }) => {
    const client = await anthropic(KEYS.beta.key, tag, stack.gatewayURL, recordExchange, { input: 52, output: 31 });
    const stream = client.messages.stream({ model: 'claude-3-5-sonnet-20241022', max_tokens: 64, messages: [{ role: 'user', content: 'Count to three' }] });
    const message = await stream.finalMessage();
    expect(message.usage).toMatchObject({ input_tokens: 52, output_tokens: 31 });
    const [line] = await stats.waitForLines(tag);
    expect(line).toMatchObject({ provider: 'anthropic', model: message.model, input_tokens: 52, output_tokens: 31 });
  });

  test('anthropic: a key that is not allowed raises PermissionDeniedError (403) with the gateway message', async ({ stack, tag, mock, recordExchange }) => {
    const client = await anthropic(UNKNOWN_KEY, tag, stack.gatewayURL, recordExchange);
    const error = await client.messages.create({ model: 'claude-3-5-sonnet-20241022', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }).then(
      () => null,
      (e: unknown) => e,
    );
    const { PermissionDeniedError } = await loadAnthropic();
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect((error as InstanceType<typeof PermissionDeniedError>).status).toBe(403);
    expect((error as Error).message).toContain(MESSAGE);
    await mock.expectNoRequests(tag);
  });
});

test.describe("the official SDKs' usage agrees with the stats line", () => {
  test('openai: a chat completion with cached and reasoning tokens', async ({ stack, tag, stats, recordExchange }) => {
    const pending: Array<Promise<void>> = [];
    const client = new (await loadOpenAI())({ apiKey: KEYS.alpha.key, baseURL: `${stack.gatewayURL}/openai/v1`, defaultQuery: { lmgate_tag: tag }, defaultHeaders: { 'x-mock-usage': FULL_HEADER }, maxRetries: 0, fetch: recordingFetch(recordExchange, pending) });
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    await Promise.all(pending);
    const usage = completion.usage!;
    const [line] = await stats.waitForLines(tag);
    expect(line).toMatchObject({
      input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens,
      cached_input_tokens: usage.prompt_tokens_details?.cached_tokens, reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens,
    });
  });

  test('anthropic: a streamed message with cache reads and writes, usage from the final message', async ({ stack, tag, stats, recordExchange }) => {
    const pending: Array<Promise<void>> = [];
    const client = new (await loadAnthropic())({ apiKey: KEYS.beta.key, baseURL: `${stack.gatewayURL}/anthropic`, defaultQuery: { lmgate_tag: tag }, defaultHeaders: { 'x-mock-usage': FULL_HEADER, 'x-mock-anthropic-deltas': '3,growing-input' }, maxRetries: 0, fetch: recordingFetch(recordExchange, pending) });
    const message = await client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    await Promise.all(pending);
    const { usage } = message;
    const [line] = await stats.waitForLines(tag);
    expect(line).toMatchObject({
      input_tokens: usage.input_tokens + (usage.cache_read_input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0),
      output_tokens: usage.output_tokens,
      cached_input_tokens: usage.cache_read_input_tokens,
      cache_write_input_tokens: usage.cache_creation_input_tokens,
    });
  });
});
