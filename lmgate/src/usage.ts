import type { Provider } from './providers.js';

export interface Usage {
  model: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
}

type Json = Record<string, unknown>;

const NO_USAGE: Usage = { model: null, input_tokens: null, output_tokens: null };

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function child(value: unknown, key: string): unknown {
  return isObject(value) ? value[key] : undefined;
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

function fromUsageObject(model: unknown, usage: unknown, inputKey: string, outputKey: string): Usage {
  return {
    model: modelName(model),
    input_tokens: tokenCount(child(usage, inputKey)),
    output_tokens: tokenCount(child(usage, outputKey)),
  };
}

/** OpenAI: chat/completions and embeddings use prompt/completion_tokens, the responses API input/output_tokens. */
function openAiUsage(shape: BodyShape): Usage {
  if (shape.kind === 'json') {
    const usage = shape.value['usage'];
    const keys = isObject(usage) && 'input_tokens' in usage ? ['input_tokens', 'output_tokens'] : ['prompt_tokens', 'completion_tokens'];
    return fromUsageObject(shape.value['model'], usage, keys[0] as string, keys[1] as string);
  }
  if (shape.kind !== 'chunks') return NO_USAGE;
  let result: Usage = NO_USAGE;
  for (const chunk of shape.values) {
    const response = chunk['response'];
    if (isObject(response)) {
      // Responses API events carry the whole response object; response.completed has usage.
      result = mergeUsage(result, fromUsageObject(response['model'], response['usage'], 'input_tokens', 'output_tokens'));
    } else {
      // Chat completion chunks: usage is null except in the last chunk when include_usage was set.
      result = mergeUsage(result, fromUsageObject(chunk['model'], chunk['usage'], 'prompt_tokens', 'completion_tokens'));
    }
  }
  return result;
}

/** Later non-null values win: streams report their totals last. */
function mergeUsage(earlier: Usage, later: Usage): Usage {
  return {
    model: later.model ?? earlier.model,
    input_tokens: later.input_tokens ?? earlier.input_tokens,
    output_tokens: later.output_tokens ?? earlier.output_tokens,
  };
}

/** Anthropic streams split usage: message_start has the input, the last message_delta the output. */
function anthropicUsage(shape: BodyShape): Usage {
  if (shape.kind === 'json') return fromUsageObject(shape.value['model'], shape.value['usage'], 'input_tokens', 'output_tokens');
  if (shape.kind !== 'chunks') return NO_USAGE;
  let result: Usage = NO_USAGE;
  for (const chunk of shape.values) {
    const type = chunk['type'];
    if (type === 'message_start') {
      const message = chunk['message'];
      result = mergeUsage(result, fromUsageObject(child(message, 'model'), child(message, 'usage'), 'input_tokens', 'output_tokens'));
    } else if (type === 'message_delta') {
      result = mergeUsage(result, fromUsageObject(null, chunk['usage'], 'input_tokens', 'output_tokens'));
    }
  }
  return result;
}

/** Google: every stream chunk may carry usageMetadata; the last one has the totals. */
function googleUsage(shape: BodyShape): Usage {
  const chunks = shape.kind === 'json' ? [shape.value] : shape.kind === 'chunks' ? shape.values : [];
  let result: Usage = NO_USAGE;
  for (const chunk of chunks) {
    result = mergeUsage(result, fromUsageObject(chunk['modelVersion'], chunk['usageMetadata'], 'promptTokenCount', 'candidatesTokenCount'));
  }
  return result;
}

function genericUsage(shape: BodyShape): Usage {
  const openai = openAiUsage(shape);
  if (openai.input_tokens !== null || openai.output_tokens !== null) return openai;
  const anthropic = anthropicUsage(shape);
  if (anthropic.input_tokens !== null || anthropic.output_tokens !== null) return anthropic;
  const google = googleUsage(shape);
  return google.input_tokens !== null || google.output_tokens !== null ? google : mergeUsage(mergeUsage(google, anthropic), openai);
}

/** Model and token counts from a captured response body. Best effort: never throws. */
export function extractUsage(provider: Provider, body: string): Usage {
  try {
    const shape = bodyShape(body);
    switch (provider) {
      case 'openai':
        return openAiUsage(shape);
      case 'anthropic':
        return anthropicUsage(shape);
      case 'google':
        return googleUsage(shape);
      default:
        return genericUsage(shape);
    }
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
