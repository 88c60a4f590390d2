import { anthropicHeaders, bearerHeaders, KEYS, type TestKey } from './keys';
import type { StatsLine } from './stats-file';

/**
 * The suite's one table of spec §5's provider × form cases, and the one way a test asks the
 * mock for a usage (`x-mock-usage`, mock-upstream/README.md "Usage"): the stats, usage,
 * seed, SDK and metrics tests build their calls from here. What a stats line must then say
 * is written from the spec's token table (expectedTokens), never from the service's code.
 */

/** A breakdown count as the mock sends it: a number, JSON null, or 'none' (left out of the body). */
export type Count = number | null | 'none';

/** What the provider reports, in the provider's own terms (the mock README's key table). */
export interface MockUsage {
  input: number;
  output: number;
  cached?: Count;
  cache_write?: Count;
  reasoning?: Count;
  tool_prompt?: Count;
}

/** A usage with every breakdown field a provider may report (each provider keeps those it has). */
export const FULL_USAGE: MockUsage = { input: 100, output: 40, cached: 30, cache_write: 20, reasoning: 12, tool_prompt: 7 };

/** The `x-mock-usage` header for a usage: `input=<n>,output=<n>[,<key>=<c>…]`, the mock's one syntax. */
export function mockUsage(usage: MockUsage): string {
  return Object.entries(usage)
    .filter(([, count]) => count !== undefined)
    .map(([key, count]) => `${key}=${String(count)}`)
    .join(',');
}

export type Tokens = Pick<StatsLine, 'input_tokens' | 'output_tokens' | 'cached_input_tokens' | 'cache_write_input_tokens' | 'reasoning_tokens'>;

/** The token fields of a stats line, to compare with expectedTokens (a field missing reads undefined, not null). */
export function tokensOf(line: StatsLine | undefined): Tokens {
  return {
    input_tokens: line?.input_tokens,
    output_tokens: line?.output_tokens,
    cached_input_tokens: line?.cached_input_tokens,
    cache_write_input_tokens: line?.cache_write_input_tokens,
    reasoning_tokens: line?.reasoning_tokens,
  } as Tokens;
}

/** Which row of spec §5's token table a call falls under. */
export type Api = 'chat' | 'embeddings' | 'responses' | 'messages' | 'generateContent';

export interface UsageForm {
  /** "OpenAI chat, stream", … */
  name: string;
  provider: 'openai' | 'anthropic' | 'google';
  api: Api;
  stream: boolean;
  key: TestKey;
  path: string;
  /** The key as the provider's SDK sends it, and the mock's model for the reply. */
  headers: Record<string, string>;
  body: object;
  /** The model the reply names (x-mock-model): the stats line's `model`. */
  model: string;
}

const GEMINI_PATH = '/google/v1/projects/e2e/locations/us-central1/publishers/google/models/gemini-2.0-flash-001';
const hi = [{ role: 'user', content: 'hi' }];

function form(name: string, fields: Omit<UsageForm, 'name' | 'headers'> & { headers: Record<string, string> }): UsageForm {
  return { name, ...fields, headers: { ...fields.headers, 'content-type': 'application/json', 'x-mock-model': fields.model } };
}

/** Every provider and form of spec §5 ("Where usage is found"), one request each. */
export const USAGE_FORMS: readonly UsageForm[] = [
  form('OpenAI chat, JSON', { provider: 'openai', api: 'chat', stream: false, key: KEYS.alpha, path: '/openai/v1/chat/completions', headers: bearerHeaders(KEYS.alpha), body: { model: 'gpt-4o-mini', messages: hi }, model: 'gpt-4o-mini-2024-07-18' }),
  form('OpenAI chat, stream with include_usage', { provider: 'openai', api: 'chat', stream: true, key: KEYS.alpha, path: '/openai/v1/chat/completions', headers: bearerHeaders(KEYS.alpha), body: { model: 'gpt-4o-mini', messages: hi, stream: true, stream_options: { include_usage: true } }, model: 'gpt-4o-mini-2024-07-18' }),
  form('OpenAI responses, JSON', { provider: 'openai', api: 'responses', stream: false, key: KEYS.alpha, path: '/openai/v1/responses', headers: bearerHeaders(KEYS.alpha), body: { model: 'gpt-4.1', input: 'hi' }, model: 'gpt-4.1-2025-04-14' }),
  form('OpenAI responses, stream (response.completed)', { provider: 'openai', api: 'responses', stream: true, key: KEYS.alpha, path: '/openai/v1/responses', headers: bearerHeaders(KEYS.alpha), body: { model: 'gpt-4.1', input: 'hi', stream: true }, model: 'gpt-4.1-2025-04-14' }),
  form('OpenAI embeddings', { provider: 'openai', api: 'embeddings', stream: false, key: KEYS.alpha, path: '/openai/v1/embeddings', headers: bearerHeaders(KEYS.alpha), body: { model: 'text-embedding-3-small', input: 'hi' }, model: 'text-embedding-3-small' }),
  form('Anthropic messages, JSON', { provider: 'anthropic', api: 'messages', stream: false, key: KEYS.beta, path: '/anthropic/v1/messages', headers: anthropicHeaders(KEYS.beta), body: { model: 'claude-3-5-sonnet-20241022', max_tokens: 64, messages: hi }, model: 'claude-3-5-sonnet-20241022' }),
  // Usage at the start (message_start) and the end: the input grows over the deltas, as
  // when server tools run more turns, so the latest value of each field must win.
  form('Anthropic messages, stream', { provider: 'anthropic', api: 'messages', stream: true, key: KEYS.beta, path: '/anthropic/v1/messages', headers: { ...anthropicHeaders(KEYS.beta), 'x-mock-anthropic-deltas': '3,growing-input' }, body: { model: 'claude-3-5-sonnet-20241022', max_tokens: 64, messages: hi, stream: true }, model: 'claude-3-5-haiku-20241022' }),
  form('Google generateContent, JSON', { provider: 'google', api: 'generateContent', stream: false, key: KEYS.gamma, path: `${GEMINI_PATH}:generateContent`, headers: bearerHeaders(KEYS.gamma), body: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }, model: 'gemini-2.0-flash-001' }),
  form('Google streamGenerateContent, SSE (alt=sse)', { provider: 'google', api: 'generateContent', stream: true, key: KEYS.gamma, path: `${GEMINI_PATH}:streamGenerateContent?alt=sse`, headers: bearerHeaders(KEYS.gamma), body: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }, model: 'gemini-2.0-flash-001' }),
  form('Google streamGenerateContent, one JSON array', { provider: 'google', api: 'generateContent', stream: true, key: KEYS.gamma, path: `${GEMINI_PATH}:streamGenerateContent`, headers: bearerHeaders(KEYS.gamma), body: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }, model: 'gemini-2.0-flash-001' }),
];

/** The form of that name (a typo fails at once, naming the forms). */
export function usageForm(name: string): UsageForm {
  const found = USAGE_FORMS.find((f) => f.name === name);
  if (!found) throw new Error(`no usage form "${name}"; known: ${USAGE_FORMS.map((f) => f.name).join('; ')}`);
  return found;
}

/**
 * Spec §5's token table, applied to what the provider reported. A key the mock is not given
 * is what the provider sends when it has nothing to report (mock README: OpenAI a 0 cache
 * read and reasoning count, Anthropic 0 cache counts, Google no such fields); 'none' leaves
 * the field out, so the line has null; a JSON null stays null and adds nothing to a total.
 */
export function expectedTokens(api: Api, usage: MockUsage): Tokens {
  const sent = (count: Count | undefined, whenNotGiven: number | null): number | null => (count === undefined ? whenNotGiven : count === 'none' ? null : count);
  switch (api) {
    case 'chat':
    case 'responses':
      // prompt_tokens / input_tokens already include the cached part.
      return { input_tokens: usage.input, output_tokens: usage.output, cached_input_tokens: sent(usage.cached, 0), cache_write_input_tokens: sent(usage.cache_write, null), reasoning_tokens: sent(usage.reasoning, 0) };
    case 'embeddings':
      // usage: {prompt_tokens, total_tokens} and nothing else.
      return { input_tokens: usage.input, output_tokens: null, cached_input_tokens: null, cache_write_input_tokens: null, reasoning_tokens: null };
    case 'messages': {
      // input_tokens is the uncached part: the total adds the cache reads and writes.
      const [cached, written] = [sent(usage.cached, 0), sent(usage.cache_write, 0)];
      return { input_tokens: usage.input + (cached ?? 0) + (written ?? 0), output_tokens: usage.output, cached_input_tokens: cached, cache_write_input_tokens: written, reasoning_tokens: null };
    }
    case 'generateContent': {
      // The tool-use prompt is input; thoughts are output, beside the candidates.
      const [thoughts, toolPrompt] = [sent(usage.reasoning, null), sent(usage.tool_prompt, null)];
      return { input_tokens: usage.input + (toolPrompt ?? 0), output_tokens: usage.output + (thoughts ?? 0), cached_input_tokens: sent(usage.cached, null), cache_write_input_tokens: null, reasoning_tokens: thoughts };
    }
  }
}
