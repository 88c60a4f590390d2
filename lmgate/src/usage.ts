import type { Provider } from './providers.js';

/** The token fields of a stats line (spec §5), in the line's order. */
export const TOKEN_FIELDS = ['input_tokens', 'output_tokens', 'cached_input_tokens', 'cache_write_input_tokens', 'reasoning_tokens'] as const;

export type TokenField = (typeof TOKEN_FIELDS)[number];

/**
 * Token counts of one call. input_tokens and output_tokens are totals: the cached, cache
 * write and reasoning counts are parts of them, not additions.
 */
export type TokenCounts = Record<TokenField, number | null>;

export interface Usage extends TokenCounts {
  model: string | null;
}

type Json = Record<string, unknown>;

export const NO_TOKENS: TokenCounts = {
  input_tokens: null,
  output_tokens: null,
  cached_input_tokens: null,
  cache_write_input_tokens: null,
  reasoning_tokens: null,
};

const NO_USAGE: Usage = { model: null, ...NO_TOKENS };

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function child(value: unknown, key: string): unknown {
  return isObject(value) ? value[key] : undefined;
}

/** `a.b.c` inside nested objects; undefined as soon as a step is missing. */
function atPath(value: unknown, path: string): unknown {
  return path.split('.').reduce(child, value);
}

function tokenCount(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : null;
}

function modelName(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface SseEvent {
  event: string | null;
  data: string;
}

/** Splits a captured text/event-stream body into events (LF or CRLF line ends). */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  let event: string | null = null;
  let data: string[] = [];
  const dispatch = () => {
    if (data.length > 0) events.push({ event, data: data.join('\n') });
    event = null;
    data = [];
  };
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') {
      dispatch();
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  dispatch();
  return events;
}

/** The JSON payloads of an SSE stream, skipping `[DONE]` and anything unparseable. */
function sseJsonPayloads(text: string): Array<{ event: string | null; json: Json }> {
  const payloads: Array<{ event: string | null; json: Json }> = [];
  for (const { event, data } of parseSse(text)) {
    if (data.trim() === '[DONE]') continue;
    const json = parseJson(data);
    if (isObject(json)) payloads.push({ event, json });
  }
  return payloads;
}

type BodyShape = { kind: 'json'; value: Json } | { kind: 'chunks'; values: Json[] } | { kind: 'none' };

/** Whether the body is one JSON object, a stream of JSON chunks (SSE or a JSON array), or neither. */
function bodyShape(body: string): BodyShape {
  const text = body.trimStart();
  if (text.startsWith('{')) {
    const value = parseJson(text);
    return isObject(value) ? { kind: 'json', value } : { kind: 'none' };
  }
  if (text.startsWith('[')) {
    const value = parseJson(text);
    return Array.isArray(value) ? { kind: 'chunks', values: value.filter(isObject) } : { kind: 'none' };
  }
  if (/^(data|event|id|retry):/m.test(text)) {
    return { kind: 'chunks', values: sseJsonPayloads(text).map((payload) => payload.json) };
  }
  return { kind: 'none' };
}

/**
 * How one API reports usage: the counts it sends (dotted paths inside its usage object)
 * and how they make up the token fields of a stats line.
 */
interface UsageDialect<Count extends string> {
  counts: readonly Count[];
  tokens(counts: Readonly<Record<Count, number | null>>): TokenCounts;
}

function dialect<const Count extends string>(
  counts: readonly Count[],
  tokens: (counts: Readonly<Record<Count, number | null>>) => TokenCounts,
): UsageDialect<Count> {
  return { counts, tokens };
}

/** A total over a base count and the parts the provider reports beside it: null only without the base. */
function total(base: number | null, ...parts: Array<number | null>): number | null {
  return base === null ? null : parts.reduce<number>((sum, part) => sum + (part ?? 0), base);
}

/** OpenAI chat/completions and embeddings (CompletionUsage). */
const OPENAI_CHAT = dialect(
  ['prompt_tokens', 'completion_tokens', 'prompt_tokens_details.cached_tokens', 'prompt_tokens_details.cache_write_tokens', 'completion_tokens_details.reasoning_tokens'],
  (counts) => ({
    input_tokens: counts['prompt_tokens'],
    output_tokens: counts['completion_tokens'],
    cached_input_tokens: counts['prompt_tokens_details.cached_tokens'],
    cache_write_input_tokens: counts['prompt_tokens_details.cache_write_tokens'],
    reasoning_tokens: counts['completion_tokens_details.reasoning_tokens'],
  }),
);

/** OpenAI responses API (ResponseUsage). */
const OPENAI_RESPONSES = dialect(
  ['input_tokens', 'output_tokens', 'input_tokens_details.cached_tokens', 'input_tokens_details.cache_write_tokens', 'output_tokens_details.reasoning_tokens'],
  (counts) => ({
    input_tokens: counts['input_tokens'],
    output_tokens: counts['output_tokens'],
    cached_input_tokens: counts['input_tokens_details.cached_tokens'],
    cache_write_input_tokens: counts['input_tokens_details.cache_write_tokens'],
    reasoning_tokens: counts['output_tokens_details.reasoning_tokens'],
  }),
);

/** Anthropic messages (Usage, MessageDeltaUsage): input_tokens excludes the cache reads and writes. */
const ANTHROPIC = dialect(['input_tokens', 'output_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'], (counts) => ({
  input_tokens: total(counts['input_tokens'], counts['cache_read_input_tokens'], counts['cache_creation_input_tokens']),
  output_tokens: counts['output_tokens'],
  cached_input_tokens: counts['cache_read_input_tokens'],
  cache_write_input_tokens: counts['cache_creation_input_tokens'],
  reasoning_tokens: null,
}));

/**
 * Google generateContent (UsageMetadata): promptTokenCount already includes the cached
 * content; tool-use prompts and thoughts are counted apart.
 */
const GOOGLE = dialect(['promptTokenCount', 'candidatesTokenCount', 'thoughtsTokenCount', 'toolUsePromptTokenCount', 'cachedContentTokenCount'], (counts) => ({
  input_tokens: total(counts['promptTokenCount'], counts['toolUsePromptTokenCount']),
  output_tokens: total(counts['candidatesTokenCount'], counts['thoughtsTokenCount']),
  cached_input_tokens: counts['cachedContentTokenCount'],
  cache_write_input_tokens: null,
  reasoning_tokens: counts['thoughtsTokenCount'],
}));

/** One place in a body that names the model and may carry a usage object. */
interface UsageReport {
  model: unknown;
  usage: unknown;
}

/**
 * The usage of a body from its reports in order. Streams report cumulative counts, some
 * of them only in later events: for the model and each count, the latest value sent wins.
 */
function usageOf<Count extends string>(usageDialect: UsageDialect<Count>, reports: Iterable<UsageReport>): Usage {
  let model: string | null = null;
  const counts = Object.fromEntries(usageDialect.counts.map((count) => [count, null])) as Record<Count, number | null>;
  for (const report of reports) {
    model = modelName(report.model) ?? model;
    for (const count of usageDialect.counts) counts[count] = tokenCount(atPath(report.usage, count)) ?? counts[count];
  }
  return { model, ...usageDialect.tokens(counts) };
}

function chunksOf(shape: BodyShape): Json[] {
  return shape.kind === 'json' ? [shape.value] : shape.kind === 'chunks' ? shape.values : [];
}

/**
 * OpenAI: the responses API counts input_tokens/output_tokens and streams whole response
 * objects (response.completed has the usage); chat completions and embeddings count
 * prompt_tokens/completion_tokens and stream chunks whose usage is null but in the last.
 */
function openAiUsage(shape: BodyShape): Usage {
  if (shape.kind === 'json') {
    const usage = shape.value['usage'];
    const usageDialect = isObject(usage) && 'input_tokens' in usage ? OPENAI_RESPONSES : OPENAI_CHAT;
    return usageOf(usageDialect, [{ model: shape.value['model'], usage }]);
  }
  const chunks = chunksOf(shape);
  const responses = chunks.map((chunk) => chunk['response']).filter(isObject);
  if (responses.length > 0) {
    return usageOf(
      OPENAI_RESPONSES,
      responses.map((response) => ({ model: response['model'], usage: response['usage'] })),
    );
  }
  return usageOf(
    OPENAI_CHAT,
    chunks.map((chunk) => ({ model: chunk['model'], usage: chunk['usage'] })),
  );
}

/** Anthropic streams split usage: message_start has the model and input, message_delta events the cumulative rest. */
function anthropicUsage(shape: BodyShape): Usage {
  if (shape.kind === 'json') return usageOf(ANTHROPIC, [{ model: shape.value['model'], usage: shape.value['usage'] }]);
  const reports: UsageReport[] = [];
  for (const chunk of chunksOf(shape)) {
    const type = chunk['type'];
    const message = chunk['message'];
    if (type === 'message_start') reports.push({ model: child(message, 'model'), usage: child(message, 'usage') });
    else if (type === 'message_delta') reports.push({ model: null, usage: chunk['usage'] });
  }
  return usageOf(ANTHROPIC, reports);
}

/** Google: every stream chunk may carry usageMetadata; the last one has the totals. */
function googleUsage(shape: BodyShape): Usage {
  return usageOf(
    GOOGLE,
    chunksOf(shape).map((chunk) => ({ model: chunk['modelVersion'], usage: chunk['usageMetadata'] })),
  );
}

const ANTHROPIC_TYPES = new Set(['message', 'message_start', 'message_delta']);

/** Which provider a body from an unknown host looks like, by the fields only that provider sends. */
function providerOfBody(shape: BodyShape): Exclude<Provider, 'unknown'> {
  const chunks = chunksOf(shape);
  if (chunks.some((chunk) => 'usageMetadata' in chunk || 'modelVersion' in chunk)) return 'google';
  if (chunks.some((chunk) => ANTHROPIC_TYPES.has(chunk['type'] as string))) return 'anthropic';
  return 'openai';
}

function usageByProvider(provider: Exclude<Provider, 'unknown'>, shape: BodyShape): Usage {
  switch (provider) {
    case 'openai':
      return openAiUsage(shape);
    case 'anthropic':
      return anthropicUsage(shape);
    case 'google':
      return googleUsage(shape);
  }
}

/** Model and token counts from a captured response body. Best effort: never throws. */
export function extractUsage(provider: Provider, body: string): Usage {
  try {
    const shape = bodyShape(body);
    if (shape.kind === 'none') return NO_USAGE;
    return usageByProvider(provider === 'unknown' ? providerOfBody(shape) : provider, shape);
  } catch {
    return NO_USAGE;
  }
}

/** Whether the quote at `at` ends a run of an even number of backslashes: a real quote, not an escaped one. */
function unescapedQuote(text: string, at: number): boolean {
  let backslashes = 0;
  for (let i = at - 1; i >= 0 && text[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 0;
}

/** The JSON value (an object or a string) that starts at `at`, or undefined when it does not end inside the text. */
function valueAt(text: string, at: number): unknown {
  const open = text[at];
  if (open === '"') {
    for (let i = at + 1; i < text.length; i++) {
      if (text[i] === '"' && unescapedQuote(text, i)) return parseJson(text.slice(at, i + 1));
    }
    return undefined;
  }
  if (open !== '{') return undefined;
  let depth = 0;
  let inString = false;
  for (let i = at; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return parseJson(text.slice(at, i + 1));
  }
  return undefined;
}

/**
 * The values of the member `key` in a piece of JSON text that may start and end anywhere,
 * the last first. A JSON string never holds an unescaped quote, so `"key"` then a colon is
 * a member name wherever the piece starts.
 */
function membersOf(text: string, key: string): unknown[] {
  const found: unknown[] = [];
  const name = `"${key}"`;
  for (let at = text.lastIndexOf(name); at >= 0; at = at === 0 ? -1 : text.lastIndexOf(name, at - 1)) {
    const colon = /^\s*:\s*/.exec(text.slice(at + name.length, at + name.length + 64));
    if (!colon) continue;
    found.push(valueAt(text, at + name.length + colon[0].length));
  }
  return found;
}

/**
 * The JSON objects of the complete SSE events in a piece of a stream. A tail's first line,
 * cut anywhere, is never a `data` field line (a raw line break is never inside JSON), so it
 * drops out with the other lines that are not events.
 */
function sseChunksOf(text: string): Json[] {
  return sseJsonPayloads(text).map((payload) => payload.json);
}

const FIELD_NAMES: Record<Exclude<Provider, 'unknown'>, { model: string; usage: string }> = {
  openai: { model: 'model', usage: 'usage' },
  anthropic: { model: 'model', usage: 'usage' },
  google: { model: 'modelVersion', usage: 'usageMetadata' },
};

/** The report a reply's ends make, in the shape of the provider's own chunks (without usage: the model alone). */
function chunkOfEnds(provider: Exclude<Provider, 'unknown'>, head: string, tail: string): Json {
  const names = FIELD_NAMES[provider];
  const usage = membersOf(tail, names.usage).find(isObject);
  const model = membersOf(tail, names.model).find(modelName) ?? membersOf(head, names.model).reverse().find(modelName) ?? null;
  switch (provider) {
    case 'openai':
      return isObject(usage) && 'input_tokens' in usage ? { response: { model, usage } } : { model, usage };
    case 'anthropic':
      return { type: 'message_start', message: { model, usage } };
    case 'google':
      return { modelVersion: model, usageMetadata: usage };
  }
}

/**
 * Model and token counts of a reply known by its first and last bytes only (a long one:
 * what lies between was never kept). Every provider reports the model at the start or the
 * end and the usage at the end (spec §5), so the ends are enough: the complete stream
 * events of each end, and the usage object found as a member in the tail — also when the
 * event or object around it began long before. Best effort: never throws.
 */
export function extractUsageFromEnds(provider: Provider, head: string, tail: string): Usage {
  try {
    const isStream = /^(data|event|id|retry):/m.test(head.trimStart().slice(0, 64));
    const events = isStream ? [...sseChunksOf(head), ...sseChunksOf(tail)] : [];
    const probe: BodyShape = { kind: 'chunks', values: events };
    const actual = provider !== 'unknown' ? provider : events.length > 0 ? providerOfBody(probe) : head.includes('"usageMetadata"') || tail.includes('"usageMetadata"') ? 'google' : 'openai';
    return usageByProvider(actual, { kind: 'chunks', values: [...events, chunkOfEnds(actual, head, tail)] });
  } catch {
    return NO_USAGE;
  }
}

/**
 * The provider's error type from a JSON error body: OpenAI and Anthropic `error.type`,
 * Google `error.status` (also inside a one-element array, as streaming endpoints send it).
 */
export function extractErrorType(body: string): string | null {
  const parsed = parseJson(body.trim());
  const value = Array.isArray(parsed) ? parsed[0] : parsed;
  const error = child(value, 'error');
  const type = child(error, 'type') ?? child(error, 'status');
  return typeof type === 'string' && type !== '' ? type : null;
}
