import { test, expect } from '../fixtures';
import { waitForAccessLines } from '../support/access-log';
import { KEYS } from '../support/keys';
import { recordingFetch } from '../support/recording-fetch';
import { loadAnthropic, loadOpenAI } from '../support/sdks';

// Spec §5: the stats line's token totals and breakdown equal what the provider sent, for
// every provider and form. The mock answers with the providers' real usage shapes
// (x-mock-usage, mock-upstream/README.md); the expected line follows the spec's table.
const OPENAI = { authorization: `Bearer ${KEYS.alpha.key}` };
const ANTHROPIC = { 'x-api-key': KEYS.beta.key, 'anthropic-version': '2023-06-01' };
const GOOGLE = { authorization: `Bearer ${KEYS.gamma.key}` };
const GEMINI = '/google/v1/projects/p/locations/l/publishers/google/models/gemini-2.5-pro';

const FULL = { input: 100, output: 40, cached: 30, cache_write: 20, reasoning: 12, tool_prompt: 7 };
const FULL_HEADER = Object.entries(FULL).map(([k, v]) => `${k}=${v}`).join(',');

type Tokens = Pick<import('../support/stats-file').StatsLine, 'input_tokens' | 'output_tokens' | 'cached_input_tokens' | 'cache_write_input_tokens' | 'reasoning_tokens'>;

interface Case {
  name: string;
  path: string;
  headers: Record<string, string>;
  body: object;
  expected: Tokens;
}

const openaiChat = (stream: boolean): object => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}) });
const anthropicMessage = (stream: boolean): object => ({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], ...(stream ? { stream: true } : {}) });

const cases: Case[] = [];
for (const stream of [false, true]) {
  const form = stream ? 'stream' : 'JSON';
  cases.push(
    { name: `OpenAI chat ${form}, cache and reasoning`, path: '/openai/v1/chat/completions', headers: { ...OPENAI, 'x-mock-usage': FULL_HEADER }, body: openaiChat(stream),
      expected: { input_tokens: 100, output_tokens: 40, cached_input_tokens: 30, cache_write_input_tokens: 20, reasoning_tokens: 12 } },
    { name: `OpenAI chat ${form}, plain usage`, path: '/openai/v1/chat/completions', headers: { ...OPENAI, 'x-mock-usage': 'input=9,output=4' }, body: openaiChat(stream),
      expected: { input_tokens: 9, output_tokens: 4, cached_input_tokens: 0, cache_write_input_tokens: null, reasoning_tokens: 0 } },
    { name: `OpenAI responses ${form}, cache and reasoning`, path: '/openai/v1/responses', headers: { ...OPENAI, 'x-mock-usage': FULL_HEADER }, body: { model: 'gpt-4.1', input: 'hi', ...(stream ? { stream: true } : {}) },
      expected: { input_tokens: 100, output_tokens: 40, cached_input_tokens: 30, cache_write_input_tokens: 20, reasoning_tokens: 12 } },
    { name: `Anthropic messages ${form}, cache reads and writes`, path: '/anthropic/v1/messages', headers: { ...ANTHROPIC, 'x-mock-usage': FULL_HEADER, 'x-mock-anthropic-deltas': '3,growing-input' }, body: anthropicMessage(stream),
      expected: { input_tokens: 150, output_tokens: 40, cached_input_tokens: 30, cache_write_input_tokens: 20, reasoning_tokens: null } },
    // Spec §5: a breakdown the provider sends as JSON null is null; the totals stand.
    { name: `OpenAI chat ${form}, breakdown fields sent as JSON null`, path: '/openai/v1/chat/completions', headers: { ...OPENAI, 'x-mock-usage': 'input=9,output=4,cached=null,cache_write=null,reasoning=null' }, body: openaiChat(stream),
      expected: { input_tokens: 9, output_tokens: 4, cached_input_tokens: null, cache_write_input_tokens: null, reasoning_tokens: null } },
    { name: `Anthropic messages ${form}, cache fields sent as JSON null`, path: '/anthropic/v1/messages', headers: { ...ANTHROPIC, 'x-mock-usage': 'input=9,output=4,cached=null,cache_write=null', 'x-mock-anthropic-deltas': '2,output-only' }, body: anthropicMessage(stream),
      expected: { input_tokens: 9, output_tokens: 4, cached_input_tokens: null, cache_write_input_tokens: null, reasoning_tokens: null } },
    { name: `Anthropic messages ${form}, no cache fields`, path: '/anthropic/v1/messages', headers: { ...ANTHROPIC, 'x-mock-usage': 'input=9,output=4,cached=none,cache_write=none', 'x-mock-anthropic-deltas': '2,output-only' }, body: anthropicMessage(stream),
      expected: { input_tokens: 9, output_tokens: 4, cached_input_tokens: null, cache_write_input_tokens: null, reasoning_tokens: null } },
  );
}
for (const [form, suffix] of [['JSON', ':generateContent'], ['SSE stream', ':streamGenerateContent?alt=sse'], ['JSON-array stream', ':streamGenerateContent']] as const) {
  cases.push(
    { name: `Google ${form}, thoughts, cached content and tool prompt`, path: `${GEMINI}${suffix}`, headers: { ...GOOGLE, 'x-mock-usage': FULL_HEADER }, body: { contents: [] },
      expected: { input_tokens: 107, output_tokens: 52, cached_input_tokens: 30, cache_write_input_tokens: null, reasoning_tokens: 12 } },
    { name: `Google ${form}, plain usage`, path: `${GEMINI}${suffix}`, headers: { ...GOOGLE, 'x-mock-usage': 'input=9,output=4' }, body: { contents: [] },
      expected: { input_tokens: 9, output_tokens: 4, cached_input_tokens: null, cache_write_input_tokens: null, reasoning_tokens: null } },
  );
}
cases.push({ name: 'OpenAI embeddings', path: '/openai/v1/embeddings', headers: { ...OPENAI, 'x-mock-usage': 'input=21,output=0' }, body: { model: 'text-embedding-3-small', input: 'hi' },
  expected: { input_tokens: 21, output_tokens: null, cached_input_tokens: null, cache_write_input_tokens: null, reasoning_tokens: null } });

test.describe('usage in the stats line, every provider and form', () => {
  for (const c of cases) {
    test(c.name, async ({ request, tagged, tag, stats }) => {
      const response = await request.post(tagged(c.path), { headers: c.headers, data: c.body });
      expect(response.status()).toBe(200);
      const [line] = await stats.waitForLines(tag);
      expect({
        input_tokens: line?.input_tokens, output_tokens: line?.output_tokens, cached_input_tokens: line?.cached_input_tokens,
        cache_write_input_tokens: line?.cache_write_input_tokens, reasoning_tokens: line?.reasoning_tokens,
      }).toEqual(c.expected);
      // expect.any: a field that is missing (undefined) fails too, not only a null one.
      expect(line?.model).toEqual(expect.any(String));
      expect(line?.request_id).toMatch(/^[0-9a-f]{32}$/);
      expect(line?.first_byte_ms).toEqual(expect.any(Number));
      expect(line?.duration_ms).toBeGreaterThanOrEqual(line!.first_byte_ms!);
    });
  }
});

test("the stats line's request_id is the one in nginx's access log line of the same call (spec §5: \"as in the access log\")", async ({ run, request, tagged, tag, stats }) => {
  const response = await request.post(tagged('/openai/v1/chat/completions'), { headers: { authorization: `Bearer ${KEYS.alpha.key}` }, data: '{}' });
  expect(response.status()).toBe(200);
  const [line] = await stats.waitForLines(tag);
  const logged = await waitForAccessLines(run, tag, 1);
  expect(logged[0]!.request_id).toMatch(/^[0-9a-f]{32}$/);
  expect(line!.request_id).toBe(logged[0]!.request_id);
  expect(line!.status).toBe(logged[0]!.status);
});

test.describe("the official SDKs' usage agrees with the stats line", () => {
  test('openai: a chat completion with cached and reasoning tokens', async ({ run, tag, stats, recordExchange }) => {
    const pending: Array<Promise<void>> = [];
    const client = new (await loadOpenAI())({ apiKey: KEYS.alpha.key, baseURL: `${run.gatewayURL}/openai/v1`, defaultQuery: { lmgate_tag: tag }, defaultHeaders: { 'x-mock-usage': FULL_HEADER }, maxRetries: 0, fetch: recordingFetch(recordExchange, pending) });
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    await Promise.all(pending);
    const usage = completion.usage!;
    const [line] = await stats.waitForLines(tag);
    expect(line).toMatchObject({
      input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens,
      cached_input_tokens: usage.prompt_tokens_details?.cached_tokens, reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens,
    });
  });

  test('anthropic: a streamed message with cache reads and writes, usage from the final message', async ({ run, tag, stats, recordExchange }) => {
    const pending: Array<Promise<void>> = [];
    const client = new (await loadAnthropic())({ apiKey: KEYS.beta.key, baseURL: `${run.gatewayURL}/anthropic`, defaultQuery: { lmgate_tag: tag }, defaultHeaders: { 'x-mock-usage': FULL_HEADER, 'x-mock-anthropic-deltas': '3,growing-input' }, maxRetries: 0, fetch: recordingFetch(recordExchange, pending) });
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
