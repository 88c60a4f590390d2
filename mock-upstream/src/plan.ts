/** What to send for one request; src/sender.ts turns a plan into writes. */
export interface ReplyPlan {
  status: number;
  headers: Record<string, string>;
  /** Each chunk is one write (one SSE event, one JSON-array element, one piece of a split body). */
  chunks: Buffer[];
  /** Pause between chunks. */
  gapMs: number;
  /** Write every chunk in two halves, as real providers' events arrive split across TCP writes. */
  splitEachChunk: boolean;
  /** Streamed replies go out chunked, without content-length. */
  streamed: boolean;
}

export function jsonPlan(status: number, body: unknown): ReplyPlan {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    chunks: [Buffer.from(JSON.stringify(body), 'utf8')],
    gapMs: 0,
    splitEachChunk: false,
    streamed: false,
  };
}

export function textPlan(status: number, contentType: string, text: string): ReplyPlan {
  return { status, headers: { 'content-type': contentType }, chunks: [Buffer.from(text, 'utf8')], gapMs: 0, splitEachChunk: false, streamed: false };
}

export function emptyPlan(status: number): ReplyPlan {
  return { status, headers: {}, chunks: [], gapMs: 0, splitEachChunk: false, streamed: false };
}

export function streamPlan(contentType: string, events: string[], gapMs: number): ReplyPlan {
  return {
    status: 200,
    headers: { 'content-type': contentType, 'cache-control': 'no-cache' },
    chunks: events.map((event) => Buffer.from(event, 'utf8')),
    gapMs,
    splitEachChunk: true,
    streamed: true,
  };
}
