import type { Exchange } from './exchanges';

type Recorder = (exchange: Exchange) => Promise<void>;

function headersOf(headers: RequestInit['headers']): Record<string, string> {
  return Object.fromEntries(new Headers(headers).entries());
}

/**
 * A fetch for SDK clients that reports every exchange, body included, to the test's
 * report once the response body has been read to its end by whoever reads it.
 */
export function recordingFetch(record: Recorder, pending: Array<Promise<void>>): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const requestBody = init?.body === undefined || init.body === null ? undefined : typeof init.body === 'string' ? init.body : '(stream or binary body)';
    const exchange: Exchange = { method: request.method, url: request.url, requestHeaders: headersOf(init?.headers), requestBody };
    let response: Response;
    try {
      response = await fetch(input, init);
    } catch (error) {
      exchange.error = (error as Error).message;
      pending.push(record(exchange));
      throw error;
    }
    exchange.status = response.status;
    exchange.responseHeaders = Object.fromEntries(response.headers.entries());
    pending.push(
      response
        .clone()
        .text()
        .then((text) => {
          exchange.responseBody = text;
        }, (error: Error) => {
          exchange.note = `response body not read: ${error.message}`;
        })
        .then(() => record(exchange)),
    );
    return response;
  };
}
