/**
 * x-mock-expect-* headers: what the request must look like when it reaches the mock, so a
 * test learns at once (418) that the gateway changed something it should have passed through.
 */
import { createHash } from 'node:crypto';
import { ControlError, HEADER_NAME, nonNegativeInt } from './controls.js';
import { jsonPlan, type ReplyPlan } from './plan.js';

export interface Expectations {
  method: string | null;
  path: string | null;
  query: string | null;
  /** [lower-cased name, exact value], in the order given. */
  headers: Array<[string, string]>;
  absentHeaders: string[];
  /** Lower-cased; never an x-mock-* name. */
  headerNames: Set<string> | null;
  bodyLength: number | null;
  /** Lower-case hex. */
  bodySha256: string | null;
}

/** The request as received: path and query split at the first '?', body as recorded. */
export interface ExpectationSubject {
  method: string;
  path: string;
  query: string;
  rawHeaders: readonly string[];
  body: Buffer;
}

export const EXPECTATION_FAILED_STATUS = 418;
export const EXPECTATION_FAILED_HEADER = 'x-mock-expectation-failed';

const CONTROL_PREFIX = 'x-mock-';
const EXPECT_PREFIX = 'x-mock-expect-';
const SINGLE_KINDS = ['method', 'path', 'query', 'body-length', 'body-sha256'] as const;
type SingleKind = (typeof SINGLE_KINDS)[number];
const KNOWN_KINDS = [...SINGLE_KINDS, 'header', 'absent-header', 'header-names'];
const SHA256_HEX = /^[0-9a-f]{64}$/i;

/** Node strips this from received values too, so an expected value with it could never match. */
function trimOws(value: string): string {
  return value.replace(/^[ \t]+|[ \t]+$/g, '');
}

function parseExpectedHeader(raw: string): [string, string] {
  const colon = raw.indexOf(':');
  const name = colon === -1 ? '' : trimOws(raw.slice(0, colon));
  if (!HEADER_NAME.test(name)) throw new ControlError(`x-mock-expect-header: expected "name: value", got "${raw}"`);
  return [name.toLowerCase(), trimOws(raw.slice(colon + 1))];
}

/** A list header: comma-separated names, empty items ignored (RFC 9110 list syntax). */
function parseNameList(header: string, raw: string): string[] {
  const names = raw.split(',').map(trimOws).filter(Boolean);
  for (const name of names) {
    if (!HEADER_NAME.test(name)) throw new ControlError(`${header}: "${name}" is not a header name (in "${raw}")`);
  }
  return names.map((name) => name.toLowerCase());
}

function parseSingle(kind: SingleKind, raw: string, into: Expectations): void {
  const header = `${EXPECT_PREFIX}${kind}`;
  switch (kind) {
    case 'method':
      if (!HEADER_NAME.test(raw)) throw new ControlError(`${header}: expected a method such as POST, got "${raw}"`);
      into.method = raw;
      return;
    case 'path':
      if (raw === '' || raw.includes('?')) throw new ControlError(`${header}: expected a non-empty path without a query (use x-mock-expect-query), got "${raw}"`);
      into.path = raw;
      return;
    case 'query':
      into.query = raw;
      return;
    case 'body-length':
      into.bodyLength = nonNegativeInt(header, raw);
      return;
    case 'body-sha256':
      if (!SHA256_HEX.test(raw)) throw new ControlError(`${header}: expected 64 hex digits, got "${raw}"`);
      into.bodySha256 = raw.toLowerCase();
      return;
  }
}

/**
 * Reads the raw header pairs: x-mock-expect-header values may hold commas, so repeats must
 * not be joined. null when the request carries no expectation. Throws ControlError on a
 * malformed, repeated single-valued or unknown x-mock-expect-* header: a typo must not pass.
 */
export function parseExpectations(rawHeaders: readonly string[]): Expectations | null {
  const expectations: Expectations = { method: null, path: null, query: null, headers: [], absentHeaders: [], headerNames: null, bodyLength: null, bodySha256: null };
  const seen = new Set<string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const header = (rawHeaders[i] as string).toLowerCase();
    if (!header.startsWith(EXPECT_PREFIX)) continue;
    const value = rawHeaders[i + 1] as string;
    const kind = header.slice(EXPECT_PREFIX.length);
    if ((SINGLE_KINDS as readonly string[]).includes(kind)) {
      if (seen.has(kind)) throw new ControlError(`${header}: given more than once`);
      parseSingle(kind as SingleKind, value, expectations);
    } else if (kind === 'header') {
      expectations.headers.push(parseExpectedHeader(value));
    } else if (kind === 'absent-header') {
      expectations.absentHeaders.push(...parseNameList(header, value));
    } else if (kind === 'header-names') {
      const names = parseNameList(header, value);
      const control = names.find((name) => name.startsWith(CONTROL_PREFIX));
      if (control !== undefined) throw new ControlError(`${header}: x-mock-* headers are never counted, drop "${control}"`);
      expectations.headerNames = new Set([...(expectations.headerNames ?? []), ...names]);
    } else {
      throw new ControlError(`${header}: unknown expectation (known: ${KNOWN_KINDS.map((known) => EXPECT_PREFIX + known).join(', ')})`);
    }
    seen.add(kind);
  }
  return seen.size === 0 ? null : expectations;
}

/** Lower-cased names, repeats joined with ", " in arrival order (as Node and the record do). */
function receivedHeaders(rawHeaders: readonly string[]): Map<string, string> {
  const received = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const previous = received.get(name);
    const value = rawHeaders[i + 1] as string;
    received.set(name, previous === undefined ? value : `${previous}, ${value}`);
  }
  return received;
}

const show = (value: string): string => JSON.stringify(value);
const showList = (names: string[]): string => names.sort().map(show).join(', ');

/** One line per mismatch; empty when the request is as expected. */
export function checkExpectations(expected: Expectations, request: ExpectationSubject): string[] {
  const mismatches: string[] = [];
  const compare = (what: string, want: string | null, got: string) => {
    if (want !== null && got !== want) mismatches.push(`${what}: expected ${show(want)}, got ${show(got)}`);
  };
  compare('method', expected.method, request.method);
  compare('path', expected.path, request.path);
  compare('query', expected.query, request.query);

  const received = receivedHeaders(request.rawHeaders);
  for (const [name, want] of expected.headers) {
    const got = received.get(name);
    if (got === undefined) mismatches.push(`header ${name}: expected ${show(want)}, but it is absent`);
    else compare(`header ${name}`, want, got);
  }
  for (const name of expected.absentHeaders) {
    const got = received.get(name);
    if (got !== undefined) mismatches.push(`header ${name}: expected absent, got ${show(got)}`);
  }
  const wanted = expected.headerNames;
  if (wanted !== null) {
    const names = [...received.keys()].filter((name) => !name.startsWith(CONTROL_PREFIX));
    const unexpected = names.filter((name) => !wanted.has(name));
    const missing = [...wanted].filter((name) => !received.has(name));
    if (unexpected.length > 0) mismatches.push(`header names: unexpected ${showList(unexpected)}`);
    if (missing.length > 0) mismatches.push(`header names: missing ${showList(missing)}`);
  }

  if (expected.bodyLength !== null && request.body.length !== expected.bodyLength) {
    mismatches.push(`body length: expected ${expected.bodyLength}, got ${request.body.length}`);
  }
  if (expected.bodySha256 !== null) {
    // update() reads the Buffer in place: no copy of a body of up to 64 MiB.
    const got = createHash('sha256').update(request.body).digest('hex');
    if (got !== expected.bodySha256) mismatches.push(`body sha256: expected ${expected.bodySha256}, got ${got}`);
  }
  return mismatches;
}

/** Deliberately not a provider shape: no client or gateway should mistake it for a real answer. */
export function expectationFailedPlan(mismatches: readonly string[]): ReplyPlan {
  const plan = jsonPlan(EXPECTATION_FAILED_STATUS, { error: { type: 'mock_expectation_failed', message: mismatches.join('\n'), mismatches } });
  plan.headers[EXPECTATION_FAILED_HEADER] = '1';
  return plan;
}
