import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { buildAdminApp } from './admin.js';
import type { TlsMaterial } from './config.js';
import { buildProviderApp } from './provider-app.js';
import { Recorder } from './recorder.js';

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
  close(): Promise<void>;
}

function boundPort(app: FastifyInstance): number {
  return (app.server.address() as AddressInfo).port;
}

export async function startMockUpstream(options: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const host = options.host ?? '0.0.0.0';
  const tls = options.tls ?? null;
  const recorder = new Recorder(options.maxRecords);
  const provider = buildProviderApp({ recorder, tls, bodyLimitBytes: options.bodyLimitBytes });
  const admin = buildAdminApp(recorder);

  await provider.listen({ host, port: options.providerPort ?? 0 });
  try {
    await admin.listen({ host, port: options.adminPort ?? 0 });
  } catch (error) {
    await provider.close();
    throw error;
  }

  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host;
  const providerPort = boundPort(provider);
  const adminPort = boundPort(admin);
  return {
    providerPort,
    adminPort,
    providerUrl: `${tls ? 'https' : 'http'}://${urlHost}:${providerPort}`,
    adminUrl: `http://${urlHost}:${adminPort}`,
    recorder,
    close: async () => {
      await Promise.all([provider.close(), admin.close()]);
    },
  };
}
