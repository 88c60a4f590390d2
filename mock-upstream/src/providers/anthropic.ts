import { randomToken } from '../ids.js';
import { jsonPlan, streamPlan } from '../plan.js';
import { SSE_CONTENT_TYPE, sseEvent } from '../sse.js';
import { DEFAULT_CONTENT, DEFAULT_TEXT_PIECES, wantsStream, type Endpoint, type Provider, type ReplyContext } from './types.js';

const MODEL = 'claude-3-5-sonnet-20241022';

function usage(input: number, output: number) {
  return { input_tokens: input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: output };
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
      usage: usage(ctx.controls.usage.input, ctx.controls.usage.output),
    };
  },
  reply(ctx) {
    if (!wantsStream(ctx.body)) return jsonPlan(200, this.json(ctx, DEFAULT_CONTENT));
    const { input, output } = ctx.controls.usage;
    const message = {
      id: `msg_01${randomToken(22)}`,
      type: 'message',
      role: 'assistant',
      model: modelOf(ctx),
      content: [],
      stop_reason: null,
      stop_sequence: null,
      // Anthropic reports the input here and a placeholder output of 1; the final output count comes in message_delta.
      usage: usage(input, 1),
    };
    const events = [
      sseEvent('message_start', { type: 'message_start', message }),
      sseEvent('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
      sseEvent('ping', { type: 'ping' }),
      ...DEFAULT_TEXT_PIECES.map((text) => sseEvent('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } })),
      sseEvent('content_block_stop', { type: 'content_block_stop', index: 0 }),
      sseEvent('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: output } }),
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
