import { randomHex, randomToken, unixSeconds } from '../ids.js';
import { jsonPlan, streamPlan } from '../plan.js';
import { SSE_CONTENT_TYPE, SSE_DONE, sseData, sseEvent } from '../sse.js';
import type { Usage } from '../controls.js';
import { DEFAULT_CONTENT, wantsStream, type Content, type Endpoint, type JsonObject, type Provider, type ReplyContext } from './types.js';
import { defined, nonEmpty, reported } from './usage.js';

const CHAT_MODEL = 'gpt-4o-mini-2024-07-18';
const RESPONSES_MODEL = 'gpt-4.1-2025-04-14';
const EMBEDDINGS_MODEL = 'text-embedding-3-small';
const SYSTEM_FINGERPRINT = 'fp_mock0001';

/** CompletionUsage: prompt_tokens includes the cached tokens, completion_tokens the reasoning ones. */
function chatUsage(usage: Usage) {
  const { input, output } = usage;
  return {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: input + output,
    prompt_tokens_details: defined({ cached_tokens: reported(usage.cached, 0), audio_tokens: 0, cache_write_tokens: reported(usage.cacheWrite) }),
    completion_tokens_details: defined({ reasoning_tokens: reported(usage.reasoning, 0), audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 }),
  };
}

function includeUsage(body: JsonObject): boolean {
  const options = body['stream_options'];
  return typeof options === 'object' && options !== null && (options as JsonObject)['include_usage'] === true;
}

const chatCompletions: Endpoint = {
  readsBody: true,
  json(ctx: ReplyContext, content: Content) {
    return {
      id: `chatcmpl-${randomToken(29)}`,
      object: 'chat.completion',
      created: unixSeconds(),
      model: ctx.controls.model ?? CHAT_MODEL,
      choices: [{ index: 0, message: { role: 'assistant', content: content.text, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
      service_tier: 'default',
      system_fingerprint: SYSTEM_FINGERPRINT,
      usage: chatUsage(ctx.controls.usage),
    };
  },
  reply(ctx, content = DEFAULT_CONTENT) {
    if (!wantsStream(ctx.body)) return jsonPlan(200, this.json(ctx, content));
    const withUsage = includeUsage(ctx.body);
    const base = { id: `chatcmpl-${randomToken(29)}`, object: 'chat.completion.chunk', created: unixSeconds(), model: ctx.controls.model ?? CHAT_MODEL, service_tier: 'default', system_fingerprint: SYSTEM_FINGERPRINT };
    // OpenAI adds "usage": null to every chunk only when the final usage chunk was asked for.
    const chunk = (choice: JsonObject) => ({ ...base, choices: [{ index: 0, ...choice, logprobs: null }], ...(withUsage ? { usage: null } : {}) });
    const events = [
      sseData(chunk({ delta: { role: 'assistant', content: '', refusal: null }, finish_reason: null })),
      ...content.pieces.map((piece) => sseData(chunk({ delta: { content: piece }, finish_reason: null }))),
      sseData(chunk({ delta: {}, finish_reason: 'stop' })),
    ];
    if (withUsage) events.push(sseData({ ...base, choices: [], usage: chatUsage(ctx.controls.usage) }));
    events.push(SSE_DONE);
    return streamPlan(SSE_CONTENT_TYPE, events, ctx.controls.eventDelayMs);
  },
};

/** ResponseUsage: a details object with nothing left to report is left out too. */
function responsesUsage(usage: Usage) {
  const { input, output } = usage;
  return defined({
    input_tokens: input,
    input_tokens_details: nonEmpty({ cached_tokens: reported(usage.cached, 0), cache_write_tokens: reported(usage.cacheWrite) }),
    output_tokens: output,
    output_tokens_details: nonEmpty({ reasoning_tokens: reported(usage.reasoning, 0) }),
    total_tokens: input + output,
  });
}

function responseObject(ctx: ReplyContext, id: string, createdAt: number, status: 'in_progress' | 'completed', output: unknown[]) {
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status,
    ...(status === 'completed' ? { completed_at: createdAt } : {}),
    error: null,
    incomplete_details: null,
    instructions: null,
    metadata: {},
    model: ctx.controls.model ?? RESPONSES_MODEL,
    output,
    parallel_tool_calls: true,
    temperature: 1,
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    usage: status === 'completed' ? responsesUsage(ctx.controls.usage) : null,
  };
}

function messageItem(itemId: string, text: string, status: 'in_progress' | 'completed') {
  return {
    id: itemId,
    type: 'message',
    status,
    role: 'assistant',
    content: status === 'completed' ? [{ type: 'output_text', text, annotations: [] }] : [],
  };
}

const responses: Endpoint = {
  readsBody: true,
  json(ctx, content) {
    return responseObject(ctx, `resp_${randomHex(24)}`, unixSeconds(), 'completed', [messageItem(`msg_${randomHex(24)}`, content.text, 'completed')]);
  },
  reply(ctx, content = DEFAULT_CONTENT) {
    if (!wantsStream(ctx.body)) return jsonPlan(200, this.json(ctx, content));
    const id = `resp_${randomHex(24)}`;
    const itemId = `msg_${randomHex(24)}`;
    const createdAt = unixSeconds();
    const text = content.text;
    let sequence = 0;
    const event = (type: string, fields: JsonObject) => sseEvent(type, { type, sequence_number: sequence++, ...fields });
    const part = { type: 'output_text', text, annotations: [] };
    const events = [
      event('response.created', { response: responseObject(ctx, id, createdAt, 'in_progress', []) }),
      event('response.in_progress', { response: responseObject(ctx, id, createdAt, 'in_progress', []) }),
      event('response.output_item.added', { output_index: 0, item: messageItem(itemId, text, 'in_progress') }),
      event('response.content_part.added', { item_id: itemId, output_index: 0, content_index: 0, part: { ...part, text: '' } }),
      ...content.pieces.map((delta) => event('response.output_text.delta', { item_id: itemId, output_index: 0, content_index: 0, delta, logprobs: [] })),
      event('response.output_text.done', { item_id: itemId, output_index: 0, content_index: 0, text, logprobs: [] }),
      event('response.content_part.done', { item_id: itemId, output_index: 0, content_index: 0, part }),
      event('response.output_item.done', { output_index: 0, item: messageItem(itemId, text, 'completed') }),
      event('response.completed', { response: responseObject(ctx, id, createdAt, 'completed', [messageItem(itemId, text, 'completed')]) }),
    ];
    return streamPlan(SSE_CONTENT_TYPE, events, ctx.controls.eventDelayMs);
  },
};

const vectors = new Map<string, number[]>();
const MAX_KEPT_VECTORS = 64;

/**
 * Deterministic, so that a test can compare vectors across calls. Kept once made: the large
 * scenario's 320,000 values would hold the mock's event loop for every call.
 */
function vector(size: number, seed: number): number[] {
  const key = `${size}:${seed}`;
  let made = vectors.get(key);
  if (made === undefined) {
    if (vectors.size >= MAX_KEPT_VECTORS) vectors.clear();
    made = Array.from({ length: size }, (_, i) => Number(Math.sin(seed * 7.13 + i * 1.37).toFixed(9)));
    vectors.set(key, made);
  }
  return made;
}

/** `encoding_format: "base64"` (what the openai SDK asks for): little-endian float32s, base64. */
function encoded(values: number[], format: unknown): number[] | string {
  return format === 'base64' ? Buffer.from(new Float32Array(values).buffer).toString('base64') : values;
}

function inputCount(body: JsonObject): number {
  const input = body['input'];
  // A list of strings or of token arrays is one embedding each; a flat token array is one input.
  if (Array.isArray(input) && input.length > 0 && typeof input[0] !== 'number') return input.length;
  return 1;
}

const embeddings: Endpoint = {
  readsBody: true,
  json(ctx, content) {
    const count = inputCount(ctx.body);
    return {
      object: 'list',
      data: Array.from({ length: count }, (_, index) => ({ object: 'embedding', index, embedding: encoded(vector(content.embeddingSize, index + 1), ctx.body['encoding_format']) })),
      model: ctx.controls.model ?? EMBEDDINGS_MODEL,
      usage: { prompt_tokens: ctx.controls.usage.input, total_tokens: ctx.controls.usage.input },
    };
  },
  reply(ctx, content = DEFAULT_CONTENT) {
    return jsonPlan(200, this.json(ctx, content));
  },
};

const models: Endpoint = {
  readsBody: false,
  json() {
    const created = 1_721_172_741;
    return { object: 'list', data: [CHAT_MODEL, RESPONSES_MODEL, EMBEDDINGS_MODEL].map((id) => ({ id, object: 'model', created, owned_by: 'system' })) };
  },
  reply(ctx) {
    return jsonPlan(200, this.json(ctx, DEFAULT_CONTENT));
  },
};

export const openai: Provider = {
  name: 'openai',
  route(method, path) {
    if (method === 'POST' && path === '/v1/chat/completions') return chatCompletions;
    if (method === 'POST' && path === '/v1/responses') return responses;
    if (method === 'POST' && path === '/v1/embeddings') return embeddings;
    if (method === 'GET' && path === '/v1/models') return models;
    return null;
  },
};
