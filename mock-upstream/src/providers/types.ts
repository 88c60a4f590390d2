import type { Controls } from '../controls.js';
import type { ReplyPlan } from '../plan.js';

export type ProviderName = 'openai' | 'anthropic' | 'google';

export type JsonObject = Record<string, unknown>;

export interface ReplyContext {
  controls: Controls;
  /** The request's JSON object; {} when the body is not a JSON object. */
  body: JsonObject;
  query: URLSearchParams;
}

/** What a reply says, and the pieces a stream delivers its text in. */
export interface Content {
  text: string;
  pieces: readonly string[];
  embeddingSize: number;
}

/** The text every reply carries, and the pieces streams deliver it in. */
export const DEFAULT_TEXT_PIECES = ['Hello', ' from the LMGate', ' mock upstream.'] as const;
export const DEFAULT_CONTENT: Content = { text: DEFAULT_TEXT_PIECES.join(''), pieces: DEFAULT_TEXT_PIECES, embeddingSize: 8 };

export interface Endpoint {
  /** The normal reply needs the request JSON (for its stream flag): unparsable JSON then means 400. */
  readsBody: boolean;
  /** The non-streaming JSON body of this endpoint; the usage object is its last key. */
  json(ctx: ReplyContext, content: Content): unknown;
  /** The normal reply (saying `content`, by default DEFAULT_CONTENT), streamed when the request asks for it. */
  reply(ctx: ReplyContext, content?: Content): ReplyPlan;
}

export interface Provider {
  name: ProviderName;
  route(method: string, path: string): Endpoint | null;
}

export function wantsStream(body: JsonObject): boolean {
  return body['stream'] === true;
}
