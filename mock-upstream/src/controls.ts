/** Per-request control headers: the gateway forwards them untouched, so tests steer the mock through it. */

export class ControlError extends Error {
  override name = 'ControlError';
}

/** A breakdown count as the body is to carry it: a number, JSON null, or 'omit' to leave the field out. */
export type Count = number | null | 'omit';

/**
 * Token counts in the provider's own fields (README: "Usage"). A breakdown that is not
 * given (undefined) means what the provider sends when it has nothing to report.
 */
export interface Usage {
  input: number;
  output: number;
  cached?: Count;
  cacheWrite?: Count;
  reasoning?: Count;
  toolPrompt?: Count;
}

export type DeltaStyle = 'repeat-input' | 'output-only' | 'growing-input';

/** How an Anthropic stream spreads its final usage over message_delta events. */
export interface AnthropicDeltas {
  count: number;
  style: DeltaStyle;
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
  anthropicDeltas: AnthropicDeltas;
  model: string | null;
  eventDelayMs: number;
  status: number | null;
  errorType: string | null;
  scenarios: ScenarioFlags;
  responseHeaders: Array<[string, string]>;
}

export const DEFAULT_USAGE: Usage = { input: 11, output: 7 };
export const DEFAULT_ANTHROPIC_DELTAS: AnthropicDeltas = { count: 1, style: 'repeat-input' };
export const DEFAULT_EVENT_DELAY_MS = 5;
const MAX_DELAY_MS = 600_000;
const MAX_ANTHROPIC_DELTAS = 1000;

/** An RFC 9110 token: what a header name (or a method) may be. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function nonNegativeInt(header: string, raw: string, max = Number.MAX_SAFE_INTEGER): number {
  const trimmed = raw.trim();
  if (!/^\d+$/.test(trimmed) || Number(trimmed) > max) throw new ControlError(`${header}: expected a non-negative integer${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ''}, got "${raw}"`);
  return Number(trimmed);
}

const USAGE_KEYS = { input: 'input', output: 'output', cached: 'cached', cache_write: 'cacheWrite', reasoning: 'reasoning', tool_prompt: 'toolPrompt' } as const;
type UsageKey = keyof typeof USAGE_KEYS;
const USAGE_SYNTAX = '"input=<n>,output=<n>[,cached=<c>][,cache_write=<c>][,reasoning=<c>][,tool_prompt=<c>]" (<c>: a number, null or none)';

function isUsageKey(key: string): key is UsageKey {
  return Object.hasOwn(USAGE_KEYS, key);
}

function parseCount(key: string, raw: string): Count {
  const value = raw.trim();
  if (value === 'null') return null;
  if (value === 'none') return 'omit';
  return nonNegativeInt(`x-mock-usage ${key}`, value);
}

function parseUsage(raw: string): Usage {
  const parts = raw.split(',').map((part) => part.trim());
  const usage: Partial<Record<keyof Usage, Count>> = {};
  for (const part of parts) {
    const equals = part.indexOf('=');
    if (equals === -1) throw new ControlError(`x-mock-usage: expected key=value, got "${part}" in "${raw}"; syntax: ${USAGE_SYNTAX}`);
    const key = part.slice(0, equals).trim();
    if (!isUsageKey(key)) throw new ControlError(`x-mock-usage: unknown key "${key}" (known: ${Object.keys(USAGE_KEYS).join(', ')})`);
    if (Object.hasOwn(usage, USAGE_KEYS[key])) throw new ControlError(`x-mock-usage: "${key}" given twice in "${raw}"`);
    const value = part.slice(equals + 1);
    usage[USAGE_KEYS[key]] = key === 'input' || key === 'output' ? nonNegativeInt(`x-mock-usage ${key}`, value) : parseCount(key, value);
  }
  const { input, output } = usage;
  if (typeof input !== 'number' || typeof output !== 'number') throw new ControlError(`x-mock-usage: input and output are required, got "${raw}"`);
  return { ...usage, input, output };
}

function parseAnthropicDeltas(raw: string | undefined): AnthropicDeltas {
  if (raw === undefined) return { ...DEFAULT_ANTHROPIC_DELTAS };
  const [countPart, stylePart, ...rest] = raw.split(',').map((part) => part.trim());
  const count = nonNegativeInt('x-mock-anthropic-deltas', countPart ?? '', MAX_ANTHROPIC_DELTAS);
  if (count < 1 || rest.length > 0) throw new ControlError(`x-mock-anthropic-deltas: expected "<n>[,<style>]" with n from 1 to ${MAX_ANTHROPIC_DELTAS}, got "${raw}"`);
  const style = stylePart ?? DEFAULT_ANTHROPIC_DELTAS.style;
  if (style !== 'repeat-input' && style !== 'output-only' && style !== 'growing-input') {
    throw new ControlError(`x-mock-anthropic-deltas: unknown style "${style}" (known: repeat-input, output-only, growing-input)`);
  }
  return { count, style };
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
    anthropicDeltas: parseAnthropicDeltas(headers['x-mock-anthropic-deltas']),
    model: model ? model : null,
    eventDelayMs: delayHeader === undefined ? DEFAULT_EVENT_DELAY_MS : nonNegativeInt('x-mock-event-delay-ms', delayHeader, MAX_DELAY_MS),
    status,
    errorType: headers['x-mock-error-type']?.trim() || null,
    scenarios: parseScenarios(headers['x-mock-scenario']),
    responseHeaders,
  };
}
