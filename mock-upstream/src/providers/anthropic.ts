import { randomToken } from '../ids.js';
import { jsonPlan, streamPlan } from '../plan.js';
import { SSE_CONTENT_TYPE, sseEvent } from '../sse.js';
import type { AnthropicDeltas, Usage } from '../controls.js';
import { DEFAULT_CONTENT, wantsStream, type Endpoint, type JsonObject, type Provider, type ReplyContext } from './types.js';
import { defined, reported, type Reported } from './usage.js';

const MODEL = 'claude-3-5-sonnet-20241022';

/** input_tokens is the uncached part only: the cache reads and writes are reported beside it. */
function inputFields(usage: Usage) {
  return { input_tokens: usage.input, cache_creation_input_tokens: reported(usage.cacheWrite, 0), cache_read_input_tokens: reported(usage.cached, 0) };
}

type InputFields = ReturnType<typeof inputFields>;

/** The TTL breakdown of the cache writes, present exactly when their count is. */
function cacheCreation(cacheWrite: Reported) {
  if (cacheWrite === undefined || cacheWrite === null) return cacheWrite;
  return { ephemeral_5m_input_tokens: cacheWrite, ephemeral_1h_input_tokens: 0 };
}

function outputDetails(reasoning: Reported) {
  return reasoning === undefined || reasoning === null ? reasoning : { thinking_tokens: reasoning };
}

/** Usage as the message object carries it. */
function messageUsage(inputs: InputFields, output: number, reasoning: Reported) {
  return defined({
    ...inputs,
    cache_creation: cacheCreation(inputs.cache_creation_input_tokens),
    output_tokens: output,
    output_tokens_details: outputDetails(reasoning),
    service_tier: 'standard',
  });
}

function half(value: Reported): Reported {
  return typeof value === 'number' ? Math.floor(value / 2) : value;
}

/**
 * message_start's input counts: the final ones, except for growing-input, where they grow
 * later as they do when server tools run more model turns.
 */
function startInputs(usage: Usage, deltas: AnthropicDeltas): InputFields {
  const inputs = inputFields(usage);
  if (deltas.style !== 'growing-input') return inputs;
  return { input_tokens: Math.floor(inputs.input_tokens / 2), cache_creation_input_tokens: half(inputs.cache_creation_input_tokens), cache_read_input_tokens: half(inputs.cache_read_input_tokens) };
}

/** Cumulative usage of each message_delta: output_tokens grows to the total, the last one also restates the input counts. */
function deltaUsages(usage: Usage, deltas: AnthropicDeltas, startOutput: number): JsonObject[] {
  const { count, style } = deltas;
  return Array.from({ length: count }, (_, index) => {
    if (index < count - 1) return { output_tokens: Math.max(startOutput, Math.round((usage.output * (index + 1)) / count)) };
    const inputs = style === 'output-only' ? {} : inputFields(usage);
    return defined({ ...inputs, output_tokens: usage.output, output_tokens_details: outputDetails(reported(usage.reasoning)) });
  });
}

function modelOf(ctx: ReplyContext): string {
  return ctx.controls.model ?? MODEL;
}

const messages: Endpoint = {
  readsBody: true,
  json(ctx, content) {
    return {
      id: `msg_01${randomToken(22)}`,
      type: 'message',
      role: 'assistant',
      model: modelOf(ctx),
      stop_reason: 'end_turn',
      stop_sequence: null,
      content: [{ type: 'text', text: content.text }],
      usage: messageUsage(inputFields(ctx.controls.usage), ctx.controls.usage.output, reported(ctx.controls.usage.reasoning)),
    };
  },
  reply(ctx, content = DEFAULT_CONTENT) {
    if (!wantsStream(ctx.body)) return jsonPlan(200, this.json(ctx, content));
    const { usage, anthropicDeltas } = ctx.controls;
    // Anthropic reports a placeholder output of 1 at the start; the real count comes in message_delta.
    const startOutput = Math.min(1, usage.output);
    const message = {
      id: `msg_01${randomToken(22)}`,
      type: 'message',
      role: 'assistant',
      model: modelOf(ctx),
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: messageUsage(startInputs(usage, anthropicDeltas), startOutput, undefined),
    };
    const events = [
      sseEvent('message_start', { type: 'message_start', message }),
      sseEvent('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
      sseEvent('ping', { type: 'ping' }),
      ...content.pieces.map((text) => sseEvent('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } })),
      sseEvent('content_block_stop', { type: 'content_block_stop', index: 0 }),
      ...deltaUsages(usage, anthropicDeltas, startOutput).map((deltaUsage, index) => {
        const stopReason = index === anthropicDeltas.count - 1 ? 'end_turn' : null;
        return sseEvent('message_delta', { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: deltaUsage });
      }),
      sseEvent('message_stop', { type: 'message_stop' }),
    ];
    return streamPlan(SSE_CONTENT_TYPE, events, ctx.controls.eventDelayMs);
  },
};

const models: Endpoint = {
  readsBody: false,
  json() {
    return {
      data: [{ type: 'model', id: MODEL, display_name: 'Claude 3.5 Sonnet (New)', created_at: '2024-10-22T00:00:00Z' }],
      has_more: false,
      first_id: MODEL,
      last_id: MODEL,
    };
  },
  reply(ctx) {
    return jsonPlan(200, this.json(ctx, DEFAULT_CONTENT));
  },
};

export const anthropic: Provider = {
  name: 'anthropic',
  route(method, path) {
    if (method === 'POST' && path === '/v1/messages') return messages;
    if (method === 'GET' && path === '/v1/models') return models;
    return null;
  },
};
