import { describe, expect, it } from 'vitest';
import { extractUsage, extractUsageFromEnds } from '../src/usage.js';

// Long replies of every provider and form (spec §5), as njs hands them over: the first and
// the last 64 KiB, what lay between never kept.
const KEPT = 64 * 1024;
const WORDS = 'The quick brown fox jumps over the lazy dog. ';
const longText = (bytes: number) => WORDS.repeat(Math.ceil(bytes / WORDS.length));
const pieces = (bytes: number) => longText(bytes).match(/.{1,200}/gs) ?? [];

function ends(body: string): [string, string] {
  expect(body.length).toBeGreaterThan(2 * KEPT);
  return [body.slice(0, KEPT), body.slice(-KEPT)];
}

const sse = (data: unknown, event?: string) => `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`;

const cases: Array<{ name: string; provider: 'openai' | 'anthropic' | 'google' | 'unknown'; body: string; expected: Record<string, unknown> }> = [
  {
    name: 'an OpenAI chat stream of 20,000 tokens',
    provider: 'openai',
    body:
      pieces(5_000_000).map((piece) => sse({ model: 'gpt-4o', choices: [{ delta: { content: piece } }], usage: null })).join('') +
      sse({ model: 'gpt-4o', choices: [], usage: { prompt_tokens: 11, completion_tokens: 20_000, completion_tokens_details: { reasoning_tokens: 7 } } }) +
      'data: [DONE]\n\n',
    expected: { model: 'gpt-4o', input_tokens: 11, output_tokens: 20_000, reasoning_tokens: 7 },
  },
  {
    name: 'a Responses stream whose response.completed event alone is larger than what is kept',
    provider: 'openai',
    body:
      sse({ type: 'response.created', response: { model: 'gpt-5', output: [], usage: null } }, 'response.created') +
      pieces(300_000).map((delta) => sse({ type: 'response.output_text.delta', delta }, 'response.output_text.delta')).join('') +
      sse(
        { type: 'response.completed', response: { model: 'gpt-5', output: [{ content: [{ text: longText(300_000) }] }], tools: [], usage: { input_tokens: 5, output_tokens: 9_000, input_tokens_details: { cached_tokens: 2 } }, metadata: { usage: 'not this' } } },
        'response.completed',
      ),
    expected: { model: 'gpt-5', input_tokens: 5, output_tokens: 9_000, cached_input_tokens: 2 },
  },
  {
    name: 'an Anthropic stream: usage at the start and at the end',
    provider: 'anthropic',
    body:
      sse({ type: 'message_start', message: { model: 'claude-sonnet-4', usage: { input_tokens: 30, cache_read_input_tokens: 4, output_tokens: 1 } } }, 'message_start') +
      pieces(3_000_000).map((text) => sse({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }, 'content_block_delta')).join('') +
      sse({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 20_000 } }, 'message_delta') +
      sse({ type: 'message_stop' }, 'message_stop'),
    expected: { model: 'claude-sonnet-4', input_tokens: 34, output_tokens: 20_000, cached_input_tokens: 4 },
  },
  {
    name: 'a Gemini SSE stream (CRLF)',
    provider: 'google',
    body:
      pieces(3_000_000)
        .map((text) => `data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text }] } }], usageMetadata: { promptTokenCount: 8 }, modelVersion: 'gemini-2.5-pro' })}\r\n\r\n`)
        .join('') + `data: ${JSON.stringify({ candidates: [], usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 20_000, thoughtsTokenCount: 5 }, modelVersion: 'gemini-2.5-pro' })}\r\n\r\n`,
    expected: { model: 'gemini-2.5-pro', input_tokens: 8, output_tokens: 20_005, reasoning_tokens: 5 },
  },
  {
    name: 'a Gemini JSON-array stream',
    provider: 'google',
    body: `[${[...pieces(3_000_000).map((text) => ({ candidates: [{ content: { parts: [{ text }] } }], usageMetadata: { promptTokenCount: 8 }, modelVersion: 'gemini-2.0-flash' })), { candidates: [], usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 19_000 }, modelVersion: 'gemini-2.0-flash' }].map((chunk) => JSON.stringify(chunk)).join('\r\n,')}]`,
    expected: { model: 'gemini-2.0-flash', input_tokens: 8, output_tokens: 19_000 },
  },
  {
    name: 'a 7 MB embeddings reply in floats',
    provider: 'openai',
    body: JSON.stringify({ object: 'list', data: Array.from({ length: 400 }, (_, index) => ({ object: 'embedding', index, embedding: Array.from({ length: 1536 }, (_, i) => Math.sin(i + index)) })), model: 'text-embedding-3-small', usage: { prompt_tokens: 400, total_tokens: 400 } }),
    expected: { model: 'text-embedding-3-small', input_tokens: 400, output_tokens: null },
  },
  {
    name: 'a large embeddings reply in base64',
    provider: 'openai',
    body: JSON.stringify({ object: 'list', data: Array.from({ length: 2048 }, (_, index) => ({ object: 'embedding', index, embedding: Buffer.alloc(1536 * 4, index).toString('base64') })), model: 'text-embedding-3-large', usage: { prompt_tokens: 2048, total_tokens: 2048 } }),
    expected: { model: 'text-embedding-3-large', input_tokens: 2048 },
  },
  {
    name: 'a long Anthropic message (JSON)',
    provider: 'anthropic',
    body: JSON.stringify({ id: 'msg_1', type: 'message', model: 'claude-opus-4', content: [{ type: 'text', text: longText(400_000) }], usage: { input_tokens: 3, cache_creation_input_tokens: 2, output_tokens: 30_000 } }),
    expected: { model: 'claude-opus-4', input_tokens: 5, output_tokens: 30_000, cache_write_input_tokens: 2 },
  },
  {
    name: 'a long Gemini reply (JSON) from an unknown host',
    provider: 'unknown',
    body: JSON.stringify({ candidates: [{ content: { parts: [{ text: longText(400_000) }] } }], modelVersion: 'gemini-x', usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 6 } }),
    expected: { model: 'gemini-x', input_tokens: 4, output_tokens: 6 },
  },
  {
    name: 'a usage object whose strings hold braces, quotes and backslashes',
    provider: 'openai',
    body: JSON.stringify({ model: 'gpt-4o', choices: [{ message: { content: longText(400_000) } }], usage: { note: 'a } "b" \\ {', prompt_tokens: 3, extra: { x: '}}' }, completion_tokens: 4 } }),
    expected: { model: 'gpt-4o', input_tokens: 3, output_tokens: 4 },
  },
  {
    name: 'a long chat completion (JSON) from an unknown host',
    provider: 'unknown',
    body: JSON.stringify({ id: 'c', model: 'gpt-4.1', choices: [{ message: { content: longText(400_000) } }], usage: { prompt_tokens: 1, completion_tokens: 2 } }),
    expected: { model: 'gpt-4.1', input_tokens: 1, output_tokens: 2 },
  },
];

describe('usage of a long reply from its two ends (spec §5: any size, bounded memory)', () => {
  for (const { name, provider, body, expected } of cases) {
    it(name, () => {
      const [head, tail] = ends(body);
      const fromEnds = extractUsageFromEnds(provider, head, tail);
      expect(fromEnds).toMatchObject(expected);
      // The ends give what the whole body gives.
      expect(fromEnds).toEqual(extractUsage(provider, body));
    });
  }

  it('is not fooled by a "usage" inside the text: quotes in a JSON string are escaped', () => {
    const body = JSON.stringify({ model: 'm', choices: [{ message: { content: `${longText(200_000)}"usage":{"prompt_tokens":999}` } }], usage: { prompt_tokens: 1, completion_tokens: 2 } });
    const [head, tail] = ends(body);
    expect(extractUsageFromEnds('openai', head, tail)).toMatchObject({ input_tokens: 1, output_tokens: 2 });
    const cut = JSON.stringify({ model: 'm', choices: [{ message: { content: `${longText(200_000)}"usage":{"prompt_tokens":999}` } }] }).slice(0, -3);
    expect(extractUsageFromEnds('openai', ...ends(cut))).toMatchObject({ input_tokens: null });
  });

  it('reads a model name with escaped quotes and backslashes whole', () => {
    const model = 'odd "name" \\ \\"';
    const body = JSON.stringify({ model, choices: [{ message: { content: longText(200_000) } }], usage: { prompt_tokens: 1, completion_tokens: 2 } });
    expect(extractUsageFromEnds('openai', ...ends(body))).toMatchObject({ model, input_tokens: 1 });
  });

  it('gives null tokens for ends without usage (the model where found), and never throws', () => {
    expect(extractUsageFromEnds('google', 'not json', 'at all')).toMatchObject({ model: null, input_tokens: null });
    expect(extractUsageFromEnds('openai', `{"model":"m","choices":[{"message":{"content":"${'x'.repeat(10)}`, 'x"}}]}')).toMatchObject({ model: 'm', input_tokens: null });
    expect(extractUsageFromEnds('openai', '', '"usage": {"prompt_tokens": 1')).toMatchObject({ input_tokens: null });
  });
});
