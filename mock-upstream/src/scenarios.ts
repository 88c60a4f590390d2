import { gzipSync } from 'node:zlib';
import { jsonPlan, textPlan, type ReplyPlan } from './plan.js';
import type { Content } from './providers/types.js';

export const LARGE_MIN_BYTES = 3 * 1024 * 1024;

const LARGE_SENTENCE = 'The quick brown fox jumps over the lazy dog while the gateway keeps counting tokens. ';
export const UTF8_SENTENCE = 'héllo wörld — 你好 🙂 ';
const UTF8_REPEAT = 64;
const UTF8_PIECES = 6;

/** Characters per streamed piece of the large content: some 3,400 events, each ten times an ordinary delta. */
const LARGE_PIECE_CHARS = 1024;

/**
 * Content that makes any endpoint's reply larger than 3 MiB, JSON or stream (a long text
 * in many pieces, or a long vector for embeddings).
 */
export function largeContent(): Content {
  const repeat = Math.ceil((LARGE_MIN_BYTES + 256 * 1024) / LARGE_SENTENCE.length);
  const text = LARGE_SENTENCE.repeat(repeat);
  const pieces: string[] = [];
  for (let at = 0; at < text.length; at += LARGE_PIECE_CHARS) pieces.push(text.slice(at, at + LARGE_PIECE_CHARS));
  return { text, pieces, embeddingSize: 320_000 };
}

export function utf8Content(): Content {
  const text = UTF8_SENTENCE.repeat(UTF8_REPEAT).trimEnd();
  return { text, pieces: [text], embeddingSize: 8 };
}

function isContinuationByte(byte: number | undefined): boolean {
  return byte !== undefined && (byte & 0xc0) === 0x80;
}

/**
 * The JSON body cut into several writes, each cut landing inside a multibyte character,
 * so that a consumer decoding per chunk instead of per body garbles the text.
 */
export function utf8SplitPlan(body: unknown, gapMs: number): ReplyPlan {
  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  const cuts: number[] = [];
  for (let piece = 1; piece < UTF8_PIECES; piece++) {
    let at = Math.max(Math.floor((bytes.length * piece) / UTF8_PIECES), (cuts.at(-1) ?? 0) + 1);
    while (at < bytes.length && !isContinuationByte(bytes[at])) at++;
    if (at < bytes.length) cuts.push(at);
  }
  const chunks: Buffer[] = [];
  let start = 0;
  for (const cut of cuts) {
    chunks.push(bytes.subarray(start, cut));
    start = cut;
  }
  chunks.push(bytes.subarray(start));
  return { ...jsonPlan(200, null), chunks, gapMs, splitEachChunk: false };
}

export function nonJsonPlan(): ReplyPlan {
  return textPlan(200, 'text/plain', 'this is not json\n');
}

/** The whole reply compressed at once, whatever the request's accept-encoding said. */
export function gzipPlan(plan: ReplyPlan): ReplyPlan {
  if (plan.chunks.length === 0) return plan;
  return {
    ...plan,
    headers: { ...plan.headers, 'content-encoding': 'gzip' },
    chunks: [gzipSync(Buffer.concat(plan.chunks))],
    gapMs: 0,
    splitEachChunk: false,
    streamed: false,
  };
}
