import { describe, expect, it } from 'vitest';
import { extractErrorType, extractUsage, parseSse } from '../src/usage.js';
import {
  anthropicErrorJson,
  anthropicMessageJson,
  anthropicMessageSse,
  anthropicTwoDeltasSse,
  googleErrorArrayJson,
  googleErrorJson,
  googleGenerateJson,
  googleStreamJsonArray,
  googleStreamSse,
  gzipGarbage,
  htmlErrorPage,
  openAiChatJson,
  openAiChatSseWithUsage,
  openAiChatSseWithoutUsage,
  openAiEmbeddingsJson,
  openAiErrorJson,
  openAiResponsesJson,
  openAiResponsesSse,
  sse,
} from './fixtures/provider-bodies.js';

const NONE = { model: null, input_tokens: null, output_tokens: null };

describe('extractUsage: OpenAI', () => {
  it('reads model, prompt_tokens and completion_tokens from a chat completion', () => {
    expect(extractUsage('openai', openAiChatJson)).toEqual({ model: 'gpt-4o-2024-08-06', input_tokens: 1117, output_tokens: 46 });
  });

  it('reads usage from the last chunk of a chat stream with include_usage (usage is null in the others)', () => {
    expect(extractUsage('openai', openAiChatSseWithUsage)).toEqual({ model: 'gpt-4o-mini-2024-07-18', input_tokens: 19, output_tokens: 10 });
  });

  it('gives null tokens but still the model for a chat stream without include_usage', () => {
    expect(extractUsage('openai', openAiChatSseWithoutUsage)).toEqual({ model: 'gpt-4o-mini-2024-07-18', input_tokens: null, output_tokens: null });
  });

  it('reads input_tokens and output_tokens of a responses API JSON body', () => {
    expect(extractUsage('openai', openAiResponsesJson)).toEqual({ model: 'gpt-4.1-2025-04-14', input_tokens: 36, output_tokens: 87 });
  });

  it('reads response.usage of the response.completed event of a responses API stream', () => {
    expect(extractUsage('openai', openAiResponsesSse)).toEqual({ model: 'gpt-4.1-2025-04-14', input_tokens: 37, output_tokens: 11 });
  });

  it('reads prompt_tokens of an embeddings body and gives null output tokens', () => {
    expect(extractUsage('openai', openAiEmbeddingsJson)).toEqual({ model: 'text-embedding-3-small', input_tokens: 5, output_tokens: null });
  });

  it('takes the usage chunk when a chat stream is cut after it, inside `data: [DONE]`', () => {
    const cut = openAiChatSseWithUsage.slice(0, openAiChatSseWithUsage.indexOf('data: [DONE]') + 8);
    expect(extractUsage('openai', cut)).toEqual({ model: 'gpt-4o-mini-2024-07-18', input_tokens: 19, output_tokens: 10 });
  });

  it('gives null tokens, and the model of the complete chunks, when a chat stream is cut inside the usage chunk', () => {
    const cut = openAiChatSseWithUsage.slice(0, openAiChatSseWithUsage.indexOf('"completion_tokens":10'));
    expect(extractUsage('openai', cut)).toEqual({ model: 'gpt-4o-mini-2024-07-18', input_tokens: null, output_tokens: null });
  });
});

describe('extractUsage: Anthropic', () => {
  it('reads model, input_tokens and output_tokens of a messages JSON body', () => {
    expect(extractUsage('anthropic', anthropicMessageJson)).toEqual({ model: 'claude-sonnet-4-20250514', input_tokens: 12, output_tokens: 12 });
  });

  it('takes input tokens and model from message_start and output tokens from message_delta of a stream', () => {
    expect(extractUsage('anthropic', anthropicMessageSse)).toEqual({ model: 'claude-sonnet-4-20250514', input_tokens: 25, output_tokens: 15 });
  });

  it('takes the output tokens of the last message_delta when there are several', () => {
    expect(extractUsage('anthropic', anthropicTwoDeltasSse)).toEqual({ model: 'claude-opus-4-1-20250805', input_tokens: 472, output_tokens: 89 });
  });

  it('keeps the complete message_start of a stream cut in the middle of message_delta', () => {
    const cut = anthropicMessageSse.slice(0, anthropicMessageSse.indexOf('"output_tokens":15') + 16);
    const usage = extractUsage('anthropic', cut);
    expect({ model: usage.model, input_tokens: usage.input_tokens }).toEqual({ model: 'claude-sonnet-4-20250514', input_tokens: 25 });
  });
});

describe('extractUsage: Google', () => {
  it('reads promptTokenCount, candidatesTokenCount and modelVersion of a generateContent body', () => {
    expect(extractUsage('google', googleGenerateJson)).toEqual({ model: 'gemini-2.0-flash-001', input_tokens: 8, output_tokens: 17 });
  });

  it('reads the totals of the last chunk of a CRLF streamGenerateContent?alt=sse body', () => {
    expect(googleStreamSse).toContain('\r\n\r\n');
    expect(extractUsage('google', googleStreamSse)).toEqual({ model: 'gemini-2.0-flash-001', input_tokens: 6, output_tokens: 9 });
  });

  it('reads the totals of the last chunk of a JSON-array streamGenerateContent body', () => {
    expect(extractUsage('google', googleStreamJsonArray)).toEqual({ model: 'gemini-2.0-flash-001', input_tokens: 6, output_tokens: 9 });
  });

  it('gives null tokens for a JSON-array stream cut before its end', () => {
    const cut = googleStreamJsonArray.slice(0, googleStreamJsonArray.length - 40);
    expect(extractUsage('google', cut)).toEqual(NONE);
  });
});

describe('extractUsage: SSE framing', () => {
  it('handles CRLF line ends in an Anthropic stream', () => {
    const crlf = anthropicMessageSse.replace(/\n/g, '\r\n');
    expect(extractUsage('anthropic', crlf)).toEqual({ model: 'claude-sonnet-4-20250514', input_tokens: 25, output_tokens: 15 });
  });

  it('handles CR-only line ends', () => {
    const cr = openAiChatSseWithUsage.replace(/\n/g, '\r');
    expect(extractUsage('openai', cr)).toEqual({ model: 'gpt-4o-mini-2024-07-18', input_tokens: 19, output_tokens: 10 });
  });

  it('joins a JSON payload split over several data: lines, with or without the space after the colon', () => {
    const body = sse([
      'event: message_start\ndata: {"type":"message_start",\ndata:"message":{"model":"claude-3-5-haiku-20241022",\ndata:  "usage":{"input_tokens":7,"output_tokens":1}}}',
      'event: message_delta\ndata:{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}}',
    ]);
    expect(extractUsage('anthropic', body)).toEqual({ model: 'claude-3-5-haiku-20241022', input_tokens: 7, output_tokens: 3 });
  });

  it('ignores comment lines, id: and retry: fields, extra blank lines and event: after data:', () => {
    const body =
      ': OPENROUTER PROCESSING\n\n\n' +
      'retry: 3000\n\n' +
      `id: 1\ndata: {"model":"gpt-4o","choices":[],"usage":null}\nevent: chunk\n\n` +
      ': keep-alive\n\n\n\n' +
      `id: 2\ndata: {"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}}\n\n` +
      'data: [DONE]\n\n';
    expect(extractUsage('openai', body)).toEqual({ model: 'gpt-4o', input_tokens: 4, output_tokens: 2 });
  });

  it('parseSse returns event names and joined data lines, one event per blank-line block', () => {
    expect(parseSse('event: a\ndata: 1\ndata: 2\n\ndata: x\r\n\r\n: note\n\nevent: empty\n\n')).toEqual([
      { event: 'a', data: '1\n2' },
      { event: null, data: 'x' },
    ]);
  });

  it('parseSse dispatches a last event that lacks its blank line', () => {
    expect(parseSse('data: {"a":1}\n\ndata: {"b":2}')).toEqual([
      { event: null, data: '{"a":1}' },
      { event: null, data: '{"b":2}' },
    ]);
  });
});

describe('extractUsage: bodies without usage', () => {
  const cases: Array<[string, string]> = [
    ['non-JSON text', 'upstream connect error or disconnect/reset before headers. reset reason: connection termination'],
    ['an empty body', ''],
    ['whitespace only', '  \r\n\t '],
    ['truncated JSON', openAiChatJson.slice(0, Math.floor(openAiChatJson.length / 2))],
    ['an HTML error page', htmlErrorPage],
    ['gzip bytes read as text', gzipGarbage],
    ['binary garbage', '\u0000\u0001\u00ff\u00fe{\u0000[data:\u0007'],
    ['JSON without usage', '{"id":"batch_abc123","object":"batch","status":"validating"}'],
    ['a JSON scalar', '42'],
    ['a JSON string', '"data: {\\"usage\\":{}}"'],
  ];
  for (const provider of ['openai', 'anthropic', 'google', 'unknown'] as const) {
    it(`gives all-null usage and never throws for odd ${provider} bodies`, () => {
      for (const [name, body] of cases) {
        expect({ name, usage: extractUsage(provider, body) }).toEqual({ name, usage: NONE });
      }
    });
  }

  it('ignores token counts that are not non-negative integers', () => {
    const body = '{"model":"gpt-4o","usage":{"prompt_tokens":"12","completion_tokens":-3}}';
    expect(extractUsage('openai', body)).toEqual({ model: 'gpt-4o', input_tokens: null, output_tokens: null });
  });
});

describe('extractUsage: unknown provider', () => {
  it('recognises each provider shape when the host is not a known provider', () => {
    expect(extractUsage('unknown', openAiChatJson)).toEqual({ model: 'gpt-4o-2024-08-06', input_tokens: 1117, output_tokens: 46 });
    expect(extractUsage('unknown', anthropicMessageSse)).toEqual({ model: 'claude-sonnet-4-20250514', input_tokens: 25, output_tokens: 15 });
    expect(extractUsage('unknown', googleStreamSse)).toEqual({ model: 'gemini-2.0-flash-001', input_tokens: 6, output_tokens: 9 });
  });
});

describe('extractErrorType', () => {
  it('reads error.type of an OpenAI error body', () => {
    expect(extractErrorType(openAiErrorJson)).toBe('invalid_request_error');
  });

  it('reads error.type of an Anthropic error body (not the top-level "type":"error")', () => {
    expect(extractErrorType(anthropicErrorJson)).toBe('overloaded_error');
  });

  it('reads error.status of a Google error object', () => {
    expect(extractErrorType(googleErrorJson)).toBe('RESOURCE_EXHAUSTED');
  });

  it('reads error.status of a Google error inside a one-element array', () => {
    expect(extractErrorType(googleErrorArrayJson)).toBe('INVALID_ARGUMENT');
  });

  it('gives null for non-JSON, HTML, empty and error-less bodies', () => {
    for (const body of ['Bad Gateway', htmlErrorPage, '', gzipGarbage, '{"error":null}', '{"error":{"message":"x"}}', openAiChatJson]) {
      expect({ body: body.slice(0, 20), type: extractErrorType(body) }).toEqual({ body: body.slice(0, 20), type: null });
    }
  });
});
