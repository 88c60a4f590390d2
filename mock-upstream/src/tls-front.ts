/**
 * The provider listener when TLS is on. It reads the server name from the client's first
 * record itself, before any TLS library sees the connection, because two modes must answer
 * nothing at all (reset, stall). The other modes get a server TLSSocket built with the
 * context of that name's current mode; once its handshake is done it goes to the HTTP
 * server, as node:https does. Choosing the context here rather than in an SNICallback
 * matters: OpenSSL decides on session resumption with the context the handshake starts with.
 */
import type { Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { firstRecordLength, RECORD_HEADER_LENGTH, servernameFromClientHello } from './client-hello.js';
import type { Admission, TlsModes } from './tls-modes.js';

export interface TlsFront {
  server: Server;
  close(): Promise<void>;
}

/** Calls back once the first record is complete, or as soon as the bytes cannot start one. */
function readFirstRecord(socket: Socket, done: (head: Buffer, servername: string | null) => void): void {
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk]);
    if (head.length < RECORD_HEADER_LENGTH) return;
    const length = firstRecordLength(head);
    if (length !== null && head.length < length) return;
    socket.off('data', onData);
    socket.pause();
    done(head, length === null ? null : servernameFromClientHello(head.subarray(0, length)));
  };
  socket.on('data', onData);
}

function stall(socket: Socket, admission: Admission): void {
  socket.once('close', admission.hold(socket));
  socket.once('end', () => socket.destroy());
  socket.resume();
}

function handshake(socket: Socket, head: Buffer, admission: Admission, http: HttpServer): void {
  socket.unshift(head);
  // ALPN as node:https offers it: a client asking for h2 gets HTTP/1.1, not a refusal.
  const tlsSocket = new TLSSocket(socket, { isServer: true, secureContext: admission.context ?? undefined, ALPNProtocols: ['http/1.1'] });
  const release = admission.hold(tlsSocket);
  const refuse = (): void => {
    tlsSocket.destroy();
  };
  tlsSocket.on('error', refuse);
  tlsSocket.once('secure', () => {
    // From here on the HTTP server handles the socket's errors.
    tlsSocket.off('error', refuse);
    http.emit('connection', tlsSocket);
  });
  tlsSocket.once('close', () => {
    release();
    socket.destroy();
  });
}

export function createTlsFront(modes: TlsModes, http: HttpServer): TlsFront {
  const reading = new Set<Socket>();

  const server = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    reading.add(socket);
    socket.once('close', () => reading.delete(socket));
    readFirstRecord(socket, (head, servername) => {
      reading.delete(socket);
      const admission = modes.admit(servername);
      if (admission.mode === 'reset') socket.resetAndDestroy();
      else if (admission.mode === 'stall') stall(socket, admission);
      else handshake(socket, head, admission, http);
    });
  });

  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of reading) socket.destroy();
        modes.closeAll();
      }),
  };
}
