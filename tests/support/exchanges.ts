import type { APIRequestContext, APIResponse, TestInfo } from '@playwright/test';
import { maskHeaders, maskSecrets } from './secrets';

const BODY_LIMIT = 64 * 1024;

export interface Exchange {
  method: string;
  url: string;
  requestHeaders: Record<string, string>;
  requestBody?: string | Buffer | undefined;
  status?: number;
  responseHeaders?: Record<string, string>;
  responseBody?: string | Buffer | undefined;
  error?: string;
  note?: string;
}

function bodyText(body: string | Buffer | undefined): string {
  if (body === undefined || body.length === 0) return '(empty)';
  if (body.length <= BODY_LIMIT) return typeof body === 'string' ? body : body.toString('utf8');
  // Cut before decoding: bodies go up to 64 MiB.
  const head = typeof body === 'string' ? body.slice(0, BODY_LIMIT) : body.subarray(0, BODY_LIMIT).toString('utf8');
  return `${head}\n… (${body.length - BODY_LIMIT} more ${typeof body === 'string' ? 'characters' : 'bytes'})`;
}

function headerLines(headers: Record<string, string> | undefined): string {
  return Object.entries(maskHeaders(headers ?? {}))
    .map(([name, value]) => `  ${name}: ${value}`)
    .join('\n');
}

export function formatExchange(exchange: Exchange): string {
  const lines = [
    `${exchange.method} ${exchange.url}`,
    ...(exchange.note ? [`(${exchange.note})`] : []),
    'request headers:',
    headerLines(exchange.requestHeaders),
    'request body:',
    bodyText(exchange.requestBody),
    '',
  ];
  if (exchange.error) lines.push(`error: ${exchange.error}`);
  else {
    lines.push(`response: ${exchange.status}`, 'response headers:', headerLines(exchange.responseHeaders), 'response body:', bodyText(exchange.responseBody));
  }
  return maskSecrets(lines.join('\n'));
}

let counter = 0;

export async function attachExchange(testInfo: TestInfo, exchange: Exchange): Promise<void> {
  counter++;
  const path = exchange.url.replace(/^https?:\/\/[^/]+/, '');
  const name = `HTTP ${String(counter).padStart(2, '0')} ${exchange.method} ${path.slice(0, 80)} → ${exchange.status ?? 'error'}`;
  await testInfo.attach(name, { body: formatExchange(exchange), contentType: 'text/plain' });
}

type FetchOptions = NonNullable<Parameters<APIRequestContext['fetch']>[1]>;
const METHODS = ['fetch', 'get', 'post', 'put', 'patch', 'delete', 'head'] as const;

function requestBodyOf(options: FetchOptions | undefined): string | Buffer | undefined {
  if (!options) return undefined;
  if (options.data !== undefined) return typeof options.data === 'string' || Buffer.isBuffer(options.data) ? options.data : JSON.stringify(options.data);
  if (options.form !== undefined) return `(form) ${JSON.stringify(options.form)}`;
  if (options.multipart !== undefined) return '(multipart body)';
  return undefined;
}

/**
 * Wraps Playwright's request fixture so that every exchange lands in the test's report
 * entry, keys masked. Behaviour is otherwise the fixture's own.
 */
export function recordingRequestContext(context: APIRequestContext, testInfo: TestInfo, baseURL: string): APIRequestContext {
  return new Proxy(context, {
    get(target, property, receiver) {
      const original = Reflect.get(target, property, receiver) as unknown;
      if (typeof property !== 'string' || !(METHODS as readonly string[]).includes(property) || typeof original !== 'function') {
        return typeof original === 'function' ? (original as (...a: unknown[]) => unknown).bind(target) : original;
      }
      return async (urlOrRequest: string, options?: FetchOptions): Promise<APIResponse> => {
        const method = (property === 'fetch' ? options?.method ?? 'GET' : property).toUpperCase();
        const url = typeof urlOrRequest === 'string' && urlOrRequest.startsWith('/') ? baseURL + urlOrRequest : String(urlOrRequest);
        const exchange: Exchange = {
          method,
          url,
          requestHeaders: (options?.headers as Record<string, string> | undefined) ?? {},
          requestBody: requestBodyOf(options),
        };
        try {
          const response = (await (original as (u: string, o?: FetchOptions) => Promise<APIResponse>).call(target, urlOrRequest, options)) as APIResponse;
          exchange.status = response.status();
          exchange.responseHeaders = response.headers();
          exchange.responseBody = method === 'HEAD' ? undefined : await response.body().catch(() => undefined);
          return response;
        } catch (error) {
          exchange.error = (error as Error).message;
          throw error;
        } finally {
          await attachExchange(testInfo, exchange);
        }
      };
    },
  });
}
