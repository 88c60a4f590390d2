/** A response read as it arrives: each chunk with the time it reached the client. */
export interface TimedStream {
  status: number;
  headers: Record<string, string>;
  startedAt: number;
  chunks: Array<{ at: number; text: string }>;
  endedAt: number;
  body: string;
}

/**
 * Playwright's APIResponse buffers whole bodies, so streaming is measured with Node's
 * fetch, reading the body chunk by chunk.
 */
export async function readTimedStream(url: string, init: RequestInit): Promise<TimedStream> {
  const startedAt = performance.now();
  const response = await fetch(url, init);
  const chunks: Array<{ at: number; text: string }> = [];
  const decoder = new TextDecoder();
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push({ at: performance.now(), text: decoder.decode(value, { stream: true }) });
    }
  }
  const endedAt = performance.now();
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers.entries()),
    startedAt,
    chunks,
    endedAt,
    body: chunks.map((c) => c.text).join(''),
  };
}

/** When the text `marker` had fully arrived. */
export function arrivalOf(stream: TimedStream, marker: string): number {
  let text = '';
  for (const chunk of stream.chunks) {
    text += chunk.text;
    if (text.includes(marker)) return chunk.at;
  }
  throw new Error(`"${marker}" never arrived in the stream`);
}
