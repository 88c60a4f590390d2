import { randomUUID } from 'node:crypto';

export interface ResponseSummary {
  status: number;
  headers: Record<string, string>;
  bodyLength: number;
  bodySha256: string;
}

/** The JSON shape the admin API serves for every request the provider listener received. */
export interface RequestRecord {
  seq: number;
  id: string;
  receivedAt: string;
  method: string;
  url: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  rawHeaders: string[];
  bodyBase64: string;
  bodyText: string;
  bodyLength: number;
  sni: string | null;
  host: string | null;
  tag: string | null;
  response: ResponseSummary | null;
}

export interface IncomingRequest {
  method: string;
  url: string;
  rawHeaders: string[];
  body: Buffer;
  sni: string | null;
}

/**
 * A stored request. The body is kept once, as bytes; the base64 and text forms are
 * derived when served, so a 64 MiB upload does not cost three copies per record.
 */
export interface StoredRequest extends Omit<RequestRecord, 'bodyBase64' | 'bodyText' | 'bodyLength'> {
  body: Buffer;
}

export const DEFAULT_MAX_RECORDS = 20_000;

/**
 * Lower-cased header names; repeated headers joined with ', ', in arrival order. Without a
 * prototype, so that names such as __proto__ or constructor are kept as the headers they are.
 */
export function headersFromRaw(rawHeaders: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = Object.create(null);
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    const previous = headers[name];
    headers[name] = previous === undefined ? value : `${previous}, ${value}`;
  }
  return headers;
}

export function splitUrl(url: string): { path: string; query: string } {
  const mark = url.indexOf('?');
  return mark === -1 ? { path: url, query: '' } : { path: url.slice(0, mark), query: url.slice(mark + 1) };
}

export function tagOf(query: string, headers: Record<string, string>): string | null {
  const fromQuery = new URLSearchParams(query).get('lmgate_tag');
  if (fromQuery !== null) return fromQuery;
  return headers['x-test-tag'] ?? null;
}

export class Recorder {
  readonly #maxRecords: number;
  #records: StoredRequest[] = [];
  readonly #byId = new Map<string, StoredRequest>();
  #nextSeq = 1;

  constructor(maxRecords: number = DEFAULT_MAX_RECORDS) {
    if (!Number.isInteger(maxRecords) || maxRecords < 1) throw new RangeError(`maxRecords must be a positive integer, got ${maxRecords}`);
    this.#maxRecords = maxRecords;
  }

  get size(): number {
    return this.#records.length;
  }

  record(incoming: IncomingRequest, receivedAt: Date = new Date()): StoredRequest {
    const headers = headersFromRaw(incoming.rawHeaders);
    const { path, query } = splitUrl(incoming.url);
    const stored: StoredRequest = {
      seq: this.#nextSeq++,
      id: randomUUID(),
      receivedAt: receivedAt.toISOString(),
      method: incoming.method,
      url: incoming.url,
      path,
      query,
      headers,
      rawHeaders: [...incoming.rawHeaders],
      body: incoming.body,
      sni: incoming.sni,
      host: headers['host'] ?? null,
      tag: tagOf(query, headers),
      response: null,
    };
    this.#records.push(stored);
    this.#byId.set(stored.id, stored);
    while (this.#records.length > this.#maxRecords) {
      const dropped = this.#records.shift();
      if (dropped) this.#byId.delete(dropped.id);
    }
    return stored;
  }

  get(id: string): RequestRecord | undefined {
    const stored = this.#byId.get(id);
    return stored && toRecord(stored);
  }

  /** How many requests arrived with each tag ("" for none): the journal without its bodies. */
  countByTag(): Record<string, number> {
    const counts: Record<string, number> = Object.create(null) as Record<string, number>;
    for (const stored of this.#records) counts[stored.tag ?? ''] = (counts[stored.tag ?? ''] ?? 0) + 1;
    return counts;
  }

  /** Records in arrival order; only those with this tag when one is given. */
  list(tag?: string): RequestRecord[] {
    const selected = tag === undefined ? this.#records : this.#records.filter((stored) => stored.tag === tag);
    return selected.map(toRecord);
  }

  clear(): void {
    this.#records = [];
    this.#byId.clear();
  }
}

export function toRecord(stored: StoredRequest): RequestRecord {
  return {
    seq: stored.seq,
    id: stored.id,
    receivedAt: stored.receivedAt,
    method: stored.method,
    url: stored.url,
    path: stored.path,
    query: stored.query,
    headers: stored.headers,
    rawHeaders: stored.rawHeaders,
    bodyBase64: stored.body.toString('base64'),
    bodyText: stored.body.toString('utf8'),
    bodyLength: stored.body.length,
    sni: stored.sni,
    host: stored.host,
    tag: stored.tag,
    response: stored.response,
  };
}
