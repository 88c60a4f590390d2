/** Server-sent-event framing as each provider writes it. */

export const SSE_CONTENT_TYPE = 'text/event-stream';

/** OpenAI chat completions: data-only events. */
export function sseData(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

export const SSE_DONE = 'data: [DONE]\n\n';

/** OpenAI responses and Anthropic: named events. */
export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Vertex AI terminates its data-only events with CRLF pairs. */
export function sseDataCrlf(data: unknown): string {
  return `data: ${JSON.stringify(data)}\r\n\r\n`;
}
