import type { AddressInfo, Server } from 'node:net';
import { buildAdminApp } from './admin.js';
import type { TlsMaterial } from './config.js';
import { buildProviderApp } from './provider-app.js';
import { Recorder } from './recorder.js';
import { createTlsFront, type TlsFront } from './tls-front.js';
import { TlsModes } from './tls-modes.js';

export interface MockUpstreamOptions {
  /** 0 (the default) picks a free port. */
  providerPort?: number;
  adminPort?: number;
  host?: string;
  /** null or absent: plain HTTP on the provider listener. */
  tls?: TlsMaterial | null;
  maxRecords?: number;
  bodyLimitBytes?: number;
}

export interface MockUpstream {
  providerPort: number;
  adminPort: number;
  providerUrl: string;
  adminUrl: string;
  recorder: Recorder;
  /** null when the provider listener is plain HTTP. */
  tlsModes: TlsModes | null;
  close(): Promise<void>;
}

function boundPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function startMockUpstream(options: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const host = options.host ?? '0.0.0.0';
  const tls = options.tls ?? null;
  const recorder = new Recorder(options.maxRecords);
  const tlsModes = tls ? new TlsModes(tls) : null;
  const provider = buildProviderApp({ recorder, bodyLimitBytes: options.bodyLimitBytes });
  const admin = buildAdminApp(recorder, tlsModes);

  let front: TlsFront | null = null;
  if (tlsModes) {
    // The HTTP server never listens itself: it gets the sockets the front has done TLS on.
    await provider.ready();
    front = createTlsFront(tlsModes, provider.server);
    await listen(front.server, host, options.providerPort ?? 0);
  } else {
    await provider.listen({ host, port: options.providerPort ?? 0 });
  }
  const closeProvider = async (): Promise<void> => {
    await Promise.all([front?.close(), provider.close()]);
  };
  try {
    await admin.listen({ host, port: options.adminPort ?? 0 });
  } catch (error) {
    await closeProvider();
    throw error;
  }

  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host;
  const providerPort = boundPort(front ? front.server : provider.server);
  const adminPort = boundPort(admin.server);
  return {
    providerPort,
    adminPort,
    providerUrl: `${tls ? 'https' : 'http'}://${urlHost}:${providerPort}`,
    adminUrl: `http://${urlHost}:${adminPort}`,
    recorder,
    tlsModes,
    close: async () => {
      await Promise.all([closeProvider(), admin.close()]);
    },
  };
}
