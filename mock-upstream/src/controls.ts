/** Per-request control headers: the gateway forwards them untouched, so tests steer the mock through it. */

export class ControlError extends Error {
  override name = 'ControlError';
}

export interface Usage {
  input: number;
  output: number;
}

export interface ScenarioFlags {
  large: boolean;
  nonJson: boolean;
  gzip: boolean;
  utf8Split: boolean;
  empty: boolean;
  /** Wait this long before sending anything; 0 when not asked. */
  slowHeadersMs: number;
}

export interface Controls {
  usage: Usage;
  model: string | null;
  eventDelayMs: number;
  status: number | null;
  errorType: string | null;
  scenarios: ScenarioFlags;
  responseHeaders: Array<[string, string]>;
}

export const DEFAULT_USAGE: Usage = { input: 11, output: 7 };
export const DEFAULT_EVENT_DELAY_MS = 5;
const MAX_DELAY_MS = 600_000;

/** An RFC 9110 token: what a header name (or a method) may be. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function nonNegativeInt(header: string, raw: string, max = Number.MAX_SAFE_INTEGER): number {
  const trimmed = raw.trim();
  if (!/^\d+$/.test(trimmed) || Number(trimmed) > max) throw new ControlError(`${header}: expected a non-negative integer${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ''}, got "${raw}"`);
  return Number(trimmed);
}

function parseUsage(raw: string): Usage {
  const parts = raw.split(',');
  if (parts.length !== 2) throw new ControlError(`x-mock-usage: expected "<input>,<output>", got "${raw}"`);
  return { input: nonNegativeInt('x-mock-usage', parts[0] as string), output: nonNegativeInt('x-mock-usage', parts[1] as string) };
}

function parseScenarios(raw: string | undefined): ScenarioFlags {
  const flags: ScenarioFlags = { large: false, nonJson: false, gzip: false, utf8Split: false, empty: false, slowHeadersMs: 0 };
  if (raw === undefined) return flags;
  // Comma-separated so that slow-headers can be combined with another scenario.
  for (const item of raw.split(',').map((part) => part.trim()).filter(Boolean)) {
    if (item === 'large') flags.large = true;
    else if (item === 'non-json') flags.nonJson = true;
    else if (item === 'gzip') flags.gzip = true;
    else if (item === 'utf8-split') flags.utf8Split = true;
    else if (item === 'empty') flags.empty = true;
    else if (item.startsWith('slow-headers:')) flags.slowHeadersMs = nonNegativeInt('x-mock-scenario slow-headers', item.slice('slow-headers:'.length), MAX_DELAY_MS);
    else throw new ControlError(`x-mock-scenario: unknown scenario "${item}" (known: large, non-json, gzip, utf8-split, empty, slow-headers:<ms>)`);
  }
  return flags;
}

function parseResponseHeader(raw: string): [string, string] {
  const colon = raw.indexOf(':');
  const name = colon === -1 ? '' : raw.slice(0, colon).trim();
  if (!HEADER_NAME.test(name)) throw new ControlError(`x-mock-response-header: expected "name: value", got "${raw}"`);
  return [name.toLowerCase(), raw.slice(colon + 1).trim()];
}

/**
 * headers: lower-cased, repeated values joined; rawHeaders: the raw pairs, needed because
 * a repeated x-mock-response-header must not be split on commas inside its values.
 */
export function parseControls(headers: Record<string, string>, rawHeaders: readonly string[]): Controls {
  const usageHeader = headers['x-mock-usage'];
  const statusHeader = headers['x-mock-status'];
  const delayHeader = headers['x-mock-event-delay-ms'];
  const model = headers['x-mock-model']?.trim();

  let status: number | null = null;
  if (statusHeader !== undefined) {
    status = nonNegativeInt('x-mock-status', statusHeader);
    if (status < 200 || status > 599) throw new ControlError(`x-mock-status: expected a status code from 200 to 599, got "${statusHeader}"`);
  }

  const responseHeaders: Array<[string, string]> = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() === 'x-mock-response-header') responseHeaders.push(parseResponseHeader(rawHeaders[i + 1] as string));
  }

  return {
    usage: usageHeader === undefined ? { ...DEFAULT_USAGE } : parseUsage(usageHeader),
    model: model ? model : null,
    eventDelayMs: delayHeader === undefined ? DEFAULT_EVENT_DELAY_MS : nonNegativeInt('x-mock-event-delay-ms', delayHeader, MAX_DELAY_MS),
    status,
    errorType: headers['x-mock-error-type']?.trim() || null,
    scenarios: parseScenarios(headers['x-mock-scenario']),
    responseHeaders,
  };
}
