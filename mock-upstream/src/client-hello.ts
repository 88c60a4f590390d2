/**
 * The server name a TLS client asks for, read from its first record before any TLS library
 * sees the connection: the TLS modes that never answer (reset, stall) must know the name
 * without starting a handshake. Only the first record is read; a ClientHello split over
 * several records (over 16 KiB) counts as unreadable.
 */

export const RECORD_HEADER_LENGTH = 5;
const HANDSHAKE_RECORD = 0x16;
const CLIENT_HELLO = 0x01;
const SERVER_NAME_EXTENSION = 0x0000;
const HOST_NAME = 0x00;
/** RFC 8446 5.1 allows 2^14 bytes of plaintext; a little slack for old clients. */
const MAX_RECORD_BODY = 16_384 + 2_048;

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** A DNS name as SNI carries it, lower-cased; null when the text is not one. */
export function normalizeServername(name: string): string | null {
  const lower = name.toLowerCase();
  return HOSTNAME.test(lower) ? lower : null;
}

/**
 * How many bytes the first record takes, header included; null when the bytes do not
 * start a TLS handshake record. Needs at least the 5-byte record header.
 */
export function firstRecordLength(head: Buffer): number | null {
  if (head.length < RECORD_HEADER_LENGTH) throw new RangeError('firstRecordLength needs the 5-byte record header');
  if (head[0] !== HANDSHAKE_RECORD) return null;
  const length = head.readUInt16BE(3);
  return length === 0 || length > MAX_RECORD_BODY ? null : RECORD_HEADER_LENGTH + length;
}

class Reader {
  readonly #data: Buffer;
  #offset = 0;

  constructor(data: Buffer) {
    this.#data = data;
  }

  get remaining(): number {
    return this.#data.length - this.#offset;
  }

  /** Throws RangeError past the end: the caller treats any overrun as an unreadable hello. */
  bytes(count: number): Buffer {
    if (count > this.remaining) throw new RangeError('truncated ClientHello');
    const slice = this.#data.subarray(this.#offset, this.#offset + count);
    this.#offset += count;
    return slice;
  }

  uint(size: 1 | 2 | 3): number {
    return this.bytes(size).readUIntBE(0, size);
  }

  /** The content of a vector with a length prefix of this many bytes. */
  vectorBytes(prefix: 1 | 2 | 3): Buffer {
    return this.bytes(this.uint(prefix));
  }

  vector(prefix: 1 | 2 | 3): Reader {
    return new Reader(this.vectorBytes(prefix));
  }
}

function hostNameIn(extension: Reader): string | null {
  const list = extension.vector(2);
  while (list.remaining > 0) {
    const type = list.uint(1);
    const name = list.vectorBytes(2);
    if (type === HOST_NAME) return normalizeServername(name.toString('latin1'));
  }
  return null;
}

/** The host_name of the server_name extension in a complete first record; null when absent or unreadable. */
export function servernameFromClientHello(record: Buffer): string | null {
  try {
    const recordReader = new Reader(record);
    recordReader.bytes(RECORD_HEADER_LENGTH);
    if (recordReader.uint(1) !== CLIENT_HELLO) return null;
    const hello = recordReader.vector(3);
    hello.bytes(2 + 32); // legacy_version, random
    hello.vectorBytes(1); // legacy_session_id
    hello.vectorBytes(2); // cipher_suites
    hello.vectorBytes(1); // legacy_compression_methods
    if (hello.remaining === 0) return null;
    const extensions = hello.vector(2);
    while (extensions.remaining > 0) {
      const type = extensions.uint(2);
      const data = extensions.vector(2);
      if (type === SERVER_NAME_EXTENSION) return hostNameIn(data);
    }
    return null;
  } catch (error) {
    if (error instanceof RangeError) return null;
    throw error;
  }
}
