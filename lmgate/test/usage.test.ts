import { describe, expect, it } from 'vitest';
import { extractErrorType, extractUsage, parseSse, type Usage } from '../src/usage.js';
import {
  anthropicCacheWriteJson,
  anthropicErrorJson,
  anthropicMessageJson,
  anthropicMessageSse,
  anthropicServerToolSse,
  anthropicThinkingCacheReadSse,
  anthropicTwoDeltasSse,
  googleErrorArrayJson,
  googleErrorJson,
  googleGenerateJson,
  googleStreamJsonArray,
  googleStreamSse,
  googleThinkingCachedJson,
  googleThinkingStreamJsonArray,
  googleThinkingStreamSse,
  gzipGarbage,
  htmlErrorPage,
  openAiChatJson,
  openAiChatReasoningCachedJson,
  openAiChatSseCacheWrite,
  openAiChatSseWithUsage,
  openAiChatSseWithoutUsage,
  openAiEmbeddingsJson,
  openAiErrorJson,
  openAiResponsesJson,
  openAiResponsesReasoningCacheWriteSse,
  openAiResponsesReasoningCachedJson,
  openAiResponsesSse,
  sse,
} from './fixtures/provider-bodies.js';

const NONE: Usage = { model: null, input_tokens: null, output_tokens: null, cached_input_tokens: null, cache_write_input_tokens: null, reasoning_tokens: null };

/** A whole Usage: every field not given is expected to be null. */
function usage(fields: Partial<Usage>): Usage {
  return { ...NONE, ...fields };
}

describe('extractUsage: OpenAI', () => {
  it('reads model, prompt_tokens and completion_tokens from a chat completion', () => {
    expect(extractUsage('openai', openAiChatJson)).toEqual(usage({ model: 'gpt-4o-2024-08-06', input_tokens: 1117, output_tokens: 46, cached_input_tokens: 0, reasoning_tokens: 0 }));
  });

  it('reads usage from the last chunk of a chat stream with include_usage (usage is null in the others)', () => {
    expect(extractUsage('openai', openAiChatSseWithUsage)).toEqual(usage({ model: 'gpt-4o-mini-2024-07-18', input_tokens: 19, output_tokens: 10, cached_input_tokens: 0, reasoning_tokens: 0 }));
  });

  it('gives null tokens but still the model for a chat stream without include_usage', () => {
    expect(extractUsage('openai', openAiChatSseWithoutUsage)).toEqual(usage({ model: 'gpt-4o-mini-2024-07-18', input_tokens: null, output_tokens: null }));
  });

  it('reads input_tokens and output_tokens of a responses API JSON body', () => {
    expect(extractUsage('openai', openAiResponsesJson)).toEqual(usage({ model: 'gpt-4.1-2025-04-14', input_tokens: 36, output_tokens: 87, cached_input_tokens: 0, reasoning_tokens: 0 }));
  });

  it('reads response.usage of the response.completed event of a responses API stream', () => {
    expect(extractUsage('openai', openAiResponsesSse)).toEqual(usage({ model: 'gpt-4.1-2025-04-14', input_tokens: 37, output_tokens: 11, cached_input_tokens: 0, reasoning_tokens: 0 }));
  });

  it('reads prompt_tokens of an embeddings body and gives null output tokens', () => {
    expect(extractUsage('openai', openAiEmbeddingsJson)).toEqual(usage({ model: 'text-embedding-3-small', input_tokens: 5, output_tokens: null }));
  });

  it('takes the usage chunk when a chat stream is cut after it, inside `data: [DONE]`', () => {
    const cut = openAiChatSseWithUsage.slice(0, openAiChatSseWithUsage.indexOf('data: [DONE]') + 8);
    expect(extractUsage('openai', cut)).toEqual(usage({ model: 'gpt-4o-mini-2024-07-18', input_tokens: 19, output_tokens: 10, cached_input_tokens: 0, reasoning_tokens: 0 }));
  });

  it('gives null tokens, and the model of the complete chunks, when a chat stream is cut inside the usage chunk', () => {
    const cut = openAiChatSseWithUsage.slice(0, openAiChatSseWithUsage.indexOf('"completion_tokens":10'));
    expect(extractUsage('openai', cut)).toEqual(usage({ model: 'gpt-4o-mini-2024-07-18', input_tokens: null, output_tokens: null }));
  });
});

describe('extractUsage: Anthropic', () => {
  it('reads model, input_tokens and output_tokens of a messages JSON body', () => {
    expect(extractUsage('anthropic', anthropicMessageJson)).toEqual(usage({ model: 'claude-sonnet-4-20250514', input_tokens: 12, output_tokens: 12, cached_input_tokens: 0, cache_write_input_tokens: 0 }));
  });

  it('takes input tokens and model from message_start and output tokens from message_delta of a stream', () => {
    expect(extractUsage('anthropic', anthropicMessageSse)).toEqual(usage({ model: 'claude-sonnet-4-20250514', input_tokens: 25, output_tokens: 15, cached_input_tokens: 0, cache_write_input_tokens: 0 }));
  });

  it('takes the output tokens of the last message_delta when there are several', () => {
    expect(extractUsage('anthropic', anthropicTwoDeltasSse)).toEqual(usage({ model: 'claude-opus-4-1-20250805', input_tokens: 472, output_tokens: 89 }));
  });

  it('keeps the complete message_start of a stream cut in the middle of message_delta', () => {
    const cut = anthropicMessageSse.slice(0, anthropicMessageSse.indexOf('"output_tokens":15') + 16);
    const found = extractUsage('anthropic', cut);
    expect({ model: found.model, input_tokens: found.input_tokens }).toEqual({ model: 'claude-sonnet-4-20250514', input_tokens: 25 });
  });
});

describe('extractUsage: Google', () => {
  it('reads promptTokenCount, candidatesTokenCount and modelVersion of a generateContent body', () => {
    expect(extractUsage('google', googleGenerateJson)).toEqual(usage({ model: 'gemini-2.0-flash-001', input_tokens: 8, output_tokens: 17 }));
  });

  it('reads the totals of the last chunk of a CRLF streamGenerateContent?alt=sse body', () => {
    expect(googleStreamSse).toContain('\r\n\r\n');
    expect(extractUsage('google', googleStreamSse)).toEqual(usage({ model: 'gemini-2.0-flash-001', input_tokens: 6, output_tokens: 9 }));
  });

  it('reads the totals of the last chunk of a JSON-array streamGenerateContent body', () => {
    expect(extractUsage('google', googleStreamJsonArray)).toEqual(usage({ model: 'gemini-2.0-flash-001', input_tokens: 6, output_tokens: 9 }));
  });

  it('gives null tokens for a JSON-array stream cut before its end', () => {
    const cut = googleStreamJsonArray.slice(0, googleStreamJsonArray.length - 40);
    expect(extractUsage('google', cut)).toEqual(NONE);
  });
});

describe('extractUsage: cache and reasoning breakdown (totals include their parts)', () => {
  it('OpenAI chat JSON: cached_tokens and reasoning_tokens from the details; no cache_write_tokens sent is null', () => {
    expect(extractUsage('openai', openAiChatReasoningCachedJson)).toEqual(
      usage({ model: 'o4-mini-2025-04-16', input_tokens: 2338, output_tokens: 629, cached_input_tokens: 1920, reasoning_tokens: 448 }),
    );
  });

  it('OpenAI chat stream: the details of the usage chunk, cache_write_tokens included', () => {
    expect(extractUsage('openai', openAiChatSseCacheWrite)).toEqual(
      usage({ model: 'gpt-5-mini-2025-08-07', input_tokens: 4410, output_tokens: 203, cached_input_tokens: 0, cache_write_input_tokens: 4352, reasoning_tokens: 192 }),
    );
  });

  it('OpenAI responses JSON: input_tokens_details and output_tokens_details', () => {
    expect(extractUsage('openai', openAiResponsesReasoningCachedJson)).toEqual(
      usage({ model: 'o3-2025-04-16', input_tokens: 3254, output_tokens: 1186, cached_input_tokens: 3072, reasoning_tokens: 1024 }),
    );
  });

  it('OpenAI responses stream: response.usage of response.completed, not the null usage of the earlier events', () => {
    expect(extractUsage('openai', openAiResponsesReasoningCacheWriteSse)).toEqual(
      usage({ model: 'gpt-5-2025-08-07', input_tokens: 5120, output_tokens: 770, cached_input_tokens: 0, cache_write_input_tokens: 4864, reasoning_tokens: 704 }),
    );
  });

  it('Anthropic JSON: input_tokens adds cache reads and writes to usage.input_tokens; reasoning is null', () => {
    expect(extractUsage('anthropic', anthropicCacheWriteJson)).toEqual(
      usage({ model: 'claude-sonnet-4-5-20250929', input_tokens: 21 + 188086, output_tokens: 393, cached_input_tokens: 0, cache_write_input_tokens: 188086 }),
    );
  });

  it('Anthropic stream with thinking: cache counts of message_start and the cumulative message_delta, reasoning null', () => {
    expect(extractUsage('anthropic', anthropicThinkingCacheReadSse)).toEqual(
      usage({ model: 'claude-opus-4-1-20250805', input_tokens: 12 + 4986, output_tokens: 307, cached_input_tokens: 4986, cache_write_input_tokens: 0 }),
    );
  });

  it('Anthropic stream: input_tokens of a later message_delta win over message_start', () => {
    expect(extractUsage('anthropic', anthropicServerToolSse)).toEqual(
      usage({ model: 'claude-sonnet-4-20250514', input_tokens: 10682, output_tokens: 510, cached_input_tokens: 0, cache_write_input_tokens: 0 }),
    );
  });

  it('Anthropic stream: a field a message_delta leaves out or sends as null keeps its earlier value', () => {
    const body = sse([
      'event: message_start\ndata: {"type":"message_start","message":{"model":"claude-3-7-sonnet-20250219","usage":{"input_tokens":40,"cache_creation_input_tokens":300,"cache_read_input_tokens":1200,"output_tokens":1}}}',
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":null},"usage":{"input_tokens":null,"cache_creation_input_tokens":null,"cache_read_input_tokens":null,"output_tokens":20}}',
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"cache_read_input_tokens":1250,"output_tokens":64}}',
    ]);
    expect(extractUsage('anthropic', body)).toEqual(
      usage({ model: 'claude-3-7-sonnet-20250219', input_tokens: 40 + 1250 + 300, output_tokens: 64, cached_input_tokens: 1250, cache_write_input_tokens: 300 }),
    );
  });

  it('Google JSON: tool-use prompt added to the input, thoughts to the output; cached content and thoughts reported; cache write null', () => {
    expect(extractUsage('google', googleThinkingCachedJson)).toEqual(
      usage({ model: 'gemini-2.5-pro', input_tokens: 15620 + 96, output_tokens: 412 + 1111, cached_input_tokens: 14336, reasoning_tokens: 1111 }),
    );
  });

  it('Google streams, alt=sse and JSON array: the totals of the last chunk, thoughts included', () => {
    const expected = usage({ model: 'gemini-2.5-flash', input_tokens: 9, output_tokens: 57 + 612, reasoning_tokens: 612 });
    expect(extractUsage('google', googleThinkingStreamSse)).toEqual(expected);
    expect(extractUsage('google', googleThinkingStreamJsonArray)).toEqual(expected);
  });
});

describe('extractUsage: fields not sent', () => {
  it('gives null for `usage: null`, keeping the model', () => {
    expect(extractUsage('openai', '{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o","usage":null}')).toEqual(usage({ model: 'gpt-4o' }));
    expect(extractUsage('anthropic', '{"type":"message","model":"claude-sonnet-4-20250514","usage":null}')).toEqual(usage({ model: 'claude-sonnet-4-20250514' }));
    expect(extractUsage('google', '{"candidates":[],"usageMetadata":null,"modelVersion":"gemini-2.5-pro"}')).toEqual(usage({ model: 'gemini-2.5-pro' }));
  });

  it('gives null for details objects that are absent or null', () => {
    const body = '{"model":"gpt-4o","usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":null}}';
    expect(extractUsage('openai', body)).toEqual(usage({ model: 'gpt-4o', input_tokens: 9, output_tokens: 3 }));
  });

  it('counts Anthropic cache fields sent as null as no part of the input total', () => {
    const body = '{"type":"message","model":"claude-3-5-haiku-20241022","usage":{"input_tokens":10,"cache_creation_input_tokens":null,"cache_read_input_tokens":null,"output_tokens":5}}';
    expect(extractUsage('anthropic', body)).toEqual(usage({ model: 'claude-3-5-haiku-20241022', input_tokens: 10, output_tokens: 5 }));
  });

  it('gives a null total when its base field is missing, but still the parts that were sent', () => {
    const anthropic = '{"type":"message","model":"claude-sonnet-4-20250514","usage":{"cache_read_input_tokens":100,"output_tokens":5}}';
    expect(extractUsage('anthropic', anthropic)).toEqual(usage({ model: 'claude-sonnet-4-20250514', output_tokens: 5, cached_input_tokens: 100 }));
    const google = '{"usageMetadata":{"candidatesTokenCount":7,"toolUsePromptTokenCount":30},"modelVersion":"gemini-2.5-flash"}';
    expect(extractUsage('google', google)).toEqual(usage({ model: 'gemini-2.5-flash', output_tokens: 7 }));
  });

  it('gives null tokens and the model for a responses stream cut before response.completed', () => {
    const cut = openAiResponsesReasoningCacheWriteSse.slice(0, openAiResponsesReasoningCacheWriteSse.indexOf('event: response.completed'));
    expect(extractUsage('openai', cut)).toEqual(usage({ model: 'gpt-5-2025-08-07' }));
  });

  it('gives the message_start counts of an Anthropic stream cut before its message_delta', () => {
    const cut = anthropicThinkingCacheReadSse.slice(0, anthropicThinkingCacheReadSse.indexOf('event: message_delta'));
    expect(extractUsage('anthropic', cut)).toEqual(
      usage({ model: 'claude-opus-4-1-20250805', input_tokens: 12 + 4986, output_tokens: 1, cached_input_tokens: 4986, cache_write_input_tokens: 0 }),
    );
  });
});

describe('extractUsage: SSE framing', () => {
  it('handles CRLF line ends in an Anthropic stream', () => {
    const crlf = anthropicMessageSse.replace(/\n/g, '\r\n');
    expect(extractUsage('anthropic', crlf)).toEqual(usage({ model: 'claude-sonnet-4-20250514', input_tokens: 25, output_tokens: 15, cached_input_tokens: 0, cache_write_input_tokens: 0 }));
  });

  it('handles CR-only line ends', () => {
    const cr = openAiChatSseWithUsage.replace(/\n/g, '\r');
    expect(extractUsage('openai', cr)).toEqual(usage({ model: 'gpt-4o-mini-2024-07-18', input_tokens: 19, output_tokens: 10, cached_input_tokens: 0, reasoning_tokens: 0 }));
  });

  it('joins a JSON payload split over several data: lines, with or without the space after the colon', () => {
    const body = sse([
      'event: message_start\ndata: {"type":"message_start",\ndata:"message":{"model":"claude-3-5-haiku-20241022",\ndata:  "usage":{"input_tokens":7,"output_tokens":1}}}',
      'event: message_delta\ndata:{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}}',
    ]);
    expect(extractUsage('anthropic', body)).toEqual(usage({ model: 'claude-3-5-haiku-20241022', input_tokens: 7, output_tokens: 3 }));
  });

  it('ignores comment lines, id: and retry: fields, extra blank lines and event: after data:', () => {
    const body =
      ': OPENROUTER PROCESSING\n\n\n' +
      'retry: 3000\n\n' +
      `id: 1\ndata: {"model":"gpt-4o","choices":[],"usage":null}\nevent: chunk\n\n` +
      ': keep-alive\n\n\n\n' +
      `id: 2\ndata: {"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}}\n\n` +
      'data: [DONE]\n\n';
    expect(extractUsage('openai', body)).toEqual(usage({ model: 'gpt-4o', input_tokens: 4, output_tokens: 2 }));
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
    expect(extractUsage('openai', body)).toEqual(usage({ model: 'gpt-4o', input_tokens: null, output_tokens: null }));
  });
});

describe('extractUsage: unknown provider', () => {
  it('recognises each provider shape when the host is not a known provider', () => {
    expect(extractUsage('unknown', openAiChatJson)).toEqual(usage({ model: 'gpt-4o-2024-08-06', input_tokens: 1117, output_tokens: 46, cached_input_tokens: 0, reasoning_tokens: 0 }));
    expect(extractUsage('unknown', anthropicMessageSse)).toEqual(usage({ model: 'claude-sonnet-4-20250514', input_tokens: 25, output_tokens: 15, cached_input_tokens: 0, cache_write_input_tokens: 0 }));
    expect(extractUsage('unknown', googleStreamSse)).toEqual(usage({ model: 'gemini-2.0-flash-001', input_tokens: 6, output_tokens: 9 }));
  });

  it('reads each provider by its own rules, totals and breakdown included', () => {
    expect(extractUsage('unknown', anthropicCacheWriteJson)).toEqual(extractUsage('anthropic', anthropicCacheWriteJson));
    expect(extractUsage('unknown', anthropicThinkingCacheReadSse)).toEqual(extractUsage('anthropic', anthropicThinkingCacheReadSse));
    expect(extractUsage('unknown', openAiResponsesReasoningCachedJson)).toEqual(extractUsage('openai', openAiResponsesReasoningCachedJson));
    expect(extractUsage('unknown', openAiResponsesReasoningCacheWriteSse)).toEqual(extractUsage('openai', openAiResponsesReasoningCacheWriteSse));
    expect(extractUsage('unknown', openAiChatSseCacheWrite)).toEqual(extractUsage('openai', openAiChatSseCacheWrite));
    expect(extractUsage('unknown', googleThinkingCachedJson)).toEqual(extractUsage('google', googleThinkingCachedJson));
    expect(extractUsage('unknown', googleThinkingStreamJsonArray)).toEqual(extractUsage('google', googleThinkingStreamJsonArray));
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
