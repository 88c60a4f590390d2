/** Per server name: the TLS mode set through the admin API, its TLS context, its connections and their counts. */
import { randomBytes } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { normalizeServername } from './client-hello.js';
import type { KeyPair, TlsMaterial } from './config.js';
import { PROVIDER_SERVERNAMES } from './tls-material.js';

export const TLS_MODES = ['valid', 'untrusted-ca', 'wrong-name', 'reset', 'stall'] as const;
export type TlsMode = (typeof TLS_MODES)[number];
type HandshakeMode = Extract<TlsMode, 'valid' | 'untrusted-ca' | 'wrong-name'>;

const CERTIFICATE_ENV: Record<HandshakeMode, string> = {
  valid: 'MOCK_TLS_CERT and MOCK_TLS_KEY',
  'untrusted-ca': 'MOCK_TLS_UNTRUSTED_CERT and MOCK_TLS_UNTRUSTED_KEY',
  'wrong-name': 'MOCK_TLS_WRONG_NAME_CERT and MOCK_TLS_WRONG_NAME_KEY',
};

export class TlsModeError extends Error {
  override name = 'TlsModeError';

  /** invalid: a bad name or mode (400); unavailable: a mode whose certificate was not given (409). */
  constructor(
    readonly reason: 'invalid' | 'unavailable',
    message: string,
  ) {
    super(message);
  }
}

export interface Closable {
  destroy(): void;
}

export interface ConnectionCounts {
  openConnections: number;
  /** Connections handled since start, by the mode they met. */
  connections: Record<TlsMode, number>;
}

export interface ServernameStatus extends ConnectionCounts {
  mode: TlsMode;
  /** Mode changes since start. */
  changes: number;
}

export interface TlsStatus {
  available: TlsMode[];
  servernames: Record<string, ServernameStatus>;
  /** Connections whose first record named no server or could not be read: always served as valid. */
  withoutServername: ConnectionCounts;
}

export interface ModeChange extends ServernameStatus {
  servername: string;
  previousMode: TlsMode;
  changed: boolean;
  closedConnections: number;
}

/** What one new connection meets; its mode and context stay with it until it closes. */
export interface Admission {
  mode: TlsMode;
  /** For the modes that do a handshake. */
  context: SecureContext | null;
  /** Until the returned release is called, a mode change for the name destroys the connection. */
  hold(connection: Closable): () => void;
}

function isHandshakeMode(mode: TlsMode): mode is HandshakeMode {
  return mode === 'valid' || mode === 'untrusted-ca' || mode === 'wrong-name';
}

function isTlsMode(value: unknown): value is TlsMode {
  return typeof value === 'string' && (TLS_MODES as readonly string[]).includes(value);
}

class Servername {
  mode: TlsMode = 'valid';
  changes = 0;
  context: SecureContext | null;
  readonly open = new Set<Closable>();
  readonly connections = Object.fromEntries(TLS_MODES.map((mode) => [mode, 0])) as Record<TlsMode, number>;

  constructor(context: SecureContext) {
    this.context = context;
  }

  counts(): ConnectionCounts {
    return { openConnections: this.open.size, connections: { ...this.connections } };
  }

  status(): ServernameStatus {
    return { mode: this.mode, changes: this.changes, ...this.counts() };
  }

  closeAll(): number {
    const open = [...this.open];
    this.open.clear();
    for (const connection of open) connection.destroy();
    return open.length;
  }
}

export class TlsModes {
  readonly #pairs: Record<HandshakeMode, KeyPair | null>;
  readonly #names = new Map<string, Servername>();
  readonly #unnamed: Servername;

  constructor(material: TlsMaterial) {
    this.#pairs = { valid: material, 'untrusted-ca': material.untrustedCa ?? null, 'wrong-name': material.wrongName ?? null };
    this.#unnamed = new Servername(this.#context('valid'));
    for (const name of PROVIDER_SERVERNAMES) this.#entry(name);
  }

  get available(): TlsMode[] {
    return TLS_MODES.filter((mode) => !isHandshakeMode(mode) || this.#pairs[mode] !== null);
  }

  /**
   * Every name and every change gets a context of its own. Session tickets are sealed with
   * the context's ticket keys, and Node keeps no server-side session cache unless asked, so
   * a session from before a change cannot be resumed: a resumption would skip the certificate
   * that the client must now see and refuse.
   */
  #context(mode: HandshakeMode): SecureContext {
    const pair = this.#pairs[mode];
    if (!pair) throw new TlsModeError('unavailable', `TLS mode ${mode} needs ${CERTIFICATE_ENV[mode]} to name PEM files`);
    return createSecureContext({ cert: pair.cert, key: pair.key, ticketKeys: randomBytes(48) });
  }

  #entry(servername: string): Servername {
    let entry = this.#names.get(servername);
    if (!entry) {
      entry = new Servername(this.#context('valid'));
      this.#names.set(servername, entry);
    }
    return entry;
  }

  /** servername: as read from the ClientHello, already normalized; null when there was none. */
  admit(servername: string | null): Admission {
    const entry = servername === null ? this.#unnamed : this.#entry(servername);
    entry.connections[entry.mode] += 1;
    return {
      mode: entry.mode,
      context: entry.context,
      hold: (connection) => {
        entry.open.add(connection);
        return () => entry.open.delete(connection);
      },
    };
  }

  /** A change destroys the name's open connections, so that no client keeps one set up under the old mode. */
  set(rawServername: string, mode: unknown): ModeChange {
    const servername = normalizeServername(rawServername);
    if (servername === null) throw new TlsModeError('invalid', `"${rawServername}" is not a DNS name`);
    if (!isTlsMode(mode)) throw new TlsModeError('invalid', `mode must be one of ${TLS_MODES.join(', ')}; got ${JSON.stringify(mode)}`);
    const entry = this.#entry(servername);
    const previousMode = entry.mode;
    const changed = previousMode !== mode;
    let closedConnections = 0;
    if (changed) {
      entry.context = isHandshakeMode(mode) ? this.#context(mode) : null;
      entry.mode = mode;
      entry.changes += 1;
      closedConnections = entry.closeAll();
    }
    return { servername, previousMode, changed, closedConnections, ...entry.status() };
  }

  /** Every name back to valid. */
  resetAll(): void {
    for (const name of this.#names.keys()) this.set(name, 'valid');
  }

  status(): TlsStatus {
    return {
      available: this.available,
      servernames: Object.fromEntries([...this.#names].map(([name, entry]) => [name, entry.status()])),
      withoutServername: this.#unnamed.counts(),
    };
  }

  /** Shutdown: destroys every connection still held. */
  closeAll(): void {
    for (const entry of this.#names.values()) entry.closeAll();
    this.#unnamed.closeAll();
  }
}
