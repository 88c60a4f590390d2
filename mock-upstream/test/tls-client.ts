import { connect as netConnect, createServer, type AddressInfo } from 'node:net';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { MockUpstream } from '../src/server.js';
import type { ModeChange, TlsStatus } from '../src/tls-modes.js';

export type HandshakeResult =
  | { kind: 'secure'; socket: TLSSocket; session: Promise<Buffer> }
  | { kind: 'error'; socket: TLSSocket; error: NodeJS.ErrnoException }
  | { kind: 'closed'; socket: TLSSocket }
  /** Neither done nor refused after waitMs; the socket is left open. */
  | { kind: 'pending'; socket: TLSSocket };

export interface HandshakeOptions extends ConnectionOptions {
  waitMs?: number;
}

/** A TLS connection to the mock as nginx makes one: 127.0.0.1, and the SNI given. */
export function tlsHandshake(port: number, options: HandshakeOptions): Promise<HandshakeResult> {
  const { waitMs = 2_000, ...tlsOptions } = options;
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ...tlsOptions });
    // The session (a TLS 1.3 ticket) may come after the handshake, so listen from the start.
    const session = new Promise<Buffer>((resolveSession) => socket.once('session', resolveSession));
    const timer = setTimeout(() => finish({ kind: 'pending', socket }), waitMs);
    let done = false;
    function finish(result: HandshakeResult): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(result);
    }
    socket.once('secureConnect', () => finish({ kind: 'secure', socket, session }));
    socket.once('error', (error: NodeJS.ErrnoException) => finish({ kind: 'error', socket, error }));
    socket.once('close', () => finish({ kind: 'closed', socket }));
  });
}

export function closed(socket: { once(event: 'close', listener: () => void): unknown; destroyed: boolean }, withinMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), withinMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** The first record a TLS client sends for these options, as the mock's front reads it. */
export async function captureClientHello(options: ConnectionOptions): Promise<Buffer> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const hello = new Promise<Buffer>((resolve) => {
      server.once('connection', (socket) => {
        let head = Buffer.alloc(0);
        socket.on('data', (chunk: Buffer) => {
          head = Buffer.concat([head, chunk]);
          if (head.length >= 5 && head.length >= 5 + head.readUInt16BE(3)) {
            socket.destroy();
            resolve(head);
          }
        });
      });
    });
    const client = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, ...options });
    client.on('error', () => undefined);
    const result = await hello;
    client.destroy();
    return result;
  } finally {
    server.close();
  }
}

/** Sends bytes over plain TCP and reports what came back before the mock closed the connection. */
export function sendRaw(port: number, bytes: Buffer): Promise<{ received: Buffer; error: NodeJS.ErrnoException | null }> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port }, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    let error: NodeJS.ErrnoException | null = null;
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error = err;
    });
    socket.on('close', () => resolve({ received: Buffer.concat(chunks), error }));
  });
}

/** One HTTP/1.1 request over an open TLS connection; the whole answer, as text. */
export function httpOver(socket: TLSSocket, path: string, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => resolve(Buffer.concat(chunks).toString()));
    socket.once('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  });
}

export async function setMode(mock: MockUpstream, servername: string, mode: string): Promise<{ status: number; body: ModeChange & { error?: string; message?: string } }> {
  const response = await fetch(`${mock.adminUrl}/tls/${encodeURIComponent(servername)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mode }),
  });
  return { status: response.status, body: (await response.json()) as ModeChange };
}

export async function tlsStatus(mock: MockUpstream): Promise<TlsStatus> {
  const response = await fetch(`${mock.adminUrl}/tls`);
  if (response.status !== 200) throw new Error(`GET /tls answered ${response.status}`);
  return (await response.json()) as TlsStatus;
}
